"""The strategy lab in a real browser (issue 16): web/lab.html and web/js/lab/, the bot page's
"Backtest vs dry run" tab (web/js/desk/replay.js) and the operator's lab controls on the clients
page, against a stand-in of the portal's API (fta_lab_standin: the repository's web files served
with the portal's own headers and CSP, scripted lab answers, every request recorded).

Proven, in file order:

1. the backtest form sends the API's JSON: the choices as typed, the time range as
   YYYYMMDD-YYYYMMDD, no tuning while nothing was changed, and a tuning object holding exactly
   what was changed from the strategy's own values (ROI step, stop-loss, a parameter, a protection)
   once something was; the Tuning section opens from the keyboard;
2. the portal's field errors show next to their inputs (a tuning one inside the tuning section),
   the input is marked invalid and focused, an error with no field is shown at the top, the
   browser's own check stops a reversed time range without a request, and nothing typed is lost;
3. the history shows a running backtest's progress bar (elapsed of the time limit) and follows it
   every 2 s, cancels it (POST .../cancel with {} as JSON), stops polling when nothing runs, and
   deletes one after a confirmation;
4. the result view shows every metric in words, per-pair and exit-reason tables, the trades a page
   at a time, draws the equity curve (a Chart.js chart with a point per equity entry), and "Run as
   dry-run bot" sends a name, id and size and opens the new bot's page;
5. compare asks for the backtests in the order they were picked and shows their columns in that
   order, the best value of each row marked, the equity curves overlaid; Back returns; arrow keys
   move between the tabs;
6. a viewer sees no upload form and no control; an owner uploads a .py file (its text is what is
   sent), Freqtrade's message for an invalid one is shown as text (a message carrying <script> and
   an <img onerror> is neither parsed nor run), versions show, delete asks first; with custom
   strategies off for the client the form is replaced by the reason;
7. the bot page's "Backtest vs dry run" tab starts a replay, follows it and shows the window, the
   profit of each side and their difference, the matched trades with their rate differences and
   the trades only one side made; the tab is in the address; a viewer sees the same and no button;
8. the operator switches a client's custom strategies (PATCH with exactly {"customStrategies":
   false}; a refusal puts the switch back) and prunes a cached data set after a confirmation.

Every session's console must stay clean: any error or CSP violation fails the test. Views are
screenshotted at 1280x900 and 360x780, scrolled to the view (no sideways scrolling at 360 px).
"""
from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

if os.environ.get("CI") != "true":  # under CI a missing selenium is a collection error, never a skip
    pytest.importorskip("selenium", reason="selenium is not installed (pip install -r Tests/system/requirements.txt)")

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from fta_desk_web_support import desk_shot
from fta_lab_standin import CHARTJS, USERS, LabStandin, replay_comparison
from fta_system_support import missing
from webportal import Browser

EVIL = 'Could not load GoodStrat: <script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> & "quotes" </pre>'


@pytest.fixture(scope="module")
def standin():
    if not CHARTJS.is_file():
        missing(f"{CHARTJS} is missing (apt-get install libjs-chart.js): the equity charts need it")
    s = LabStandin()
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browsers(standin, chromium_ready, artifacts):
    """One Chromium per user for the whole file, signed in once (a browser start costs seconds)."""
    pool: dict[str, Browser] = {}
    yield pool
    for b in pool.values():
        b.quit()


@pytest.fixture
def lab(standin, browsers, artifacts):
    """Factory: lab("olivia", "/lab.html#strategies") is that user's Chromium, signed in, on a fresh
    load of that page. The stand-in's state is the seed again for each test. Any console error or
    CSP violation during the test fails it."""
    standin.reset()
    used = []

    def open_session(who: str, path: str = "/lab.html") -> Browser:
        b = browsers.get(who)
        if b is None:
            b = browsers[who] = Browser(base_url=standin.url, artifacts=artifacts, name=f"lab-{who}")
            b.sign_in(who, USERS[who][0], expect=path.split("?")[0].split("#")[0], query=f"?next={quote(path, safe='')}")
        else:
            b.driver.get("about:blank")  # a page that differs only in its #fragment would not load again
            b.open(path)
        b.wait_ready()
        b.problems.clear()
        b.reported = False
        used.append(b)
        return b

    yield open_session
    problems = []
    for b in used:
        b.collect_console()
        if not b.reported:
            problems.extend(b.problems)
        b.problems.clear()
    assert not problems, "console errors or CSP violations:\n" + "\n".join(map(str, problems))


