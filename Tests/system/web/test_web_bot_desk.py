"""The bot page's trading desk (issue 13) in a real browser, against a portal whose bot answers
Freqtrade's REST API.

A portal of this test's own runs one bot on the desk stand-in (fta_desk_web_support: the real
Freqtrade image whose `freqtrade` serves the API at once with scripted data: 21 closed trades
over two months, two open ones, candles with EMA and RSI columns and signals, a plot_config, a
message websocket). Real Chromium sessions (webportal.Browser) sign in as the client's owner
and viewer. Proven, in file order:

1. every view shows the bot's own numbers, read back through the portal's API by the test and
   compared with the page's text: open trades (open rate, stop-loss, amount at risk, duration),
   closed trades a page at a time and one trade's orders and exit reason, per-pair performance,
   entries, exits, win/loss statistics, daily/weekly/monthly results, balance, locks, whitelist,
   blacklist, the effective settings, and the activity feed (the bot's websocket events);
2. the candle chart is a Chart.js chart with candles (body and wick bars), the plot_config's
   indicators, signal and trade markers, and a subplot chart for RSI;
3. a viewer sees every view but is offered no control at all (none rendered);
4. without the chart library (its file blocked, as on a portal without libjs-chart.js) the chart
   tab says so in words and the other views still work;
5. the owner's controls work and the bot's own API confirms each: lock a pair and unlock it,
   blacklist a pair and remove it, pause and resume entries, force-exit one trade (its exit is
   pushed to the open page's activity feed without a reload), edit the settings (a field error
   in words, then "restart to apply", then Restart: show_config has the new value), clone,
   export the trades as CSV (the trades /trades lists), reset the paper wallet after typing the
   bot's id (the bot then has no trades); each control is in the audit trail.

Every view is screenshotted at 1280x900 and 360x780 (no sideways scrolling at 360 px), and any
console error or CSP violation fails the test.
"""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path

import pytest

if os.environ.get("CI") != "true":  # under CI a missing selenium is a collection error, never a skip
    pytest.importorskip("selenium", reason="selenium is not installed (pip install -r Tests/system/requirements.txt)")

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import Select

from fta_desk_web_support import desk_shot, docker, js_amount, js_rate, standin_image
from fta_system_support import PORTAL_SH, missing, start_portal, stop_portal, wait_until
from webportal import ApiClient, Browser

PAIRS = ["BTC/USDT", "ETH/USDT"]
TABS = ["trades", "chart", "performance", "results", "wallet", "pairs", "settings", "activity"]
CLOSED_PAGE = 15  # web/js/desk/views.js CLOSED_PAGE


