"""The strategy lab's runner and bot launcher (LabRunnerSource.swift) against real Freqtrade.

The two Python texts are read out of the Swift file and run with the pinned Freqtrade of the
host venv, each job in a directory laid out like the job container's tmpfs (the runner's
FTA_LAB_ROOT), on the market simulator's history: validation of good, broken and misnamed
strategies; downloads into a shared data directory (the data volume) and what a second one costs;
backtests of every shipped strategy and a custom one, with and without protections and
parameters; and a dry-run bot started through the launcher. Hostile strategies are only parsed
here, never run: their attacks are for the container tests.
"""

from __future__ import annotations

import ast
import json
import math
import re
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fta_freqtrade_support as support
import fta_lab_support as lab_support
import pytest
import shipped_strategies
from fta_lab_support import STRATEGIES, Lab

PAIRS = ["BTC/USDT", "ETH/USDT"]
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
# Nothing listens here: a job that needs no network must not notice.
DEAD_EXCHANGE = "http://127.0.0.1:9"
# Two jobs at a time: the CI machine has two cores and each job is one busy Python process.
WORKERS = 2

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def day(n: int) -> datetime:
    return TODAY - timedelta(days=n)


def timerange(start: int, end: int) -> str:
    return f"{day(start):%Y%m%d}-{day(end):%Y%m%d}"


# The simulator keeps a week of history. The download window starts more than 1000 candles ago,
# so Freqtrade fetches it page by page (not with its one-call parallel method), and the backtest
# window leaves a day before it for the strategies' startup candles.
DOWNLOAD_RANGE = timerange(5, 2)
EARLIER_RANGE = timerange(6, 5)
BACKTEST_RANGE = timerange(4, 2)

METRICS = {"tradeCount", "wins", "losses", "draws", "winRate", "profitTotal", "profitTotalAbs", "cagr",
           "maxDrawdown", "maxDrawdownAbs", "sharpe", "sortino", "calmar", "profitFactor", "expectancy",
           "avgDurationMinutes", "startingBalance", "finalBalance", "backtestStart", "backtestEnd", "marketChange"}
TRADE_KEYS = {"pair", "openDate", "closeDate", "openRate", "closeRate", "amount", "stakeAmount", "profitAbs",
              "profitRatio", "exitReason", "enterTag", "durationMinutes"}
HOSTILE = ["HostileSockets", "HostileEnviron", "HostileFork", "HostileMemory", "HostileDisk", "HostileLoop", "HostileStall"]


def parse_iso(text: str) -> datetime:
    assert ISO.match(text), text
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def assert_no_paths(message: str, lab: Lab) -> None:
    for marker in (str(lab.base), "/tmp/", "site-packages", "/strategies/", "/var/"):
        assert marker not in message, f"{marker!r} in {message!r}"


# --- the texts -------------------------------------------------------------------------------

def test_runner_and_launcher_are_embedded_once_and_the_runner_stays_under_12_kib():
    sources = lab_support.lab_sources()
    swift = lab_support.SWIFT_FILE.read_text()
    assert swift.count('static let runner = #"""') == 1 and swift.count('static let launcher = #"""') == 1
    size = len(sources["runner"].encode())
    assert size < 12 * 1024, f"the runner is {size} bytes; docs/strategy-lab.md allows less than 12 KiB"
    for name, text in sources.items():
        compile(text, f"<{name}>", "exec")


def test_fixture_strategies_parse_and_each_hostile_one_ends_with_its_attack():
    """Parsed, never imported: importing a hostile fixture would run its attack on this host."""
    for name in ["LabGoodStrategy", "LabMismatchedName", *HOSTILE]:
        tree = ast.parse((STRATEGIES / f"{name}.py").read_text(), filename=f"{name}.py")
        classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
        if name == "LabMismatchedName":
            assert name not in classes and list(classes) == ["SomethingElse"]
            continue
        assert name in classes, f"{name}.py defines {sorted(classes)}"
        cls = classes[name]
        assert [b.id for b in cls.bases if isinstance(b, ast.Name)] == ["IStrategy"]
        methods = {n.name for n in cls.body if isinstance(n, ast.FunctionDef)}
        assert {"populate_indicators", "populate_entry_trend", "populate_exit_trend"} <= methods, name
    for name in HOSTILE:
        source = (STRATEGIES / f"{name}.py").read_text()
        assert "NEVER RUN ON A HOST" in source and "FTA-HOSTILE" in source, name
        tree = ast.parse(source)
        # The attack runs at import: a module-level call (or loop, or a loop where it has a
        # network) after the class.
        last = tree.body[-1]
        assert isinstance(last, (ast.Expr, ast.While, ast.If)), f"{name}: the module does not end with its attack"
    with pytest.raises(SyntaxError) as broken:
        ast.parse((STRATEGIES / "LabBrokenSyntax.py").read_text(), filename="LabBrokenSyntax.py")
    assert broken.value.lineno == 14


