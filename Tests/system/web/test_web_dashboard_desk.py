"""The client dashboard of the trading desk (issue 13) in a real browser, against bots that answer.

A portal of this test's own (scripts/lib/portal.sh) runs three bots of one client on a scripted
Freqtrade (fta_desk_standin: the local Freqtrade image with `freqtrade` replaced by a small API and
message websocket that answer what the test scripts). Each bot is given different trades, and what
each bot then answers (its /profit and /status) is what the page must show. Proven, signed in as
the client's owner in Chromium:
  - the comparison table shows each bot's profit, win rate, drawdown, trade count and open
    exposure as the bot answered them, each row links to its bot page;
  - clicking a column heading sorts the rows by it (aria-sort follows), and so do Enter and Space
    on the focused heading;
  - the combined equity chart exists (Chart.js from the distribution) and ends at the sum of the
    bots' closed profit;
  - the page does not poll the bots: no request to /bots/{id}/profit; the figures arrive over
    /api/v1/stream (the live badge says "Live" once the EventSource opened);
  - an entry fill a bot pushes on its websocket appears in the activity feed without a reload,
    and so do the `unreachable` and `reachable` events when a bot's API goes away and comes back;
  - what the dashboard showed before stays: the bot cards with their states, the New bot button;
  - no console error or CSP violation; screenshots at 1280 and 360 px (no sideways scroll).
When the browser cannot hold the stream (blocked through the DevTools protocol), the page says it
refreshes every 10 s and still shows a new event without a reload. A second portal without the
chart library proves that the page says so in words.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

if os.environ.get("CI") != "true":  # under CI a missing selenium is a collection error, never a skip
    pytest.importorskip("selenium", reason="selenium is not installed (pip install -r Tests/system/requirements.txt)")

from selenium.webdriver.common.keys import Keys

import fta_desk_standin as standin
from fta_system_support import missing, start_portal, stop_portal, wait_until
from webportal import ApiClient, Browser

RUNNING_TIMEOUT = 120
FIGURES_TIMEOUT = 45  # the stream sends rows every 5 s; the portal caches each bot ~2 s
FEED_TIMEOUT = 30
UNREACHABLE_TIMEOUT = 60
OUTAGE_SECONDS = 15


def days_ago(days: int, hour: int = 10) -> str:
    moment = (datetime.now(timezone.utc) - timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


# Three bots whose orders differ by name, by profit and by open exposure, so that a sort shows.
BOTS = {
    "alpha": {"name": "Alpha", "closed": [{"profit_abs": 5.0, "close_date": days_ago(3)},
                                          {"profit_abs": -8.0, "close_date": days_ago(2)},
                                          {"profit_abs": 7.5, "close_date": days_ago(1)}],
              "open": [{"pair": "ETH/USDT", "stake_amount": 25.0}]},
    "bravo": {"name": "Bravo", "closed": [{"profit_abs": 20.0, "close_date": days_ago(4)},
                                          {"profit_abs": 22.0, "close_date": days_ago(1, 12)}],
              "open": []},
    "charlie": {"name": "Charlie", "closed": [{"profit_abs": 1.0, "close_date": days_ago(2, 8)},
                                              {"profit_abs": -4.25, "close_date": days_ago(1, 9)}],
                "open": [{"pair": "BTC/USDT", "stake_amount": 15.0}, {"pair": "ETH/USDT", "stake_amount": 25.0}]},
}


def bot_body(bot_id: str, name: str) -> dict:
    return {"id": bot_id, "name": name, "exchange": "binance", "pairs": ["BTC/USDT", "ETH/USDT"], "stakeCurrency": "USDT",
            "stakeAmount": "10", "dryRunWallet": 1000, "maxOpenTrades": 3, "timeframe": "5m",
            "strategy": "FtaQuickTest", "size": "small"}


def first_number(text: str) -> float | None:
    """The first number in a cell as the page wrote it ("+4.50 USDT", "−3.25", "66.67 %")."""
    match = re.search(r"[−+-]?\d[\d,]*(?:\.\d+)?", text)
    return float(match.group(0).replace("−", "-").replace(",", "")) if match else None


def remove_leftovers(client: str, bot_ids: list[str]) -> None:
    """Whatever the portal did not remove (a failed test): only the names this test chose."""
    for bot_id in bot_ids:
        standin.docker("rm", "-f", f"fta-bot-{bot_id}", check=False)
        standin.docker("volume", "rm", "-f", f"fta-bot-{bot_id}", check=False)
    standin.docker("network", "rm", f"fta-client-{client}", check=False)


def keep_portal_log(portal: dict, artifacts: Path, label: str) -> None:
    log = Path(portal["dir"]) / "fta.log"
    if log.is_file():
        (artifacts / f"web-desk-{label}-portal.log").write_text(log.read_text(errors="replace"))


@pytest.fixture(scope="module")
def desk(artifacts):
    """A portal on the stand-in image with one client, its owner and three running bots, each
    scripted with its trades. Yields what the bots answer, for the assertions."""
    base = os.environ.get("FTA_TEST_FREQTRADE_IMAGE")
    if not base:
        missing("FTA_TEST_FREQTRADE_IMAGE is not set (the local Freqtrade image the stand-in is built on)")
    if standin.docker("image", "inspect", base, check=False).returncode != 0:
        missing(f"the Freqtrade image {base} is not on the test engine (scripts/build-freqtrade-image.sh)")
    image = standin.standin_image(base)

    suffix = secrets.token_hex(3)
    client = f"desk-{suffix}"
    ids = {key: f"{key}-{suffix}" for key in BOTS}
    portal = start_portal(f"desk-web-{suffix}", FTA_BOT_IMAGE=image, FTA_EXCHANGE_OVERRIDE="")
    try:
        admin = ApiClient(portal["url"])
        admin.sign_in(portal["admin"], portal["password"])
        status, body = admin.call("POST", "/clients", {"id": client, "name": f"Desk {suffix}", "maxBots": 3})
        assert status == 201, body
        owner_name, owner_password = f"owner-{suffix}", "Pw-" + secrets.token_urlsafe(18)
        status, body = admin.call("POST", f"/clients/{client}/users",
                                  {"username": owner_name, "password": owner_password, "role": "owner"})
        assert status == 201, body
        owner = ApiClient(portal["url"])
        owner.sign_in(owner_name, owner_password)
        for key, bot in BOTS.items():
            status, body = owner.call("POST", "/bots", bot_body(ids[key], bot["name"]))
            assert status == 201, f"creating {ids[key]}: {status} {body}"

        def all_running():
            states = {bot_id: owner.call("GET", f"/bots/{bot_id}")[1]["bot"]["state"] for bot_id in ids.values()}
            assert not {"failed", "quarantined"} & set(states.values()), f"a stand-in bot did not run: {states}"
            return states if set(states.values()) == {"running"} else None
        wait_until(all_running, "the three stand-in bots to run", timeout=RUNNING_TIMEOUT, interval=1)

        answers = {}
        for key, bot in BOTS.items():
            bot_standin = standin.StandIn(ids[key])
            answered = wait_until(lambda: _try(lambda: bot_standin.script(bot["closed"], bot["open"])),
                                  f"{ids[key]}'s stand-in API", timeout=30, interval=1)
            answers[key] = answered
        print(f"desk: portal {portal['url']}, client {client}, bots {sorted(ids.values())}, image {image}")
        yield {"portal": portal, "client": client, "ids": ids, "answers": answers,
               "owner": (owner_name, owner_password), "owner_api": owner}
        for bot_id in ids.values():
            owner.call("DELETE", f"/bots/{bot_id}")
    finally:
        keep_portal_log(portal, artifacts, "bots")
        stop_portal(portal)
        remove_leftovers(client, list(ids.values()))


def _try(work):
    try:
        return work()
    except OSError:
        return None


@pytest.fixture
def browser_session(desk, artifacts, chromium_ready):
    """Chromium signed in as the client's owner; its console must stay clean."""
    session = Browser(base_url=desk["portal"]["url"], artifacts=artifacts, name="desk")
    try:
        session.sign_in(*desk["owner"])
        session.wait_ready()
        yield session
        session.assert_clean_console()
    finally:
        session.quit()