@pytest.fixture(scope="module")
def desk(chromium_ready, artifacts):
    """The portal, a client with an owner and a viewer, and one running bot on the stand-in."""
    base = os.environ.get("FTA_TEST_FREQTRADE_IMAGE")
    if not base:
        missing("FTA_TEST_FREQTRADE_IMAGE is not set (the stand-in is built on the Freqtrade image)")
    if shutil.which("docker") is None or docker("image", "inspect", base, check=False).returncode != 0:
        missing(f"the Freqtrade image {base} is not on the test engine (scripts/build-freqtrade-image.sh)")
    image = standin_image(base)
    suffix = secrets.token_hex(3)
    # A portal of this name left by an interrupted run would be reused with its old image: stop it.
    subprocess.run([str(PORTAL_SH), "stop", "desk-web"], capture_output=True, text=True, timeout=60)
    portal = start_portal("desk-web", FTA_BOT_IMAGE=image, FTA_EXCHANGE_OVERRIDE="")
    admin = ApiClient(portal["url"])
    made: list[str] = []
    try:
        admin.sign_in(portal["admin"], portal["password"])
        client = f"desk-{suffix}"
        status, body = admin.call("POST", "/clients", {"id": client, "name": f"Desk {suffix}", "maxBots": 3})
        assert status == 201, body
        users = {}
        for role in ("owner", "viewer"):
            username, password = f"{role}-{suffix}", "Pw-" + secrets.token_urlsafe(15)
            status, body = admin.call("POST", f"/clients/{client}/users", {"username": username, "password": password, "role": role})
            assert status == 201, body
            users[role] = (username, password)
        owner = ApiClient(portal["url"])
        owner.sign_in(*users["owner"])
        status, catalog = owner.call("GET", "/catalog")
        assert status == 200, catalog
        strategy = catalog["strategies"][0]["id"]
        bot_id = f"desk-{suffix}"
        status, body = owner.call("POST", "/bots", {
            "id": bot_id, "name": f"Desk {suffix}", "exchange": "binance", "pairs": PAIRS, "stakeCurrency": "USDT",
            "stakeAmount": "100", "dryRunWallet": 1000, "maxOpenTrades": 3, "timeframe": "5m", "strategy": strategy,
            "size": "small", "start": True})
        assert status == 201, body
        made.append(bot_id)

        def answering():
            status, body = owner.call("GET", f"/bots/{bot_id}/status")
            return status == 200 and len(body.get("trades", [])) == 2

        wait_until(answering, f"bot {bot_id} running on the stand-in and answering /status", timeout=120, interval=1)
        yield {"url": portal["url"], "portal": portal, "admin": admin, "owner": owner, "users": users, "bot": bot_id,
               "client": client, "strategy": strategy, "made": made, "artifacts": artifacts}
    finally:
        for bot in made:
            admin.call("DELETE", f"/bots/{bot}")
        log = Path(portal["dir"]) / "fta.log"
        if log.is_file():
            (artifacts / "desk-web-portal.log").write_text(log.read_text(errors="replace"))
        stop_portal(portal)


@pytest.fixture
def session(desk):
    """Factory: session("owner") is a fresh Chromium signed in as that user, on the bot page.
    Every session's console is checked at the end: any error or CSP violation fails the test."""
    opened = []

    def open_session(role: str) -> Browser:
        b = Browser(base_url=desk["url"], artifacts=desk["artifacts"], name=f"desk-{role}")
        opened.append(b)
        b.sign_in(*desk["users"][role])
        b.open(f"/bot.html?id={desk['bot']}")
        b.wait_ready()
        b.text_in("#open-trades", PAIRS[0], timeout=30)
        return b

    yield open_session
    problems = []
    for b in opened:
        try:
            b.quit()
        finally:
            problems.extend(b.problems)
    assert not problems, "console errors or CSP violations:\n" + "\n".join(map(str, problems))


def api(desk, path: str, who: str = "owner"):
    status, body = desk[who].call("GET", f"/bots/{desk['bot']}{path}")
    assert status == 200, f"GET /bots/{{id}}{path}: {status} {body}"
    return body


def tab(b: Browser, name: str) -> str:
    """Opens a desk tab (a real click); returns its panel's selector."""
    click(b, f"#tab-{name}")
    b.wait_for(lambda d: b.css(f"#tab-{name}").get_attribute("aria-selected") == "true")
    b.visible(f"#panel-{name}")
    return f"#panel-{name}"


# The page redraws its views every 10 s (the refresh loop): elements found a moment ago may be
# gone, so text is read and clicks are made in one step inside the page.

def inner(b: Browser, selector: str) -> str:
    return b.driver.execute_script("const e = document.querySelector(arguments[0]); return e ? e.innerText : ''", selector)


def rows(b: Browser, selector: str) -> list[str]:
    return b.driver.execute_script("return [...document.querySelectorAll(arguments[0])].map((r) => r.innerText.replace(/\\s+/g, ' ').trim())",
                                   f"{selector} tbody tr")


def row_text(b: Browser, container: str, needle: str) -> str:
    found = [r for r in rows(b, container) if needle in r]
    assert found, f"no row with {needle!r} in {container}: {inner(b, container)[:800]}"
    return found[0]