# ---------- helpers: the page redraws rows every 2 s, so reads happen inside the page ----------

def js(b: Browser, script: str, *args):
    return b.driver.execute_script(script, *args)


def text(b: Browser, selector: str) -> str:
    return js(b, "const e = document.querySelector(arguments[0]); return e ? e.innerText : ''", selector)


def click(b: Browser, selector: str, timeout: float = 10) -> None:
    """A real click on the element once it is there and enabled (retried if it was redrawn)."""
    def attempt(_):
        try:
            element = b.css(selector)
            if not element.is_displayed() or not element.is_enabled():
                return False
            element.click()
            return True
        except StaleElementReferenceException:
            return False
        except Exception:  # noqa: BLE001 - not there yet
            return False
    b.wait_for(attempt, timeout, f"could not click {selector} on {b.driver.current_url}")


def wait_calls(standin: LabStandin, method: str, path: str, count: int = 1, timeout: float = 10) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = standin.calls(method, path)
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"expected {count} {method} {path}, got {len(standin.calls(method, path))}: {standin.calls(method)}")


def set_date(b: Browser, selector: str, day: str) -> None:
    """Date inputs take keys in the browser's locale format; the value is set as a person's pick would."""
    js(b, "const e = document.querySelector(arguments[0]); e.value = arguments[1];"
          "e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true}));", selector, day)


def confirm_dialog(b: Browser, label: str) -> None:
    b.wait_for(lambda d: js(b, "return !!document.querySelector('dialog[open]')"), 5, "no confirmation dialog")
    b.button(label, "dialog[open]").click()


def days(n: int) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=n)


FORM_DEFAULTS = {"timeframe": "5m", "dryRunWallet": 1000, "stakeAmount": "100", "maxOpenTrades": 3, "exchange": "binance"}


def fill_form(b: Browser, pairs: str = "btc/usdt, eth/usdt") -> str:
    b.visible("#bt-form")
    Select(b.css("#bt-strategy")).select_by_value("FtaEmaCross")
    b.type_into("#bt-pairs", pairs)
    start, end = days(20), days(5)
    set_date(b, "#bt-start", start.strftime("%Y-%m-%d"))
    set_date(b, "#bt-end", end.strftime("%Y-%m-%d"))
    return f"{start:%Y%m%d}-{end:%Y%m%d}"


def open_tuning(b: Browser) -> None:
    summary = b.css("#bt-tuning summary")
    summary.send_keys(Keys.ENTER)  # a <details> opens from the keyboard
    b.wait_for(lambda d: b.css("#bt-tuning").get_attribute("open") is not None, 5, "the tuning section did not open")
    b.visible("#tn-stoploss", timeout=10)


# --- 1: the form's JSON ---------------------------------------------------------------------------

