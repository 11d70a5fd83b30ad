"""The strategy lab (issue 16) end to end: a real portal, real Docker through the real socket
proxy, real Freqtrade in its image, and the market simulator as the exchange.

One `fta serve` (portal.sh, name `lab-e2e`) for the whole module, with the lab's limits lowered
(FTA_LAB_BACKTEST_SECONDS=120, FTA_LAB_VALIDATE_SECONDS=30) and every bot and job pointed at
market_sim.py (FTA_EXCHANGE_OVERRIDE), as in test_freqtrade_e2e_portal (whose fixtures and portal
helpers this file imports). Two clients: A (an owner and a viewer) and B (an owner); the admin
enables custom strategies and reads the audit trail. Every backtest is yesterday (whole UTC days)
on 1m candles of BTC/USDT and ETH/USDT, so the shared cache holds one set (`binance-1m`) that is
downloaded once, and each backtest runs in seconds. The lab runs one job at a time, so the tests
share backtests and overlap waits: the order below is the story.

1. Market data is downloaded once: A's first backtest starts a download job (the simulator's
   klines count rises; GET /lab/data lists the set with its coverage), B's backtest over the same
   pairs, timeframe and range starts none (klines unchanged). The first one shows its progress.
2. B's backtest (tuned) becomes a dry-run bot whose own show_config has the backtest's settings.
3. Each shipped strategy's backtest succeeded with every metric, consistent with its trade list.
4. Compare answers the backtests in the order asked, with their metrics.
5. Custom strategies: refused until the operator enables them; a good one becomes valid, lists
   its parameters, backtests with trades and runs as a bot; a class not named after its file is
   refused at upload (400), a broken one and one whose class is no strategy are refused by
   validation with Freqtrade's own words and no path.
6. Isolation: another client's owner gets 404 (and a field error for `custom:<Name>`), a viewer
   403 on every change; nothing changes.
7. Hostile strategies (lab_strategies/Hostile*.py), each uploaded by A: sockets, the portal's
   secrets and files, 1 GiB of disk and a loop at import; 2 GiB of memory and 1000 processes at
   the first candle (at import they would kill their own validation and never get further). The
   loop is stopped by validation's time limit, and no bot can be made of it; the others pass
   validation (where the import-time ones already attack, with no network) and attack again in a
   backtest and in a bot. A stall (a loop at import only where there is a network) passes
   validation and hangs its bot before Freqtrade's API: the reconciler shows it stuck. Each attack
   fails or is killed, the portal answers throughout, B's bot keeps running, the host is
   unharmed, and the audit trail says what happened.
8. The custom strategy's bot (from 5) has traded by then; the operator prunes the data set.

The engine is watched directly (fta_lab_e2e_support.JobWatch): every job's labels, mounts,
environment and whole output, read while it runs. Timings go to
${FTA_TEST_ARTIFACTS:-artifacts}/lab-timings.json (and stdout).
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import re
import secrets
import time

import fta_freqtrade_support as support
import fta_lab_e2e_support as lab_support
import pytest
from fta_freqtrade_support import docker
from fta_lab_e2e_support import JobWatch, iso, markers, strategy_source, wait_until
# The e2e test's fixtures (module scope) and portal helpers, reused as they are.
from test_freqtrade_e2e_portal import (  # noqa: F401 (fixtures are found by name)
    artifacts_dir,
    bot_logs,
    fta_binary,
    remove_leftovers,
    running_portal,
    sim_host,
    socket_proxy,
)

PAIRS = ["BTC/USDT", "ETH/USDT"]
TIMEFRAME = "1m"
CANDLE_S = 60
WALLET = 1000
STAKE = "100"
MAX_OPEN_TRADES = 2
BACKTEST_SECONDS = 120
VALIDATE_SECONDS = 30
DATA_KEY = "binance-1m"
# Where a job mounts the data set (LabPaths.dataDir, Sources/FTACore/Freqtrade/FreqtradeConfig.swift).
DATA_DIR = "/freqtrade/user_data"
# FtaQuickTest exits on its hold time, so a far ROI and stop-loss leave its trades as they are,
# while the bot's show_config must carry them.
# A one-candle cooldown changes little of its trades, but makes its bot start through fta's
# launcher, which hands protections to the loaded strategy (Freqtrade refuses them in the config).
QUICK_TUNING = {"minimalRoi": {"0": 0.5, "10": 0.3}, "stoploss": -0.25,
                "protections": [{"method": "CooldownPeriod", "stopDurationCandles": 1}]}
# LabGoodStrategy enters on RSI dips below its EMA and exits on RSI above 60 (Freqtrade ignores an
# entry on a candle that also says exit). The simulator's seeded walk is the same in every run, and
# at its live edge it has stretches of minutes without a dip, or with RSI above 60: its bot waited
# three to six minutes for a first trade. Tuned past its declared ranges (Freqtrade takes a
# parameter file's values as they are, docs/strategy-lab.md) and without its exit signal, it enters
# on every candle, as FtaQuickTest does; the bot's log shows that the tuned values reached it.
GOOD_TUNING = {"params": {"buy": {"buy_rsi": 100, "buy_dip": -0.05}, "sell": {"sell_use_signal": False}}}
SHIPPED = ("FtaEmaCross", "FtaQuickTest", "FtaRsi", "FtaBollinger")
# The contract's metrics; the first group is what the issue names, all of them numbers once a
# backtest has trades with some spread.
NAMED_METRICS = ("tradeCount", "profitTotal", "profitTotalAbs", "cagr", "winRate", "maxDrawdown", "sharpe", "sortino",
                 "calmar", "avgDurationMinutes")
OTHER_METRICS = ("wins", "losses", "draws", "maxDrawdownAbs", "startingBalance", "finalBalance", "backtestStart", "backtestEnd")
# Waiting in the lab's queue is part of every wait: one job at a time for the whole host.
QUEUE_TIMEOUT = 360
BOT_API_TIMEOUT = 180
TRADE_TIMEOUT = 300
HOSTILE = ("HostileMemory", "HostileFork", "HostileSockets", "HostileEnviron", "HostileDisk")
# Each hostile strategy that passes validation also runs as a bot of A, in this order, at most
# BOTS_AT_ONCE at a time: the stall first, as its verdict takes longest (the bots' health check
# has a 2-minute start period, then three failed probes 30 s apart, and the reconciler records
# the verdict of a run at least UNHEALTHY_GRACE_S old: Reconciler.unhealthyGrace).
HOSTILE_BOTS = ("HostileStall", "HostileMemory", "HostileFork", "HostileSockets", "HostileEnviron", "HostileDisk")
BOTS_AT_ONCE = 3
UNHEALTHY_GRACE_S = 300
HOSTILE_TIMEOUT = 660
# The line a hostile fixture prints when its attack is over (in a bot that survived it). The
# stall never ends: its verdict is the reconciler's `bot.unhealthy`.
BOT_ATTACK_OVER = {"HostileMemory": "FTA-HOSTILE memory -> ", "HostileFork": "FTA-HOSTILE fork reaped=",
                   "HostileSockets": "FTA-HOSTILE sockets done ", "HostileEnviron": "FTA-HOSTILE environ done ",
                   "HostileDisk": "FTA-HOSTILE disk /tmp "}
# What no job's environment may hold: the portal's own settings and the engine's address.
PORTAL_ONLY_KEYS = {"FTA_SECRET_KEY", "FTA_DATABASE", "FTA_DOCKER_URL", "DOCKER_HOST", "FTA_PUBLIC_URL", "FTA_PORT",
                    "FTA_WEB_ROOT", "FTA_TEST_ADMIN_PASSWORD", "FTA_TEST_PORTAL_DIR"}


def digest(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


class Lab:
    """The portal, the people, the simulator, the engine's view of the jobs, and what the tests
    learn on the way (ids of backtests and bots, timings, notes for the report)."""

    def __init__(self, portal, sim, sim_host: str, a: str, b: str, suffix: str, watch: JobWatch) -> None:
        self.portal, self.sim, self.sim_host, self.a, self.b, self.suffix, self.watch = portal, sim, sim_host, a, b, suffix, watch
        self.cookies: dict[str, str] = {}
        self.timerange, self.window_start, self.window_end = lab_support.yesterday()
        self.backtests: dict[str, str] = {}
        self.bots: dict[str, str] = {}
        self.versions: dict[str, str] = {}
        self.created: dict[str, float] = {}
        self.timings: dict = {}
        self.notes: list[str] = []
        self.secrets: dict[str, str] = {}
        self.hostile: dict = {}

    # -- the portal's API --

    def call(self, method: str, path: str, who: str = "owner", body: dict | None = None) -> tuple[int, object]:
        return self.portal.call(method, path, self.cookies[who], body)

    def ok(self, method: str, path: str, who: str = "owner", body: dict | None = None, expect: int = 200) -> dict:
        status, answer = self.call(method, path, who, body)
        assert status == expect, f"{method} {path} as {who}: {status} {answer}\n--- portal log ---\n{self.portal.log_tail(20)}"
        return answer

    @staticmethod
    def bot_body(bot_id: str, name: str, strategy: str, pairs=None) -> dict:
        """A small dry-run bot of `strategy` with the lab's wallet and stake, one trade at a time."""
        return {"id": bot_id, "name": name, "exchange": "binance", "pairs": list(pairs or PAIRS), "stakeCurrency": "USDT",
                "stakeAmount": STAKE, "dryRunWallet": WALLET, "maxOpenTrades": 1, "timeframe": TIMEFRAME,
                "strategy": strategy, "size": "small"}

    def backtest_body(self, strategy: str, pairs=None, tuning: dict | None = None) -> dict:
        body = {"strategy": strategy, "pairs": list(pairs or PAIRS), "timeframe": TIMEFRAME, "timerange": self.timerange,
                "dryRunWallet": WALLET, "stakeAmount": STAKE, "maxOpenTrades": MAX_OPEN_TRADES}
        if tuning is not None:
            body["tuning"] = tuning
        return body

    def submit(self, label: str, who: str, strategy: str, pairs=None, tuning: dict | None = None) -> dict:
        answer = self.ok("POST", "/backtests", who, self.backtest_body(strategy, pairs, tuning), expect=202)["backtest"]
        assert answer["status"] == "queued" and answer["strategy"] == strategy, answer
        assert answer["timerange"] == self.timerange and answer["pairs"] == list(pairs or PAIRS), answer
        self.backtests[label] = answer["id"]
        self.created[label] = time.monotonic()
        return answer

    def backtest(self, label_or_id: str) -> dict:
        backtest_id = self.backtests.get(label_or_id, label_or_id)
        return self.ok("GET", f"/backtests/{backtest_id}", "admin")["backtest"]

    def wait_backtest(self, label: str, timeout: float = QUEUE_TIMEOUT, observe=None) -> dict:
        """Until the backtest has finished (polling every 0.5 s when observing, else every second)."""
        started = time.monotonic()
        while True:
            bt = self.backtest(label)
            if observe is not None:
                observe(bt)
            if bt["status"] in ("succeeded", "failed", "cancelled"):
                self.timings[f"backtest_{label}_s"] = round(time.monotonic() - self.created.get(label, started), 1)
                return bt
            if time.monotonic() - started > timeout:
                raise AssertionError(f"backtest {label} ({bt['id']}) not finished within {timeout:.0f} s: "
                                     f"{bt['status']} / {bt['phase']}\njobs seen: {self.watch.all()}\n"
                                     f"--- portal log ---\n{self.portal.log_tail(30)}")
            time.sleep(0.5 if observe is not None else 1.0)

    def succeeded(self, label: str, timeout: float = QUEUE_TIMEOUT) -> dict:
        bt = self.wait_backtest(label, timeout)
        assert bt["status"] == "succeeded", f"backtest {label} {bt['status']}: {bt.get('error')}\n{self.job_tail(bt['id'])}"
        return bt

    def job_tail(self, job_id: str, lines: int = 25) -> str:
        try:
            job = self.watch.job(job_id, timeout=2)
        except AssertionError as err:
            return str(err)
        return f"--- job {job.name} ({job.kind}), last lines ---\n" + "\n".join(job.lines[-lines:])

    def klines(self) -> int:
        return self.sim.stats().get("/api/v3/klines", 0)

    def audit(self, action: str, client: str | None = None, outcome: str | None = None) -> list[dict]:
        query = f"/audit?action={action}&limit=500" + (f"&clientId={client}" if client else "") + (f"&outcome={outcome}" if outcome else "")
        return self.ok("GET", query, "admin")["entries"]

    def upload(self, name: str, source: str, who: str = "owner") -> dict:
        answer = self.ok("POST", "/strategies", who, {"fileName": f"{name}.py", "source": source}, expect=202)["strategy"]
        assert answer["name"] == name and answer["status"] == "validating", answer
        assert answer["version"] == digest(source) and answer["sizeBytes"] == len(source.encode()), answer
        self.versions[name] = answer["version"]
        self.created[f"upload_{name}"] = time.monotonic()
        return answer

    def strategy_version(self, name: str, who: str = "owner") -> dict:
        detail = self.ok("GET", f"/strategies/{name}", who)
        version = [v for v in detail["versions"] if v["version"] == self.versions[name]]
        assert version, detail
        return version[0]

    def validated(self, name: str, timeout: float = QUEUE_TIMEOUT) -> dict:
        """The uploaded version once it is no longer `validating`."""
        def probe():
            version = self.strategy_version(name)
            return (version if version["status"] != "validating" else None), version
        version = wait_until(f"validation of {name}", timeout, probe)
        self.timings[f"validation_{name}_s"] = round(time.monotonic() - self.created[f"upload_{name}"], 1)
        return version

    def bot(self, bot_id: str) -> dict:
        return self.ok("GET", f"/bots/{bot_id}", "admin")["bot"]

    def bot_read(self, bot_id: str, path: str, who: str, timeout: float = BOT_API_TIMEOUT) -> dict:
        """A bot's passthrough read once its API answers (502/504/409 while it boots)."""
        def probe():
            status, body = self.call("GET", f"/bots/{bot_id}{path}", who)
            if status in (409, 502, 504):
                bot = self.bot(bot_id)
                assert bot["state"] not in ("failed", "quarantined"), bot
                return None, (status, body)
            assert status == 200, (status, body)
            return body, body
        try:
            return wait_until(f"GET /bots/{bot_id}{path}", timeout, probe)
        except AssertionError as err:
            raise AssertionError(f"{err}\n--- bot log ---\n{bot_logs(self.portal, self.cookies['admin'], bot_id)}") from None

    def lists(self) -> dict:
        """What a refused request could have changed: each client's strategies, backtests and bots."""
        out = {}
        for client in (self.a, self.b):
            strategies = self.ok("GET", f"/strategies?clientId={client}", "admin")
            out[client] = {
                "customEnabled": strategies["customEnabled"],
                "strategies": sorted((s["name"], s["version"]) for s in strategies["custom"]),
                "backtests": sorted((b["id"], b["strategy"], b["createdBy"]) for b in self.ok("GET", f"/backtests?clientId={client}", "admin")["backtests"]),
                "bots": sorted((b["id"], b["strategy"], b["desiredState"]) for b in self.ok("GET", f"/bots?client={client}", "admin")["bots"]),
            }
        return out