def click(b: Browser, selector: str) -> None:
    """Clicks the element (a real click, found again if the page redrew it meanwhile)."""
    for attempt in range(5):
        try:
            b.wait_for(lambda d: b.all(selector), message=f"{selector} never appeared")
            b.css(selector).click()
            return
        except StaleElementReferenceException:
            if attempt == 4:
                raise


# --- 1 and 2: every view, with the bot's numbers ------------------------------------------------

def test_owner_sees_every_view_with_the_bots_numbers(desk, session):
    b = session("owner")
    checked = 0

    # Open trades: the figures of each, as the bot reports them.
    open_trades = api(desk, "/status")["trades"]
    for t in open_trades:
        b.text_in(f'#open-trades tr[data-trade-id="{t["trade_id"]}"]', js_rate(t["stop_loss_abs"]))
        text = inner(b, f'#open-trades tr[data-trade-id="{t["trade_id"]}"]')
        for expected in (t["pair"], js_rate(t["open_rate"]), js_amount(t["stake_amount"]), "−10.00 %"):
            assert expected in text, f"open trade {t['trade_id']}: {expected!r} not in {text!r}"
            checked += 1
        assert any(unit in text for unit in ("m ", "h ", "d ")), f"no duration in {text!r}"
    desk_shot(b, "trades")

    # Closed trades: the newest first, 15 a page, and a second page.
    closed = api(desk, "/trades?limit=500")
    total = closed["total"]
    assert total == 21, closed
    b.text_in("#closed-trades", f"Page 1 of 2 · trades 1–{CLOSED_PAGE} of {total}")
    newest = max(closed["trades"], key=lambda t: t["close_timestamp"])
    assert row_text(b, "#closed-trades", newest["exit_reason"]).startswith(newest["pair"])
    click(b, '#closed-trades [data-page="older"]')
    b.text_in("#closed-trades", f"Page 2 of 2 · trades {CLOSED_PAGE + 1}–{total} of {total}")
    click(b, '#closed-trades [data-page="newer"]')
    b.text_in("#closed-trades", "Page 1 of 2")

    # One trade: its orders and exit reason (GET /bots/{id}/trades/{tradeId}).
    detail = api(desk, f"/trades/{newest['trade_id']}")
    click(b, f'#closed-trades tr[data-trade-id="{newest["trade_id"]}"] button')
    b.text_in("#trade-dialog", f"Orders ({len(detail['orders'])})")
    text = inner(b, "#trade-dialog")
    for expected in (detail["exit_reason"], detail["pair"], js_rate(detail["open_rate"]), js_rate(detail["close_rate"]), detail["enter_tag"]):
        assert expected in text, f"trade detail: {expected!r} not in {text!r}"
        checked += 1
    assert len(b.all("#trade-dialog tbody tr")) == len(detail["orders"]) == 2
    desk_shot(b, "trade-detail", "#trade-dialog")
    b.button("Close", scope="#trade-dialog").click()
    b.wait_for(lambda d: not b.all("#trade-dialog"))

    # The candle chart: a Chart.js chart with candles, the plot_config's indicators and markers.
    tab(b, "chart")
    b.text_in("#candle-status", "200 candles", timeout=20)
    plot = api(desk, "/plot-config")
    candles = api(desk, f"/candles?pair={PAIRS[0].replace('/', '%2F')}&limit=200")
    kinds = b.driver.execute_script("""
        const chart = window.Chart && Chart.getChart(document.querySelector('#candle-canvas'));
        if (!chart) return null;
        return chart.data.datasets.map((d) => ({kind: d.ftaKind, label: d.label, type: d.type, n: d.data.length,
                                                first: d.data[0] ?? null, last: d.data[d.data.length - 1] ?? null}));""")
    assert kinds, "no Chart.js instance on the candle canvas"
    by_kind = {}
    for d in kinds:
        by_kind.setdefault(d["kind"], []).append(d)
    assert [d["n"] for d in by_kind["candle"]] == [200] and [d["n"] for d in by_kind["wick"]] == [200], kinds
    assert by_kind["candle"][0]["type"] == "bar" and len(by_kind["candle"][0]["first"]["y"]) == 2, "candles are floating bars [open, close]"
    assert {d["label"] for d in by_kind["indicator"]} == set(plot["main_plot"]), (kinds, plot)
    assert all(d["type"] == "line" and d["n"] == 200 for d in by_kind["indicator"]), kinds
    # The chart's last candle is the bot's (or the next one, when a new candle began in between).
    columns = candles["columns"]
    api_last = candles["data"][-1][columns.index("__date_ts")]
    assert 0 <= by_kind["candle"][0]["last"]["x"] - api_last <= 300000, (by_kind["candle"][0]["last"], api_last)
    signals = sum(row[columns.index("enter_long")] == 1 for row in candles["data"])
    assert by_kind["entry-signal"][0]["n"] in (signals, signals - 1, signals + 1), (kinds, signals)
    assert by_kind["trade-entry"][0]["n"] >= 1 and by_kind["trade-exit"][0]["n"] >= 1, "the bot's trades are marked on the chart"
    rsi = b.driver.execute_script("""
        const chart = Chart.getChart(document.querySelector('canvas[data-subplot="RSI"]'));
        return chart ? chart.data.datasets.map((d) => [d.label, d.data.length]) : null;""")
    assert rsi == [["rsi", 200]], rsi
    desk_shot(b, "chart")
    # Another of the bot's pairs.
    Select(b.css("#candle-pair")).select_by_value(PAIRS[1])
    b.text_in("#candle-status", f"{PAIRS[1]}, 200 candles", timeout=20)
    checked += 6

    # Per-pair performance, entries, exits, wins and losses.
    tab(b, "performance")
    performance = api(desk, "/performance")["performance"]
    b.text_in("#performance", performance[0]["pair"])
    for p in performance:
        text = row_text(b, "#performance", p["pair"])
        assert f" {p['count']} " in f" {text} " and js_amount(p["profit_abs"], signed=True) in text, (p, text)
        checked += 2
    for e in api(desk, "/entries")["entries"]:
        text = row_text(b, "#entries", e["enter_tag"])
        assert js_amount(e["profit_abs"], signed=True) in text and f" {e['count']} " in f" {text} ", (e, text)
        checked += 2
    for e in api(desk, "/exits")["exits"]:
        text = row_text(b, "#exits", e["exit_reason"])
        assert js_amount(e["profit_abs"], signed=True) in text and f" {e['count']} " in f" {text} ", (e, text)
        checked += 2
    stats = api(desk, "/stats")
    for reason, r in stats["exit_reasons"].items():
        assert row_text(b, "#stats", reason).split()[-3:] == [str(r["wins"]), str(r["draws"]), str(r["losses"])]
        checked += 1
    assert "45m 0s" in inner(b, "#stats"), "average hold of wins (2700 s)"
    desk_shot(b, "performance")

    # Daily, weekly and monthly results: the periods and their trades, switchable.
    tab(b, "results")
    for period in ("daily", "weekly", "monthly"):
        click(b, f'[data-period="{period}"]')
        data = api(desk, f"/{period}")["data"]
        busiest = max(data, key=lambda r: r["trade_count"])
        b.text_in("#results", busiest["date"])
        text = row_text(b, "#results", busiest["date"])
        assert text.split()[1] == str(busiest["trade_count"]) and js_amount(busiest["abs_profit"], signed=True) in text, (period, busiest, text)
        assert len(b.all("#results tbody tr")) == len(data), period
        desk_shot(b, f"results-{period}")
        checked += 3

    # Balance.
    tab(b, "wallet")
    balance = api(desk, "/balance")
    b.text_in("#balance", f"{js_amount(balance['starting_capital'])} USDT")
    for c in balance["currencies"]:
        assert c["currency"] in row_text(b, "#balance", c["currency"])
    desk_shot(b, "balance")
    checked += 1 + len(balance["currencies"])

    # Locks, whitelist, blacklist.
    tab(b, "pairs")
    whitelist = api(desk, "/whitelist")["whitelist"]
    for pair in whitelist:
        b.text_in("#whitelist", pair)
    b.text_in("#locks", "No pair is locked.")
    b.text_in("#blacklist", "No pair is blacklisted.")
    desk_shot(b, "pairs")
    checked += len(whitelist)

    # The effective settings (show_config).
    tab(b, "settings")
    config = api(desk, "/config")
    b.text_in("#config", "Yes: paper trading")
    text = inner(b, "#config")
    for expected in (config["strategy"], config["timeframe"], config["exchange"], f"{js_amount(config['dry_run_wallet'])} USDT", str(config["max_open_trades"])):
        assert expected in text, f"settings: {expected!r} not in {text!r}"
        checked += 1
    desk_shot(b, "settings")

    # Activity: what the bot's websocket reported (its start and its newest entry fill).
    tab(b, "activity")
    events = wait_until(lambda: [e for e in desk["owner"].call("GET", f"/events?bot={desk['bot']}")[1]["events"] if e["kind"] == "entry_fill"],
                        "the bot's entry_fill in the portal's events", timeout=30)
    b.text_in("#activity", events[0]["title"], timeout=20)
    desk_shot(b, "activity")
    checked += 1
    print(f"desk views: {checked} figures compared with the bot's answers")
    b.assert_clean_console()