def test_backtest_form_sends_the_json_and_only_the_changed_tuning(lab, standin):
    b = lab("olivia")
    nav = js(b, "return [...document.querySelectorAll('.app-nav a')].map(a => [a.textContent, a.getAttribute('aria-current')])")
    assert ["Lab", "page"] in nav, f"the navigation has no current Lab link: {nav}"
    timerange = fill_form(b)
    click(b, "#bt-submit")
    first = wait_calls(standin, "POST", "/backtests")[0]
    assert first["contentType"] == "application/json" and first["origin"] == standin.url, first
    assert first["body"] == {"strategy": "FtaEmaCross", "pairs": ["BTC/USDT", "ETH/USDT"], "timerange": timerange, **FORM_DEFAULTS}, \
        "nothing was tuned, so no tuning may be sent"

    open_tuning(b)
    # The strategy's own values are shown, ratios as percent.
    assert b.css("#tn-stoploss").get_attribute("value") == "-10"
    roi = js(b, "return [...document.querySelectorAll('.lab-roi tbody tr')].map(r => [...r.querySelectorAll('input')].map(i => i.value))")
    assert roi == [["0", "6"], ["30", "3"], ["60", "1"]], roi
    assert js(b, "return [...document.querySelectorAll('.lab-protection')].map(p => p.dataset.method)") == ["CooldownPeriod"]
    assert "No changes" in text(b, '[data-testid="tuning-status"]')

    b.type_into("#tn-stoploss", "-5")
    b.type_into(".lab-roi tbody tr:nth-child(2) .lab-roi__pct", "2.5")
    b.type_into("#tn-param-buy-buy_fast", "15")
    Select(b.css("#tn-protection-kind")).select_by_value("MaxDrawdown")
    click(b, '[data-action="protection-add"]')
    b.text_in('[data-testid="tuning-status"]', "Changed from the strategy: ROI table, stop-loss, protections, buy_fast.")
    desk_shot(b, "form-tuning", "#bt-tuning")
    click(b, "#bt-submit")
    second = wait_calls(standin, "POST", "/backtests", 2)[1]
    assert second["body"] == {
        "strategy": "FtaEmaCross", "pairs": ["BTC/USDT", "ETH/USDT"], "timerange": timerange, **FORM_DEFAULTS,
        "tuning": {
            "minimalRoi": {"0": 0.06, "30": 0.025, "60": 0.01},
            "stoploss": -0.05,
            "protections": [{"method": "CooldownPeriod", "stopDurationCandles": 2},
                            {"method": "MaxDrawdown", "lookbackPeriodCandles": 48, "tradeLimit": 5, "stopDurationCandles": 12, "maxAllowedDrawdown": 0.2}],
            "params": {"buy": {"buy_fast": 15}},
        },
    }, second["body"]
    # The new backtests are in the history, queued, and the form still holds what was typed.
    b.wait_for(lambda d: js(b, "return document.querySelector('tr[data-backtest-id=\"bt-new-2\"] [data-status]')?.dataset.status") == "queued",
               10, "the new backtest is not in the history")
    assert b.css("#bt-pairs").get_attribute("value") == "btc/usdt, eth/usdt"
    assert b.css("#tn-stoploss").get_attribute("value") == "-5"
    b.assert_clean_console()


# --- 2: errors ------------------------------------------------------------------------------------

