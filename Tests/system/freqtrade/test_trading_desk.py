"""The trading desk (issue 13) against a real Freqtrade bot on the market simulator.

One real `fta serve` (portal.sh, name `desk`) runs one FtaQuickTest bot (1m, BTC/USDT and ETH/USDT)
from the real Freqtrade image, with ccxt pointed at market_sim.py, as in test_freqtrade_e2e_portal
(whose fixtures and portal helpers this file imports). Everything a client does goes through the
portal's JSON API with session cookies: an owner, a viewer of the same client, another client's
owner, and the admin (who reads the audit trail).

What is proven, in the order the tests run (they share the one bot, so the order is the story):
1. force-exiting one trade closes it: the bot's own /trade says `force_exit`; audited;
2. every read endpoint of desk-api.md answers what the bot's own REST API answers (read directly
   at the container's address with the credentials fta rendered, the way the portal reaches it),
   and the numbers agree with each other (performance, daily, entries and exits add up to the
   closed trades and closed profit; the whitelist is the bot's pairs; dry_run is true);
3. the candle chart's data: OHLC equal to the simulator's own candles and to the bot's own
   /pair_candles, the plot-config's indicator columns present, and an entry signal on the candle
   before each trade's open;
4. lock/unlock, blacklist add/remove, pause, exit-all and resume each change the bot, as the bot's
   own API confirms afterwards, and each is in the audit trail;
5. a viewer is refused (403) every control (the CSV export included) and another client's owner
   gets 404 on every new endpoint, exactly the answer for a bot that does not exist; the bot is
   unchanged afterwards, and the refusals are in the audit trail;
6. the activity feed (GET /events and the SSE stream, read live) shows a real entry fill within
   one candle of the fill, and the other client's stream and feed never see it;
7. the CSV export equals /trades (ids, order, pairs, profits) and is audited;
8. editing a running bot's pairs marks it pendingRestart; after a restart the bot's own whitelist
   (and /config's pair_whitelist) is the new pairs, its show_config still says dry_run, and
   pendingRestart is false;
9. a clone is a new, stopped bot with the same settings; edited while stopped to FtaEmaCross and
   started, its candles carry that strategy's own indicators, named by its plot config;
10. a wallet reset leaves /trades empty, and the old trades are in an archive in the bot's volume
    (read out with the test image and counted with sqlite3).

Timings and counts go to ${FTA_TEST_ARTIFACTS:-artifacts}/desk-timings.json and stdout.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import time
import urllib.parse
import urllib.request

import fta_desk_support as desk_support
import fta_freqtrade_support as support
import fta_portal_support
import pytest
from fta_desk_support import BotDirect, EventStream, close, entry_fill_seconds, iso_seconds
from fta_freqtrade_support import docker
# The e2e test's fixtures (module scope) and portal helpers, reused as they are.
from test_freqtrade_e2e_portal import (  # noqa: F401 (fixtures are found by name)
    FIRST_TRADE_TIMEOUT,
    artifacts_dir,
    bot_logs,
    fta_binary,
    remove_leftovers,
    running_portal,
    sim_host,
    socket_proxy,
    wait_for,
)

PAIRS = ["BTC/USDT", "ETH/USDT"]
# A superset of PAIRS: an open trade keeps its pair in Freqtrade's active whitelist, so removing a
# pair that has an open trade would make the whitelist depend on timing.
NEW_PAIRS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
LOCK_PAIR = "ETH/USDT"
BLACKLIST_PAIR = "XRP/USDT"
CANDLE = 60.0  # seconds: the bots run on 1m
# A dry-run limit order on the simulator fills within about a minute (the book follows the candle).
CLOSE_TIMEOUT = 150
API_BACK_TIMEOUT = 120
# The portal's fan-in cache answers the same data for up to ~2 s; a control shows after that.
SETTLE_TIMEOUT = 20
BASE_COLUMNS = {"date", "open", "high", "low", "close", "volume", "enter_long", "exit_long"}
CONFIG_KEYS = ("dry_run", "runmode", "strategy", "timeframe", "stake_currency", "stake_amount", "max_open_trades",
               "exchange", "trading_mode", "bot_name", "state")
DESK_ACTIONS = ("bot.trading_pause", "bot.trading_start", "bot.trading_stop", "bot.force_exit", "bot.lock", "bot.unlock",
                "bot.blacklist_add", "bot.blacklist_remove", "bot.update", "bot.clone", "bot.wallet_reset", "bot.export")


def q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


class Desk:
    """The portal, the people, the bot and what the tests learn on the way."""

    def __init__(self, portal, sim, client: str, other: str, bot_id: str, image: str) -> None:
        self.portal, self.sim, self.client, self.other, self.bot_id = portal, sim, client, other, bot_id
        self.clone_id = f"{bot_id}-clone"
        self.hijack_id = f"{bot_id}-hijack"
        self.network = f"fta-client-{client}"
        self.image = image
        self.cookies: dict[str, str] = {}
        self.streams: dict[str, EventStream] = {}
        self.direct = BotDirect(bot_id, self.network)
        self.timings: dict = {}
        self.counts: dict = {}
        self.closed_by_force: list[int] = []
        self.tmp = None  # a folder of this module's tmp_path_factory

    # -- the portal's API --

    def call(self, method: str, path: str, who: str = "owner", body: dict | None = None,
             bot: str | None = None) -> tuple[int, object]:
        """`path` is relative to the bot (`/status`) unless it starts with `//` (then to /api/v1)."""
        full = path[1:] if path.startswith("//") else f"/bots/{bot or self.bot_id}{path}"
        return self.portal.call(method, full, self.cookies[who], body)

    def read(self, path: str, who: str = "owner", timeout: float = 90, bot: str | None = None, booting=(502, 504)) -> object:
        """A GET that must answer 200; 502/504 (the bot still booting after a start) are waited out."""
        started = time.monotonic()
        while True:
            status, body = self.call("GET", path, who, bot=bot)
            if status not in booting or time.monotonic() - started > timeout:
                assert status == 200, f"GET {path} as {who}: {status} {body}"
                return body
            time.sleep(1)

    def bot(self, bot_id: str | None = None) -> dict:
        status, body = self.portal.call("GET", f"/bots/{bot_id or self.bot_id}", self.cookies["owner"])
        assert status == 200, body
        return body["bot"]

    def all_trades(self) -> list[dict]:
        """Every closed trade through the portal, all pages, in /trades order."""
        trades, offset = [], 0
        while True:
            page = self.read(f"/trades?limit=500&offset={offset}")
            trades += page["trades"]
            offset += len(page["trades"])
            if not page["trades"] or offset >= page["total"]:
                return trades

    def audit_mark(self) -> int:
        status, body = self.portal.call("GET", "/audit?limit=1", self.cookies["admin"])
        assert status == 200, body
        return body["entries"][0]["id"] if body["entries"] else 0

    def audited(self, action: str, since: int, outcome: str = "success") -> list[dict]:
        status, body = self.portal.call("GET", f"/audit?action={action}&outcome={outcome}&limit=500", self.cookies["admin"])
        assert status == 200, body
        targets = {self.bot_id, self.clone_id, self.hijack_id}
        return [e for e in body["entries"] if e["id"] > since and e.get("target") in targets]

    def assert_audited(self, action: str, since: int, detail: str | None = None, outcome: str = "success") -> dict:
        entries = self.audited(action, since, outcome)
        if detail is not None:
            entries = [e for e in entries if detail in (e.get("detail") or "")]
        assert entries, f"no {outcome} audit entry {action} (detail {detail!r}) for {self.bot_id} since #{since}"
        return entries[0]

    # -- agreement with the bot's own API --

    def agree(self, what: str, portal_path: str, bot_path: str, portal_view, bot_view, timeout: float = SETTLE_TIMEOUT):
        """Reads both until their projections agree (the fan-in cache may lag a moment)."""
        def probe():
            mine = portal_view(self.read(portal_path))
            theirs = bot_view(self.direct.get(bot_path))
            return (mine == theirs and (mine,)), (mine, theirs)
        try:
            (value,), _ = wait_for(f"{what}: portal {portal_path} = bot {bot_path}", timeout, probe, interval=1)
        except AssertionError as err:
            raise AssertionError(f"{err}\n--- portal log ---\n{self.portal.log_tail(30)}") from None
        return value

    def bot_state(self) -> str:
        return self.direct.get("show_config")["state"]

    def wait_api(self, what: str, timeout: float = API_BACK_TIMEOUT) -> float:
        """After a start or restart: until the portal serves the bot's data again; returns seconds."""
        def probe():
            status, body = self.call("GET", "/profit")
            if status in (409, 502, 504):
                return None, body
            assert status == 200, body
            return body, body
        try:
            return wait_for(what, timeout, probe, interval=1)[1]
        except AssertionError as err:
            raise AssertionError(f"{err}\n--- bot log ---\n{bot_logs(self.portal, self.cookies['owner'], self.bot_id)}") from None

    def filled_open_trade(self, timeout: float = FIRST_TRADE_TIMEOUT, pairs=None) -> dict:
        """An open trade whose entry has filled (a force exit of an unfilled one only cancels it)."""
        def probe():
            status, body = self.call("GET", "/status")
            if status in (502, 504):
                return None, body
            assert status == 200, body
            for trade in body["trades"]:
                if trade["is_open"] and not trade.get("has_open_orders") and (pairs is None or trade["pair"] in pairs):
                    return trade, body
            return None, body
        try:
            return wait_for("a filled open trade", timeout, probe)[0]
        except AssertionError as err:
            raise AssertionError(f"{err}\n--- bot log ---\n{bot_logs(self.portal, self.cookies['owner'], self.bot_id)}\n"
                                 f"--- portal log ---\n{self.portal.log_tail()}\nsimulator: {self.sim.stats()}") from None

    def wait_closed(self, trade_id: int, timeout: float = CLOSE_TIMEOUT) -> dict:
        """Until the bot's own /trade says the trade is closed; returns it."""
        def probe():
            trade = self.direct.get(f"trade/{trade_id}")
            return (trade if not trade["is_open"] else None), {k: trade.get(k) for k in ("is_open", "exit_reason", "has_open_orders")}
        return wait_for(f"trade {trade_id} closed", timeout, probe)[0]

    def snapshot(self) -> dict:
        """What a refused control could have changed, from the bot's own API and the portal's store."""
        bot = self.bot()
        status = self.direct.get("status")
        closed = self.direct.get("trades?limit=500")["trades"]
        status_code, bots = self.portal.call("GET", f"/bots?client={self.client}", self.cookies["admin"])
        assert status_code == 200, bots
        return {
            "settings": {k: bot.get(k) for k in ("name", "pairs", "stakeAmount", "dryRunWallet", "maxOpenTrades", "timeframe",
                                                 "strategy", "size", "state", "desiredState", "pendingRestart", "walletResets",
                                                 "startedAt")},
            "state": self.direct.get("show_config")["state"],
            # Freqtrade locks a pair by itself until the next candle after each exit ("Auto lock").
            "locks": sorted((lock["id"], lock["pair"]) for lock in self.direct.get("locks")["locks"]
                            if lock["reason"] != "Auto lock"),
            "blacklist": sorted(self.direct.get("blacklist")["blacklist"]),
            "whitelist": sorted(self.direct.get("whitelist")["whitelist"]),
            # A leaked force exit marks the trade force_exit when its exit order is placed.
            "force_exits": sorted(t["trade_id"] for t in status + closed if t.get("exit_reason") == "force_exit"),
            "client_bots": sorted(b["id"] for b in bots["bots"]),
        }