def defanged(name: str) -> str:
    """A hostile fixture cut after its class: what Freqtrade loads of it, without the attack.
    Everything kept must be imports, function definitions, literal constants and the class, so
    importing it here runs nothing of the attack."""
    source = (STRATEGIES / f"{name}.py").read_text()
    tree = ast.parse(source)
    cls = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == name)
    for node in tree.body[:tree.body.index(cls)]:
        if isinstance(node, ast.Assign):
            ast.literal_eval(node.value)
        else:
            assert isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.Expr)), (name, ast.dump(node)[:80])
            if isinstance(node, ast.Expr):  # only a docstring
                assert isinstance(node.value, ast.Constant), (name, ast.dump(node)[:80])
    return "\n".join(source.splitlines()[:cls.end_lineno]) + "\n"


# --- fixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def python(freqtrade_exe) -> str:
    return str(Path(freqtrade_exe).parent / "python3")


@pytest.fixture(scope="module")
def sim():
    market = support.MarketSim()
    yield market
    market.stop()


@pytest.fixture(scope="module")
def datadir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data-volume")


@pytest.fixture(scope="module")
def lab(python, sim, datadir, tmp_path_factory) -> Lab:
    return Lab(python, tmp_path_factory.mktemp("lab"),
               lab_support.lab_config(exchange_url=sim.url, pairs=PAIRS, datadir=datadir))


def klines(sim) -> int:
    return sim.stats().get("/api/v3/klines", 0)


