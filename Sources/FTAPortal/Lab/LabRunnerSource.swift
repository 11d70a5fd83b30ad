/// The Python that fta runs inside Freqtrade's own process: the lab job runner and the bot launcher.
///
/// Both are embedded in the binary rather than baked into the Freqtrade image or shipped as files:
/// the runner always matches the portal that parses its output (its progress and result lines,
/// the result's JSON shape), whatever image a job runs, and it reaches the container the way the
/// strategy does, through the environment (`FTA_LAB_RUNNER`, `FTA_LAUNCHER`), written to the tmpfs
/// by the fixed start script. The runner must stay under 12 KiB (docs/strategy-lab.md: a job's
/// whole create body must fit the socket proxy's limit). Tests in Tests/system/freqtrade read both
/// texts out of this file and run them against real Freqtrade: keep one raw literal for each,
/// with the Python at column 0.
enum LabRunnerSource {
    /// `python3 fta_lab.py validate|download|backtest`: drives Freqtrade in-process and prints
    /// `FTA-PROGRESS` and `FTA-RESULT-PART` lines on stdout (docs/strategy-lab.md).
    static let runner = #"""
# fta's lab job runner: `python3 fta_lab.py validate|download|backtest` (docs/strategy-lab.md)
# drives Freqtrade in-process and prints progress and its result on stdout, Freqtrade's log on stderr.
import base64, json, logging, os, re, sys, traceback
from datetime import datetime, timezone
from pathlib import Path

# The container's paths; tests on a host point them elsewhere.
ROOT = Path(os.environ.get("FTA_LAB_ROOT", "/tmp/fta"))
CFG, SP, UD = str(ROOT / "config.json"), ROOT / "strategies", ROOT / "user_data"
NAME = os.environ.get("FTA_STRATEGY", "")
PROT = os.environ.pop("FTA_PROTECTIONS", "")
ARGS = {}

# fd 1 belongs to the protocol: Freqtrade's tables and whatever a strategy prints go to stderr,
# so nothing else can land between (or pose as) the result lines.
OUT = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)


def progress(phase, detail):
    print("FTA-PROGRESS " + json.dumps({"phase": phase, "detail": detail[:200]}), file=OUT, flush=True)


def trim(text):
    # Clients read these: where fta keeps files is none of their business. The end (the error) stays.
    return re.sub(r"(?<![\w:/.~-])(?:/[^/\s'\"()]+)*/(?=[^/\s'\"()])", "", str(text)).strip()[-2000:]


class Tap(logging.Handler):
    # Keeps Freqtrade's warnings (why a strategy failed, what data is missing) and turns its
    # download lines into progress.

    def __init__(self):
        super().__init__(logging.INFO)
        self.warnings = []

    def emit(self, record):
        msg = record.getMessage()
        if record.levelno >= logging.WARNING:
            self.warnings.append(msg)
        elif m := re.match(r'Download history data for "([^"]+)", (\w+)', msg):
            progress("downloading", f"{m[1]} {m[2]}")

    def text(self, *more):
        return trim("\n".join(dict.fromkeys(self.warnings + list(more))))  # each line once


TAP = Tap()


def configure(mode, command, *argv):
    # Freqtrade's command line and configuration, as `freqtrade <command>` builds them.
    from freqtrade.commands import Arguments
    from freqtrade.commands.optimize_commands import setup_optimize_configuration

    args = Arguments([command, "-c", CFG, "--userdir", *map(str, [UD, *argv])]).get_parsed_arg()
    config = setup_optimize_configuration(args, mode)
    logging.getLogger().addHandler(TAP)  # after Freqtrade's logging setup, which drops handlers
    return config


def iso(ms):
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def datadir():
    # Freqtrade takes the data directory from its command line only, not from fta's config.
    default = json.loads(Path(CFG).read_text()).get("datadir", "/freqtrade/user_data/data")
    return os.environ.get("FTA_LAB_DATADIR", default)


def validate():
    from freqtrade.enums import RunMode
    from freqtrade.resolvers import StrategyResolver
    from freqtrade.strategy import BooleanParameter, CategoricalParameter, IntParameter

    progress("loading", NAME)
    config = configure(RunMode.UTIL_NO_EXCHANGE, "backtesting", "--strategy-path", SP, "-s", NAME)
    # The info describes the strategy as written, not the timeframe and tuning of the config.
    for key in ("timeframe minimal_roi stoploss trailing_stop trailing_stop_positive "
                "trailing_stop_positive_offset trailing_only_offset_is_reached").split():
        config.pop(key, None)
    s = StrategyResolver.load_strategy(config)
    s.ft_load_hyper_params()  # as a bot's start does: the parameters, with their file's values
    kinds = ((BooleanParameter, "boolean"), (CategoricalParameter, "categorical"), (IntParameter, "int"))
    params = [{"name": name, "space": p.space, "type": next((k for c, k in kinds if isinstance(p, c)), "decimal"),
               "default": p.value, "low": getattr(p, "low", None), "high": getattr(p, "high", None),
               "decimals": getattr(p, "decimals", None), "options": getattr(p, "opt_range", None)}
              for name, p in s.enumerate_parameters()]
    info = {"className": type(s).__name__, "timeframe": s.timeframe,
            "minimalRoi": {str(k): v for k, v in s.minimal_roi.items()}, "stoploss": s.stoploss,
            "trailingStop": bool(s.trailing_stop), "trailingStopPositive": s.trailing_stop_positive,
            "trailingStopPositiveOffset": s.trailing_stop_positive_offset or 0.0,
            "trailingOnlyOffsetIsReached": bool(s.trailing_only_offset_is_reached),
            "protections": list(s.protections or []), "parameters": params}
    return {"ok": True, "message": TAP.text(), "info": info}