def write_timings(desk: Desk) -> None:
    path = artifacts_dir() / "desk-timings.json"
    data = {"timings": {k: round(v, 1) if isinstance(v, float) else v for k, v in desk.timings.items()}, "counts": desk.counts}
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    print(f"desk timings and counts: {json.dumps(data, sort_keys=True)} -> {path}")


@pytest.fixture(scope="module")
def desk(freqtrade_image, socket_proxy, sim_host, fta_binary, tmp_path_factory):
    """The portal, an owner, a viewer, another client's owner, live streams for both owners, and
    one running FtaQuickTest bot with a filled open trade."""
    suffix = secrets.token_hex(3)
    client, other, bot_id = f"desk-{suffix}", f"desk-other-{suffix}", f"desk-bot-{suffix}"
    image = os.environ.get("FTA_TEST_IMAGE", "fta-test/busybox:latest")
    if docker("image", "inspect", image, check=False).returncode != 0:
        support.unavailable(f"the test image {image} is not in the engine (scripts/lib/test-image.sh)")
    started = time.monotonic()
    sim = support.MarketSim(host=sim_host)
    override = {"ccxt_config": support.sim_ccxt_config(sim.url), "ccxt_async_config": {}}
    desk = None
    try:
        with running_portal("desk", fta_binary, FTA_BOT_IMAGE=freqtrade_image,
                            FTA_EXCHANGE_OVERRIDE=json.dumps(override, separators=(",", ":"))) as portal:
            desk = Desk(portal, sim, client, other, bot_id, image)
            desk.tmp = tmp_path_factory.mktemp("desk")
            admin = portal.login()
            desk.cookies["admin"] = admin
            for client_id, max_bots in ((client, 3), (other, 1)):
                status, body = portal.call("POST", "/clients", admin,
                                           {"id": client_id, "name": f"Desk {client_id}", "maxBots": max_bots})
                assert status == 201, body
            for who, client_id, role in (("owner", client, "owner"), ("viewer", client, "viewer"), ("other", other, "owner")):
                username, password = f"{client_id}-{who}", "Pw-" + secrets.token_urlsafe(18)
                status, body = portal.call("POST", f"/clients/{client_id}/users", admin,
                                           {"username": username, "password": password, "role": role})
                assert status == 201, body
                desk.cookies[who] = portal.login(username, password)
            # The streams open before the bot exists: its first fills must be pushed, not found later.
            for who in ("owner", "other"):
                desk.streams[who] = EventStream(portal.url, desk.cookies[who])
                assert desk.streams[who].opened.wait(15), f"the {who}'s stream did not open"
                assert desk.streams[who].status == 200, desk.streams[who].error
            created = time.monotonic()
            status, body = portal.call("POST", "/bots", desk.cookies["owner"], {
                "id": bot_id, "name": f"Desk {bot_id}", "exchange": "binance", "pairs": PAIRS, "stakeCurrency": "USDT",
                "stakeAmount": "100", "dryRunWallet": 1000, "maxOpenTrades": 2, "timeframe": "1m",
                "strategy": "FtaQuickTest", "size": "small"})
            assert status == 201, f"{body}\n--- portal log ---\n{portal.log_tail()}"
            assert body["bot"]["pendingRestart"] is False and body["bot"]["walletResets"] == 0, body
            desk.first_trade = desk.filled_open_trade()
            desk.timings["first_filled_trade_s"] = time.monotonic() - created
            print(f"desk: first filled trade {desk.first_trade['trade_id']} {desk.first_trade['pair']} "
                  f"after {desk.timings['first_filled_trade_s']:.1f} s")
            yield desk
            for stream in desk.streams.values():
                stream.close()
            for target in (desk.clone_id, bot_id):
                status, body = portal.call("DELETE", f"/bots/{target}", admin)
                assert status in (204, 404), body
            desk.timings["total_s"] = time.monotonic() - started
    finally:
        if desk is not None:
            for stream in desk.streams.values():
                stream.close()
            write_timings(desk)
        remove_leftovers(client, [bot_id, f"{bot_id}-clone", f"{bot_id}-hijack"])
        sim.stop()