def test_field_errors_show_next_to_their_inputs_and_nothing_is_lost(lab, standin):
    b = lab("olivia")
    fill_form(b, "NOPE/USDT")
    b.type_into("#bt-dryRunWallet", "2500")
    click(b, "#bt-submit")
    b.text_in("#bt-pairs-err", "NOPE/USDT is not traded on binance.")
    assert b.css("#bt-pairs").get_attribute("aria-invalid") == "true"
    assert js(b, "return document.activeElement.id") == "bt-pairs", "the first field with an error takes the focus"
    assert "Some fields are not valid." in text(b, "#bt-error")
    assert b.css("#bt-pairs").get_attribute("value") == "NOPE/USDT"
    assert b.css("#bt-dryRunWallet").get_attribute("value") == "2500"

    # The browser's own check: a reversed range is stopped before any request.
    sent = len(standin.calls("POST", "/backtests"))
    b.type_into("#bt-pairs", "BTC/USDT")
    set_date(b, "#bt-start", days(3).strftime("%Y-%m-%d"))
    set_date(b, "#bt-end", days(9).strftime("%Y-%m-%d"))
    click(b, "#bt-submit")
    b.text_in("#bt-timerange-err", "The first day must come before the last.")
    assert b.css("#bt-start").get_attribute("aria-invalid") == "true" and b.css("#bt-end").get_attribute("aria-invalid") == "true"
    time.sleep(0.5)
    assert len(standin.calls("POST", "/backtests")) == sent, "a reversed range was sent to the portal"
    assert not b.css("#bt-pairs-err").is_displayed(), "an old error stayed after the field was fixed and sent again"

    # A tuning field's error from the portal lands next to that field, inside the tuning section.
    set_date(b, "#bt-start", days(20).strftime("%Y-%m-%d"))
    set_date(b, "#bt-end", days(5).strftime("%Y-%m-%d"))
    open_tuning(b)
    b.type_into("#tn-stoploss", "-7")
    b.driver.execute_script("document.querySelector('#bt-tuning').open = false")
    standin.fail_next("POST", "/backtests", 400, {"code": "validation_failed", "message": "Some fields are not valid.", "fields": {
        "tuning.stoploss": "must be between -1 and -0.0001 (a ratio, -0.1 is 10 %)", "nonsense": "is not a field of this form"}})
    click(b, "#bt-submit")
    b.text_in("#tn-stoploss-err", "must be between -1 and -0.0001 (a ratio, -0.1 is 10 %)")
    assert b.css("#bt-tuning").get_attribute("open") is not None, "the tuning section did not open to show its error"
    assert b.css("#tn-stoploss").get_attribute("aria-invalid") == "true"
    assert js(b, "return document.activeElement.id") == "tn-stoploss"
    assert "nonsense: is not a field of this form" in text(b, "#bt-error"), "an error with no field was not shown at the top"
    assert b.css("#tn-stoploss").get_attribute("value") == "-7"
    b.assert_clean_console()


# --- 3: history -----------------------------------------------------------------------------------

def progress_of(b: Browser, bt_id: str):
    return js(b, "const p = document.querySelector(`tr[data-backtest-id=\"${arguments[0]}\"] progress`); return p ? [p.value, p.max] : null", bt_id)


def test_history_shows_progress_follows_it_cancels_and_deletes(lab, standin):
    b = lab("olivia")
    b.wait_for(lambda d: progress_of(b, "bt-run") == [150, 600], 10, "the running backtest's progress bar is not 150 of 600")
    row = text(b, 'tr[data-backtest-id="bt-run"]')
    assert "Running" in row and "2m 30s of at most 10m 0s" in row and "backtesting" in row, row
    assert "The backtest ran out of memory (256 MiB)." in text(b, 'tr[data-backtest-id="bt-fail"]')
    assert "+123.40 USDT" in text(b, 'tr[data-backtest-id="bt-done-a"]')
    # The portal's job moves on: the page follows without a reload.
    with standin.lock:
        standin.backtest("bt-run").update(progress={"elapsedSeconds": 300, "timeLimitSeconds": 600}, phase="reporting")
    b.wait_for(lambda d: progress_of(b, "bt-run") == [300, 600], 6, "the progress did not follow the portal's")
    assert "reporting" in text(b, 'tr[data-backtest-id="bt-run"]')
    desk_shot(b, "history", "#h-history")

    click(b, 'tr[data-backtest-id="bt-run"] [data-action="cancel-backtest"]')
    cancel = wait_calls(standin, "POST", "/backtests/bt-run/cancel")[0]
    assert cancel["body"] == {} and cancel["contentType"] == "application/json", cancel
    b.wait_for(lambda d: js(b, "return document.querySelector('tr[data-backtest-id=\"bt-run\"] [data-status]')?.dataset.status") == "cancelled",
               6, "the cancelled backtest does not say so")
    assert not b.css('tr[data-backtest-id="bt-run"] [data-action="cancel-backtest"]').is_displayed()
    # Nothing runs any more: the 2-second refresh stops.
    time.sleep(0.5)
    polls = len(standin.calls("GET", "/backtests"))
    time.sleep(3)  # one and a half refresh intervals
    assert len(standin.calls("GET", "/backtests")) == polls, "the history kept polling with nothing running"

    click(b, 'tr[data-backtest-id="bt-fail"] [data-action="delete-backtest"]')
    confirm_dialog(b, "Delete backtest")
    wait_calls(standin, "DELETE", "/backtests/bt-fail")
    b.wait_for(lambda d: not b.all('tr[data-backtest-id="bt-fail"]'), 5, "the deleted backtest is still listed")
    b.assert_clean_console()