def write_timings(lab: Lab) -> None:
    path = artifacts_dir() / "lab-timings.json"
    data = {"timings": lab.timings, "notes": lab.notes, "hostile": lab.hostile.get("summary", {})}
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    print(f"lab timings and notes: {json.dumps(data, sort_keys=True, default=str)} -> {path}")


@pytest.fixture(scope="module")
def lab(freqtrade_image, socket_proxy, sim_host, fta_binary):
    """The portal with the lab's test limits, clients A and B with their people, and the watch."""
    suffix = secrets.token_hex(3)
    a, b = f"lab-a-{suffix}", f"lab-b-{suffix}"
    started = time.monotonic()
    # The simulator's default history is 7 days: yesterday plus 300 candles before it is inside.
    sim = support.MarketSim(host=sim_host)
    override = {"ccxt_config": support.sim_ccxt_config(sim.url), "ccxt_async_config": {}}
    # The data set's volume is named by exchange and timeframe, not by portal: one left by an
    # interrupted run would hold the candles already, and the first backtest would download none.
    docker("volume", "rm", f"fta-data-{DATA_KEY}", check=False)
    assert docker("volume", "inspect", f"fta-data-{DATA_KEY}", check=False).returncode != 0, \
        f"fta-data-{DATA_KEY} is in use on the test engine (another portal's lab?): this test needs it fresh"
    watch = JobWatch({a, b})
    lab = None
    try:
        with running_portal("lab-e2e", fta_binary, FTA_BOT_IMAGE=freqtrade_image,
                            FTA_EXCHANGE_OVERRIDE=json.dumps(override, separators=(",", ":")),
                            FTA_LAB_BACKTEST_SECONDS=str(BACKTEST_SECONDS),
                            FTA_LAB_VALIDATE_SECONDS=str(VALIDATE_SECONDS)) as portal:
            lab = Lab(portal, sim, sim_host, a, b, suffix, watch)
            env = dict(line.split("=", 1) for line in (portal.dir / "env").read_text().splitlines() if "=" in line)
            lab.secrets = {"FTA_SECRET_KEY": env["FTA_SECRET_KEY"], "admin password": portal.password}
            admin = portal.login()
            lab.cookies["admin"] = admin
            # A: its custom strategy's bot and up to BOTS_AT_ONCE hostile ones.
            for client_id, max_bots in ((a, 1 + BOTS_AT_ONCE), (b, 2)):
                status, body = portal.call("POST", "/clients", admin, {"id": client_id, "name": f"Lab {client_id}", "maxBots": max_bots})
                assert status == 201, body
                assert body["client"]["customStrategies"] is False, body
            for who, client_id, role in (("owner", a, "owner"), ("viewer", a, "viewer"), ("other", b, "owner")):
                username, password = f"{client_id}-{who}", "Pw-" + secrets.token_urlsafe(18)
                status, body = portal.call("POST", f"/clients/{client_id}/users", admin,
                                           {"username": username, "password": password, "role": role})
                assert status == 201, body
                lab.cookies[who] = portal.login(username, password)
            lab.timings["portal_ready_s"] = round(time.monotonic() - started, 1)
            yield lab
            lab.timings["module_s"] = round(time.monotonic() - started, 1)
        # The bots left go with `docker rm -f` below, not through the API: deleting through the
        # portal is proven for the hostile bots, and stopping each Freqtrade gracefully costs seconds.
    finally:
        watch.close()
        if lab is not None:
            write_timings(lab)
            for client, prefix in ((a, f"la-{suffix}"), (b, f"lb-{suffix}")):
                remove_leftovers(client, [bot for bot in lab.bots.values() if bot.startswith(prefix)])
        for job in watch.all():
            docker("rm", "-f", job.name, check=False)
        # Once more, after the jobs: a network still held by a job (or an endpoint the engine had
        # not released yet) was left by the first try.
        for client in (a, b):
            docker("network", "rm", f"fta-client-{client}", check=False)
        docker("volume", "rm", f"fta-data-{DATA_KEY}", check=False)
        sim.stop()