def expected_rows(desk) -> dict:
    """Per bot id: the figures the bot itself answered (its /profit and /status)."""
    rows = {}
    for key, answered in desk["answers"].items():
        profit, status = answered["profit"], answered["status"]
        rows[desk["ids"][key]] = {
            "name": BOTS[key]["name"],
            "profit": profit["profit_all_coin"],
            "winrate": profit["winrate"] * 100,
            "drawdown": profit["max_drawdown"] * 100,
            "trades": profit["trade_count"],
            "exposure": sum(t["stake_amount"] for t in status),
        }
    return rows


# Read in one script call: the table is updated every 5 s, element handles would go stale.
TABLE_JS = """
return [...document.querySelectorAll('#compare-body tr')].map((tr) => {
  const link = tr.querySelector('a.compare__name');
  const cells = {};
  tr.querySelectorAll('td[data-col]').forEach((td) => { cells[td.dataset.col] = td.innerText; });
  return {id: tr.dataset.rowBot, href: link ? link.href : null, name: link ? link.innerText : null, cells, text: tr.innerText};
});
"""


def table_rows(driver) -> list[dict]:
    """The comparison table as shown: bot id, link, and the first number of each figure cell."""
    return [{"id": r["id"], "href": r["href"], "name": r["name"], "text": r["text"],
             **{col: first_number(text) for col, text in r["cells"].items()}}
            for r in driver.execute_script(TABLE_JS)]