# --- 1. force exit one trade ---------------------------------------------------------------------------

def test_force_exit_closes_one_trade(desk):
    since = desk.audit_mark()
    trade = desk.filled_open_trade()
    started = time.monotonic()
    status, body = desk.call("POST", f"/trades/{trade['trade_id']}/exit")
    assert status == 200, body
    closed = desk.wait_closed(trade["trade_id"])
    desk.timings["force_exit_to_closed_s"] = time.monotonic() - started
    assert closed["exit_reason"] == "force_exit", closed
    desk.closed_by_force.append(trade["trade_id"])

    # The portal's list and detail say the same as the bot.
    listed = {t["trade_id"]: t for t in desk.agree("closed trades", "/trades?limit=500", "trades?limit=500",
                                                    lambda p: p["trades"], lambda b: b["trades"])}
    assert trade["trade_id"] in listed and listed[trade["trade_id"]]["is_open"] is False, sorted(listed)
    detail = desk.read(f"/trades/{trade['trade_id']}")
    assert detail["trade_id"] == trade["trade_id"] and detail["exit_reason"] == "force_exit" and detail["is_open"] is False, detail
    sides = [o["ft_order_side"] for o in detail["orders"]]
    assert sides.count("buy") >= 1 and sides.count("sell") >= 1, detail["orders"]
    assert all(o["status"] == "closed" for o in detail["orders"] if o["ft_order_side"] == "sell"), detail["orders"]
    desk.assert_audited("bot.force_exit", since, detail=str(trade["trade_id"]))
    # A trade that does not exist: 404 from the portal, nothing sent on.
    status, body = desk.call("GET", "/trades/999999")
    assert status == 404, body


# --- 2. every read is the bot's own numbers ---------------------------------------------------------------

def _perf(rows):
    return sorted((r["pair"], r["count"], round(r["profit_abs"], 6)) for r in rows)


def _periods(body):
    return [(d["date"], d["trade_count"], round(d["abs_profit"], 6)) for d in body["data"]]


def _tags(key):
    return lambda rows: sorted((r[key], r["count"], round(r["profit_abs"], 6)) for r in rows)


def test_every_read_is_the_bots_own_numbers(desk):
    if not desk.closed_by_force:
        desk.wait_closed(desk.filled_open_trade()["trade_id"], timeout=240)  # FtaQuickTest's own exit after 3 candles
    # FtaQuickTest closes a trade every few minutes by itself: the sums below hold for one set of
    # closed trades, so a pass during which one closed is read again.
    for attempt in range(3):
        count = desk.direct.get("profit")["closed_trade_count"]
        try:
            _check_reads(desk)
            error = None
        except AssertionError as err:
            error = err
        if desk.direct.get("profit")["closed_trade_count"] == count:
            break
        print(f"desk reads: a trade closed during pass {attempt + 1}; reading again")
    if error is not None:
        raise error