# --- 1. market data is downloaded once into the shared cache ---------------------------------------------

def test_market_data_is_downloaded_once_into_the_shared_cache(lab):
    started = time.monotonic()
    data = lab.ok("GET", "/lab/data", "admin")
    assert data["sets"] == [] and data["usedBytes"] == 0 and data["capMB"] == 512, data
    assert lab.call("GET", "/lab/data", "owner")[0] == 403
    before = lab.klines()

    # A's first backtest, B's over the same pairs, timeframe and range, then A's other two (the
    # queue runs them in order; A may have three waiting at once, a fourth is refused).
    lab.submit("ema", "owner", "FtaEmaCross")
    lab.submit("quick", "other", "FtaQuickTest", tuning=QUICK_TUNING)
    lab.submit("rsi", "owner", "FtaRsi")
    lab.submit("bollinger", "owner", "FtaBollinger")
    status, body = lab.call("POST", "/backtests", "owner", lab.backtest_body("FtaQuickTest"))
    assert status == 409 and body["error"]["code"] == "conflict", body

    # Progress while the first one runs: downloading, then running, the elapsed time rising.
    seen: list[tuple[float, str, str, int, int]] = []
    after_download = {}

    def observe(bt):
        seen.append((time.monotonic(), bt["status"], bt["phase"], bt["progress"]["elapsedSeconds"], bt["progress"]["timeLimitSeconds"]))
        if bt["status"] in ("running", "succeeded") and "klines" not in after_download:
            after_download["klines"] = lab.klines()

    ema = lab.wait_backtest("ema", observe=observe)
    assert ema["status"] == "succeeded", f"{ema}\n{lab.job_tail('d' + ema['id'])}\n{lab.job_tail(ema['id'])}"
    lab.timings["first_backtest_with_download_s"] = round(time.monotonic() - started, 1)
    statuses = [s[1] for s in seen]
    assert "downloading" in statuses and "running" in statuses, seen
    assert any(s[2] == "downloading data" for s in seen), seen
    active = [s[3] for s in seen if s[1] in ("downloading", "running")]
    assert len(active) >= 2 and active == sorted(active) and active[-1] > active[0], f"elapsedSeconds did not rise: {seen}"
    assert all(s[4] == BACKTEST_SECONDS for s in seen), seen

    # The download happened: the simulator served klines, the set is listed with its coverage.
    downloaded = after_download["klines"]
    assert downloaded >= before + len(PAIRS), (before, downloaded)
    data = lab.ok("GET", "/lab/data", "admin")
    assert [s["key"] for s in data["sets"]] == [DATA_KEY], data
    cached = data["sets"][0]
    assert cached["exchange"] == "binance" and cached["timeframe"] == TIMEFRAME and cached["sizeBytes"] > 0, cached
    assert data["usedBytes"] == cached["sizeBytes"], data
    margin_start = lab.window_start.timestamp() - 300 * CANDLE_S
    for pair in PAIRS:
        coverage = cached["pairs"][pair]
        assert iso(coverage["first"]).timestamp() <= margin_start + CANDLE_S, (pair, coverage)
        assert iso(coverage["last"]).timestamp() >= lab.window_end.timestamp() - 2 * CANDLE_S, (pair, coverage)
        assert coverage["candles"] >= 1440 + 300, (pair, coverage)
    entries = [e for e in lab.audit("lab.data.download") if e.get("target") == DATA_KEY]
    assert len(entries) == 1 and entries[0]["clientId"] == lab.a and entries[0]["outcome"] == "success", entries

    # The engine's view: one download job (A's, the set writable), the backtest's mount read-only.
    downloads = lab.watch.all(kind="download")
    assert [j.id for j in downloads] == ["d" + ema["id"]], downloads
    download_job, ema_job = downloads[0], lab.watch.job(ema["id"])
    assert download_job.client == lab.a and ema_job.kind == "backtest", (download_job, ema_job)
    for job, read_only in ((download_job, False), (ema_job, True)):
        mounts = job.inspect["HostConfig"]["Mounts"]
        assert [(m["Type"], m["Source"], m["Target"], bool(m.get("ReadOnly"))) for m in mounts] == \
               [("volume", f"fta-data-{DATA_KEY}", DATA_DIR, read_only)], mounts
        assert job.inspect["HostConfig"]["NetworkMode"] == f"fta-client-{lab.a}", job.inspect["HostConfig"]["NetworkMode"]

    # B's backtest of the same data: succeeded without a second download.
    quick = lab.succeeded("quick")
    assert lab.klines() == downloaded, f"klines rose from {downloaded} to {lab.klines()} for B's backtest"
    assert len(lab.watch.all(kind="download")) == 1, lab.watch.all(kind="download")
    assert lab.watch.job(quick["id"]).client == lab.b
    again = lab.ok("GET", "/lab/data", "admin")
    assert again["sets"] == data["sets"], (again, data)
    assert [e.get("target") for e in lab.audit("lab.data.download")] == [DATA_KEY]
    lab.timings["test_data_once_s"] = round(time.monotonic() - started, 1)


# --- 2. a backtest runs as a dry-run bot with its settings -------------------------------------------------

def test_a_backtest_runs_as_a_dry_run_bot_with_its_settings(lab):
    started = time.monotonic()
    bt = lab.succeeded("quick")
    bot_id = f"lb-{lab.suffix}-quick"
    lab.bots["quick"] = bot_id
    bot = lab.ok("POST", f"/backtests/{bt['id']}/bot", "other", {"id": bot_id, "name": "Lab quick from backtest", "size": "small"},
                 expect=201)["bot"]
    assert bot["clientId"] == lab.b and bot["desiredState"] == "running", bot
    for key in ("exchange", "pairs", "timeframe", "strategy", "strategyVersion", "dryRunWallet", "stakeAmount", "maxOpenTrades", "tuning"):
        assert bot.get(key) == bt.get(key), (key, bot.get(key), bt.get(key))
    entries = [e for e in lab.audit("backtest.bot", client=lab.b) if e.get("target") == bot_id]
    assert entries and bt["id"] in (entries[0]["detail"] or ""), entries

    # Freqtrade's own view of what it runs (show_config and its whitelist, through the portal).
    config = lab.bot_read(bot_id, "/config", "other")
    lab.timings["backtest_to_bot_api_s"] = round(time.monotonic() - started, 1)
    assert config["dry_run"] is True and config["runmode"] == "dry_run", config
    assert config["strategy"] == "FtaQuickTest" and config["timeframe"] == TIMEFRAME, config
    assert float(config["stake_amount"]) == float(STAKE) and config["stake_currency"] == "USDT", config
    assert config["max_open_trades"] == MAX_OPEN_TRADES and config["exchange"] == "binance", config
    assert sorted(config["pair_whitelist"]) == sorted(PAIRS), config
    assert lab_support.roi(config["minimal_roi"]) == lab_support.roi(QUICK_TUNING["minimalRoi"]), config["minimal_roi"]
    assert config["stoploss"] == QUICK_TUNING["stoploss"], config["stoploss"]
    # The wallet is not in show_config: the config fta rendered into the container has it.
    info = json.loads(docker("inspect", f"fta-bot-{bot_id}").stdout)[0]
    rendered = json.loads(dict(e.split("=", 1) for e in info["Config"]["Env"])["FTA_CONFIG"])
    assert rendered["dry_run"] is True and rendered["dry_run_wallet"] == WALLET, rendered.get("dry_run_wallet")
    assert rendered["exchange"]["pair_whitelist"] == PAIRS and rendered["max_open_trades"] == MAX_OPEN_TRADES, rendered["exchange"]
    assert "protections" not in rendered, "Freqtrade 2026.9 refuses protections in the config"
    assert lab.bot(bot_id)["state"] == "running"
    # The tuned protection reached the running bot through the launcher: Freqtrade announces it.
    log = wait_until("the bot announcing its protection", BOT_API_TIMEOUT,
                     lambda: (lambda text: (text if "CooldownPeriod - Cooldown period for 1 candle" in text else None, text))(
                         bot_logs(lab.portal, lab.cookies["other"], bot_id, tail=2000)), interval=3)
    assert "Using resolved protection CooldownPeriod" in log or "CooldownPeriod" in log


# --- 3. each shipped strategy's backtest, with every metric ---------------------------------------------------