# --- 3: a viewer ----------------------------------------------------------------------------------

def test_viewer_sees_the_views_and_no_control(desk, session):
    b = session("viewer")
    shown = {"performance": ("#performance", PAIRS[0]), "settings": ("#config", "Yes: paper trading"),
             "pairs": ("#whitelist", PAIRS[1]), "wallet": ("#balance", "USDT"), "chart": ("#candle-status", "200 candles")}
    for name in TABS:
        tab(b, name)
        if name in shown:
            b.text_in(*shown[name], timeout=20)
        time.sleep(0.3)
        assert not b.all("[data-action]"), f"a viewer was given controls on the {name} tab"
        assert not b.all(f"#panel-{name} form"), f"a viewer was given a form on the {name} tab"
    assert b.css("#trading-card").get_attribute("hidden") is not None
    assert b.css("#edit-card").get_attribute("hidden") is not None
    assert not b.all('a[href$="/trades.csv"]'), "export is offered to owners and admins only"
    offered = set(b.driver.execute_script(
        "return [...document.querySelectorAll('button, a')].map((e) => e.innerText.trim().toLowerCase()).filter(Boolean)"))
    for word in ("pause entries", "resume entries", "exit all trades", "exit", "lock pair", "unlock", "add to blacklist",
                 "save settings", "clone bot", "reset paper wallet…", "start", "stop", "restart", "delete"):
        assert word not in offered, f"a viewer was offered {word!r}"
    tab(b, "trades")
    desk_shot(b, "trades")
    tab(b, "pairs")
    desk_shot(b, "pairs")
    b.assert_clean_console()