# --- 4: result ------------------------------------------------------------------------------------

METRIC_TEXT = {
    "profitTotalAbs": "+123.40 USDT", "profitTotal": "+12.34 %", "cagr": "+87.00 %", "winRate": "58.33 % (70 won, 2 even, 48 lost)",
    "maxDrawdown": "4.12 %", "maxDrawdownAbs": "42.10 USDT", "sharpe": "1.23", "sortino": "1.87", "calmar": "2.50",
    "profitFactor": "1.42", "expectancy": "+1.03 USDT", "tradeCount": "120", "avgDurationMinutes": "1h 35m",
    "startingBalance": "1,000.00 USDT", "finalBalance": "1,123.40 USDT", "marketChange": "+2.10 %",
}


def test_result_shows_every_metric_the_tables_and_the_equity_chart(lab, standin):
    b = lab("olivia")
    click(b, 'tr[data-backtest-id="bt-done-a"] [data-action="open-result"]')
    b.wait_for(lambda d: b.path().endswith("/lab.html?id=bt-done-a#result"), 5, "View did not put the backtest in the address")
    b.visible('[data-testid="metrics"]')
    assert b.css("#tab-result").get_attribute("aria-selected") == "true"
    shown = js(b, "return Object.fromEntries([...document.querySelectorAll('[data-testid=\"metrics\"] [data-metric]')]"
                  ".map(e => [e.dataset.metric, e.querySelector('dd').innerText]))")
    for key, expected in METRIC_TEXT.items():
        assert shown.get(key) == expected, f"{key}: shown {shown.get(key)!r}, expected {expected!r}"
    assert shown["backtestStart"] != "—" and shown["backtestEnd"] != "—"
    assert "stop-loss −8.00 %" in text(b, '[data-testid="backtest-settings"]'), "the tuning it ran with is not shown"

    equity = js(b, "const c = Chart.getChart(document.querySelector('#result-equity canvas'));"
                   "return c ? [c.data.datasets.length, c.data.datasets[0].data.length, c.width, c.canvas.getAttribute('aria-label')] : null")
    assert equity and equity[0] == 1 and equity[1] == 121 and equity[2] > 200, f"equity chart: {equity}"
    assert equity[3].startswith("Equity curve. FtaEmaCross: 1,000.00 USDT"), equity[3]

    assert js(b, "return [...document.querySelectorAll('#result-pairs tr[data-pair]')].map(r => r.dataset.pair)") == ["BTC/USDT", "ETH/USDT"]
    assert js(b, "return [...document.querySelectorAll('#result-exits tr[data-reason]')].map(r => r.dataset.reason)") == ["roi", "exit_signal", "stop_loss"]
    assert text(b, '[data-testid="trades-page"]') == "Page 1 of 3 · trades 1–50 of 120"
    assert len(b.all("#result-trades tbody tr")) == 50
    click(b, '#result-trades [data-page="next"]')
    b.text_in('[data-testid="trades-page"]', "Page 2 of 3 · trades 51–100 of 120")
    assert js(b, "return document.activeElement.dataset.page") == "next", "paging lost the keyboard focus"
    desk_shot(b, "result", "#panel-result")

    click(b, '[data-action="run-as-bot"]')
    b.visible("#run-as-bot-dialog #rb-name")
    b.type_into("#rb-name", "EMA from lab")
    assert b.css("#rb-id").get_attribute("value") == "ema-from-lab", "the bot id does not follow the name"
    b.wait_for(lambda d: len(b.all("#rb-size option")) == 2, 5, "the sizes were not loaded from the catalog")
    Select(b.css("#rb-size")).select_by_value("medium")
    click(b, '[data-action="run-as-bot-confirm"]')
    made = wait_calls(standin, "POST", "/backtests/bt-done-a/bot")[0]
    assert made["body"] == {"id": "ema-from-lab", "name": "EMA from lab", "size": "medium"}, made["body"]
    b.wait_path("/bot.html?id=ema-from-lab")
    b.wait_ready()
    b.text_in("#bot-name", "EMA from lab")
    b.assert_clean_console()