def _check_reads(desk: Desk) -> None:
    bot = desk.bot()

    profit = desk.agree("profit", "/profit", "profit",
                        lambda p: (p["closed_trade_count"], round(p["profit_closed_coin"], 6), p["first_trade_timestamp"]),
                        lambda b: (b["closed_trade_count"], round(b["profit_closed_coin"], 6), b["first_trade_timestamp"]))
    closed_count, closed_profit = profit[0], profit[1]
    assert closed_count >= 1, profit
    def listed(total, rows):
        return total, [(t["trade_id"], t["pair"], round(t["profit_abs"], 6)) for t in rows]
    trades = desk.agree("trades", "/trades?limit=500", "trades?limit=500",
                        lambda p: listed(p["total"], p["trades"]), lambda b: listed(b["total_trades"], b["trades"]))
    assert trades[0] == closed_count == len(trades[1]), trades
    assert math.isclose(sum(t[2] for t in trades[1]), closed_profit, abs_tol=1e-4), (trades, closed_profit)
    open_ids = desk.agree("open trades", "/status", "status",
                          lambda p: sorted(t["trade_id"] for t in p["trades"]), lambda b: sorted(t["trade_id"] for t in b))
    some = trades[1][0][0]
    def detail(t):
        return t["trade_id"], t["pair"], t["is_open"], t["exit_reason"], [(o["ft_order_side"], o["status"]) for o in t["orders"]]
    desk.agree("trade detail", f"/trades/{some}", f"trade/{some}", detail, detail)
    page = desk.read("/trades?limit=1&offset=1")
    assert page["offset"] == 1 and page["total"] == closed_count and len(page["trades"]) == min(1, closed_count - 1), page

    performance = desk.agree("performance", "/performance", "performance", lambda p: _perf(p["performance"]), _perf)
    assert {row[0] for row in performance} <= set(bot["pairs"]), performance
    assert sum(row[1] for row in performance) == closed_count, performance
    assert math.isclose(sum(row[2] for row in performance), closed_profit, abs_tol=1e-4), performance
    for period, scale in (("daily", 7), ("weekly", 2), ("monthly", 2)):
        rows = desk.agree(period, f"/{period}?timescale={scale}", f"{period}?timescale={scale}", _periods, _periods)
        assert len(rows) == scale, rows
        assert sum(r[1] for r in rows) == closed_count, (period, rows)
        assert math.isclose(sum(r[2] for r in rows), closed_profit, abs_tol=1e-4), (period, rows)
    stats = desk.agree("stats", "/stats", "stats", lambda p: p["exit_reasons"], lambda b: b["exit_reasons"])
    assert sum(sum(v.values()) for v in stats.values()) == closed_count, stats
    entries = desk.agree("entries", "/entries", "entries", lambda p: _tags("enter_tag")(p["entries"]), _tags("enter_tag"))
    assert [e[0] for e in entries] == ["quick_test"] and entries[0][1] == closed_count, entries
    exits = desk.agree("exits", "/exits", "exits", lambda p: _tags("exit_reason")(p["exits"]), _tags("exit_reason"))
    assert sum(e[1] for e in exits) == closed_count, exits
    if desk.closed_by_force:
        assert "force_exit" in stats and "force_exit" in {e[0] for e in exits}, (stats, exits)

    def wallet(b):
        return b["stake"], round(b["starting_capital"], 6), sorted(c["currency"] for c in b["currencies"])
    balance = desk.agree("balance", "/balance", "balance", wallet, wallet)
    assert balance[0] == "USDT" and "USDT" in balance[2] and balance[1] > 0, balance
    locks = desk.agree("locks", "/locks", "locks", lambda p: (p["lock_count"], p["locks"]), lambda b: (b["lock_count"], b["locks"]))
    whitelist = desk.agree("whitelist", "/whitelist", "whitelist", lambda p: p["whitelist"], lambda b: b["whitelist"])
    assert sorted(whitelist) == sorted(bot["pairs"]), (whitelist, bot["pairs"])
    blacklist = desk.agree("blacklist", "/blacklist", "blacklist", lambda p: p["blacklist"], lambda b: b["blacklist"])
    config = desk.agree("config", "/config", "show_config", lambda p: {k: p.get(k) for k in CONFIG_KEYS},
                        lambda b: {k: b.get(k) for k in CONFIG_KEYS})
    assert config["dry_run"] is True and config["runmode"] == "dry_run", config
    assert config["strategy"] == bot["strategy"] and config["timeframe"] == bot["timeframe"], config
    assert config["max_open_trades"] == bot["maxOpenTrades"] and config["stake_currency"] == bot["stakeCurrency"], config
    assert config["state"] == "running", config
    plot = desk.agree("plot config", "/plot-config", "plot_config", lambda p: p, lambda b: b)

    # The dashboard row is the same bot's numbers.
    def dashboard_row():
        body = desk.read("//dashboard")
        rows = [r for r in body["bots"] if r["id"] == desk.bot_id]
        assert len(rows) == 1, body
        row = rows[0]
        return ((row["closedTradeCount"] == closed_count and row.get("error") is None) and row), (row, body.get("equity"))
    row, _ = wait_for("the dashboard row", SETTLE_TIMEOUT, dashboard_row, interval=1)
    assert row["state"] == "running" and row["stakeCurrency"] == "USDT", row
    dashboard = desk.read("//dashboard")
    assert dashboard["equity"] and math.isclose(dashboard["equity"][-1]["value"], closed_profit, abs_tol=1e-3), dashboard["equity"]
    assert math.isclose(dashboard["equityByBot"][desk.bot_id][-1]["value"], closed_profit, abs_tol=1e-3), dashboard["equityByBot"]

    # The viewer reads everything too; the admin as well. (The CSV export is a control since
    # desk-ready READY 4: test_viewer_is_refused_and_other_client_sees_nothing refuses it.)
    for path in ("/status", "/profit", "/trades", f"/trades/{some}", "/performance", "/daily", "/weekly", "/monthly", "/stats",
                 "/entries", "/exits", "/balance", "/locks", "/whitelist", "/blacklist", "/config", "/plot-config",
                 f"/candles?pair={q(PAIRS[0])}"):
        for who in ("viewer", "admin"):
            status, body = desk.call("GET", path, who)
            assert status == 200, (who, path, status, body)
    status, body = desk.call("GET", "/trades.csv", "admin")
    assert status == 200, body
    desk.counts.update(closed_trades=closed_count, open_trades=len(open_ids), performance_pairs=len(performance),
                       locks=locks[0], blacklist=len(blacklist), plot_indicators=len(plot.get("main_plot", {})) if plot else 0)
    print(f"desk reads: {closed_count} closed trades, profit {closed_profit} USDT, open {open_ids}, performance {performance}, "
          f"entries {entries}, exits {exits}")


# --- 3. candles --------------------------------------------------------------------------------------------

def _sim_candle(sim_url: str, pair: str, ts_ms: int) -> list[float]:
    symbol = pair.replace("/", "")
    with urllib.request.urlopen(f"{sim_url}/api/v3/klines?symbol={symbol}&interval=1m&startTime={ts_ms}&limit=1", timeout=5) as resp:
        row = json.load(resp)[0]
    assert row[0] == ts_ms, row
    return [float(v) for v in row[1:5]]


def test_candles_have_indicators_and_entry_markers(desk):
    plot = desk.read("/plot-config")
    indicators = set((plot or {}).get("main_plot", {}))
    for subplot in ((plot or {}).get("subplots") or {}).values():
        indicators |= set(subplot)
    assert indicators, f"the strategy's plot config names no indicator: {plot}"
    trades = desk.all_trades() + desk.read("/status")["trades"]
    markers = compared = 0
    for pair in PAIRS:
        body = desk.read(f"/candles?pair={q(pair)}&limit=120")
        columns = body["columns"]
        assert body["pair"] == pair and body["timeframe"] == "1m", {k: body.get(k) for k in ("pair", "timeframe")}
        assert BASE_COLUMNS <= set(columns), columns
        assert indicators <= set(columns), (indicators, columns)
        ts_column = next((c for c in ("__date_ts", "_date_ts") if c in columns), None)
        assert ts_column, columns
        rows = [dict(zip(columns, row)) for row in body["data"]]
        assert 2 <= len(rows) <= 120 and body["length"] == len(rows), (len(rows), body["length"])
        assert all(len(row) == len(columns) for row in body["data"])
        stamps = [r[ts_column] for r in rows]
        assert all(b - a == 60_000 for a, b in zip(stamps, stamps[1:])), stamps[-5:]
        for name in indicators:
            assert rows[-1][name] is not None, (name, rows[-1])
        # Real numbers: the last completed candles are the simulator's own.
        for row in rows[-4:-1]:
            o, h, low, c = _sim_candle(desk.sim.url, pair, row[ts_column])
            pairs_of_values = ((row["open"], o), (row["high"], h), (row["low"], low), (row["close"], c))
            assert all(close(a, b, 1e-9) for a, b in pairs_of_values), (row, o, h, low, c)
            compared += 1
        # Markers: each trade opened on the candle after an entry signal.
        by_ts = {r[ts_column]: r for r in rows}
        for trade in (t for t in trades if t["pair"] == pair):
            signal = trade["open_timestamp"] // 60_000 * 60_000 - 60_000
            if signal in by_ts:
                assert by_ts[signal]["enter_long"] == 1, (trade["trade_id"], trade["open_date"], by_ts[signal])
                markers += 1
        # The same data as the bot's own /pair_candles.
        desk.agree(f"candles {pair}", f"/candles?pair={q(pair)}&limit=50", f"pair_candles?pair={q(pair)}&timeframe=1m&limit=50",
                   lambda p: (p["columns"], p["data"][:-2]), lambda b: (b["columns"], b["data"][:-2]))
    assert markers >= 1, f"no trade's signal candle within the window ({len(trades)} trades)"
    for bad in (f"/candles?pair={q(BLACKLIST_PAIR)}", f"/candles?pair={q(PAIRS[0])}&limit=1001", "/candles"):
        status, body = desk.call("GET", bad)
        assert status in (400, 422), (bad, status, body)
    desk.counts.update(candle_markers_checked=markers, candles_compared_with_sim=compared, indicators=sorted(indicators))
    print(f"desk candles: {markers} entry markers at trades' signal candles, {compared} candles equal to the simulator's, "
          f"indicators {sorted(indicators)} named by the plot config")