@pytest.fixture(scope="module")
def validations(lab, datadir):
    """Every validation, two at a time, on a config whose exchange does not answer (a validate
    job has no network) and whose timeframe and stop-loss differ from the strategies' own."""
    config = lab_support.lab_config(exchange_url=DEAD_EXCHANGE, pairs=PAIRS, datadir=datadir, timeframe="1m")
    config["stoploss"] = -0.2
    raising = (STRATEGIES / "LabGoodStrategy.py").read_text().replace("LabGoodStrategy", "LabImportError")
    raising = raising.replace("\nclass LabImportError(", "\nBROKEN = 1 / 0\n\n\nclass LabImportError(", 1)
    jobs = {
        "LabGoodStrategy": dict(strategy="LabGoodStrategy"),
        "LabBrokenSyntax": dict(strategy="LabBrokenSyntax"),
        "LabMismatchedName": dict(strategy="LabMismatchedName"),
        "LabImportError": dict(strategy="LabImportError", source=raising),
        "FtaRsi": dict(strategy="FtaRsi", source=shipped_strategies.sources()["FtaRsi"]),
    }
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = {name: pool.submit(lab.run, "validate", config=config, **job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.fixture(scope="module")
def downloads(lab, sim):
    """The same window twice, then an earlier one, each with the klines requests it cost."""
    runs = []
    for window in (DOWNLOAD_RANGE, DOWNLOAD_RANGE, EARLIER_RANGE):
        before = klines(sim)
        run = lab.run("download", "FtaEmaCross", shipped_strategies.sources()["FtaEmaCross"],
                      args={"pairs": PAIRS, "timeframe": "5m", "timerange": window})
        runs.append((run, klines(sim) - before))
    return runs


@pytest.fixture(scope="module")
def backtests(lab, downloads, sim, tmp_path_factory):
    """Every backtest, two at a time, once the data is in place."""
    shipped = shipped_strategies.sources()
    good = (STRATEGIES / "LabGoodStrategy.py").read_text()
    args = {"timerange": BACKTEST_RANGE}
    cooldown = [{"method": "CooldownPeriod", "stop_duration_candles": 10}]
    jobs = {name: dict(strategy=name, source=source) for name, source in shipped.items()}
    jobs.update({
        "LabGoodStrategy": dict(strategy="LabGoodStrategy", source=good),
        "FtaQuickTest+cooldown": dict(strategy="FtaQuickTest", source=shipped["FtaQuickTest"], protections=cooldown),
        "LabGoodStrategy+none": dict(strategy="LabGoodStrategy", source=good, protections=[]),
        # RSI under 12 on top of a 2 % dip: far fewer entries than the default RSI under 40.
        "LabGoodStrategy+params": dict(strategy="LabGoodStrategy", source=good, params={
            "strategy_name": "LabGoodStrategy", "params": {"buy": {"buy_rsi": 12, "buy_dip": 0.02}}}),
    })
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = {name: pool.submit(lab.run, "backtest", args=args, **job) for name, job in jobs.items()}
        futures["no data"] = pool.submit(lab.run, "backtest", "FtaRsi", shipped["FtaRsi"],
                                         args={"timerange": f"{day(400):%Y%m%d}-{day(398):%Y%m%d}"})
        # A pair the exchange does not list, into a data directory of its own.
        elsewhere = tmp_path_factory.mktemp("other-volume")
        futures["unknown pair"] = pool.submit(
            lab.run, "download", "FtaEmaCross", shipped["FtaEmaCross"],
            args={"pairs": ["BTC/USDT", "DOGE/USDT"], "timeframe": "5m", "timerange": EARLIER_RANGE},
            config=lab_support.lab_config(exchange_url=sim.url, pairs=PAIRS, datadir=elsewhere))
        return {name: future.result() for name, future in futures.items()}


# --- validate --------------------------------------------------------------------------------

def test_validate_describes_a_good_strategy_as_written_without_network(validations):
    run = validations["LabGoodStrategy"]
    assert run.result["ok"] is True, run.explain()
    assert run.result["message"] == ""
    assert [p["phase"] for p in run.progress] == ["loading"]
    info = run.result["info"]
    # The config's 1m timeframe and -0.2 stop-loss are fta's, not the strategy's.
    assert info["className"] == "LabGoodStrategy"
    assert info["timeframe"] == "5m"
    assert info["minimalRoi"] == {"0": 0.02, "30": 0.01, "60": 0.0}
    assert info["stoploss"] == -0.04
    assert info["trailingStop"] is False and info["trailingStopPositive"] is None
    assert info["trailingStopPositiveOffset"] == 0.0 and info["trailingOnlyOffsetIsReached"] is False
    assert info["protections"] == [
        {"method": "CooldownPeriod", "stop_duration_candles": 1},
        {"method": "StoplossGuard", "lookback_period_candles": 24, "trade_limit": 4, "stop_duration_candles": 6,
         "only_per_pair": False},
    ]
    params = {p["name"]: p for p in info["parameters"]}
    assert params == {
        "buy_rsi": {"name": "buy_rsi", "space": "buy", "type": "int", "default": 40, "low": 10, "high": 45,
                    "decimals": None, "options": None},
        "buy_dip": {"name": "buy_dip", "space": "buy", "type": "decimal", "default": 0.0, "low": 0.0, "high": 0.02,
                    "decimals": 3, "options": None},
        "buy_ma": {"name": "buy_ma", "space": "buy", "type": "categorical", "default": "ema", "low": None,
                   "high": None, "decimals": None, "options": ["sma", "ema"]},
        "sell_rsi": {"name": "sell_rsi", "space": "sell", "type": "int", "default": 60, "low": 50, "high": 85,
                     "decimals": None, "options": None},
        "sell_use_signal": {"name": "sell_use_signal", "space": "sell", "type": "boolean", "default": True,
                            "low": None, "high": None, "decimals": None, "options": [True, False]},
        "protection_cooldown": {"name": "protection_cooldown", "space": "protection", "type": "int", "default": 1,
                                "low": 0, "high": 10, "decimals": None, "options": None},
    }


def test_validate_describes_a_shipped_strategy_without_parameters(validations):
    run = validations["FtaRsi"]
    assert run.result["ok"] is True, run.explain()
    info = run.result["info"]
    assert (info["className"], info["timeframe"], info["stoploss"]) == ("FtaRsi", "5m", -0.08)
    assert info["minimalRoi"] == {"0": 0.05, "90": 0.025, "240": 0.01, "480": 0.0}
    assert info["parameters"] == [] and info["protections"] == []


def test_validate_reports_freqtrades_syntax_error_without_paths(validations, lab):
    run = validations["LabBrokenSyntax"]
    assert run.result["ok"] is False and run.result["info"] is None, run.explain()
    message = run.result["message"]
    # Freqtrade's resolver warning (with Python's SyntaxError text), then its exception.
    assert "Could not import LabBrokenSyntax.py due to 'expected ':' (LabBrokenSyntax.py, line 14)'" in message, message
    assert "Impossible to load Strategy 'LabBrokenSyntax'" in message, message
    assert message.count("Could not import") == 1, message
    assert_no_paths(message, lab)


def test_validate_reports_a_class_not_named_after_its_file(validations, lab):
    run = validations["LabMismatchedName"]
    assert run.result["ok"] is False and run.result["info"] is None, run.explain()
    assert run.result["message"] == ("Impossible to load Strategy 'LabMismatchedName'. "
                                     "This class does not exist or contains Python code errors.")


def test_validate_names_the_exception_and_line_a_strategy_raises_at_import(validations, lab):
    run = validations["LabImportError"]
    assert run.result["ok"] is False, run.explain()
    line = next(i for i, text in enumerate((run.root / "strategies" / "LabImportError.py").read_text().splitlines(), 1)
                if text.startswith("BROKEN = 1 / 0"))
    assert run.result["message"] == f"ZeroDivisionError: division by zero (LabImportError.py, line {line})"
    assert_no_paths(run.result["message"], lab)


def test_hostile_fixtures_without_their_attack_are_valid_freqtrade_strategies(freqtrade_exe, tmp_path):
    """So that in a container, where the attack runs, nothing but the attack can fail. One
    Freqtrade process lists them all (`-1`: only the strategies it could load)."""
    for name in HOSTILE:
        (tmp_path / "strategies").mkdir(exist_ok=True)
        (tmp_path / "strategies" / f"{name}.py").write_text(defanged(name))
    (tmp_path / "userdir").mkdir()
    run = subprocess.run([freqtrade_exe, "list-strategies", "-1", "--strategy-path", str(tmp_path / "strategies"),
                          "--userdir", str(tmp_path / "userdir")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert sorted(run.stdout.split()) == sorted(HOSTILE), run.stdout + run.stderr[-3000:]
    assert "FTA-HOSTILE" not in run.stdout + run.stderr


# --- download --------------------------------------------------------------------------------

def coverage_is_contiguous(entry: dict) -> None:
    first, last = parse_iso(entry["first"]), parse_iso(entry["last"])
    assert entry["candles"] == (last - first) // timedelta(minutes=5) + 1, entry


def test_download_reports_coverage_read_back_from_the_data_directory(downloads, datadir):
    run, calls = downloads[0]
    assert run.result["ok"] is True, run.explain()
    assert run.result["message"] == ""
    assert calls >= len(PAIRS), f"the first download made {calls} klines requests"
    coverage = run.result["coverage"]
    assert sorted(coverage) == PAIRS
    for pair, entry in coverage.items():
        assert parse_iso(entry["first"]) == day(5), (pair, entry)
        assert parse_iso(entry["last"]) >= day(2) - timedelta(minutes=5), (pair, entry)
        coverage_is_contiguous(entry)
    # Freqtrade's default format, in the data directory itself (the volume's root).
    assert sorted(p.name for p in datadir.iterdir()) == ["BTC_USDT-5m.feather", "ETH_USDT-5m.feather"]
    # The size of what the directory holds once the last download of the module is done.
    assert downloads[-1][0].result["sizeBytes"] == sum(p.stat().st_size for p in datadir.iterdir())
    assert 0 < run.result["sizeBytes"] < downloads[-1][0].result["sizeBytes"]
    phases = [(p["phase"], p["detail"]) for p in run.progress]
    assert phases == [("loading", "2 pairs, 5m"), ("downloading", "BTC/USDT 5m"), ("downloading", "ETH/USDT 5m"),
                      ("reporting", "coverage")]


def test_a_second_download_of_the_same_window_reuses_the_data(downloads):
    (first, first_calls), (second, second_calls) = downloads[0], downloads[1]
    assert second.result["ok"] is True, second.explain()
    assert second_calls * 2 < first_calls, f"klines requests: first {first_calls}, second {second_calls}"
    for pair in PAIRS:
        before, after = first.result["coverage"][pair], second.result["coverage"][pair]
        assert after["first"] == before["first"]
        # Freqtrade drops a pair's newest stored candle as possibly incomplete when it updates it, and
        # a window the data already covers fetches nothing to replace it.
        assert before["candles"] - 1 <= after["candles"] <= before["candles"], (before, after)
        coverage_is_contiguous(after)


def test_an_earlier_window_is_prepended_to_the_data(downloads):
    (second, _), (earlier, calls) = downloads[1], downloads[2]
    assert earlier.result["ok"] is True, earlier.explain()
    assert calls >= len(PAIRS)
    phases = [(p["phase"], p["detail"]) for p in earlier.progress]
    assert phases[:4] == [("loading", "2 pairs, 5m"), ("downloading", "earlier candles: BTC/USDT, ETH/USDT"),
                          ("downloading", "BTC/USDT 5m"), ("downloading", "ETH/USDT 5m")], phases
    for pair in PAIRS:
        entry = earlier.result["coverage"][pair]
        assert parse_iso(entry["first"]) == day(6), entry
        assert parse_iso(entry["last"]) >= day(2) - timedelta(minutes=5), entry
        coverage_is_contiguous(entry)


def test_download_of_a_pair_the_exchange_does_not_list_fails_naming_it(backtests):
    run = backtests["unknown pair"]
    assert run.result["ok"] is False, run.explain()
    assert run.result["message"].endswith("No candles for DOGE/USDT."), run.result["message"]
    assert sorted(run.result["coverage"]) == ["BTC/USDT"]


# --- backtest --------------------------------------------------------------------------------

def check_result(run) -> dict:
    assert run.result["ok"] is True, run.explain()
    assert run.result["message"] == ""
    assert [p["phase"] for p in run.progress] == ["loading", "backtesting", "reporting"]
    result = run.result["result"]
    m = result["metrics"]
    assert set(m) == METRICS
    n = m["tradeCount"]
    assert all(isinstance(m[k], int) for k in ("tradeCount", "wins", "losses", "draws"))
    assert m["wins"] + m["losses"] + m["draws"] == n
    assert 0 <= m["winRate"] <= 1 and (n == 0 or math.isclose(m["winRate"], m["wins"] / n))
    assert m["startingBalance"] == 1000
    assert math.isclose(m["finalBalance"], 1000 + m["profitTotalAbs"], abs_tol=1e-6)
    assert math.isclose(m["profitTotal"], m["profitTotalAbs"] / 1000, abs_tol=1e-9)
    assert 0 <= m["maxDrawdown"] < 1 and m["maxDrawdownAbs"] >= 0
    assert parse_iso(m["backtestStart"]) == day(4) and parse_iso(m["backtestEnd"]) <= day(2)
    assert isinstance(m["marketChange"], float)
    for key in ("cagr", "sharpe", "sortino", "calmar", "profitFactor", "expectancy"):
        assert m[key] is None or isinstance(m[key], (int, float)), (key, m[key])
    assert sorted(p["pair"] for p in result["pairs"]) == PAIRS
    assert sum(p["trades"] for p in result["pairs"]) == n
    assert sum(r["trades"] for r in result["exitReasons"]) == n
    trades = result["trades"]
    assert len(trades) == n
    for t in trades:
        assert set(t) == TRADE_KEYS
        opened, closed = parse_iso(t["openDate"]), parse_iso(t["closeDate"])
        assert day(4) <= opened <= closed <= day(2)
        assert t["durationMinutes"] == (closed - opened) // timedelta(minutes=1)
    # One equity point per closed trade, in closing order, ending at the final balance.
    equity = result["equity"]
    assert len(equity) == n
    assert [e["t"] for e in equity] == sorted(e["t"] for e in equity)
    if n:
        assert math.isclose(equity[-1]["balance"], m["finalBalance"], abs_tol=1e-6)
        assert math.isclose(m["avgDurationMinutes"], sum(t["durationMinutes"] for t in trades) / n)
    return m


@pytest.mark.parametrize("name", [*shipped_strategies.class_names(), "LabGoodStrategy"])
def test_backtest_maps_freqtrades_results(backtests, name):
    metrics = check_result(backtests[name])
    if name in ("FtaQuickTest", "LabGoodStrategy"):
        assert metrics["tradeCount"] > 0


def test_quick_test_trades_every_few_candles_and_its_result_spans_several_parts(backtests):
    run = backtests["FtaQuickTest"]
    m = run.result["result"]["metrics"]
    # Enters on every candle and holds three: over two days of 5m candles, dozens per pair.
    assert m["tradeCount"] >= 100
    assert {r["reason"] for r in run.result["result"]["exitReasons"]} == {"quick_test_hold_time"}
    assert sum(line.startswith("FTA-RESULT-PART ") for line in run.stdout.splitlines()) > 1


def test_protections_from_the_environment_reach_the_backtest(backtests):
    plain, cooled = backtests["FtaQuickTest"], backtests["FtaQuickTest+cooldown"]
    check_result(cooled)
    assert "No protection Handlers defined." in plain.log
    assert "Using resolved protection CooldownPeriod" in cooled.log
    before, after = plain.result["result"]["metrics"]["tradeCount"], cooled.result["result"]["metrics"]["tradeCount"]
    assert 0 < after < before / 2, (before, after)


def test_protections_from_the_environment_replace_a_strategys_property(backtests):
    own, replaced = backtests["LabGoodStrategy"], backtests["LabGoodStrategy+none"]
    check_result(replaced)
    assert "Using resolved protection StoplossGuard" in own.log
    assert "Using resolved protection" not in replaced.log
    assert "No protection Handlers defined." in replaced.log


def test_a_parameter_file_beside_the_strategy_changes_its_trades(backtests):
    default, tuned = backtests["LabGoodStrategy"], backtests["LabGoodStrategy+params"]
    check_result(tuned)
    assert "Strategy Parameter: buy_rsi = 12" in tuned.log
    assert tuned.result["result"]["metrics"]["tradeCount"] < default.result["result"]["metrics"]["tradeCount"]


def test_backtest_without_data_reports_freqtrades_message(backtests, lab):
    run = backtests["no data"]
    assert run.result["ok"] is False and run.result["result"] is None, run.explain()
    assert run.result["message"].endswith("No data found. Terminating."), run.result["message"]
    assert_no_paths(run.result["message"], lab)


# --- launcher --------------------------------------------------------------------------------

def test_launcher_starts_a_dry_run_bot_with_the_protections_of_its_environment(python, lab, tmp_path):
    """`python3 -c "$FTA_LAUNCHER" trade --dry-run ...` as a bot's start script runs it: the bot
    announces fta's protections instead of the strategy's own, and its code no longer sees them."""
    (tmp_path / "strategies").mkdir()
    (tmp_path / "userdir").mkdir()
    source = (STRATEGIES / "LabGoodStrategy.py").read_text()
    source += '\nimport os as _os, sys as _sys\nprint("env FTA_PROTECTIONS:", _os.environ.get("FTA_PROTECTIONS"), file=_sys.stderr)\n'
    (tmp_path / "strategies" / "LabGoodStrategy.py").write_text(source)
    config = dict(lab.config, strategy="LabGoodStrategy", db_url="sqlite://")
    (tmp_path / "config.json").write_text(json.dumps(config))
    protections = [{"method": "CooldownPeriod", "stop_duration_candles": 7}]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "FTA_PROTECTIONS": json.dumps(protections)}
    proc = subprocess.Popen(
        [python, "-c", lab_support.lab_sources()["launcher"], "trade", "--dry-run", "--config", str(tmp_path / "config.json"),
         "--userdir", str(tmp_path / "userdir"), "--strategy-path", str(tmp_path / "strategies"), "--strategy", "LabGoodStrategy"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    announced = threading.Event()

    def read() -> None:
        for line in proc.stderr:
            lines.append(line)
            if "Using Protections" in line:
                announced.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert announced.wait(120) or proc.poll() is not None
        time.sleep(1)
        log = "".join(lines)
        assert announced.is_set(), f"the bot did not announce its protections (rc={proc.poll()}):\n{log[-4000:]}"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(5)
    # Whitespace folded: Freqtrade's console handler wraps long lines anywhere.
    log = " ".join("".join(lines).split())
    announced_at = log.index("Using Protections")
    assert "CooldownPeriod - Cooldown period for 7 candles." in log[announced_at:announced_at + 300], log[-3000:]
    assert "StoplossGuard" not in log, "the strategy's own protections were used"
    assert "env FTA_PROTECTIONS: None" in log
    assert "Traceback" not in log, log[-3000:]
