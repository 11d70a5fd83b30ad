"""The strategies fta ships (Sources/FTACore/Strategies/ShippedStrategy.swift) in real Freqtrade.

The sources are read out of the Swift file, written to a strategy folder and given to the pinned
Freqtrade of the host venv: it must load every one, find each well-formed (interface 3, spot, long
only, candles processed once), and trade each in a backtest on synthetic candles.
"""

from __future__ import annotations

import ast
import json
import subprocess
import time
import zipfile
from pathlib import Path

import fta_freqtrade_support as support
import shipped_strategies

PAIRS = ["BTC/USDT", "ETH/USDT"]


def test_every_enum_case_has_exactly_one_python_source():
    names = shipped_strategies.class_names()
    sources = shipped_strategies.sources()
    assert names == ["FtaEmaCross", "FtaRsi", "FtaBollinger", "FtaQuickTest"]
    assert sorted(sources) == sorted(names)


def test_every_shipped_strategy_loads_in_real_freqtrade(freqtrade_exe, tmp_path):
    shipped_strategies.write_all(tmp_path / "strategies")
    (tmp_path / "userdir").mkdir()
    # `-1` lists only the strategies Freqtrade could load; a broken one is left out.
    run = subprocess.run(
        [freqtrade_exe, "list-strategies", "-1", "--strategy-path", str(tmp_path / "strategies"),
         "--userdir", str(tmp_path / "userdir")],
        capture_output=True, text=True, timeout=180,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    loaded = set(run.stdout.split())
    missing = set(shipped_strategies.class_names()) - loaded
    assert not missing, f"Freqtrade did not load {sorted(missing)}:\n{run.stdout}\n{run.stderr[-3000:]}"


INSPECT = """
import importlib.util, json, sys
out = {}
for path in sys.argv[1:]:
    spec = importlib.util.spec_from_file_location("s", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cls = next(v for k, v in vars(module).items() if isinstance(v, type) and k.startswith("Fta"))
    out[cls.__name__] = {
        "interface": cls.INTERFACE_VERSION, "can_short": cls.can_short,
        "process_only_new_candles": cls.process_only_new_candles,
        "startup_candle_count": cls.startup_candle_count, "minimal_roi": cls.minimal_roi,
        "stoploss": cls.stoploss,
    }
print(json.dumps(out))
"""


def test_shipped_strategies_import_only_pandas_and_freqtrade():
    """No TA-Lib or `technical`: the strategies must run on any Freqtrade image."""
    allowed = {"datetime", "pandas", "numpy", "freqtrade"}
    for name, source in shipped_strategies.sources().items():
        imported = set()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add((node.module or "").split(".")[0])
        assert imported <= allowed, f"{name} imports {sorted(imported - allowed)}"


def test_shipped_strategies_are_spot_long_only_interface_3(freqtrade_exe, tmp_path):
    paths = shipped_strategies.write_all(tmp_path / "strategies")
    python = str(Path(freqtrade_exe).parent / "python3")
    run = subprocess.run([python, "-c", INSPECT, *map(str, paths.values())],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    found = json.loads(run.stdout)
    assert sorted(found) == sorted(paths)
    for name, s in found.items():
        assert s["interface"] == 3, name
        assert s["can_short"] is False, name
        assert s["process_only_new_candles"] is True, name
        assert s["minimal_roi"] and -0.5 <= s["stoploss"] < 0, name
    assert found["FtaEmaCross"]["startup_candle_count"] >= 3 * 50
    assert found["FtaRsi"]["startup_candle_count"] >= 100
    assert found["FtaBollinger"]["startup_candle_count"] >= 20


def test_every_shipped_strategy_trades_in_a_backtest(freqtrade_exe, tmp_path):
    """25 days of seeded 5m candles; markets come from the local simulator (Freqtrade loads the
    exchange's markets even to backtest)."""
    userdir = tmp_path / "userdir"
    shipped_strategies.write_all(tmp_path / "strategies")
    end_ms = int(time.time()) // 300 * 300 * 1000
    for pair, price in zip(PAIRS, (60000.0, 3000.0)):
        support.write_ohlcv_json(userdir / "data" / "binance", pair, 5, 30 * 288, 7, price, end_ms)
    sim = support.MarketSim()
    try:
        config = support.bot_config(exchange=support.sim_exchange_block(sim.url, PAIRS), strategy="FtaEmaCross",
                                    timeframe="5m", credentials=support.api_credentials(), db_url="sqlite://")
        config["api_server"]["enabled"] = False
        config["dataformat_ohlcv"] = "json"
        (tmp_path / "config.json").write_text(json.dumps(config))
        start = time.strftime("%Y%m%d", time.gmtime(end_ms / 1000 - 25 * 86400))
        run = subprocess.run(
            [freqtrade_exe, "backtesting", "-c", str(tmp_path / "config.json"), "--userdir", str(userdir),
             "--strategy-path", str(tmp_path / "strategies"), "--timerange", f"{start}-", "--export", "trades",
             "--strategy-list", *shipped_strategies.class_names()],
            capture_output=True, text=True, timeout=600,
        )
    finally:
        sim.stop()
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = userdir / "backtest_results"
    latest = json.loads((results / ".last_result.json").read_text())["latest_backtest"]
    with zipfile.ZipFile(results / latest) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".json") and not n.endswith("_config.json"))
        stats = json.loads(archive.read(name))["strategy"]
    trades = {strategy: stats[strategy]["total_trades"] for strategy in shipped_strategies.class_names()}
    assert all(count > 0 for count in trades.values()), trades