# --- 4. controls change the bot ---------------------------------------------------------------------------

def test_lock_then_unlock_a_pair(desk):
    since = desk.audit_mark()
    status, body = desk.call("POST", "/locks", body={"pair": LOCK_PAIR, "minutes": 5, "reason": "fta desk test", "side": "*"})
    assert status in (200, 201), body

    def locked():
        mine = [lock for lock in desk.read("/locks")["locks"] if lock["pair"] == LOCK_PAIR and lock["reason"] == "fta desk test"]
        theirs = [lock for lock in desk.direct.get("locks")["locks"] if lock["pair"] == LOCK_PAIR]
        return (mine and theirs and mine[0]["id"] == theirs[0]["id"] and mine[0]), (mine, theirs)
    lock, _ = wait_for("the lock in /locks", SETTLE_TIMEOUT, locked, interval=1)
    assert lock["active"] is True and lock["side"] in ("*", "long"), lock
    # Freqtrade rounds a lock's end up to the next candle.
    assert 4 * 60 <= lock["lock_end_timestamp"] / 1000 - time.time() <= 5 * 60 + CANDLE + 5, lock
    status, body = desk.call("DELETE", f"/locks/{lock['id']}")
    assert status == 200, body
    wait_for("the lock gone", SETTLE_TIMEOUT, lambda: (
        not any(item["id"] == lock["id"] for item in desk.direct.get("locks")["locks"])
        and not any(item["id"] == lock["id"] for item in desk.read("/locks")["locks"]), None), interval=1)
    for bad in ({"pair": LOCK_PAIR, "minutes": 0}, {"pair": "not a pair", "minutes": 5}, {"pair": LOCK_PAIR, "minutes": 5, "side": "short"},
                {"pair": BLACKLIST_PAIR, "minutes": 5}):
        status, body = desk.call("POST", "/locks", body=bad)
        assert status in (400, 422), (bad, status, body)
    desk.assert_audited("bot.lock", since)
    desk.assert_audited("bot.unlock", since)
    print(f"desk lock: lock {lock['id']} on {LOCK_PAIR} in the bot's /locks, then gone")


def test_blacklist_add_then_remove(desk):
    since = desk.audit_mark()
    status, body = desk.call("POST", "/blacklist", body={"pairs": [BLACKLIST_PAIR]})
    assert status == 200, body
    wait_for("the pair on the blacklist", SETTLE_TIMEOUT, lambda: (
        BLACKLIST_PAIR in desk.direct.get("blacklist")["blacklist"] and BLACKLIST_PAIR in desk.read("/blacklist")["blacklist"], None),
        interval=1)
    status, body = desk.call("DELETE", f"/blacklist?pair={q(BLACKLIST_PAIR)}")
    assert status == 200, body
    wait_for("the pair off the blacklist", SETTLE_TIMEOUT, lambda: (
        BLACKLIST_PAIR not in desk.direct.get("blacklist")["blacklist"] and BLACKLIST_PAIR not in desk.read("/blacklist")["blacklist"], None),
        interval=1)
    for bad in ({"pairs": []}, {"pairs": ["not a pair"]}, {"pairs": [f"P{i}/USDT" for i in range(21)]}):
        status, body = desk.call("POST", "/blacklist", body=bad)
        assert status in (400, 422), (bad, status, body)
    desk.assert_audited("bot.blacklist_add", since)
    desk.assert_audited("bot.blacklist_remove", since)
    print(f"desk blacklist: {BLACKLIST_PAIR} on the bot's blacklist, then off")


def test_pause_exit_all_resume(desk):
    since = desk.audit_mark()
    started = time.monotonic()
    # Exit-all must have something to close: a trade whose entry has filled (an unfilled one is
    # only cancelled). FtaQuickTest enters again on the candle after an exit.
    desk.filled_open_trade(timeout=CLOSE_TIMEOUT)
    # Pause: the bot's own state is paused, through the portal too.
    status, body = desk.call("POST", "/trading/pause")
    assert status == 200, body
    try:
        wait_for("state paused", SETTLE_TIMEOUT, lambda: (
            desk.bot_state() == "paused" and desk.read("/config")["state"] == "paused", desk.bot_state()), interval=1)

        # Exit all while paused: every open trade closes and nothing new opens.
        before = desk.direct.get("status")
        filled = [t["trade_id"] for t in before if not t.get("has_open_orders")]
        exiting = [t["trade_id"] for t in before if t.get("exit_reason")]  # FtaQuickTest's own exit under way
        exit_started = time.monotonic()
        status, body = desk.call("POST", "/trades/exit-all")
        assert status == 200, body

        def all_out():
            still_open = desk.direct.get("status")
            closed = {t["trade_id"]: t for t in desk.direct.get("trades?limit=500")["trades"]}
            return (not still_open and all(i in closed for i in filled) and closed), [t["trade_id"] for t in still_open]
        closed, _ = wait_for("every open trade closed after exit-all", CLOSE_TIMEOUT, all_out, interval=2)
        desk.timings["exit_all_to_flat_s"] = time.monotonic() - exit_started
        reasons = {trade_id: closed[trade_id]["exit_reason"] for trade_id in filled}
        # A trade whose hold time ran out in the same seconds may close by its own exit instead.
        assert set(reasons.values()) <= {"force_exit", "quick_test_hold_time"}, reasons
        forced = [i for i, reason in reasons.items() if reason == "force_exit"]
        assert filled and (forced or not set(filled) - set(exiting)), (reasons, before)
        desk.closed_by_force += forced
        time.sleep(3)
        assert desk.direct.get("status") == [], "a trade opened while paused"
        assert desk.bot_state() == "paused"
    finally:
        # Resume: running again (also after a failure above, for the tests that follow).
        status, body = desk.call("POST", "/trading/start")
    assert status == 200, body
    wait_for("state running", SETTLE_TIMEOUT, lambda: (
        desk.bot_state() == "running" and desk.read("/config")["state"] == "running", desk.bot_state()), interval=1)

    for action, detail in (("bot.trading_pause", None), ("bot.force_exit", "all"), ("bot.trading_start", None)):
        desk.assert_audited(action, since, detail=detail)
    desk.timings["pause_exit_all_resume_s"] = time.monotonic() - started
    desk.counts["exit_all_closed"] = len(filled)
    print(f"desk pause/exit-all/resume: paused, {len(forced)} of {len(before)} open trades closed by exit-all ({reasons}), "
          f"none opened while paused, resumed")


# --- 5. roles and tenants -------------------------------------------------------------------------------------

def _reads(desk: Desk, trade_id: int) -> list[tuple[str, str, dict | None]]:
    return [("GET", p, None) for p in (
        "/status", "/profit", "/trades", f"/trades/{trade_id}", "/performance", "/daily", "/weekly", "/monthly", "/stats",
        "/entries", "/exits", "/balance", "/locks", "/whitelist", "/blacklist", "/config", "/plot-config",
        f"/candles?pair={q(PAIRS[0])}")]