# --- 4: no chart library ---------------------------------------------------------------------------

def test_without_the_chart_library_the_page_says_so_and_works(desk):
    """Chart.js missing (blocked here, as a portal without libjs-chart.js would 404 it): the chart
    tab says so in words and every other view still works."""
    b = Browser(base_url=desk["url"], artifacts=desk["artifacts"], name="desk-nochart")
    try:
        library = b.url("/vendor/chart.js/chart.min.js")
        b.expected_missing.add(library)  # the one failed load this test causes on purpose
        b.driver.execute_cdp_cmd("Network.enable", {})
        b.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": [library]})
        b.sign_in(*desk["users"]["viewer"])
        b.open(f"/bot.html?id={desk['bot']}#chart")
        b.wait_ready()
        b.text_in("#candle-status", "chart library is not available", timeout=20)
        assert b.driver.execute_script("return typeof window.Chart") == "undefined"
        desk_shot(b, "chart-without-library")
        tab(b, "performance")
        b.text_in("#performance", PAIRS[0], timeout=20)
        tab(b, "trades")
        b.text_in("#open-trades", PAIRS[0], timeout=20)
        b.assert_clean_console()
    finally:
        b.quit()


# --- 5: the owner's controls ----------------------------------------------------------------------

def audit_actions(desk) -> list[str]:
    status, body = desk["admin"].call("GET", "/audit?limit=500&outcome=success")
    assert status == 200, body
    return [e["action"] for e in body["entries"] if desk["bot"] in f"{e.get('target')} {e.get('detail')}"]