def feed_items(driver) -> list[dict]:
    """The activity feed as shown, newest first: event id, kind, bot name and text."""
    return driver.execute_script(
        "return [...document.querySelectorAll('#feed li')].map((li) => ({id: Number(li.dataset.eventId),"
        " kind: li.dataset.kind, bot: li.querySelector('a.feed__bot')?.innerText ?? null, text: li.innerText}))")


def figures_match(shown: dict, want: dict) -> list[str]:
    problems = []
    for col in ("profit", "winrate", "drawdown", "trades", "exposure"):
        if shown.get(col) is None or abs(shown[col] - want[col]) > 0.006:
            problems.append(f"{col}: shows {shown.get(col)!r}, the bot answered {want[col]!r}")
    return problems


def sort_state(driver) -> dict:
    return driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#compare-head th')]"
        ".map((th) => [th.querySelector('button').dataset.sort, th.getAttribute('aria-sort')]))")


def test_dashboard_compares_bots_live_and_feeds_events(desk, browser_session):
    b = browser_session
    want = expected_rows(desk)
    by_name = {w["name"]: bot_id for bot_id, w in want.items()}
    b.open("/dashboard.html")
    b.wait_ready()

    # The figures are each bot's own answers, as pushed over the stream.
    def table_right():
        rows = table_rows(b.driver)
        if {r["id"] for r in rows} != set(want):
            return None
        return rows if not any(figures_match(r, want[r["id"]]) for r in rows) else None
    try:
        rows = b.wait_for(lambda d: table_right(), FIGURES_TIMEOUT, "the table never showed the bots' figures")
    except Exception:
        shown = table_rows(b.driver)
        details = [f"{r['id']}: {figures_match(r, want[r['id']]) if r['id'] in want else 'unexpected row'}" for r in shown]
        raise AssertionError(f"table rows {details or 'none'}; expected {json.dumps(want)}") from None
    for row in rows:
        assert row["href"].endswith(f"/bot.html?id={row['id']}"), f"row {row['id']} links to {row['href']}"
        assert row["name"] == want[row["id"]]["name"], row
    print(f"desk: table shows {len(rows)} bots with the figures they answered: "
          + ", ".join(f"{r['name']} profit {r['profit']} exposure {r['exposure']}" for r in rows))

    # Live, not polled: the badge says so, and no request went to a bot's /profit.
    b.visible('#live-state [data-live-state="live"]', timeout=20)
    assert "Live" in b.css("#live-state").text
    profit_polls = b.driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).filter(n => /\\/api\\/v1\\/bots\\/[^/]+\\/profit/.test(n))")
    assert profit_polls == [], f"the dashboard still polls the bots' profit: {profit_polls}"

    # What the dashboard showed before: a card per bot with its state, and New bot for the owner.
    for bot_id in want:
        b.text_in(f'[data-bot-id="{bot_id}"]', "Running")
    assert b.all('[data-testid="new-bot"]'), "the owner is not offered New bot any more"

    # Sorting: default by name; a click on Profit sorts best first, a second click worst first.
    names = lambda: [r["name"] for r in table_rows(b.driver)]  # noqa: E731
    assert names() == ["Alpha", "Bravo", "Charlie"], names()
    assert sort_state(b.driver)["name"] == "ascending", sort_state(b.driver)
    by_profit = sorted(want.values(), key=lambda w: -w["profit"])
    b.css('button[data-sort="profit"]').click()
    assert names() == [w["name"] for w in by_profit], f"sorted by profit: {names()}"
    assert sort_state(b.driver)["profit"] == "descending" and sort_state(b.driver)["name"] == "none", sort_state(b.driver)
    b.css('button[data-sort="profit"]').click()
    assert names() == [w["name"] for w in reversed(by_profit)], f"sorted by profit, ascending: {names()}"
    assert sort_state(b.driver)["profit"] == "ascending"
    # The keyboard alone: focus the Open exposure heading, Enter sorts, Space reverses.
    by_exposure = [w["name"] for w in sorted(want.values(), key=lambda w: -w["exposure"])]
    heading = b.css('button[data-sort="exposure"]')
    b.driver.execute_script("arguments[0].focus()", heading)
    heading.send_keys(Keys.ENTER)
    assert names() == by_exposure, f"Enter on Open exposure: {names()}"
    assert sort_state(b.driver)["exposure"] == "descending"
    b.driver.switch_to.active_element.send_keys(Keys.SPACE)
    assert names() == list(reversed(by_exposure)), f"Space on Open exposure: {names()}"
    assert sort_state(b.driver)["exposure"] == "ascending"
    print(f"desk: sorted by profit {[w['name'] for w in by_profit]}, by exposure {by_exposure} (click, Enter, Space)")

    # The equity chart: Chart.js drew it, and the combined line ends at the closed profit.
    closed_total = sum(t["profit_abs"] for bot in BOTS.values() for t in bot["closed"])
    series = b.driver.execute_script(
        "const c = window.Chart && Chart.getChart(document.getElementById('equity-chart'));"
        "return c ? c.data.datasets.map(d => ({label: d.label, data: d.data})) : null")
    assert series, "no Chart.js chart on #equity-chart"
    combined = [v for v in series[0]["data"] if v is not None]
    assert combined and abs(combined[-1] - closed_total) < 0.01, \
        f"the combined equity ends at {combined[-1] if combined else None}, the bots' closed profit is {closed_total}"
    assert b.css("#equity-chart").size["height"] > 100, "the equity chart has no height"
    print(f"desk: equity chart with {len(series)} lines, combined ends at {combined[-1]}")
    b.shot("dashboard")

    # An event while the page is open arrives without a reload: the bot pushes an entry fill on
    # its message websocket; the portal records it and pushes it to the page.
    b.driver.execute_script("window.ftaNoReload = arguments[0]", marker := secrets.token_hex(4))
    alpha = standin.StandIn(by_name["Alpha"])
    wait_until(lambda: alpha.websockets(), "the portal to subscribe to Alpha's message websocket", timeout=30, interval=1)
    before = {item["id"] for item in feed_items(b.driver)}
    # Freqtrade's RPC entry message as its websocket broadcasts it: the message itself, flat
    # (only the whitelist / analyzed_df replies are wrapped as {"type", "data"}).
    fill = {"type": "entry_fill", "trade_id": 901, "buy_tag": "desk-test", "enter_tag": "desk-test", "exchange": "Binance",
            "pair": "SOL/USDT", "leverage": 1.0, "direction": "Long", "limit": 142.5, "open_rate": 142.5,
            "order_type": "limit", "stake_amount": 10.0, "stake_currency": "USDT", "base_currency": "SOL",
            "quote_currency": "USDT", "fiat_currency": None, "amount": 0.0701754, "current_rate": 142.5,
            "open_date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "sub_trade": False}
    sent = alpha.emit(fill)
    assert sent["sent"] >= 1, f"Alpha's websocket had no subscriber for entry_fill: {alpha.websockets()}"
    new_fills = lambda: [i for i in feed_items(b.driver) if i["kind"] == "entry_fill" and i["id"] not in before]  # noqa: E731
    item = b.wait_for(lambda d: (new_fills() or [None])[0], FEED_TIMEOUT,
                      f"the entry fill did not appear in the feed within {FEED_TIMEOUT} s")
    assert "SOL/USDT" in item["text"], f"the entry fill in the feed does not name its pair: {item['text']!r}"
    assert item["bot"] == "Alpha", item
    assert b.driver.execute_script("return window.ftaNoReload") == marker, "the page reloaded"
    ids = [i["id"] for i in feed_items(b.driver)]
    assert ids == sorted(ids, reverse=True), f"the feed is not newest first: {ids}"
    print(f"desk: entry fill pushed by Alpha's websocket shown in the feed: {item['text']!r}")

    # A bot whose API goes away (the stand-in closes its listener, its kept-alive connections and
    # its websocket, as when Freqtrade's API process dies) shows as `unreachable`, and as
    # `reachable` once it answers again, both pushed to the open page.
    bravo = standin.StandIn(by_name["Bravo"])
    wait_until(lambda: bravo.websockets(), "the portal to subscribe to Bravo's message websocket", timeout=30, interval=1)
    before = {item["id"] for item in feed_items(b.driver)}
    started = time.monotonic()
    bravo.outage(OUTAGE_SECONDS)
    for kind, timeout in (("unreachable", UNREACHABLE_TIMEOUT), ("reachable", OUTAGE_SECONDS + UNREACHABLE_TIMEOUT)):
        b.wait_for(lambda d: any(i["kind"] == kind and i["bot"] == "Bravo" and i["id"] not in before for i in feed_items(d)), timeout,
                   f"no {kind} event for Bravo in the feed within {timeout} s of its API going away")
        print(f"desk: Bravo's API went away; {kind} in the feed after {time.monotonic() - started:.1f} s")
    assert b.driver.execute_script("return window.ftaNoReload") == marker, "the page reloaded"
    b.shot("dashboard-events")


def test_dashboard_falls_back_to_polling_when_the_stream_fails(desk, browser_session):
    """With /api/v1/stream blocked in the browser, the page says it refreshes every 10 s instead,
    and a bot's event still reaches the feed (GET /events) without a reload."""
    b = browser_session
    charlie = standin.StandIn(next(i for k, i in desk["ids"].items() if k == "charlie"))
    b.driver.execute_cdp_cmd("Network.enable", {})
    b.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/api/v1/stream*"]})
    try:
        b.open("/dashboard.html")
        b.wait_ready()
        # Four failed attempts with backoff (0.5-1, 1-2, 2-4 s): polling within ~10 s.
        b.visible('#live-state [data-live-state="polling"]', timeout=30)
        assert "every 10 s" in b.css("#live-state").text, b.css("#live-state").text
        b.driver.execute_script("window.ftaNoReload = arguments[0]", marker := secrets.token_hex(4))
        wait_until(lambda: charlie.websockets(), "the portal to subscribe to Charlie's message websocket", timeout=30, interval=1)
        before = {item["id"] for item in feed_items(b.driver)}
        exit_fill = {"type": "exit_fill", "trade_id": 902, "exchange": "Binance", "pair": "BTC/USDT", "leverage": 1.0,
                     "direction": "Long", "gain": "profit", "limit": 43100.0, "order_rate": 43100.0, "order_type": "limit",
                     "amount": 0.00034, "open_rate": 43000.0, "close_rate": 43100.0, "current_rate": 43100.0,
                     "profit_amount": 0.034, "profit_ratio": 0.0023, "buy_tag": None, "enter_tag": None,
                     "exit_reason": "roi", "open_date": days_ago(0, 0).replace(" ", "T") + "+00:00",
                     "close_date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "stake_amount": 14.62,
                     "stake_currency": "USDT", "base_currency": "BTC", "quote_currency": "USDT", "fiat_currency": None,
                     "sub_trade": False, "cumulative_profit": 0.034, "final_profit_ratio": 0.0023, "is_final_exit": True}
        assert charlie.emit(exit_fill)["sent"] >= 1, charlie.websockets()
        item = b.wait_for(lambda d: next((i for i in feed_items(d) if i["kind"] == "exit_fill" and i["id"] not in before), None),
                          30, "the exit fill did not reach the feed by polling within 30 s")
        assert item["bot"] == "Charlie", item
        assert b.driver.execute_script("return window.ftaNoReload") == marker, "the page reloaded"
        print(f"desk: stream blocked, page polling; exit fill reached the feed: {item['text']!r}")
        b.shot("dashboard-polling")
    finally:
        b.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})