def _controls(desk: Desk, trade_id: int, lock_id: int) -> list[tuple[str, str, dict | None]]:
    return [
        ("POST", "/trading/pause", None),
        ("POST", "/trading/start", None),
        ("POST", "/trading/stop", None),
        ("POST", f"/trades/{trade_id}/exit", None),
        ("POST", "/trades/exit-all", None),
        ("POST", "/locks", {"pair": PAIRS[0], "minutes": 30, "reason": "not yours"}),
        ("DELETE", f"/locks/{lock_id}", None),
        ("POST", "/blacklist", {"pairs": ["ADA/USDT"]}),
        ("DELETE", f"/blacklist?pair={q(BLACKLIST_PAIR)}", None),
        ("PATCH", "", {"name": "hijacked", "pairs": ["ADA/USDT"]}),
        ("POST", "/clone", {"id": desk.hijack_id, "start": False}),
        ("POST", "/wallet/reset", {"confirm": desk.bot_id}),
        ("GET", "/trades.csv", None),
    ]


def test_viewer_is_refused_and_other_client_sees_nothing(desk):
    since = desk.audit_mark()
    # Targets for the removing controls: a lock and a blacklist entry the owner set.
    # (When locking fails, test_lock_then_unlock_a_pair says so; the refusals are still checked.)
    lock_status, body = desk.call("POST", "/locks", body={"pair": LOCK_PAIR, "minutes": 10, "reason": "fta desk roles"})
    status, body = desk.call("POST", "/blacklist", body={"pairs": [BLACKLIST_PAIR]})
    assert status == 200, body
    lock_id = 1
    if lock_status in (200, 201):
        lock_id = wait_for("the owner's lock", SETTLE_TIMEOUT, lambda: (
            next((lock["id"] for lock in desk.direct.get("locks")["locks"] if lock["reason"] == "fta desk roles"), None), None))[0]
    wait_for("the owner's blacklist entry", SETTLE_TIMEOUT, lambda: (BLACKLIST_PAIR in desk.direct.get("blacklist")["blacklist"], None))
    open_trades = desk.direct.get("status")
    trade_id = open_trades[0]["trade_id"] if open_trades else desk.all_trades()[0]["trade_id"]
    before = desk.snapshot()
    assert before["state"] == "running" and BLACKLIST_PAIR in before["blacklist"], before

    controls, reads = _controls(desk, trade_id, lock_id), _reads(desk, trade_id)
    refused = 0
    for method, path, body in controls:
        status, answer = desk.call(method, path, "viewer", body)
        assert status == 403 and answer["error"]["code"] == "forbidden", (method, path, status, answer)
        refused += 1
    # Another client's owner: the bot does not exist for them, word for word like one that does not.
    missing = 0
    ghost = f"no-such-bot-{secrets.token_hex(3)}"
    for method, path, body in reads + controls:
        status, answer = desk.call(method, path, "other", body)
        full = path.replace(desk.bot_id, ghost)
        ghost_status, ghost_answer = desk.portal.call(method, f"/bots/{ghost}{full}", desk.cookies["other"], body)
        assert status == 404 and answer["error"]["code"] == "not_found", (method, path, status, answer)
        assert (ghost_status, ghost_answer) == (status, answer), (method, path, answer, ghost_answer)
        missing += 1
    # The feed: not the other client's to read.
    status, answer = desk.call("GET", f"//events?bot={desk.bot_id}", "other")
    assert status == 404 or (status == 200 and not answer["events"]), (status, answer)
    status, answer = desk.call("GET", "//events?limit=500", "other")
    assert status == 200 and not [e for e in answer["events"] if e["botId"] == desk.bot_id or e["clientId"] == desk.client], answer
    status, answer = desk.call("GET", "//dashboard", "other")
    assert status == 200 and not [r for r in answer["bots"] if r["id"] == desk.bot_id], answer
    status, answer = desk.call("GET", f"//dashboard?client={desk.client}", "other")
    assert status in (200, 403, 404), answer
    if status == 200:
        assert not [r for r in answer["bots"] if r["id"] == desk.bot_id], answer

    time.sleep(3)  # past the fan-in cache, so a leaked change would show
    after = desk.snapshot()
    assert after == before, f"a refused control changed the bot:\nbefore {before}\nafter  {after}"
    status, answer = desk.portal.call("GET", f"/bots/{desk.hijack_id}", desk.cookies["admin"])
    assert status == 404, answer

    # The viewer's attempts are in the audit trail as denied.
    denied = {action for action in DESK_ACTIONS if desk.audited(action, since, outcome="denied")}
    assert denied == set(DESK_ACTIONS), f"denied attempts not audited: {set(DESK_ACTIONS) - denied}"

    if lock_status in (200, 201):
        status, body = desk.call("DELETE", f"/locks/{lock_id}")
        assert status == 200, body
    status, body = desk.call("DELETE", f"/blacklist?pair={q(BLACKLIST_PAIR)}")
    assert status == 200, body
    desk.counts.update(viewer_refused=refused, other_client_404=missing)
    print(f"desk roles: viewer refused {refused} controls (403), other client's owner got 404 on {missing} endpoints, "
          f"identical to a bot that does not exist; the bot unchanged")


# --- 6. the activity feed --------------------------------------------------------------------------------------