def check_result(lab: Lab, bt: dict, pairs: list[str]) -> dict:
    """Every metric, table and list of a succeeded backtest's result, and that they agree."""
    result = bt["result"]
    assert result is not None, bt
    metrics = result["metrics"]
    missing = [k for k in NAMED_METRICS + OTHER_METRICS if metrics.get(k) is None]
    assert not missing, f"{bt['strategy']}: metrics missing or null: {missing} in {metrics}"
    n = metrics["tradeCount"]
    trades, equity = result["trades"], result["equity"]
    assert n == metrics["wins"] + metrics["losses"] + metrics["draws"] == len(trades) == len(equity), metrics
    assert math.isclose(metrics["winRate"], metrics["wins"] / n, abs_tol=1e-6), metrics
    assert 0 <= metrics["maxDrawdown"] <= 1 and metrics["maxDrawdownAbs"] >= 0, metrics
    assert metrics["startingBalance"] == WALLET, metrics
    assert math.isclose(sum(t["profitAbs"] for t in trades), metrics["profitTotalAbs"], abs_tol=1e-4), metrics
    assert math.isclose(metrics["finalBalance"], WALLET + metrics["profitTotalAbs"], abs_tol=1e-4), metrics
    assert math.isclose(metrics["profitTotal"], metrics["profitTotalAbs"] / WALLET, rel_tol=1e-3, abs_tol=1e-6), metrics
    assert math.isclose(metrics["avgDurationMinutes"], sum(t["durationMinutes"] for t in trades) / n, abs_tol=0.01), metrics
    assert lab.window_start <= iso(metrics["backtestStart"]) <= lab.window_start.replace(minute=5), metrics["backtestStart"]
    assert lab.window_end.timestamp() - 600 <= iso(metrics["backtestEnd"]).timestamp() <= lab.window_end.timestamp(), metrics["backtestEnd"]
    for trade in trades:
        assert trade["pair"] in pairs and trade["exitReason"], trade
        assert lab.window_start <= iso(trade["openDate"]) <= iso(trade["closeDate"]) <= lab.window_end, trade
        # The stake is the amount (rounded down to the pair's step) times the rate: just under it.
        assert float(STAKE) * 0.98 <= trade["stakeAmount"] <= float(STAKE) * 1.001, trade
    assert [p["t"] for p in equity] == sorted(p["t"] for p in equity), equity[:5]
    assert math.isclose(equity[-1]["balance"], metrics["finalBalance"], abs_tol=1e-4), (equity[-1], metrics)
    rows = {row["pair"]: row for row in result["pairs"]}
    assert set(rows) <= set(pairs) and sum(r["trades"] for r in rows.values()) == n, result["pairs"]
    for pair in {t["pair"] for t in trades}:
        assert rows[pair]["trades"] == sum(1 for t in trades if t["pair"] == pair), (pair, rows[pair])
    reasons = {row["reason"]: row for row in result["exitReasons"]}
    assert sum(r["trades"] for r in reasons.values()) == n and set(reasons) == {t["exitReason"] for t in trades}, result["exitReasons"]
    summary = bt["summary"]
    assert summary["tradeCount"] == n and math.isclose(summary["profitTotalAbs"], metrics["profitTotalAbs"], abs_tol=1e-9), summary
    return metrics


def test_each_shipped_strategy_backtests_with_every_metric(lab):
    counts = {}
    for label, strategy in (("ema", "FtaEmaCross"), ("quick", "FtaQuickTest"), ("rsi", "FtaRsi"), ("bollinger", "FtaBollinger")):
        bt = lab.succeeded(label)
        assert bt["strategy"] == strategy and bt["timeframe"] == TIMEFRAME and bt["pairs"] == PAIRS, bt
        assert bt["phase"] == "done" and bt["progress"]["elapsedSeconds"] <= BACKTEST_SECONDS + 300, bt
        assert bt.get("error") is None and bt["finishedAt"] and bt["startedAt"], bt
        # Every shipped strategy trades on a day of the simulator's 1m candles (its random walk
        # swings 0.25 % a minute): zero trades would mean the backtest did not really run it.
        assert bt["result"]["metrics"]["tradeCount"] > 0, f"{strategy} made no trade on {lab.timerange}: {bt['result']['metrics']}"
        counts[strategy] = check_result(lab, bt, PAIRS)["tradeCount"]
    assert lab.backtest("quick")["tuning"] == QUICK_TUNING
    lab.timings["shipped_trade_counts"] = counts


# --- 4. compare --------------------------------------------------------------------------------------------------

def test_compare_answers_backtests_in_the_order_asked(lab):
    ema, rsi, boll = (lab.backtests[k] for k in ("ema", "rsi", "bollinger"))
    for ids in ([ema, rsi], [rsi, ema], [boll, ema, rsi]):
        answer = lab.ok("GET", f"/backtests/compare?ids={','.join(ids)}", "owner")["backtests"]
        assert [bt["id"] for bt in answer] == ids, answer
        for bt in answer:
            full = lab.backtest(bt["id"])
            assert bt["metrics"] == full["result"]["metrics"], (bt["id"], bt["metrics"])
            assert bt["equity"] == full["result"]["equity"] and "result" not in bt, bt["id"]
    # A viewer reads comparisons too; one id, or the same one twice, is a field error.
    assert lab.call("GET", f"/backtests/compare?ids={ema},{rsi}", "viewer")[0] == 200
    for ids in (ema, f"{ema},{ema}"):
        status, body = lab.call("GET", f"/backtests/compare?ids={ids}", "owner")
        assert status == 400 and "ids" in body["error"]["fields"], body


# --- 5. a custom strategy from upload to backtest and bot -------------------------------------------------------

def test_a_custom_strategy_is_validated_backtested_and_deployed(lab):
    started = time.monotonic()
    good, broken, mismatched, not_a_strategy = (strategy_source(n) for n in (
        "LabGoodStrategy", "LabBrokenSyntax", "LabMismatchedName", "LabNotAStrategy"))

    # Off until the operator enables it.
    listed = lab.ok("GET", "/strategies", "owner")
    assert listed["customEnabled"] is False and listed["custom"] == [], listed
    assert set(SHIPPED) <= {s["name"] for s in listed["shipped"]}, listed["shipped"]
    status, body = lab.call("POST", "/strategies", "owner", {"fileName": "LabGoodStrategy.py", "source": good})
    assert status == 403 and body["error"]["code"] == "forbidden", body
    assert lab.ok("GET", "/strategies", "owner")["custom"] == []
    client = lab.ok("PATCH", f"/clients/{lab.a}", "admin", {"customStrategies": True})["client"]
    assert client["customStrategies"] is True, client
    assert [e for e in lab.audit("client.custom_strategies", client=lab.a) if e["outcome"] == "success"]
    assert lab.ok("GET", "/strategies", "owner")["customEnabled"] is True
    # The name rules and the size cap hold before anything runs.
    status, body = lab.call("POST", "/strategies", "owner", {"fileName": "FtaRsi.py", "source": good})
    assert status == 400 and "fileName" in body["error"]["fields"], body
    status, body = lab.call("POST", "/strategies", "owner", {"fileName": "LabGoodStrategy.py", "source": good + "#" * 33 * 1024})
    assert status == 413 and body["error"]["code"] == "payload_too_large", body

    # A class not named after its file is Freqtrade's to refuse, in its own words (fta adds a hint).
    lab.upload("LabMismatchedName", mismatched)
    lab.upload("LabGoodStrategy", good)
    lab.upload("LabBrokenSyntax", broken)
    lab.upload("LabNotAStrategy", not_a_strategy)
    version = lab.validated("LabGoodStrategy")
    assert version["status"] == "valid" and not version.get("message"), version
    validation = lab.watch.finished("validate", "LabGoodStrategy", lab.a)
    assert validation.inspect["HostConfig"]["NetworkMode"] == "none" and not validation.inspect["HostConfig"].get("Mounts"), \
        validation.inspect["HostConfig"]

    # What the strategy declares, as Freqtrade loaded it.
    info = lab.ok("GET", "/strategies/LabGoodStrategy/parameters", "viewer")
    assert info["className"] == "LabGoodStrategy" and info["timeframe"] == "5m" and info["stoploss"] == -0.04, info
    assert lab_support.roi(info["minimalRoi"]) == {0: 0.02, 30: 0.01, 60: 0.0}, info["minimalRoi"]
    assert [p["method"] for p in info["protections"]] == ["CooldownPeriod", "StoplossGuard"], info["protections"]
    params = {p["name"]: p for p in info["parameters"]}
    assert set(params) == {"buy_rsi", "buy_dip", "buy_ma", "sell_rsi", "sell_use_signal", "protection_cooldown"}, params
    assert (params["buy_rsi"]["type"], params["buy_rsi"]["space"], params["buy_rsi"]["default"],
            params["buy_rsi"]["low"], params["buy_rsi"]["high"]) == ("int", "buy", 40, 10, 45), params["buy_rsi"]
    assert params["buy_dip"]["type"] == "decimal" and params["buy_dip"]["decimals"] == 3, params["buy_dip"]
    assert params["buy_ma"]["type"] == "categorical" and params["buy_ma"]["options"] == ["sma", "ema"], params["buy_ma"]
    assert params["sell_use_signal"]["type"] == "boolean" and params["protection_cooldown"]["space"] == "protection", params

    # Its backtest (tuned: GOOD_TUNING) trades.
    lab.submit("good", "owner", "custom:LabGoodStrategy", tuning=GOOD_TUNING)
    bt = lab.succeeded("good")
    assert bt["strategyVersion"] == lab.versions["LabGoodStrategy"] and bt["tuning"] == GOOD_TUNING, bt
    metrics = check_result(lab, bt, PAIRS)
    assert metrics["tradeCount"] > 0, metrics
    lab.timings["custom_strategy_trades"] = metrics["tradeCount"]
    assert {t["enterTag"] for t in bt["result"]["trades"]} == {"rsi_dip"}, {t["enterTag"] for t in bt["result"]["trades"]}
    params_file = lab.watch.job(bt["id"]).env.get("FTA_STRATEGY_PARAMS")
    assert params_file and json.loads(params_file)["params"] == GOOD_TUNING["params"], params_file
    uses = [e for e in lab.audit("strategy.use", client=lab.a) if e.get("target") == f"custom:LabGoodStrategy@{bt['strategyVersion']}"]
    assert uses and bt["id"] in uses[0]["detail"], uses

    # The broken one, the misnamed one and the one whose class is no strategy: refused, in Freqtrade's own words,
    # without a path.
    for name, expected in (("LabBrokenSyntax", r"expected ':'|invalid syntax|SyntaxError"),
                           ("LabMismatchedName", r"Impossible to load Strategy 'LabMismatchedName'.*must define class LabMismatchedName"),
                           ("LabNotAStrategy", r"Impossible to load Strategy 'LabNotAStrategy'")):
        version = lab.validated(name)
        message = version.get("message") or ""
        assert version["status"] == "invalid" and re.search(expected, message), (name, version)
        assert "/tmp/" not in message and "/freqtrade" not in message and lab_support.no_paths(message), (name, message)
        rejected = [e for e in lab.audit("strategy.rejected", client=lab.a) if (e.get("target") or "").startswith(f"custom:{name}")]
        assert rejected and rejected[0]["outcome"] == "failure", (name, rejected)
    assert "line 14" in lab.strategy_version("LabBrokenSyntax")["message"], lab.strategy_version("LabBrokenSyntax")
    status, body = lab.call("GET", "/strategies/LabBrokenSyntax/parameters", "owner")
    assert status == 409, body
    status, body = lab.call("POST", "/backtests", "owner", lab.backtest_body("custom:LabBrokenSyntax"))
    assert status == 400 and "strategy" in body["error"]["fields"], body
    validated = [e for e in lab.audit("strategy.validated", client=lab.a) if (e.get("target") or "").startswith("custom:LabGoodStrategy")]
    assert validated, lab.audit("strategy.validated")

    # As a bot: the backtest's settings and pinned version.
    bot_id = f"la-{lab.suffix}-good"
    lab.bots["good"] = bot_id
    bot = lab.ok("POST", f"/backtests/{bt['id']}/bot", "owner", {"id": bot_id, "name": "Lab custom strategy bot"}, expect=201)["bot"]
    lab.created["good_bot"] = time.monotonic()
    assert bot["strategy"] == "custom:LabGoodStrategy" and bot["strategyVersion"] == lab.versions["LabGoodStrategy"], bot
    assert bot["tuning"] == GOOD_TUNING and bot["timeframe"] == TIMEFRAME and bot["pairs"] == PAIRS, bot
    lab.timings["test_custom_strategy_s"] = round(time.monotonic() - started, 1)