def test_dashboard_says_when_the_chart_library_is_missing(artifacts, chromium_ready, tmp_path):
    """A portal whose chart library directory is empty: the page explains, the rest works."""
    suffix = secrets.token_hex(3)
    empty = tmp_path / "no-chartjs"
    empty.mkdir()
    portal = start_portal(f"desk-nochart-{suffix}", FTA_CHARTJS_DIR=str(empty))
    b = Browser(base_url=portal["url"], artifacts=artifacts, name="desk-nochart")
    try:
        b.expected_missing.add(b.url("/vendor/chart.js/chart.min.js"))
        b.sign_in(portal["admin"], portal["password"])
        b.wait_ready()
        b.text_in("#equity-msg", "chart library is not installed")
        assert not b.css("#equity-chart-wrap").is_displayed()
        b.visible('#live-state [data-live-state="live"]', timeout=20)
        b.shot("dashboard-no-chart-library")
        # The missing script is this test's doing: its 404 (and a refusal to run a 404 page as
        # a script) are expected; anything else is a problem.
        b.collect_console()
        problems = [p for p in b.problems if "/vendor/chart.js/chart.min.js" not in p.message]
        b.reported = True
        assert not problems, "console errors or CSP violations:\n" + "\n".join(map(str, problems))
    finally:
        b.quit()
        keep_portal_log(portal, artifacts, "nochart")
        stop_portal(portal)