# --- 5: compare -----------------------------------------------------------------------------------

def test_compare_keeps_the_picked_order_marks_the_best_and_overlays_the_curves(lab, standin):
    b = lab("olivia")
    b.visible('tr[data-backtest-id="bt-done-a"]')
    assert js(b, "return document.querySelector('#pick-bt-run').disabled && document.querySelector('#pick-bt-fail').disabled"), \
        "unfinished or failed backtests can be picked for comparison"
    for bt_id in ("bt-done-c", "bt-done-a", "bt-done-b"):
        click(b, f"#pick-{bt_id}")
    assert b.css("#compare-open").text == "Compare selected (3)"
    click(b, "#compare-open")
    b.wait_for(lambda d: b.path().endswith("?ids=bt-done-c%2Cbt-done-a%2Cbt-done-b#compare") or b.path().endswith("?ids=bt-done-c,bt-done-a,bt-done-b#compare"),
               5, f"the comparison is not in the address: {b.path()}")
    asked = wait_calls(standin, "GET", "/backtests/compare")[0]
    assert asked["query"] == {"ids": "bt-done-c,bt-done-a,bt-done-b"}, asked["query"]
    b.visible('[data-testid="compare-table"]')
    columns = js(b, "return [...document.querySelectorAll('[data-testid=\"compare-table\"] thead th[data-backtest-id]')].map(t => t.dataset.backtestId)")
    assert columns == ["bt-done-c", "bt-done-a", "bt-done-b"], columns

    def best(metric):
        return js(b, "return [...document.querySelectorAll(`[data-testid=\"compare-table\"] tr[data-metric=\"${arguments[0]}\"] td`)]"
                     ".map(td => td.dataset.best === 'true')", metric)
    assert best("profitTotalAbs") == [False, True, False], "the highest profit (bt-done-a) is not marked"
    assert best("maxDrawdown") == [False, False, True], "the lowest drawdown (bt-done-b) is not marked"
    assert best("tradeCount") == [False, False, False], "more trades is not 'better'"
    assert "best" in text(b, '[data-testid="compare-table"] tr[data-metric="profitTotalAbs"] td[data-best]').lower(), "the best is marked by colour only"
    labels = None

    def curves(_):
        nonlocal labels
        labels = js(b, "const c = Chart.getChart(document.querySelector('#compare-equity canvas'));"
                       "return c ? c.data.datasets.map(d => [d.label, d.data.length]) : null")
        return labels
    b.wait_for(curves, 10, "the equity curves were not drawn")
    assert labels == [["1. MyStrat (custom) (bt-done-c)", 41], ["2. FtaEmaCross (bt-done-a)", 121], ["3. FtaRsi (bt-done-b)", 61]], labels
    desk_shot(b, "compare", "#panel-compare")

    # Back returns to the list; the tab row follows the arrow keys.
    b.driver.back()
    b.wait_for(lambda d: b.css("#tab-backtests").get_attribute("aria-selected") == "true", 5, "Back did not return to the backtests")
    b.css("#tab-backtests").send_keys(Keys.ARROW_RIGHT)
    b.wait_for(lambda d: js(b, "return document.activeElement.id") == "tab-result" and b.css("#tab-result").get_attribute("aria-selected") == "true",
               5, "ArrowRight did not move to the next tab")
    b.css("#tab-result").send_keys(Keys.END)
    b.wait_for(lambda d: b.css("#tab-strategies").get_attribute("aria-selected") == "true", 5, "End did not move to the last tab")
    assert b.path().endswith("#strategies")
    b.assert_clean_console()


# --- 6: strategies --------------------------------------------------------------------------------