# --- 6. isolation between clients and roles ---------------------------------------------------------------------

def test_other_clients_and_viewers_change_nothing(lab):
    before = lab.lists()
    ema = lab.backtests["ema"]
    good_bt = lab.backtests["good"]
    since = lab.ok("GET", "/audit?limit=1", "admin")["entries"][0]["id"]

    # B's owner: A's strategy and backtests do not exist for them.
    for method, path in (("GET", "/strategies/LabGoodStrategy"), ("DELETE", "/strategies/LabGoodStrategy"),
                         ("GET", "/strategies/LabGoodStrategy/parameters"), ("GET", f"/backtests/{ema}"),
                         ("DELETE", f"/backtests/{ema}"), ("POST", f"/backtests/{ema}/cancel"), ("GET", f"/backtests/{good_bt}"),
                         ("GET", f"/backtests/compare?ids={ema},{lab.backtests['quick']}")):
        status, body = lab.call(method, path, "other")
        assert status == 404 and body["error"]["code"] == "not_found", (method, path, status, body)
    status, body = lab.call("POST", f"/backtests/{good_bt}/bot", "other", {"id": f"lb-{lab.suffix}-hijack", "name": "hijack"})
    assert status == 404, body
    for path, body in (("/backtests", lab.backtest_body("custom:LabGoodStrategy")),
                       ("/bots", lab.bot_body(f"lb-{lab.suffix}-steal", "steal", "custom:LabGoodStrategy"))):
        status, answer = lab.call("POST", path, "other", body)
        assert status == 400 and list(answer["error"]["fields"]) == ["strategy"], (path, answer)
    mine = lab.ok("GET", "/strategies", "other")
    assert mine["customEnabled"] is False and mine["custom"] == [], mine
    assert {b["id"] for b in lab.ok("GET", "/backtests", "other")["backtests"]} == {lab.backtests["quick"]}

    # A's viewer: reads, and is refused every change.
    assert lab.call("GET", f"/backtests/{good_bt}", "viewer")[0] == 200
    assert lab.call("GET", "/strategies/LabGoodStrategy", "viewer")[0] == 200
    for method, path, body in (("POST", "/strategies", {"fileName": "Sneaky.py", "source": "class Sneaky(IStrategy):\n    pass\n"}),
                               ("POST", "/backtests", lab.backtest_body("FtaRsi")),
                               ("POST", "/backtests", lab.backtest_body("custom:LabGoodStrategy")),
                               ("DELETE", f"/backtests/{ema}", None), ("POST", f"/backtests/{ema}/cancel", None),
                               ("DELETE", "/strategies/LabGoodStrategy", None),
                               ("POST", f"/backtests/{good_bt}/bot", {"id": f"la-{lab.suffix}-viewer", "name": "viewer"})):
        status, answer = lab.call(method, path, "viewer", body)
        assert status == 403 and answer["error"]["code"] == "forbidden", (method, path, status, answer)

    assert lab.lists() == before
    denied = [e for e in lab.ok("GET", "/audit?outcome=denied&limit=500", "admin")["entries"] if e["id"] > since]
    assert {"strategy.upload", "backtest.create"} <= {e["action"] for e in denied}, denied


# --- 7. hostile strategies --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile(lab):
    """Uploads the hostile fixtures and runs each in validation, a backtest (A may have three
    waiting at once) and a bot (three at once); samples the host and the portal meanwhile.
    Answers what happened; the tests below judge it."""
    started = time.monotonic()
    h = lab.hostile
    sampler = lab_support.HostSampler()
    health = lab_support.HealthProbe(lab.portal.url)
    quick_bot = f"fta-bot-{lab.bots['quick']}"
    h["quick_before"] = json.loads(docker("inspect", quick_bot).stdout)[0]
    h["listeners"] = listeners = [lab_support.Listener(lab.sim_host),
                                  lab_support.Listener(lab_support.network_gateway(f"fta-client-{lab.a}"))]
    h["b_bot"] = f"{lab_support.container_address(quick_bot, f'fta-client-{lab.b}')}:8080"
    h["a_bot"] = wait_until("A's custom bot's address", 60, lambda: (
        lab_support.container_address(f"fta-bot-{lab.bots['good']}", f"fta-client-{lab.a}"), None))
    h["a_bot"] += ":8080"
    targets = ",".join([l.address for l in listeners] + [h["b_bot"], h["a_bot"]])
    portal_paths = [str(lab.portal.dir / "fta.sqlite"), str(lab.portal.dir / "env"), str(lab.portal.dir / "admin-password")]
    h["portal_paths"] = portal_paths
    sources = {
        # The stall first: the lab validates one at a time, in upload order, and its bot's
        # verdict takes longest (UNHEALTHY_GRACE_S).
        "HostileStall": strategy_source("HostileStall"),
        # At import these two kill their own validation (320 MiB) and never reach a backtest or a
        # bot: they attack at the first candle instead. The others attack at import, in validation
        # as well. The fork bomb's children exec a small `sleep` instead of sleeping in Python:
        # Python children copy the heap they share with Freqtrade (refcounts, the collector), so
        # the memory limit killed the job long before the process limit was reached.
        "HostileMemory": lab_support.at_first_candle(strategy_source("HostileMemory")),
        "HostileFork": lab_support.at_first_candle(strategy_source(
            "HostileFork", {"time.sleep(30)": 'os.execv("/bin/sleep", ["sleep", "30"])'})),
        "HostileSockets": strategy_source("HostileSockets", {'TARGETS = ""': f'TARGETS = "{targets}"'}),
        "HostileEnviron": strategy_source("HostileEnviron", {"PORTAL_PATHS = (": "PORTAL_PATHS = (" + "".join(f'"{p}", ' for p in portal_paths)}),
        "HostileDisk": strategy_source("HostileDisk"),
        "HostileLoop": strategy_source("HostileLoop"),
    }
    h["disk_before_mb"] = lab_support.disk_free_mb(sampler.data_dir)
    # The stall, memory and fork first: their bots start while the rest validates and backtests.
    for name, source in sources.items():
        lab.upload(name, source)
    h["verdicts"], h["backtests"], h["bots"] = {}, {}, {}
    bots = {name: f"la-{lab.suffix}-{name[len('Hostile'):].lower()}" for name in HOSTILE_BOTS}
    done_bots: dict[str, dict] = {}
    deadline = time.monotonic() + HOSTILE_TIMEOUT
    try:
        while True:
            for name in sources:
                if name not in h["verdicts"]:
                    version = lab.strategy_version(name)
                    if version["status"] != "validating":
                        h["verdicts"][name] = version
                        lab.timings[f"validation_{name}_s"] = round(time.monotonic() - lab.created[f"upload_{name}"], 1)
                        assert name == "HostileLoop" or version["status"] == "valid", \
                            f"{name} must pass validation (its attack is for the backtest): {version}\n" \
                            f"{lab.watch.finished('validate', name, lab.a).text()[-3000:]}"
            pending = [n for n, bt in h["backtests"].items() if lab.backtest(bt)["status"] not in ("succeeded", "failed", "cancelled")]
            for name in HOSTILE:
                if name in h["verdicts"] and name not in h["backtests"] and len(pending) < 3:
                    h["backtests"][name] = lab.submit(f"hostile_{name}", "owner", f"custom:{name}", pairs=PAIRS[:1])["id"]
                    pending.append(name)
            alive = [n for n in h["bots"] if n not in done_bots]
            for name in HOSTILE_BOTS:
                if name in h["verdicts"] and name not in h["bots"] and len(alive) < BOTS_AT_ONCE:
                    alive.append(name)
                    lab.bots[name] = bots[name]
                    h["bots"][name] = lab.ok("POST", "/bots", "owner", lab.bot_body(bots[name], f"Lab {name}", f"custom:{name}", PAIRS[:1]),
                                             expect=201)["bot"]
                    lab.created[f"bot_{name}"] = time.monotonic()
            # Each hostile bot until its attack is over: its own last report in its log, or the
            # reconciler's record of an OOM kill or of a bot stuck unhealthy, or the runtime gave
            # up on it. What the engine shows of it is kept, then it is deleted (a bot in a
            # restart loop, or stuck in a loop, costs the host CPU).
            for name, bot_id in bots.items():
                if name not in h["bots"] or name in done_bots:
                    continue
                action = "bot.unhealthy" if name == "HostileStall" else "bot.oom_killed"
                verdicts = [e for e in lab.audit(action, client=lab.a) if e.get("target") == bot_id]
                status, body = lab.call("GET", f"/bots/{bot_id}/logs?tail=2000", "owner")
                lines = body.get("lines", []) if status == 200 else []
                state = lab.bot(bot_id)
                if verdicts or any(BOT_ATTACK_OVER.get(name, "\0") in line for line in lines) or state["state"] == "failed":
                    container = f"fta-bot-{bot_id}"
                    inspect = docker("inspect", container, check=False)
                    stats = docker("stats", "--no-stream", "--format", "{{.CPUPerc}}", container, check=False)
                    volume = docker("volume", "inspect", "--format", "{{json .Options}}", f"fta-bot-{bot_id}", check=False)
                    done_bots[name] = {"audit": verdicts, "bot": state, "lines": lines,
                                       "inspect": json.loads(inspect.stdout)[0] if inspect.returncode == 0 else None,
                                       "volume_options": json.loads(volume.stdout) if volume.returncode == 0 else "no volume",
                                       "cpu_percent": float(stats.stdout.strip().rstrip("%") or 0) if stats.returncode == 0 else None,
                                       "seconds": round(time.monotonic() - lab.created[f"bot_{name}"], 1)}
                    assert lab.call("DELETE", f"/bots/{bot_id}", "owner")[0] == 204
            finished = len(h["verdicts"]) == len(sources) and len(h["backtests"]) == len(HOSTILE) and not pending \
                and len(done_bots) == len(bots)
            if finished:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"the hostile runs did not finish within {HOSTILE_TIMEOUT} s: verdicts {sorted(h['verdicts'])}, "
                                     f"backtests {h['backtests']}, pending {pending}, bots done {sorted(done_bots)}\n"
                                     f"--- portal log ---\n{lab.portal.log_tail(30)}")
            time.sleep(2)
    finally:
        h["host"] = sampler.stop()
        h["health"] = health.stop()
        for listener in listeners:
            listener.close()
    h["bot_runs"] = done_bots
    h["results"] = {name: lab.backtest(bt) for name, bt in h["backtests"].items()}
    h["disk_after_mb"] = lab_support.disk_free_mb(sampler.data_dir)
    h["quick_after"] = json.loads(docker("inspect", quick_bot).stdout)[0]
    h["summary"] = {
        "verdicts": {n: (v["status"], (v.get("message") or "")[:200]) for n, v in h["verdicts"].items()},
        "backtests": {n: (r["status"], r.get("error")) for n, r in h["results"].items()},
        "bots": {n: {k: v for k, v in r.items() if k in ("seconds",)} for n, r in done_bots.items()},
        "host": h["host"], "health": h["health"], "listeners": {l.address: l.connections for l in listeners},
    }
    lab.timings["hostile_phase_s"] = round(time.monotonic() - started, 1)
    return h