def test_feed_shows_a_real_entry_fill_within_one_candle(desk):
    stream = desk.streams["owner"]
    assert stream.status == 200 and (stream.content_type or "").startswith("text/event-stream"), (stream.status, stream.content_type)

    def trades_now() -> list[dict]:
        return desk.all_trades() + desk.read("/status")["trades"]

    def match(message: dict, trades: list[dict]):
        """The trade this entry fill is about: (trade, push lag after its fill, fill time), the
        trade of the message's pair whose fill is nearest to the moment the message arrived."""
        event = message["data"]
        text = f"{event.get('title', '')} {event.get('detail', '')}"
        named = [t for t in trades if t["pair"] in text] or trades
        best = None
        for trade in named:
            filled = entry_fill_seconds(trade)
            if filled is not None:
                lag = message["received"] - filled
                if best is None or abs(lag) < abs(best[1]):
                    best = (trade, lag, filled)
        return best

    found = None
    deadline = time.monotonic() + 2 * CANDLE + 30
    while found is None:
        trades = trades_now()
        for message in stream.snapshot("event"):
            event = message["data"]
            if event.get("kind") == "entry_fill" and event.get("botId") == desk.bot_id:
                best = match(message, trades)
                # Pushed after the fill (the clocks are this host's), within one candle of it, and
                # dated within one candle of the fill or of the trade's open (a feed that catches
                # up after a reconnect dates a fill by the trade's open time).
                if best and -2 <= best[1] <= CANDLE and min(
                        abs(iso_seconds(event["at"]) - best[2]),
                        abs(iso_seconds(event["at"]) - best[0]["open_timestamp"] / 1000)) <= CANDLE:
                    found = (message, *best)
                    break
        if found is None:
            kinds = [(m["data"].get("kind"), m["data"].get("at")) for m in stream.snapshot("event")]
            assert time.monotonic() < deadline, (f"no entry_fill of {desk.bot_id} pushed within one candle of a fill "
                                                  f"(stream error {stream.error}; events {kinds[-20:]})")
            time.sleep(2)
    message, trade, pushed_after, filled = found
    event = message["data"]
    stamped = iso_seconds(event["at"]) - filled
    assert event["clientId"] == desk.client and event["id"] and event["title"], event
    desk.timings.update(entry_fill_event_at_minus_fill_s=stamped, entry_fill_pushed_after_s=pushed_after,
                        entry_fill_after_open_s=filled - trade["open_timestamp"] / 1000)

    # The same event in GET /events, newest first; the viewer reads it too; exits are there as well.
    for who in ("owner", "viewer"):
        body = desk.read(f"//events?bot={desk.bot_id}&limit=500", who)
        ids = [e["id"] for e in body["events"]]
        assert event["id"] in ids, (who, ids[:20])
        stamps = [iso_seconds(e["at"]) for e in body["events"]]
        assert stamps == sorted(stamps, reverse=True), "events are not newest first"
        assert all(e["botId"] == desk.bot_id and e["clientId"] == desk.client for e in body["events"]), body["events"][:3]
    kinds = {e["kind"] for e in body["events"]}
    print("desk feed events, oldest first: " + "; ".join(
        f"{e['at'][11:19]} {e['kind']}: {e['title']}" for e in reversed(body["events"])))
    assert "entry_fill" in kinds and "exit_fill" in kinds, kinds
    status, body = desk.call("GET", "//events?limit=0")
    assert status in (400, 422), body

    # The live rows: every 5 s, with this bot; nothing of it on the other client's stream.
    rows = [m for m in stream.snapshot("bots") if any(r.get("id") == desk.bot_id for r in m["data"]["bots"])]
    assert len(rows) >= 2, f"{len(rows)} bots messages"
    other = desk.streams["other"]
    assert other.status == 200 and other.error is None, other.error
    leaked = [m for m in other.snapshot() if desk.bot_id in json.dumps(m["data"])]
    assert not leaked, leaked[:3]
    assert other.snapshot("bots") or other.keepalives, "the other client's stream stayed silent"
    desk.counts.update(stream_events=len(stream.snapshot("event")), stream_bots_messages=len(stream.snapshot("bots")),
                       stream_keepalives=stream.keepalives, event_kinds=sorted(kinds))
    print(f"desk feed: entry fill of trade {trade['trade_id']} ({trade['pair']}) stamped {stamped:+.1f} s from the fill, "
          f"pushed +{pushed_after:.1f} s; {len(stream.snapshot('event'))} events and {len(stream.snapshot('bots'))} rows "
          f"messages streamed; kinds {sorted(kinds)}")


# --- 7. export -------------------------------------------------------------------------------------------------

CSV_HEADER = ["trade_id", "pair", "is_open", "open_date", "close_date", "open_rate", "close_rate", "amount", "stake_amount",
              "profit_ratio", "profit_abs", "exit_reason", "enter_tag"]


def test_export_csv_matches_trades(desk):
    since = desk.audit_mark()
    for _ in range(5):  # a trade may close between the reads: then read again
        before = desk.all_trades()
        status, headers, text = fta_portal_support.request(f"{desk.portal.url}/api/v1/bots/{desk.bot_id}/trades.csv",
                                                          cookie=desk.cookies["owner"])
        after = desk.all_trades()
        if [t["trade_id"] for t in before] == [t["trade_id"] for t in after]:
            break
    assert status == 200, text
    assert headers["Content-Type"].startswith("text/csv"), headers["Content-Type"]
    assert "attachment" in (headers.get("Content-Disposition") or ""), headers.get("Content-Disposition")
    header, rows = desk_support.parse_csv(text)
    assert header == CSV_HEADER, header
    ids = [int(r["trade_id"]) for r in rows]
    listed = [t["trade_id"] for t in after]
    # desk-api.md: "newest first as /trades orders them"; the bot's /trades orders by id, oldest
    # first. Either way the CSV is /trades in one consistent order.
    order = "as /trades" if ids == listed else "reversed" if ids == listed[::-1] else None
    assert order, (ids, listed)
    by_id = {t["trade_id"]: t for t in after}
    for row in rows:
        trade = by_id[int(row["trade_id"])]
        assert row["pair"] == trade["pair"] and row["is_open"].lower() in ("false", "0"), (row, trade["pair"])
        assert close(row["profit_abs"], trade["profit_abs"]) and close(row["profit_ratio"], trade["profit_ratio"]), (row, trade)
        assert close(row["open_rate"], trade["open_rate"]) and close(row["close_rate"], trade["close_rate"]), (row, trade)
        assert row["exit_reason"] == (trade["exit_reason"] or "") and row["enter_tag"] == (trade["enter_tag"] or ""), (row, trade)
    assert len(rows) >= 1, len(rows)
    desk.assert_audited("bot.export", since)
    desk.counts["csv_rows"] = len(rows)
    print(f"desk export: {len(rows)} CSV rows equal to /trades (order {order})")


# --- 8. edit, then restart ------------------------------------------------------------------------------------

def test_editing_pairs_applies_at_restart(desk):
    since = desk.audit_mark()
    before = desk.bot()
    assert before["state"] == "running" and before["pendingRestart"] is False, before
    for bad in ({"pairs": ["not a pair"]}, {"maxOpenTrades": 0}, {"colour": "red"}):
        status, body = desk.call("PATCH", "", body=bad)
        assert status in (400, 422), (bad, status, body)
    assert desk.bot()["pairs"] == PAIRS

    status, body = desk.call("PATCH", "", body={"pairs": NEW_PAIRS, "maxOpenTrades": 3})
    assert status == 200, body
    assert body["bot"]["pairs"] == NEW_PAIRS and body["bot"]["maxOpenTrades"] == 3 and body["bot"]["pendingRestart"] is True, body
    pending = desk.bot()
    assert pending["pendingRestart"] is True and pending["state"] == "running", pending
    # Stored, not yet applied: the running bot still trades the old pairs.
    assert sorted(desk.direct.get("whitelist")["whitelist"]) == sorted(PAIRS)
    assert desk.direct.get("show_config")["max_open_trades"] == 2
    desk.assert_audited("bot.update", since)

    started = time.monotonic()
    status, body = desk.call("POST", "/restart")
    assert status == 200, body
    desk.wait_api("the bot's API after the restart")
    desk.timings["restart_to_api_s"] = time.monotonic() - started
    whitelist = desk.agree("whitelist after restart", "/whitelist", "whitelist", lambda p: sorted(p["whitelist"]),
                           lambda b: sorted(b["whitelist"]), timeout=60)
    assert whitelist == sorted(NEW_PAIRS), whitelist
    config = desk.agree("config after restart", "/config", "show_config", lambda p: {k: p.get(k) for k in CONFIG_KEYS},
                        lambda b: {k: b.get(k) for k in CONFIG_KEYS})
    assert config["dry_run"] is True and config["runmode"] == "dry_run" and config["max_open_trades"] == 3, config
    # The portal's /config adds the bot's whitelist to show_config (desk-ready READY 3).
    assert sorted(desk.read("/config")["pair_whitelist"]) == sorted(NEW_PAIRS)
    after = desk.bot()
    assert after["pendingRestart"] is False and after["pairs"] == NEW_PAIRS and after["state"] == "running", after
    # The new pair is now a chart pair.
    assert desk.read(f"/candles?pair={q('SOL/USDT')}&limit=10")["pair"] == "SOL/USDT"
    print(f"desk edit: pairs {PAIRS} -> {NEW_PAIRS} pending until restart; restart to API {desk.timings['restart_to_api_s']:.1f} s")