def test_strategies_upload_messages_as_text_and_roles(lab, standin, tmp_path):
    viewer = lab("victor", "/lab.html#strategies")
    viewer.text_in("#custom-list", "MyStrat")
    assert viewer.css('[data-testid="viewer-note"]').is_displayed()
    assert not viewer.all('input[type="file"]') and not viewer.all("#st-form"), "a viewer was given the upload form"
    assert not viewer.all('[data-action="delete-strategy"]'), "a viewer was offered delete"
    click(viewer, "#tab-backtests")
    viewer.visible('tr[data-backtest-id="bt-run"]')
    assert not viewer.css("#new-backtest").is_displayed(), "a viewer was given the backtest form"
    assert not viewer.all('[data-action="cancel-backtest"]') and not viewer.all('[data-action="delete-backtest"]')
    viewer.assert_clean_console()

    b = lab("olivia", "/lab.html#strategies")
    b.visible("#st-form")
    click(b, "#st-submit")
    b.text_in("#st-file-err", "Choose a .py file.")
    source = "from freqtrade.strategy import IStrategy\n\n# é: UTF-8 stays UTF-8\nclass GoodStrat(IStrategy):\n    timeframe = '5m'\n"
    path = tmp_path / "GoodStrat.py"
    path.write_text(source, encoding="utf-8")
    b.css("#st-file").send_keys(str(path))
    click(b, "#st-submit")
    upload = wait_calls(standin, "POST", "/strategies")[0]
    assert upload["body"] == {"fileName": "GoodStrat.py", "source": source}, upload["body"]
    b.wait_for(lambda d: js(b, "return document.querySelector('tr[data-strategy=\"GoodStrat\"]')?.dataset.status") == "validating",
               5, "the upload is not listed as being checked")

    # Freqtrade refuses it; its message is the client's code talking back: text only.
    with standin.lock:
        entry = next(s for s in standin.custom if s["name"] == "GoodStrat")
        entry.update(status="invalid", message=EVIL)
    b.wait_for(lambda d: js(b, "return document.querySelector('tr[data-message-for=\"GoodStrat\"] pre')?.textContent") == EVIL,
               6, "Freqtrade's message is not shown as it is")
    parsed = js(b, "const row = document.querySelector('tr[data-message-for=\"GoodStrat\"]');"
                   "return [row.querySelector('pre').children.length, row.querySelectorAll('script, img').length, window.__pwned ?? null,"
                   " getComputedStyle(row.querySelector('pre')).display]")
    assert parsed[:3] == [0, 0, None], f"the message was parsed or run: {parsed}"
    assert parsed[3] != "none"
    assert js(b, "return document.querySelector('tr[data-strategy=\"GoodStrat\"] [data-status]').dataset.status") == "invalid"
    desk_shot(b, "strategies", "#panel-strategies")

    click(b, 'button[aria-label="Versions of MyStrat"]')
    b.text_in("#custom-list .lab-versions", "SyntaxError: invalid syntax (line 3)")
    assert b.css('button[aria-label="Versions of MyStrat"]').get_attribute("aria-expanded") == "true"

    click(b, 'tr[data-strategy="GoodStrat"] [data-action="delete-strategy"]')
    confirm_dialog(b, "Delete strategy")
    wait_calls(standin, "DELETE", "/strategies/GoodStrat")
    b.wait_for(lambda d: not b.all('tr[data-strategy="GoodStrat"]'), 5, "the deleted strategy is still listed")

    # The operator has not enabled custom strategies: the form gives way to the reason.
    with standin.lock:
        standin.clients[0]["customStrategies"] = False
    b.open("/lab.html#strategies")
    b.wait_ready()
    b.visible('[data-testid="custom-disabled"]')
    assert "not enabled" in text(b, '[data-testid="custom-disabled"]')
    assert not b.all("#st-form")
    b.assert_clean_console()


# --- 7: the bot page's tab ------------------------------------------------------------------------