def hostile_job(lab: Lab, kind: str, name: str):
    """The hostile strategy's job of this kind (its backtest's by id), with its whole output."""
    if kind == "backtest":
        return lab.watch.job(lab.hostile["backtests"][name])
    return lab.watch.finished("validate", name, lab.a)


def test_the_portal_and_the_other_clients_bot_are_unaffected(lab, hostile):
    assert not hostile["health"]["failures"] and hostile["health"]["answers"] > 10, hostile["health"]
    assert hostile["health"]["slowestSeconds"] < 5, hostile["health"]
    status, me = lab.call("GET", "/me", "owner")
    assert status == 200, me
    before, after = hostile["quick_before"], hostile["quick_after"]
    assert after["State"]["Running"] is True and after["State"]["StartedAt"] == before["State"]["StartedAt"], after["State"]
    assert after["RestartCount"] == before["RestartCount"] and after["State"]["OOMKilled"] is False, after["State"]
    assert lab.bot(lab.bots["quick"])["state"] == "running"
    assert lab.bot_read(lab.bots["quick"], "/profit", "other", timeout=30) is not None


def test_a_strategy_that_loops_at_import_is_stopped_by_the_validation_time_limit(lab, hostile):
    verdict = hostile["verdicts"]["HostileLoop"]
    assert verdict["status"] == "invalid", verdict
    assert f"time limit of {VALIDATE_SECONDS} s" in (verdict.get("message") or ""), verdict
    job = hostile_job(lab, "validate", "HostileLoop")
    assert "-> STARTED" in " ".join(markers(job.lines, "loop")), job.lines[-20:]
    # It cost its limit and no more (the lab polls its jobs every second).
    assert VALIDATE_SECONDS <= job.duration() <= VALIDATE_SECONDS + 10, job.duration()
    assert docker("inspect", job.name, check=False).returncode != 0, f"{job.name} left behind"
    rejected = [e for e in lab.audit("strategy.rejected", client=lab.a) if (e.get("target") or "").startswith("custom:HostileLoop")]
    assert rejected and "time limit" in (rejected[0]["detail"] or ""), rejected
    lab.timings["loop_validation_job_s"] = round(job.duration(), 1)
    # Nor can a bot run it: no bot, no container, no volume.
    bot_id = f"la-{lab.suffix}-loop"
    status, body = lab.call("POST", "/bots", "owner", lab.bot_body(bot_id, "Lab HostileLoop", "custom:HostileLoop", PAIRS[:1]))
    assert status == 400 and "strategy" in body["error"]["fields"], (status, body)
    assert lab.call("GET", f"/bots/{bot_id}", "owner")[0] == 404
    assert docker("inspect", f"fta-bot-{bot_id}", check=False).returncode != 0
    assert docker("volume", "inspect", f"fta-bot-{bot_id}", check=False).returncode != 0


def test_a_strategy_that_stalls_at_import_in_a_bot_is_shown_stuck_and_held_to_its_cpu_share(lab, hostile):
    """HostileStall passed validation (it loops only where it has a network): in its bot it spins
    at import, before Freqtrade starts its API. The bot's health check fails, the reconciler says
    so (lastError, `bot.unhealthy`), and the loop got its size's CPU share and no more."""
    verdict = hostile["verdicts"]["HostileStall"]
    assert verdict["status"] == "valid", verdict
    run = hostile["bot_runs"]["HostileStall"]
    log = "\n".join(run["lines"])
    assert "FTA-HOSTILE stall -> STARTED" in log, log[-2000:]
    # Stuck before its API: Freqtrade never got to say it listens.
    assert "Starting HTTP Server" not in log and "Uvicorn running" not in log, log[-2000:]
    assert run["audit"], f"no bot.unhealthy for the stalled bot within the phase: {run['bot']}\n{log[-2000:]}"
    entry = run["audit"][0]
    assert entry["outcome"] == "failure" and entry["actor"] == "reconciler", entry
    assert f"strategy custom:HostileStall@{lab.versions['HostileStall']}" in entry["detail"], entry
    assert run["bot"]["state"] == "running" and (run["bot"].get("lastError") or "").startswith("Freqtrade's API stopped answering"), run["bot"]
    assert "FTA-HOSTILE stall -> STARTED" in run["bot"]["lastError"], run["bot"]["lastError"]
    # Its health check's own verdict, and its CPU share: half a core for a small bot.
    state, host = run["inspect"]["State"], run["inspect"]["HostConfig"]
    assert state["Running"] is True and state["Health"]["Status"] == "unhealthy", state
    assert host["NanoCpus"] == 500_000_000, host["NanoCpus"]
    assert run["cpu_percent"] is not None and 20 <= run["cpu_percent"] <= 60, run["cpu_percent"]
    # Unhealthy after two minutes' start period and three failed probes; recorded once the run
    # is five minutes old (Reconciler.unhealthyGrace), at the reconciler's next pass.
    assert UNHEALTHY_GRACE_S <= run["seconds"] <= UNHEALTHY_GRACE_S + 120, run["seconds"]
    lab.timings["stall_bot_to_unhealthy_record_s"] = run["seconds"]
    lab.timings["stall_bot_cpu_percent"] = run["cpu_percent"]