# --- 9. clone ------------------------------------------------------------------------------------------------

def test_clone_is_a_new_bot_with_the_same_settings(desk):
    since = desk.audit_mark()
    source = desk.bot()
    status, body = desk.call("POST", "/clone", body={"id": desk.clone_id, "name": "Desk clone", "start": False})
    assert status == 201, body
    clone = body["bot"]
    assert clone["id"] == desk.clone_id and clone["clientId"] == desk.client and clone["name"] == "Desk clone", clone
    same = ("exchange", "pairs", "stakeCurrency", "stakeAmount", "dryRunWallet", "maxOpenTrades", "timeframe", "strategy", "size")
    assert {k: clone[k] for k in same} == {k: source[k] for k in same}, (clone, source)
    assert clone["desiredState"] == "stopped" and clone["state"] != "running", clone
    assert clone["walletResets"] == 0 and clone["pendingRestart"] is False, clone
    assert desk.bot(desk.clone_id)["id"] == desk.clone_id
    container = docker("inspect", "--type", "container", f"fta-bot-{desk.clone_id}", check=False)
    assert container.returncode != 0, "a clone asked not to start runs"
    status, body = desk.call("POST", "/clone", body={"id": desk.clone_id, "start": False})
    assert status == 409, body
    desk.assert_audited("bot.clone", since)

    # The clone, edited while stopped to another strategy and started: its chart data carries that
    # strategy's indicators (FtaQuickTest has none), named by its plot config when it has one.
    status, body = desk.call("PATCH", "", body={"strategy": "FtaEmaCross"}, bot=desk.clone_id)
    assert status == 200 and body["bot"]["strategy"] == "FtaEmaCross" and body["bot"]["pendingRestart"] is False, body
    started = time.monotonic()
    status, body = desk.call("POST", "/start", bot=desk.clone_id)
    assert status == 200, body
    plot = desk.read("/plot-config", bot=desk.clone_id, timeout=API_BACK_TIMEOUT, booting=(409, 502, 504))
    desk.timings["clone_start_to_api_s"] = time.monotonic() - started
    named = set((plot or {}).get("main_plot") or {})
    for subplot in ((plot or {}).get("subplots") or {}).values():
        named |= set(subplot)
    # Every shipped strategy declares its plot config (desk-ready READY 3).
    assert named, plot
    expected = named
    # A bot that just started has not analysed a candle yet: its dataframe is empty at first.
    def analysed():
        body = desk.read(f"/candles?pair={q(PAIRS[0])}&limit=100", bot=desk.clone_id)
        return (body if body["data"] else None), body.get("columns")
    candles, _ = wait_for("the clone's analysed candles", 90, analysed)
    assert expected <= set(candles["columns"]), (expected, candles["columns"])
    last = dict(zip(candles["columns"], candles["data"][-1]))
    assert all(isinstance(last[name], (int, float)) for name in expected), last
    assert desk.read("/config", bot=desk.clone_id)["dry_run"] is True
    status, body = desk.portal.call("DELETE", f"/bots/{desk.clone_id}", desk.cookies["owner"])
    assert status == 204, body
    desk.counts["clone_indicators"] = sorted(expected)
    print(f"desk clone: {desk.clone_id} has the settings of {desk.bot_id}: {[clone[k] for k in same]}; as FtaEmaCross its "
          f"candles carry {sorted(expected)} (named by its plot config)")


# --- 10. wallet reset -------------------------------------------------------------------------------------------

def test_wallet_reset_archives_the_trades_in_the_volume(desk):
    since = desk.audit_mark()
    started_at = desk.bot()["startedAt"]
    for bad in ({"confirm": "yes"}, {}):
        status, body = desk.call("POST", "/wallet/reset", body=bad)
        # desk-api.md says 422, docs/api.md 400 (validation_failed, like every field error).
        assert status in (400, 422) and "confirm" in (body["error"].get("fields") or {}), (bad, status, body)
    assert desk.bot()["startedAt"] == started_at and desk.bot()["walletResets"] == 0

    known = {t["trade_id"]: t for t in desk.all_trades()}
    open_ids = [t["trade_id"] for t in desk.read("/status")["trades"]]
    assert known, "no closed trades to archive"
    reset_started = time.monotonic()
    status, body = desk.call("POST", "/wallet/reset", body={"confirm": desk.bot_id})
    assert status == 200, body
    assert body["bot"]["walletResets"] == 1, body
    archive = body["archive"]
    # desk-ready: the answer names the archived database file in the volume (the bot goes on in a
    # new file); the first contract draft said "old → archive": both are read.
    archive_name = archive.split("→", 1)[1].strip() if "→" in archive else archive.strip()
    assert archive_name.endswith(".sqlite"), archive
    desk.wait_api("the bot's API after the reset")
    desk.timings["wallet_reset_to_api_s"] = time.monotonic() - reset_started

    # A fresh wallet: no closed trade, and none of the old trades open.
    trades = desk.agree("trades after the reset", "/trades", "trades", lambda p: p["total"], lambda b: b["total_trades"], timeout=30)
    assert trades == 0, trades
    # A new database numbers its trades from 1 again: old trades are told apart by time.
    reset_at = time.time() - (time.monotonic() - reset_started)
    old_open = [t for t in desk.read("/status")["trades"] if t["open_timestamp"] / 1000 < reset_at]
    assert not old_open, old_open
    profit = desk.read("/profit")
    assert profit["closed_trade_count"] == 0, profit
    assert desk.direct.get("show_config")["dry_run"] is True
    after = desk.bot()
    assert after["walletResets"] == 1 and after["state"] == "running" and after["pendingRestart"] is False, after
    desk.assert_audited("bot.wallet_reset", since)

    # The archive in the bot's volume holds every old trade.
    volume = desk_support.volume_of(desk.bot_id)
    files = desk_support.list_volume(volume, desk.image)
    matches = [f for f in files if f == archive_name or f.endswith("/" + archive_name.split("/")[-1])]
    assert len(matches) == 1, f"archive {archive_name!r} not in volume {volume}: {files}"
    live = [f for f in files if f.endswith(".sqlite") and f not in matches]
    assert live, f"no database for the fresh wallet beside the archive: {files}"
    copy, copied = desk_support.copy_database(volume, desk.image, matches[0], desk.tmp)
    archived = desk_support.trades_in_database(copy)
    archived_ids = {t["id"] for t in archived}
    assert set(known) <= archived_ids and set(open_ids) <= archived_ids | set(known), (sorted(known), open_ids, sorted(archived_ids))
    for trade in archived:
        if trade["id"] in known:
            assert trade["pair"] == known[trade["id"]]["pair"] and not trade["is_open"], trade
            assert close(trade["profit_abs"], known[trade["id"]]["profit_abs"]), (trade, known[trade["id"]])
    desk.counts.update(archived_trades=len(archived), closed_before_reset=len(known), open_before_reset=len(open_ids))
    print(f"desk wallet reset: {len(known)} closed + {len(open_ids)} open trades before; archive {copied} in {volume} "
          f"holds {len(archived)} trades; the bot now writes {live}; /trades now 0; "
          f"reset to API {desk.timings['wallet_reset_to_api_s']:.1f} s")