def download():
    from freqtrade.configuration import TimeRange
    from freqtrade.data.history import download_data_main, get_datahandler
    from freqtrade.enums import CandleType, RunMode

    pairs, tf = ARGS["pairs"], ARGS["timeframe"]
    progress("loading", f"{len(pairs)} pairs, {tf}")
    config = configure(RunMode.UTIL_EXCHANGE, "download-data", "--datadir", datadir(), "-t", tf,
                       "--timerange", ARGS["timerange"], "-p", *pairs)
    handler = get_datahandler(config["datadir"], config["dataformat_ohlcv"])
    span = lambda pair: handler.ohlcv_data_min_max(pair, tf, CandleType.SPOT)
    # Freqtrade only adds candles after those a pair has, unless told to prepend: a window that
    # starts earlier fetches what comes before them first.
    start = TimeRange.parse_timerange(ARGS["timerange"]).startdt
    early = [p for p in pairs if span(p)[2] and span(p)[0] > start]
    if early:
        progress("downloading", "earlier candles: " + ", ".join(early))
        download_data_main({**config, "pairs": early, "prepend_data": True})
    download_data_main(config)
    progress("reporting", "coverage")
    coverage = {}  # what the volume holds now, read back as a backtest will read it
    for pair in pairs:
        first, last, n = span(pair)
        if n:
            coverage[pair] = {"first": iso(first.timestamp() * 1000), "last": iso(last.timestamp() * 1000), "candles": n}
    missing = [p for p in pairs if p not in coverage]
    size = sum(f.stat().st_size for f in config["datadir"].rglob("*") if f.is_file())
    return {"ok": not missing, "coverage": coverage, "sizeBytes": size,
            "message": TAP.text(f"No candles for {', '.join(missing)}.") if missing else ""}


def backtest():
    from freqtrade.enums import RunMode
    from freqtrade.optimize.backtesting import Backtesting
    from freqtrade.resolvers import StrategyResolver

    progress("loading", NAME)
    load = StrategyResolver.load_strategy

    def load_with_protections(config=None):
        # Freqtrade 2026.9 refuses `protections` in the config: fta's replace the strategy's own
        # (a class list or a property alike) on the loaded object, before Freqtrade reads them.
        s = load(config)
        if PROT:
            type(s).protections = json.loads(PROT)
            vars(s).pop("protections", None)
        return s

    StrategyResolver.load_strategy = staticmethod(load_with_protections)
    # Results come from memory: no export, no cache, a small tmpfs.
    bt = Backtesting(configure(RunMode.BACKTEST, "backtesting", "--datadir", datadir(), "--strategy-path", SP,
                               "-s", NAME, "--timerange", ARGS["timerange"], "--enable-protections",
                               "--export", "none", "--cache", "none"))
    progress("backtesting", ARGS["timerange"])
    bt.start()
    progress("reporting", "results")
    return {"ok": True, "message": "", "result": report(next(iter(bt.results["strategy"].values())))}