def test_memory_is_capped_in_a_backtest_and_in_a_bot(lab, hostile):
    result = hostile["results"]["HostileMemory"]
    assert result["status"] == "failed" and "out of memory" in (result.get("error") or ""), result
    job = hostile_job(lab, "backtest", "HostileMemory")
    # Killed on the way: its outcome line (ALLOCATED, or REFUSED by Python) was never printed.
    reports = markers(job.lines, "memory")
    assert not [r for r in reports if r.startswith("->")], reports
    assert job.inspect["HostConfig"]["Memory"] == job.inspect["HostConfig"]["MemorySwap"] == 512 << 20, job.inspect["HostConfig"]
    failed = [e for e in lab.audit("backtest.failed", client=lab.a) if e.get("target") == result["id"]]
    assert failed and "out of memory" in failed[0]["detail"], failed
    # Two 2 GiB attacks ran (the backtest and the bot), beside other hostile bots and jobs; the
    # host lost at most what their limits allow (a backtest's 512 MiB, a validation's 320 and
    # three small bots' 320 each), with room for page cache.
    host = hostile["host"]
    assert host["baseline"]["memAvailableMB"] - host["minMemAvailableMB"] < 512 + 320 + BOTS_AT_ONCE * 320 + 512, host
    # As a bot: the kernel killed it at its size's limit, and the reconciler said so.
    run = hostile["bot_runs"]["HostileMemory"]
    log = "\n".join(run["lines"])
    assert run["audit"], f"no bot.oom_killed for the memory bot: {run['bot']}\n{log[-3000:]}"
    assert run["audit"][0]["outcome"] == "failure" and "size small" in run["audit"][0]["detail"], run["audit"]
    assert "out of memory" in (run["bot"].get("lastError") or ""), run["bot"]
    assert "FTA-HOSTILE memory -> " not in log, log[-2000:]
    lab.timings["memory_bot_to_oom_record_s"] = run["seconds"]


def test_a_fork_bomb_hits_the_process_limit(lab, hostile):
    result = hostile["results"]["HostileFork"]
    assert result["status"] == "succeeded", result
    job = hostile_job(lab, "backtest", "HostileFork")
    assert job.inspect["HostConfig"]["PidsLimit"] == 128, job.inspect["HostConfig"]["PidsLimit"]
    for what, lines, limit in (("backtest", job.lines, 128), ("bot", hostile["bot_runs"]["HostileFork"]["lines"], 256)):
        reports = markers(lines, "fork")
        started = [r for r in reports if r.startswith("started=")]
        assert started, f"{what}: the fork bomb never reported: {reports}\n" + "\n".join(lines[-30:])
        count = int(started[0].split("=")[1].split("/")[0])
        assert "LIMITED" in started[0] and count < limit, (what, started)
        assert f"reaped={count}" in reports, (what, reports)
        lab.timings[f"fork_{what}_processes"] = count
    assert not hostile["bot_runs"]["HostileFork"]["audit"], hostile["bot_runs"]["HostileFork"]
    host = hostile["host"]
    # 1000 processes never reached the host's table: at most the bot's and a job's limits more,
    # beside the other hostile bots' own Freqtrade processes.
    assert host["peakProcesses"] - host["baseline"]["processes"] < 256 + 128 + 64 + 2 * 32, host


def test_the_disk_cannot_be_filled(lab, hostile):
    result = hostile["results"]["HostileDisk"]
    assert result["status"] == "succeeded", result
    for kind in ("validate", "backtest"):
        job = hostile_job(lab, kind, "HostileDisk")
        reports = markers(job.lines, "disk")
        if kind == "validate" and not reports:
            continue
        assert len(reports) == 3 and all("STOPPED" in r for r in reports), (kind, reports)
        written = {r.split()[0]: int(re.search(r"wrote=(\d+)MiB", r)[1]) for r in reports}
        assert written["/tmp"] <= 64 and written["/freqtrade/user_data"] == 0 and written["/freqtrade/user_data/data"] == 0, (kind, written)
    # In a bot: the root is read-only and /tmp is the bots' small tmpfs; the bot's own volume
    # (its trades database and logs, /freqtrade/user_data) is capped by install.sh's XFS store.
    run = hostile["bot_runs"]["HostileDisk"]
    reports = markers(run["lines"], "disk")
    assert len(reports) == 3, (reports, run["lines"][-30:])
    written = {r.split()[0]: int(re.search(r"wrote=(\d+)MiB", r)[1]) for r in reports}
    tmp = [r for r in reports if r.startswith("/tmp ")][0]
    assert "STOPPED" in tmp and written["/tmp"] <= 64, reports
    mounts = {m["Destination"]: m for m in run["inspect"]["Mounts"]}
    volume = mounts[DATA_DIR]
    assert volume["Type"] == "volume" and volume["Name"] == f"fta-bot-{lab.bots['HostileDisk']}" and len(mounts) == 1, mounts
    assert run["inspect"]["HostConfig"]["ReadonlyRootfs"] is True
    options = run["volume_options"]
    assert options != "no volume", run
    host = hostile["host"]
    if options and options.get("size"):
        cap = int(options["size"].rstrip("m"))
        assert all("STOPPED" in r and written[r.split()[0]] <= cap for r in reports), (options, reports)
        assert hostile["disk_before_mb"] - host["minDiskFreeMB"] < 512, (hostile["disk_before_mb"], host)
    else:
        # This test engine keeps its volumes on the machine's own disk, whose kernel has no XFS
        # quotas: the bot's volume takes what it is given, into that volume alone, and the bot
        # deleted it. The cap is proven where the store is: Tests/system/vm/test_vm_install.py
        # runs this same strategy as a bot on the installed 1 GiB host.
        assert all(written[d] <= 1024 for d in (DATA_DIR, f"{DATA_DIR}/data")), reports
        assert hostile["disk_before_mb"] - host["minDiskFreeMB"] < 512 + 1024, (hostile["disk_before_mb"], host)
        lab.notes.append(f"disk: this test engine's bot volumes have no cap (no XFS quotas in this kernel): the bot wrote {written}")
    assert abs(hostile["disk_before_mb"] - hostile["disk_after_mb"]) < 256, (hostile["disk_before_mb"], hostile["disk_after_mb"])
    # The shared set is as it was.
    assert [s["key"] for s in lab.ok("GET", "/lab/data", "admin")["sets"]] == [DATA_KEY]


def test_sockets_reach_nothing_they_must_not(lab, hostile):
    result = hostile["results"]["HostileSockets"]
    assert result["status"] == "succeeded", result
    listeners = hostile["listeners"]
    backtest_job = hostile_job(lab, "backtest", "HostileSockets")
    validation = hostile_job(lab, "validate", "HostileSockets")
    reports = markers(validation.lines, "sockets")
    if reports:
        # Validation has no network at all: nothing, not even the host.
        attempts = [r for r in reports if not r.startswith("done")]
        assert attempts and all("BLOCKED" in r for r in attempts), reports
        assert "done reached=0" in reports, reports
    # Validation has no network: every connection the listeners saw came from the backtest (once
    # it ran) or from the sockets bot.
    bot_address = hostile["bot_runs"]["HostileSockets"]["inspect"]["NetworkSettings"]["Networks"][f"fta-client-{lab.a}"]["IPAddress"]
    for listener in listeners:
        assert all(t >= backtest_job.started or source == bot_address for t, source in listener.connections), \
            (listener.address, listener.connections, bot_address, validation.started)
    outcome = {r.split(" -> ")[0]: r.split(" -> ")[1] for r in markers(backtest_job.lines, "sockets") if " -> " in r}
    assert outcome, backtest_job.lines[-30:]
    # Another client's bot, and a bot of its own client: not reachable from a backtest.
    for target in (hostile["b_bot"], hostile["a_bot"]):
        assert outcome.get(f"tcp {target}", "").startswith("BLOCKED"), (target, outcome)
    for path in ("/var/run/docker.sock", "/run/docker.sock", "/run/fta-test/docker.sock"):
        assert outcome.get(f"unix {path}", "").startswith("BLOCKED"), (path, outcome)
    host_reached = {l.address: outcome.get(f"tcp {l.address}") for l in listeners}
    # In a bot, on its client's network: the same, and the engine's sockets are not there either.
    run = hostile["bot_runs"]["HostileSockets"]
    in_bot = {r.split(" -> ")[0]: r.split(" -> ")[1] for r in markers(run["lines"], "sockets") if " -> " in r}
    assert any(r.startswith("done reached=") for r in markers(run["lines"], "sockets")), run["lines"][-30:]
    for target in (hostile["b_bot"], hostile["a_bot"]):
        assert in_bot.get(f"tcp {target}", "").startswith("BLOCKED"), (target, in_bot)
    for path in ("/var/run/docker.sock", "/run/docker.sock", "/run/fta-test/docker.sock"):
        assert in_bot.get(f"unix {path}", "").startswith("BLOCKED"), (path, in_bot)
    bot_host_reached = {l.address: in_bot.get(f"tcp {l.address}") for l in listeners}
    if lab_support.firewall_installed():
        reached = {**host_reached, **{f"bot {k}": v for k, v in bot_host_reached.items()}}
        assert all(v and v.startswith("BLOCKED") for v in reached.values()) and not any(l.connections for l in listeners), reached
    else:
        lab.notes.append(f"sockets: without install.sh's bots' firewall on this test engine a backtest and a bot reach host ports "
                         f"({host_reached}, {bot_host_reached}); the firewall's own tests prove that part")