def test_bot_page_replay_compares_the_dry_run_with_its_backtest(lab, standin):
    b = lab("olivia", "/bot.html?id=b1#replay")
    b.wait_for(lambda d: b.css("#tab-replay").get_attribute("aria-selected") == "true", 10, "the replay tab is not chosen from the address")
    b.visible('[data-testid="replay-none"]')
    click(b, '[data-action="replay-run"]')
    run = wait_calls(standin, "POST", "/bots/b1/replay")[0]
    assert run["body"] == {} and run["contentType"] == "application/json"
    b.wait_for(lambda d: js(b, "return !!document.querySelector('#replay progress')"), 5, "the replay's progress is not shown")
    assert b.css('[data-action="replay-run"]').get_attribute("disabled") is not None, "a second replay can start while one runs"

    with standin.lock:
        standin.backtest("bt-replay-1").update(status="succeeded", phase="done", comparison=replay_comparison(),
                                               finishedAt="2026-12-03T10:05:00Z")
    b.visible('[data-testid="replay-profit"]', timeout=6)
    profit = js(b, "return Object.fromEntries([...document.querySelectorAll('[data-profit]')].map(e => [e.dataset.profit, e.innerText]))")
    assert profit == {"dry": "+12.50 USDT", "backtest": "+10.00 USDT", "delta": "+2.50 USDT"}, profit
    matched = text(b, '[data-testid="replay-matched"] tr[data-pair="BTC/USDT"]')
    assert "+12.50 (+0.02 %)" in matched and "\u221210.00 (\u22120.02 %)" in matched, matched
    assert "ETH/USDT" in text(b, '[data-testid="replay-only-dry"]') and "SOL/USDT" not in text(b, '[data-testid="replay-only-dry"]')
    assert "SOL/USDT" in text(b, '[data-testid="replay-only-backtest"]')
    assert "window" in text(b, '[data-testid="replay-window"]').lower()
    assert b.path().endswith("/bot.html?id=b1#replay")
    desk_shot(b, "replay", "#panel-replay")
    b.assert_clean_console()

    viewer = lab("victor", "/bot.html?id=b1#replay")
    viewer.visible('[data-testid="replay-profit"]', timeout=10)
    assert not viewer.all('[data-action="replay-run"]'), "a viewer was offered to start a replay"
    viewer.assert_clean_console()


# --- 8: the operator ------------------------------------------------------------------------------

def test_operator_switches_custom_strategies_and_prunes_data(lab, standin):
    b = lab("ada", "/admin-clients.html")
    box = "#custom-acme"
    b.wait_for(lambda d: js(b, "return document.querySelector(arguments[0])?.checked", box) is True, 10, "acme's switch is not shown on")
    click(b, box)
    patch = wait_calls(standin, "PATCH", "/clients/acme")[0]
    assert patch["body"] == {"customStrategies": False}, patch["body"]
    b.wait_for(lambda d: js(b, "const e = document.querySelector(arguments[0]); return e && !e.checked && !e.disabled", box), 5)
    assert standin.clients[0]["customStrategies"] is False

    # A refusal puts the switch back to what the portal holds, and says why.
    standin.fail_next("PATCH", "/clients/acme", 409, {"code": "conflict", "message": "The client is being changed elsewhere."})
    click(b, box)
    b.text_in("#clients-error", "The client is being changed elsewhere.")
    b.wait_for(lambda d: js(b, "const e = document.querySelector(arguments[0]); return e && !e.checked && !e.disabled", box), 5,
               "the switch shows a change the portal refused")

    b.visible('tr[data-key="binance-5m"]')
    assert "3 MiB used of 512 MiB" in text(b, "#lab-data-usage")
    desk_shot(b, "admin-lab-data", "#clients-table")
    click(b, 'tr[data-key="binance-5m"] [data-action="lab-data-delete"]')
    confirm_dialog(b, "Delete data")
    wait_calls(standin, "DELETE", "/lab/data/binance-5m")
    b.wait_for(lambda d: not b.all('tr[data-key="binance-5m"]'), 5, "the pruned set is still listed")
    assert b.all('tr[data-key="kraken-1h"]')
    b.assert_clean_console()