def report(st):
    # Freqtrade's stats of one strategy, in the contract's shape.
    trades = sorted(st["trades"], key=lambda t: t["close_timestamp"])
    n, balance = len(trades), st["starting_balance"]
    minutes = lambda ts: sum(t["trade_duration"] for t in ts) / len(ts) if ts else 0.0
    # Freqtrade says -100 for a ratio without spread (or drawdown), 0 for one without trades.
    ratio = lambda k: st[k] if n and st[k] != -100 else None
    metrics = {
        "tradeCount": n, "wins": st["wins"], "losses": st["losses"], "draws": st["draws"],
        "winRate": st["winrate"], "profitTotal": st["profit_total"], "profitTotalAbs": st["profit_total_abs"],
        "cagr": st["cagr"], "maxDrawdown": st["max_drawdown_account"], "maxDrawdownAbs": st["max_drawdown_abs"],
        "sharpe": ratio("sharpe"), "sortino": ratio("sortino"), "calmar": ratio("calmar"),
        # Its 0 without a losing trade means "undefined", not "no profit".
        "profitFactor": st["profit_factor"] if st["losses"] else None,
        "expectancy": st["expectancy"] if n else None, "avgDurationMinutes": minutes(trades),
        "startingBalance": balance, "finalBalance": st["final_balance"],
        "backtestStart": iso(st["backtest_start_ts"]), "backtestEnd": iso(st["backtest_end_ts"]),
        "marketChange": st.get("market_change")}
    pairs = [{"pair": p["key"], "trades": p["trades"], "profitTotalAbs": p["profit_total_abs"],
              "profitMean": p["profit_mean"], "winRate": p["winrate"],
              "avgDurationMinutes": minutes([t for t in trades if t["pair"] == p["key"]])}
             for p in st["results_per_pair"] if p["key"] != "TOTAL"]
    exits = [{"reason": r["key"], "trades": r["trades"], "profitTotalAbs": r["profit_total_abs"],
              "wins": r["wins"], "losses": r["losses"], "draws": r["draws"]}
             for r in st["exit_reason_summary"] if r["key"] != "TOTAL"]
    equity = []
    for t in trades:
        balance += t["profit_abs"]
        equity.append({"t": iso(t["close_timestamp"]), "balance": balance})
    # The last 5000 trades and equity points: the portal keeps no more.
    kept = [{"pair": t["pair"], "openDate": iso(t["open_timestamp"]), "closeDate": iso(t["close_timestamp"]),
             "openRate": t["open_rate"], "closeRate": t["close_rate"], "amount": t["amount"],
             "stakeAmount": t["stake_amount"], "profitAbs": t["profit_abs"], "profitRatio": t["profit_ratio"],
             "exitReason": t["exit_reason"], "enterTag": t.get("enter_tag") or None,
             "durationMinutes": t["trade_duration"]} for t in trades[-5000:]]
    return {"metrics": metrics, "pairs": pairs, "exitReasons": exits, "trades": kept, "equity": equity[-5000:]}


def failure(err):
    # Freqtrade's own words; for the strategy's own exception, its type and line as well.
    ours = isinstance(err, ImportError) or type(err).__module__.startswith("freqtrade")
    msg = str(err) if ours else f"{type(err).__name__}: {err}"
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename.startswith(str(SP.resolve()))]
    if frames:
        msg += f" ({Path(frames[-1].filename).name}, line {frames[-1].lineno})"
    return TAP.text(msg)


def main():
    kind = sys.argv[1] if len(sys.argv) > 1 else ""
    run = {"validate": validate, "download": download, "backtest": backtest}.get(kind)
    if run is None:
        sys.exit(f"unknown job kind {kind!r}")
    from freqtrade.loggers import setup_logging_pre

    setup_logging_pre()
    try:
        ARGS.update(json.loads(os.environ.get("FTA_LAB_ARGS") or "{}"))
        result = run()
    except (Exception, SystemExit) as err:  # a strategy may raise anything, exit() included
        traceback.print_exc()
        result = {"ok": False, "message": failure(err),
                  {"validate": "info", "download": "coverage", "backtest": "result"}[kind]: None}
    # Strict JSON: numpy scalars become plain numbers, Freqtrade's NaN and infinities null.
    text = json.dumps(result, skipkeys=True, default=lambda o: o.item() if hasattr(o, "item") else str(o))
    text = json.dumps(json.loads(text, parse_constant=lambda _: None), separators=(",", ":"), allow_nan=False)
    data = base64.b64encode(text.encode()).decode()
    parts = [data[i:i + 8000] for i in range(0, len(data), 8000)]
    for i, part in enumerate(parts, 1):
        print(f"FTA-RESULT-PART {i} {len(parts)} {part}", file=OUT, flush=True)


main()
"""#

    /// `python3 -c "$FTA_LAUNCHER" trade --dry-run ...`: starts Freqtrade with the protections of
    /// `FTA_PROTECTIONS` set on the loaded strategy (Freqtrade 2026.9 refuses them in the config).
    static let launcher = #"""
# fta's bot launcher: `python3 -c "$FTA_LAUNCHER" trade --dry-run ...`, used when a bot has tuned
# protections. Freqtrade 2026.9 refuses `protections` in the config, so they come in the
# environment and replace the strategy's own (a class list or a property alike) on the loaded
# strategy object, before the bot builds its protection manager from them.
import json, os, sys

from freqtrade.resolvers import StrategyResolver

protections, load = json.loads(os.environ.pop("FTA_PROTECTIONS", "") or "null"), StrategyResolver.load_strategy


def load_with_protections(config=None):
    strategy = load(config)
    if protections is not None:
        type(strategy).protections = protections
        vars(strategy).pop("protections", None)
    return strategy


StrategyResolver.load_strategy = staticmethod(load_with_protections)

from freqtrade.main import main  # noqa: E402 (after the wrap, as Freqtrade's own entry point)

main(sys.argv[1:])
"""#
}