def confirm(b: Browser) -> None:
    b.visible("dialog[open]")
    [ok] = [x for x in b.all("dialog[open] button") if x.get_attribute("value") == "confirm"]
    ok.click()
    b.wait_for(lambda d: not b.all("dialog[open]"))


def test_owner_controls_change_the_bot(desk, session):
    b = session("owner")
    bot = desk["bot"]

    # Lock a pair for 30 minutes; the bot lists the lock; unlock it.
    tab(b, "pairs")
    Select(b.css("#lock-pair")).select_by_value(PAIRS[1])
    b.type_into("#lock-minutes", "30")
    b.type_into("#lock-reason", "desk test")
    click(b, '[data-action="lock"]')
    b.text_in("#locks", "desk test")
    [lock] = api(desk, "/locks")["locks"]
    assert lock["pair"] == PAIRS[1] and lock["reason"] == "desk test" and lock["active"], lock
    assert PAIRS[1] in row_text(b, "#locks", "desk test")
    desk_shot(b, "pairs-locked")
    click(b, f'#locks [data-action="unlock"][data-lock-id="{lock["id"]}"]')
    b.text_in("#locks", "No pair is locked.")
    assert api(desk, "/locks")["locks"] == []

    # Blacklist a pair and take it off again.
    b.type_into("#bl-pairs", "DOGE/USDT")
    click(b, '[data-action="blacklist-add"]')
    b.text_in("#blacklist", "DOGE/USDT")
    assert api(desk, "/blacklist")["blacklist"] == ["DOGE/USDT"]
    click(b, '#blacklist [data-pair="DOGE/USDT"] [data-action="blacklist-remove"]')
    b.text_in("#blacklist", "No pair is blacklisted.")
    assert api(desk, "/blacklist")["blacklist"] == []

    # Pause entries, then resume them: the bot's state says so.
    tab(b, "trades")
    click(b, '[data-action="pause-entries"]')
    wait_until(lambda: api(desk, "/config")["state"] == "paused", "the bot paused", timeout=10)
    click(b, '[data-action="resume-entries"]')
    wait_until(lambda: api(desk, "/config")["state"] == "running", "the bot running again", timeout=10)

    # Force-exit one trade (after confirming): it closes at the bot, and its exit fill reaches
    # the open page's activity feed without a reload.
    tab(b, "activity")
    b.visible("#live-state [data-live-state]")
    tab(b, "trades")
    [first, _] = api(desk, "/status")["trades"]
    click(b, f'#open-trades [data-action="force-exit"][data-trade-id="{first["trade_id"]}"]')
    confirm(b)
    wait_until(lambda: len(api(desk, "/status")["trades"]) == 1, "the trade closed at the bot", timeout=15)
    b.wait_for(lambda d: not b.all(f'#open-trades tr[data-trade-id="{first["trade_id"]}"]'), timeout=20,
               message="the exited trade still shows as open")
    tab(b, "activity")
    b.text_in("#activity", f"Sold {first['pair']}", timeout=20)
    assert api(desk, f"/trades/{first['trade_id']}")["exit_reason"] == "force_exit"

    # Edit the settings: a pair the portal refuses is said under the field; then a valid change
    # is saved and the page says to restart to apply it.
    tab(b, "settings")
    b.visible("#settings-form")
    b.type_into("#e-pairs", "BTC/USDT, not-a-pair")
    click(b, '[data-action="save-settings"]')
    b.visible("#e-pairs-err")
    assert b.css("#e-pairs").get_attribute("aria-invalid") == "true"
    desk_shot(b, "settings-field-error", "#edit-card")
    b.type_into("#e-pairs", "BTC/USDT, ETH/USDT")
    b.type_into("#e-maxOpenTrades", "2")
    click(b, '[data-action="save-settings"]')
    b.visible("#restart-pending")
    status, body = desk["owner"].call("GET", f"/bots/{bot}")
    assert body["bot"]["maxOpenTrades"] == 2 and body["bot"]["pendingRestart"] is True, body
    desk_shot(b, "restart-pending", "#restart-pending")
    # Restart applies them: the bot's show_config then has the new value, and the note goes.
    click(b, '[data-action="restart-apply"]')

    def applied():
        status, body = desk["owner"].call("GET", f"/bots/{bot}/config")
        return status == 200 and body.get("max_open_trades") == 2

    wait_until(applied, "show_config reporting max_open_trades 2 after the restart", timeout=120, interval=1)
    b.wait_for(lambda d: not b.css("#restart-pending").is_displayed(), timeout=30, message="still says restart to apply")
    assert desk["owner"].call("GET", f"/bots/{bot}")[1]["bot"]["pendingRestart"] is False

    # Clone: a new bot with these settings.
    clone_id = f"{bot}-copy"
    b.type_into("#cl-id", clone_id)
    click(b, '[data-action="clone"]')
    desk["made"].append(clone_id)
    b.visible('[data-testid="clone-link"]')
    status, body = desk["owner"].call("GET", f"/bots/{clone_id}")
    assert status == 200 and body["bot"]["maxOpenTrades"] == 2 and body["bot"]["pairs"] == PAIRS, body

    # Export: the CSV the link downloads has one line per trade that /trades lists.
    link = b.css('[data-action="export-csv"]').get_attribute("href")
    assert link.endswith(f"/api/v1/bots/{bot}/trades.csv"), link
    csv = b.driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch(arguments[0], {credentials: 'same-origin'}).then(async (r) => done([r.status, r.headers.get('Content-Type'), await r.text()]));""", link)
    assert csv[0] == 200 and csv[1].startswith("text/csv"), csv[:2]
    lines = csv[2].strip().splitlines()
    assert lines[0].startswith("trade_id,pair,is_open,open_date"), lines[0]
    # /trades lists the closed trades (Freqtrade's own /trades): the CSV has each of them once.
    listed = sorted(t["trade_id"] for t in api(desk, "/trades?limit=500")["trades"])
    assert sorted(int(line.split(",", 1)[0]) for line in lines[1:]) == listed, (lines[1:3], listed)

    # Reset the paper wallet: the button waits for the bot's id typed out; the bot then has no trades.
    click(b, '[data-action="wallet-reset"]')
    b.visible("#wallet-reset-dialog[open]")
    confirm_button = b.css('[data-action="wallet-reset-confirm"]')
    b.type_into("#wr-confirm", "not-the-id")
    assert not confirm_button.is_enabled(), "the reset is offered before the bot's id is typed"
    b.type_into("#wr-confirm", bot)
    assert confirm_button.is_enabled()
    desk_shot(b, "wallet-reset-dialog", "#wallet-reset-dialog")
    confirm_button.click()
    b.text_in("#wallet-msg", "tradesv3.dryrun.sqlite", timeout=120)

    def fresh():
        status, body = desk["owner"].call("GET", f"/bots/{bot}/trades?limit=10")
        return status == 200 and body["total"] == 0

    wait_until(fresh, "the bot answering with no trades after the reset", timeout=120, interval=1)
    tab(b, "trades")
    b.text_in("#closed-trades", "No closed trades yet.", timeout=30)

    # Every control is in the audit trail.
    actions = audit_actions(desk)
    for action in ("bot.lock", "bot.unlock", "bot.blacklist_add", "bot.blacklist_remove", "bot.trading_pause", "bot.trading_start",
                   "bot.force_exit", "bot.update", "bot.restart", "bot.clone", "bot.wallet_reset"):
        assert action in actions, f"{action} missing from the audit trail: {actions}"
    print(f"controls: 11 actions audited; {len(lines) - 1} trades exported")
    b.assert_clean_console()