def test_the_portals_secrets_are_not_in_reach(lab, hostile):
    secrets_ = lab.secrets
    assert all(secrets_.values()) and len(secrets_["FTA_SECRET_KEY"]) >= 32, "the portal's secrets were not read"
    for kind in ("validate", "backtest"):
        job = hostile_job(lab, kind, "HostileEnviron")
        reports = markers(job.lines, "environ")
        if kind == "validate" and not reports:
            continue
        found = [r for r in reports if r.startswith("done")]
        assert found == ["done found=0"], (kind, reports)
        for path in hostile["portal_paths"] + ["/var/lib/fta/fta.sqlite", "/etc/fta/fta.env", "/run/fta-test/docker.sock"]:
            line = [r for r in reports if r.startswith(f"file {path} ")]
            assert line and ("ABSENT" in line[0] or "DENIED" in line[0]), (kind, path, line)
        # What PID 1 holds is the container's environment: nothing of the portal's in it.
        init = [r for r in reports if r.startswith("environ /proc/1/environ ")]
        assert init, reports
        if "KEYS " in init[0]:
            keys = set(ast.literal_eval(init[0].split("KEYS ", 1)[1]))
            # (HOSTNAME is the container's id, which the engine adds at start.)
            assert keys <= set(job.env) | {"HOSTNAME"} and not keys & PORTAL_ONLY_KEYS, (kind, keys)
    # No job of the module held or printed a secret of the portal: not its environment, not its output.
    for job in lab.watch.all():
        for what, value in secrets_.items():
            assert value not in json.dumps(job.inspect), f"{what} in the environment of {job.name}"
            assert value not in job.text(), f"{what} in the output of {job.name}"
        assert not set(job.env) & PORTAL_ONLY_KEYS, (job.name, set(job.env) & PORTAL_ONLY_KEYS)
    result = hostile["results"]["HostileEnviron"]
    assert result["status"] == "succeeded", result
    for value in secrets_.values():
        assert value not in json.dumps(result)
    # In a bot: PID 1 holds the bot's own environment (its API credentials, none of the portal's),
    # and nothing of the portal is there to read.
    run = hostile["bot_runs"]["HostileEnviron"]
    reports = markers(run["lines"], "environ")
    assert "done found=0" in reports, reports
    for path in hostile["portal_paths"] + ["/var/lib/fta/fta.sqlite", "/etc/fta/fta.env", "/run/fta-test/docker.sock"]:
        line = [r for r in reports if r.startswith(f"file {path} ")]
        assert line and ("ABSENT" in line[0] or "DENIED" in line[0]), (path, line)
    init = [r for r in reports if r.startswith("environ /proc/1/environ ")]
    assert init, reports
    env = {item.split("=", 1)[0] for item in run["inspect"]["Config"]["Env"]}
    if "KEYS " in init[0]:
        keys = set(ast.literal_eval(init[0].split("KEYS ", 1)[1]))
        assert keys <= env | {"HOSTNAME"} and not keys & PORTAL_ONLY_KEYS, keys
    assert not env & PORTAL_ONLY_KEYS, env & PORTAL_ONLY_KEYS
    for what, value in secrets_.items():
        assert value not in json.dumps(run["inspect"]) and value not in "\n".join(run["lines"]), f"{what} in the hostile bot"


def test_hostile_backtests_are_in_the_audit_trail(lab, hostile):
    created = {e.get("target") for e in lab.audit("backtest.create", client=lab.a)}
    assert set(hostile["backtests"].values()) <= created
    used = {e.get("target") for e in lab.audit("strategy.use", client=lab.a)}
    assert {f"custom:{n}" for n in HOSTILE} <= {(t or "").split("@")[0] for t in used}, used
    # Each hostile bot: its creation with the exact version it ran, and its deletion.
    bot_uses = {e["detail"]: e["target"] for e in lab.audit("strategy.use", client=lab.a) if (e.get("detail") or "").startswith("bot ")}
    deleted = {e.get("target") for e in lab.audit("bot.delete", client=lab.a)}
    for name in HOSTILE_BOTS:
        bot_id = lab.bots[name]
        assert bot_uses.get(f"bot {bot_id}") == f"custom:{name}@{lab.versions[name]}", (name, bot_uses)
        assert bot_id in deleted, (name, deleted)
    failed = {e.get("target"): e["detail"] for e in lab.audit("backtest.failed", client=lab.a)}
    for name, result in hostile["results"].items():
        if result["status"] == "failed":
            assert failed.get(result["id"]) and result["error"][:100] in failed[result["id"]], (name, result, failed)
        # Every job is gone once its verdict is in.
        assert docker("inspect", f"fta-job-{result['id']}", check=False).returncode != 0, name


# --- 8. the custom strategy's bot trades ------------------------------------------------------------------------

def test_the_custom_strategys_bot_trades(lab):
    bot_id = lab.bots["good"]

    def a_trade():
        status, body = lab.call("GET", f"/bots/{bot_id}/status", "owner")
        if status in (409, 502, 504):
            bot = lab.bot(bot_id)
            assert bot["state"] not in ("failed", "quarantined"), bot
            return None, body
        assert status == 200, body
        if body["trades"]:
            return body["trades"][0], body
        status, closed = lab.call("GET", f"/bots/{bot_id}/trades", "owner")
        return (closed["trades"][0] if status == 200 and closed["trades"] else None), closed

    try:
        trade = wait_until("a trade of the custom strategy's bot", TRADE_TIMEOUT, a_trade, interval=3)
    except AssertionError as err:
        raise AssertionError(f"{err}\n--- bot log ---\n{bot_logs(lab.portal, lab.cookies['owner'], bot_id)}\n"
                             f"simulator: {lab.sim.stats()}") from None
    lab.timings["custom_bot_to_trade_s"] = round(time.monotonic() - lab.created["good_bot"], 1)
    lab.timings["custom_bot_trade"] = {"botStartedAt": lab.bot(bot_id).get("startedAt"), "openDate": trade.get("open_date"),
                                       "pair": trade["pair"], "isOpen": trade.get("is_open")}
    assert trade["pair"] in PAIRS and trade["strategy"] == "LabGoodStrategy" and trade["enter_tag"] == "rsi_dip", trade
    config = lab.bot_read(bot_id, "/config", "owner")
    assert config["dry_run"] is True and config["strategy"] == "LabGoodStrategy" and config["timeframe"] == TIMEFRAME, config
    # The tuned parameters reached the bot (Freqtrade logs each value it loads from the file).
    log = bot_logs(lab.portal, lab.cookies["owner"], bot_id, tail=2000)
    for name, value in [item for space in GOOD_TUNING["params"].values() for item in space.items()]:
        assert f"Strategy Parameter: {name} = {value}" in log, (name, value)
    # Its version stays pinned: a strategy a bot uses cannot be deleted.
    status, body = lab.call("DELETE", "/strategies/LabGoodStrategy", "owner")
    assert status == 409 and body["error"]["code"] == "conflict", body


def test_a_dry_run_is_compared_with_its_own_backtest(lab):
    """The replay of the run-as-bot bot's own window (issue 16, item 6): every dry trade in the window
    is either matched with a backtest trade (same pair, opened within one candle) or listed as
    only in the dry run; the backtest's other trades are listed as only in the backtest. The
    30-minute run of scripts/bench-lab measures how well they match; here the window is the
    module's few minutes."""
    bot_id = lab.bots["quick"]
    # A replay needs a window of a few candles: the bot started early in the module.
    started_at = iso(lab.bot(bot_id)["startedAt"])
    time.sleep(max(0.0, 150 - (time.time() - started_at.timestamp())))
    status, closed = lab.call("GET", f"/bots/{bot_id}/trades", "other")
    assert status == 200, closed
    replay = lab.ok("POST", f"/bots/{bot_id}/replay", "other", {}, expect=202)["backtest"]
    assert replay["botId"] == bot_id and replay["strategy"] == "FtaQuickTest" and replay["tuning"] == QUICK_TUNING, replay
    status, denied = lab.call("POST", f"/bots/{bot_id}/replay", "owner", {})
    assert status == 404, denied
    done = wait_until("the replay", QUEUE_TIMEOUT, lambda: (lambda b: (b if b["status"] in ("succeeded", "failed") else None, b))(
        lab.ok("GET", f"/backtests/{replay['id']}", "other")["backtest"]), interval=2)
    assert done["status"] == "succeeded", done
    comparison = done.get("comparison")
    assert comparison is not None, done
    start, end = iso(comparison["window"]["start"]), iso(comparison["window"]["end"])
    backtest_trades = done["result"]["trades"]
    assert len(comparison["matched"]) + len(comparison["onlyBacktest"]) == len(backtest_trades), comparison
    for match in comparison["matched"]:
        assert abs(iso(match["dryOpenDate"]).timestamp() - iso(match["backtestOpenDate"]).timestamp()) <= CANDLE_S + 60, match
        assert math.isclose(match["openRateDiff"], match["dryOpenRate"] - match["backtestOpenRate"], abs_tol=1e-9), match
    dry_in_window = [t for t in closed["trades"] if start <= iso(t["open_date"].replace(" ", "T") + ("" if "+" in t["open_date"] else "Z")) <= end]
    assert len(comparison["matched"]) + len(comparison["onlyDry"]) >= len(dry_in_window), (comparison, dry_in_window)
    delta = comparison["profitDelta"]
    assert math.isclose(delta["delta"], delta["dry"] - delta["backtest"], abs_tol=1e-9), delta
    lab.timings["replay"] = {"matched": len(comparison["matched"]), "onlyDry": len(comparison["onlyDry"]),
                             "onlyBacktest": len(comparison["onlyBacktest"]), "window_s": round(end.timestamp() - start.timestamp())}


def test_the_operator_prunes_the_data_set(lab):
    status, body = lab.call("DELETE", f"/lab/data/{DATA_KEY}", "owner")
    assert status == 403, body
    status, body = lab.call("DELETE", f"/lab/data/{DATA_KEY}", "admin")
    assert status == 204, body
    assert lab.ok("GET", "/lab/data", "admin")["sets"] == []
    assert docker("volume", "inspect", f"fta-data-{DATA_KEY}", check=False).returncode != 0, "the data volume is still there"
    assert [e for e in lab.audit("lab.data.prune") if e.get("target") == DATA_KEY]
