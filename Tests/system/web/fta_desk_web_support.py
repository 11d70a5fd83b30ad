"""The trading desk's browser test: a bot image that answers Freqtrade's REST API at once, with
scripted, plausible data, and a portal of the test's own that runs it.

Why a stand-in: real Freqtrade takes half a minute to start and trades only when its market
moves, so a browser test of every view would wait on the market. The wrapper below takes the
place of `freqtrade` in the real Freqtrade image (the approach of the dry-run guard's test,
Tests/system/freqtrade/test_freqtrade_e2e_portal.py LIAR_WRAPPER, but honest: it reports
dry_run true) and serves every route of Freqtrade's REST API that the portal's bridge calls for
the desk (docs/api.md), from state it keeps: candles that are a fixed function
of time (so they agree from one request to the next), EMA and RSI columns, entry and exit signals
where the EMAs cross, closed and open trades placed on those candles, locks, a blacklist, a
paused state, force exits. The trades are written to the bot's trade database path (db_url) as
JSON, so that a restart keeps them and a wallet reset (a new db_url) starts the bot with none.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

STANDIN_WRAPPER = r'''#!/opt/freqtrade-venv/bin/python3
"""TEST ONLY (fta browser test of the trading desk): a `freqtrade` that serves Freqtrade's REST
API with scripted data at once, always in dry-run. Never ship this."""
import base64
import hashlib
import json
import math
import struct
import os
import secrets
import sys
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

args = sys.argv[1:]
if not args or args[0] not in ("trade", "webserver") or not ({"--config", "-c"} & set(args)):
    print(f"freqtrade stand-in: nothing to serve for {args}", flush=True)
    sys.exit(0)
flag = "--config" if "--config" in args else "-c"
with open(args[args.index(flag) + 1]) as handle:
    config = json.load(handle)
assert "--dry-run" in args and config.get("dry_run") is True, "the stand-in only ever paper-trades"
api = config["api_server"]
basic = "Basic " + base64.b64encode(f"{api['username']}:{api['password']}".encode()).decode()
token = secrets.token_urlsafe(24)
lock = threading.Lock()

STAKE = config.get("stake_currency", "USDT")
TIMEFRAME = config.get("timeframe", "5m")
TF_MS = int(TIMEFRAME[:-1]) * {"m": 60, "h": 3600, "d": 86400, "w": 604800}[TIMEFRAME[-1]] * 1000
PAIRS = list(config["exchange"]["pair_whitelist"])
WALLET = float(config.get("dry_run_wallet", 1000))
STAKE_AMOUNT = config.get("stake_amount", 100)
STAKE_VALUE = WALLET / max(1, int(config.get("max_open_trades", 3))) if STAKE_AMOUNT == "unlimited" else float(STAKE_AMOUNT)
FEE = 0.001
DB = config.get("db_url", "sqlite:////freqtrade/user_data/tradesv3.dryrun.sqlite").replace("sqlite:///", "", 1)
state = {"state": "running", "blacklist": list(config["exchange"].get("pair_blacklist", [])), "locks": [], "lock_id": 0}
STARTED = datetime.now(timezone.utc)
STRATEGY = args[args.index("--strategy") + 1] if "--strategy" in args else config.get("strategy")


def base_price(pair):
    coin = pair.split("/")[0]
    return {"BTC": 64000.0, "ETH": 3200.0, "SOL": 140.0, "BNB": 580.0}.get(coin, 1.25 + (sum(map(ord, coin)) % 40) / 10)


def noise(pair, k, salt):
    digest = hashlib.sha256(f"{pair}|{k}|{salt}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 * 2 - 1


def close_at(pair, k):
    """The close of candle number k (epoch ms / timeframe): a fixed function, so every request agrees."""
    return base_price(pair) * (1 + 0.03 * math.sin(k / 23.0) + 0.012 * math.sin(k / 6.1) + 0.003 * noise(pair, k, "c"))


def candle(pair, k):
    o, c = close_at(pair, k - 1), close_at(pair, k)
    return {"k": k, "t": k * TF_MS, "open": o, "close": c, "high": max(o, c) * (1 + 0.002 * abs(noise(pair, k, "h"))),
            "low": min(o, c) * (1 - 0.002 * abs(noise(pair, k, "l"))), "volume": 100 + 50 * abs(noise(pair, k, "v"))}


def now_k():
    return int(datetime.now(timezone.utc).timestamp() * 1000) // TF_MS


def analysed(pair, count):
    """`count` analysed candles up to now: OHLCV, ema_fast, ema_slow, rsi, enter_long, exit_long."""
    warm = 60
    last = now_k()
    rows = [candle(pair, k) for k in range(last - count - warm + 1, last + 1)]
    fast = slow = None
    gains = losses = 0.0
    for i, r in enumerate(rows):
        fast = r["close"] if fast is None else fast + (2 / 13) * (r["close"] - fast)
        slow = r["close"] if slow is None else slow + (2 / 27) * (r["close"] - slow)
        change = r["close"] - (rows[i - 1]["close"] if i else r["open"])
        gains = (gains * 13 + max(change, 0)) / 14
        losses = (losses * 13 + max(-change, 0)) / 14
        r.update(ema_fast=fast, ema_slow=slow, rsi=100 - 100 / (1 + gains / losses) if losses else 100.0)
        previous = rows[i - 1] if i else None
        r["enter_long"] = int(bool(previous) and previous["ema_fast"] <= previous["ema_slow"] and fast > slow)
        r["exit_long"] = int(bool(previous) and previous["ema_fast"] >= previous["ema_slow"] and fast < slow)
    return rows[warm:]


def fmt(ms):
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def order(trade, side, ms, price, amount):
    return {"pair": trade["pair"], "order_id": f"dry_run_{side}_{trade['trade_id']}", "status": "closed", "remaining": 0.0,
            "amount": amount, "safe_price": price, "cost": price * amount, "filled": amount, "ft_order_side": side,
            "order_type": "limit", "is_open": False, "order_timestamp": ms, "order_filled_timestamp": ms,
            "order_date": fmt(ms), "order_filled_date": fmt(ms), "ft_order_tag": trade["enter_tag"] if side == "buy" else trade.get("exit_reason")}


def new_trade(trade_id, pair, k_open, tag):
    rate = close_at(pair, k_open)
    amount = round(STAKE_VALUE / rate, 8)
    t = {"trade_id": trade_id, "pair": pair, "base_currency": pair.split("/")[0], "quote_currency": STAKE, "is_open": True,
         "exchange": config["exchange"]["name"], "amount": amount, "amount_requested": amount, "stake_amount": round(rate * amount, 8),
         "max_stake_amount": round(rate * amount, 8), "strategy": STRATEGY, "enter_tag": tag, "timeframe": TF_MS // 60000,
         "fee_open": FEE, "fee_close": FEE, "open_timestamp": k_open * TF_MS, "open_date": fmt(k_open * TF_MS), "open_rate": rate,
         "open_fill_date": fmt(k_open * TF_MS), "open_fill_timestamp": k_open * TF_MS, "close_date": None, "close_timestamp": None,
         "close_rate": None, "exit_reason": None, "stop_loss_abs": rate * 0.9, "stop_loss_ratio": -0.1, "stop_loss_pct": -10.0,
         "initial_stop_loss_abs": rate * 0.9, "initial_stop_loss_ratio": -0.1, "initial_stop_loss_pct": -10.0,
         "leverage": 1.0, "is_short": False, "trading_mode": "spot", "has_open_orders": False}
    t["orders"] = [order(t, "buy", t["open_timestamp"], rate, amount)]
    return t


def close_trade(t, ms, rate, reason):
    gross = rate * t["amount"] * (1 - FEE) - t["stake_amount"] * (1 + FEE)
    t.update(is_open=False, close_timestamp=ms, close_date=fmt(ms), close_rate=rate, exit_reason=reason,
             profit_abs=round(gross, 8), realized_profit=round(gross, 8), profit_ratio=gross / t["stake_amount"],
             profit_pct=round(gross / t["stake_amount"] * 100, 2), close_profit=gross / t["stake_amount"], close_profit_abs=round(gross, 8))
    t["orders"].append(order(t, "sell", ms, rate, t["amount"]))


def seed_trades():
    """Closed trades over the last two months (daily, weekly and monthly results), some of them
    inside the chart's default 200 candles, and two open trades."""
    last = now_k()
    per_day = 86400000 // TF_MS
    reasons = ["roi", "exit_signal", "stop_loss", "trailing_stop_loss"]
    tags = ["ema_cross", "rsi_dip"]
    trades = []
    plan = [(last - per_day * d - 37, 5 + d % 7) for d in range(60, 4, -4)]  # 14 old ones, every 4 days
    plan += [(last - 190 + 22 * i, 6 + i) for i in range(7)]                  # 7 on the chart
    for i, (k_open, held) in enumerate(plan):
        pair = PAIRS[i % len(PAIRS)]
        t = new_trade(i + 1, pair, k_open, tags[i % 2])
        close_trade(t, (k_open + held) * TF_MS, close_at(pair, k_open + held), reasons[i % len(reasons)])
        trades.append(t)
    for j, back in enumerate((30, 9)):
        trades.append(new_trade(len(trades) + 1, PAIRS[j % len(PAIRS)], last - back, tags[j % 2]))
    return trades


def load_trades():
    if os.path.exists(DB):
        with open(DB) as handle:
            return json.load(handle)
    # A database name other than Freqtrade's first one is a fresh paper wallet (a reset): no trades.
    trades = seed_trades() if DB.endswith("/tradesv3.dryrun.sqlite") else []
    save(trades)
    return trades


def save(trades):
    os.makedirs(os.path.dirname(DB), exist_ok=True)
    with open(DB + ".tmp", "w") as handle:
        json.dump(trades, handle)
    os.replace(DB + ".tmp", DB)


trades = load_trades()


def with_current(t):
    if not t["is_open"]:
        return t
    rate = close_at(t["pair"], now_k())
    gross = rate * t["amount"] * (1 - FEE) - t["stake_amount"] * (1 + FEE)
    return dict(t, current_rate=rate, profit_abs=round(gross, 8), total_profit_abs=round(gross, 8), profit_ratio=gross / t["stake_amount"],
                profit_pct=round(gross / t["stake_amount"] * 100, 2), stoploss_current_dist=t["stop_loss_abs"] - rate,
                stoploss_current_dist_ratio=(t["stop_loss_abs"] - rate) / rate, open_order=None)


def closed():
    return [t for t in trades if not t["is_open"]]


def grouped(key):
    out = {}
    for t in closed():
        row = out.setdefault(key(t), {"profit_abs": 0.0, "profit_ratio": 0.0, "count": 0})
        row["profit_abs"] += t["profit_abs"]
        row["profit_ratio"] += t["profit_ratio"]
        row["count"] += 1
    return out


def periods(unit, count):
    today = datetime.now(timezone.utc).date()
    def start_of(day):
        if unit == "weeks":
            return day - timedelta(days=day.weekday())
        if unit == "months":
            return day.replace(day=1)
        return day
    starts = []
    current = start_of(today)
    for _ in range(count):
        starts.append(current)
        current = start_of(current - timedelta(days=1))
    balance = WALLET + sum(t["profit_abs"] for t in closed())
    data = []
    for start in starts:
        inside = [t for t in closed() if start_of(datetime.fromtimestamp(t["close_timestamp"] / 1000, timezone.utc).date()) == start]
        profit = sum(t["profit_abs"] for t in inside)
        balance -= profit
        data.append({"date": start.isoformat(), "abs_profit": round(profit, 8), "starting_balance": round(balance, 8),
                     "rel_profit": round(profit / balance, 6) if balance else 0, "fiat_value": 0, "trade_count": len(inside)})
    return {"data": data, "fiat_display_currency": "", "stake_currency": STAKE}


def profit():
    done = closed()
    open_ = [with_current(t) for t in trades if t["is_open"]]
    closed_abs = sum(t["profit_abs"] for t in done)
    all_abs = closed_abs + sum(t["profit_abs"] for t in open_)
    wins = [t for t in done if t["profit_abs"] > 0]
    perf = sorted(grouped(lambda t: t["pair"]).items(), key=lambda kv: -kv[1]["profit_abs"])
    return {"profit_closed_coin": closed_abs, "profit_closed_ratio": closed_abs / WALLET, "profit_closed_percent": round(closed_abs / WALLET * 100, 2),
            "profit_closed_ratio_mean": 0, "profit_closed_percent_mean": 0, "profit_closed_ratio_sum": 0, "profit_closed_percent_sum": 0,
            "profit_closed_fiat": 0, "profit_all_coin": all_abs, "profit_all_ratio": all_abs / WALLET, "profit_all_percent": round(all_abs / WALLET * 100, 2),
            "profit_all_fiat": 0, "trade_count": len(trades), "closed_trade_count": len(done), "winning_trades": len(wins),
            "losing_trades": len(done) - len(wins), "winrate": len(wins) / len(done) if done else 0, "best_pair": perf[0][0] if perf else "",
            "best_rate": 0, "best_pair_profit_ratio": 0, "max_drawdown": 0.01, "max_drawdown_abs": 5.0, "profit_factor": 1.2, "expectancy": 0.1,
            "first_trade_date": trades[0]["open_date"] if trades else "", "first_trade_timestamp": trades[0]["open_timestamp"] if trades else 0,
            "latest_trade_date": trades[-1]["open_date"] if trades else "", "latest_trade_timestamp": trades[-1]["open_timestamp"] if trades else 0,
            "avg_duration": "0:30:00", "trading_volume": sum(t["stake_amount"] for t in trades) * 2,
            "bot_start_timestamp": int(STARTED.timestamp() * 1000), "bot_start_date": STARTED.strftime("%Y-%m-%d %H:%M:%S")}


def balance():
    done_abs = sum(t["profit_abs"] for t in closed())
    open_ = [with_current(t) for t in trades if t["is_open"]]
    used = sum(t["stake_amount"] for t in open_)
    free = WALLET + done_abs - used
    currencies = [{"currency": STAKE, "free": free, "balance": free + used, "used": used, "bot_owned": free + used, "est_stake": free + used,
                   "est_stake_bot": free + used, "stake": STAKE, "side": "long", "is_position": False, "position": 0, "is_bot_managed": True}]
    for t in open_:
        worth = t["current_rate"] * t["amount"]
        currencies.append({"currency": t["base_currency"], "free": t["amount"], "balance": t["amount"], "used": 0, "bot_owned": t["amount"],
                           "est_stake": worth, "est_stake_bot": worth, "stake": STAKE, "side": "long", "is_position": False, "position": 0,
                           "is_bot_managed": True})
    total = free + sum(c["est_stake"] for c in currencies[1:])
    return {"currencies": currencies, "total": total, "total_bot": total, "symbol": "", "value": total, "value_bot": total, "stake": STAKE,
            "note": "Simulated balances", "starting_capital": WALLET, "starting_capital_ratio": (total - WALLET) / WALLET,
            "starting_capital_pct": round((total - WALLET) / WALLET * 100, 2), "starting_capital_fiat": 0,
            "starting_capital_fiat_ratio": 0, "starting_capital_fiat_pct": 0}


def locks():
    now = datetime.now(timezone.utc)
    for entry in state["locks"]:
        entry["active"] = entry["active"] and datetime.fromisoformat(entry["lock_end_time"]) > now
    live = [dict(e, lock_end_time=e["lock_end_time"][:19].replace("T", " "), lock_time=e["lock_time"][:19].replace("T", " "))
            for e in state["locks"]]
    return {"lock_count": len(live), "locks": live}


def blacklist():
    return {"blacklist": state["blacklist"], "blacklist_expanded": state["blacklist"], "length": len(state["blacklist"]),
            "method": ["StaticPairList"], "errors": {}}


def show_config():
    return {"version": "2026.9-standin", "strategy_version": None, "api_version": 2.43, "dry_run": True, "trading_mode": "spot",
            "short_allowed": False, "stake_currency": STAKE, "stake_amount": str(STAKE_AMOUNT), "available_capital": None,
            "stake_currency_decimals": 3, "max_open_trades": config.get("max_open_trades"), "minimal_roi": config.get("minimal_roi", {"0": 0.04, "30": 0.02}),
            "stoploss": config.get("stoploss", -0.1), "stoploss_on_exchange": False, "trailing_stop": False, "trailing_stop_positive": None,
            "trailing_stop_positive_offset": 0.0, "trailing_only_offset_is_reached": False, "unfilledtimeout": {"entry": 10, "exit": 10},
            "use_custom_stoploss": False, "order_types": {"entry": "limit", "exit": "limit"}, "bot_name": config.get("bot_name"),
            "timeframe": TIMEFRAME, "timeframe_ms": TF_MS, "timeframe_min": TF_MS // 60000, "exchange": config["exchange"]["name"],
            "strategy": STRATEGY,
            "force_entry_enable": False, "exit_pricing": {}, "entry_pricing": {}, "state": state["state"], "runmode": "dry_run",
            "position_adjustment_enable": False, "max_entry_position_adjustment": -1, "dry_run_wallet": WALLET}


def pair_candles(query):
    pair = query.get("pair", [PAIRS[0]])[0]
    limit = max(1, min(1500, int(query.get("limit", ["200"])[0])))
    rows = analysed(pair, limit)
    columns = ["date", "open", "high", "low", "close", "volume", "ema_fast", "ema_slow", "rsi", "enter_long", "exit_long", "enter_tag",
               "__date_ts", "_enter_long_signal_close", "_exit_long_signal_close"]
    data = []
    for r in rows:
        iso = datetime.fromtimestamp(r["t"] / 1000, timezone.utc).isoformat()
        data.append([iso, r["open"], r["high"], r["low"], r["close"], r["volume"], r["ema_fast"], r["ema_slow"], r["rsi"], r["enter_long"],
                     r["exit_long"], "ema_cross" if r["enter_long"] else None, r["t"], r["close"] if r["enter_long"] else None,
                     r["close"] if r["exit_long"] else None])
    enters = sum(r["enter_long"] for r in rows)
    exits = sum(r["exit_long"] for r in rows)
    last = datetime.now(timezone.utc)
    return {"strategy": show_config()["strategy"], "pair": pair, "timeframe": TIMEFRAME, "timeframe_ms": TF_MS, "columns": columns,
            "all_columns": columns[:12], "data": data, "length": len(data), "buy_signals": enters, "sell_signals": exits,
            "enter_long_signals": enters, "exit_long_signals": exits, "enter_short_signals": 0, "exit_short_signals": 0,
            "last_analyzed": last.isoformat(), "last_analyzed_ts": int(last.timestamp()), "data_start": data[0][0], "data_start_ts": rows[0]["t"],
            "data_stop": data[-1][0], "data_stop_ts": rows[-1]["t"], "annotations": []}


# Freqtrade's message websocket (/api/v1/message/ws?token=ws_token), enough of RFC 6455 for the
# portal's subscription: the handshake, the subscribe frame in, text frames out, ping and close.
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
sockets = []


def ws_send(conn, payload):
    data = json.dumps(payload).encode()
    if len(data) < 126:
        head = struct.pack("!BB", 0x81, len(data))
    elif len(data) < 65536:
        head = struct.pack("!BBH", 0x81, 126, len(data))
    else:
        head = struct.pack("!BBQ", 0x81, 127, len(data))
    conn.sendall(head + data)


def ws_read(rfile):
    """One frame from the client: (opcode, payload), or None when the stream ended."""
    head = rfile.read(2)
    if len(head) < 2:
        return None
    opcode, length = head[0] & 0x0F, head[1] & 0x7F
    if length == 126:
        length = struct.unpack("!H", rfile.read(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", rfile.read(8))[0]
    mask = rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(rfile.read(length)))
    return opcode, payload


def broadcast(payload):
    for conn in list(sockets):
        try:
            ws_send(conn, payload)
        except OSError:
            sockets.remove(conn)


def fill_message(t):
    if t["is_open"]:
        return {"type": "entry_fill", "trade_id": t["trade_id"], "pair": t["pair"], "amount": t["amount"], "open_rate": t["open_rate"],
                "stake_amount": t["stake_amount"], "stake_currency": STAKE, "enter_tag": t["enter_tag"], "open_date": t["open_date"]}
    return {"type": "exit_fill", "trade_id": t["trade_id"], "pair": t["pair"], "amount": t["amount"], "open_rate": t["open_rate"],
            "close_rate": t["close_rate"], "profit_amount": t["profit_abs"], "profit_ratio": t["profit_ratio"], "stake_currency": STAKE,
            "exit_reason": t["exit_reason"], "close_date": t["close_date"]}


PLOT_CONFIG = {"main_plot": {"ema_fast": {"color": "#e08a00"}, "ema_slow": {"color": "#7b3fbf"}},
               "subplots": {"RSI": {"rsi": {"color": "#0f8a8a"}}}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return None
        try:
            return json.loads(self.rfile.read(length))
        except ValueError:
            return None

    def authorised(self):
        return self.headers.get("Authorization") in (basic, "Bearer " + token)

    def route(self):
        parts = urlsplit(self.path)
        return parts.path, parse_qs(parts.query)

    def websocket(self, query):
        if query.get("token", [""])[0] != api.get("ws_token") or "websocket" not in (self.headers.get("Upgrade") or "").lower():
            return self.reply(403, {"detail": "Forbidden"})
        accept = base64.b64encode(hashlib.sha1((self.headers["Sec-WebSocket-Key"] + WS_GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        conn = self.connection
        first = ws_read(self.rfile)  # the portal's subscribe message
        with lock:
            ws_send(conn, {"type": "startup", "status": "fta desk stand-in: dry-run, serving the API"})
            opened = [t for t in trades if t["is_open"]]
            if opened:
                ws_send(conn, fill_message(opened[-1]))
            sockets.append(conn)
        while first is not None:
            frame = ws_read(self.rfile)
            if frame is None or frame[0] == 0x8:
                break
            if frame[0] == 0x9:
                with lock:
                    conn.sendall(struct.pack("!BB", 0x8A, len(frame[1])) + frame[1])
        with lock:
            if conn in sockets:
                sockets.remove(conn)
        self.close_connection = True

    def do_GET(self):
        path, query = self.route()
        if path == "/api/v1/ping":
            return self.reply(200, {"status": "pong"})
        if path == "/api/v1/message/ws":
            return self.websocket(query)
        if not self.authorised():
            return self.reply(401, {"detail": "Unauthorized"})
        with lock:
            if path == "/api/v1/trades":
                limit = int(query.get("limit", ["500"])[0])
                offset = int(query.get("offset", ["0"])[0])
                done = sorted(closed(), key=lambda t: t["trade_id"])
                page = done[offset:offset + limit]
                return self.reply(200, {"trades": page, "trades_count": len(page), "offset": offset, "total_trades": len(done)})
            if path.startswith("/api/v1/trade/"):
                wanted = path.rsplit("/", 1)[1]
                for t in trades:
                    if str(t["trade_id"]) == wanted:
                        return self.reply(200, with_current(t))
                return self.reply(404, {"detail": "Trade not found."})
            if path in ("/api/v1/daily", "/api/v1/weekly", "/api/v1/monthly"):
                unit = {"daily": "days", "weekly": "weeks", "monthly": "months"}[path.rsplit("/", 1)[1]]
                return self.reply(200, periods(unit, int(query.get("timescale", ["7"])[0])))
            if path == "/api/v1/pair_candles":
                return self.reply(200, pair_candles(query))
            answers = {
                "/api/v1/show_config": show_config,
                "/api/v1/status": lambda: [with_current(t) for t in trades if t["is_open"]],
                "/api/v1/profit": profit,
                "/api/v1/count": lambda: {"current": sum(t["is_open"] for t in trades), "max": config.get("max_open_trades"), "total_stake": 0},
                "/api/v1/performance": lambda: [{"pair": p, "profit": round(v["profit_ratio"] * 100, 2), "profit_ratio": v["profit_ratio"],
                                                 "profit_pct": round(v["profit_ratio"] * 100, 2), "profit_abs": v["profit_abs"], "count": v["count"]}
                                                for p, v in sorted(grouped(lambda t: t["pair"]).items(), key=lambda kv: -kv[1]["profit_abs"])],
                "/api/v1/entries": lambda: [{"enter_tag": k, "profit_ratio": v["profit_ratio"], "profit_pct": round(v["profit_ratio"] * 100, 2),
                                             "profit_abs": v["profit_abs"], "count": v["count"]} for k, v in grouped(lambda t: t["enter_tag"]).items()],
                "/api/v1/exits": lambda: [{"exit_reason": k, "profit_ratio": v["profit_ratio"], "profit_pct": round(v["profit_ratio"] * 100, 2),
                                           "profit_abs": v["profit_abs"], "count": v["count"]} for k, v in grouped(lambda t: t["exit_reason"]).items()],
                "/api/v1/stats": lambda: {
                    "exit_reasons": {k: {"wins": sum(t["profit_abs"] > 0 for t in closed() if t["exit_reason"] == k),
                                         "losses": sum(t["profit_abs"] < 0 for t in closed() if t["exit_reason"] == k),
                                         "draws": sum(t["profit_abs"] == 0 for t in closed() if t["exit_reason"] == k)}
                                     for k in sorted({t["exit_reason"] for t in closed()})},
                    "durations": {"wins": 2700.0, "draws": None, "losses": 5400.0}},
                "/api/v1/balance": balance,
                "/api/v1/locks": locks,
                "/api/v1/whitelist": lambda: {"whitelist": PAIRS, "length": len(PAIRS), "method": ["StaticPairList"]},
                "/api/v1/blacklist": blacklist,
                "/api/v1/plot_config": lambda: PLOT_CONFIG,
                "/api/v1/version": lambda: {"version": "2026.9-standin"},
                "/api/v1/health": lambda: {"last_process": STARTED.isoformat(), "last_process_ts": int(STARTED.timestamp())},
            }
            if path in answers:
                return self.reply(200, answers[path]())
        self.reply(404, {"detail": "Not Found"})

    def do_POST(self):
        path, query = self.route()
        if path in ("/api/v1/token/login", "/api/v1/token/refresh"):
            if self.headers.get("Authorization") == basic or path.endswith("refresh"):
                return self.reply(200, {"access_token": token, "refresh_token": token})
            return self.reply(401, {"detail": "Unauthorized"})
        if not self.authorised():
            return self.reply(401, {"detail": "Unauthorized"})
        body = self.body()
        with lock:
            if path == "/api/v1/pause":
                state["state"] = "paused"
                return self.reply(200, {"status": "paused, no more entries will occur from now. Run /start to enable entries."})
            if path == "/api/v1/start":
                was = state["state"]
                state["state"] = "running"
                return self.reply(200, {"status": "starting trader ..." if was != "running" else "already running"})
            if path == "/api/v1/stop":
                state["state"] = "stopped"
                return self.reply(200, {"status": "stopping trader ..."})
            if path == "/api/v1/reload_config":
                return self.reply(200, {"status": "Reloading config ..."})
            if path == "/api/v1/forceexit":
                wanted = str((body or {}).get("tradeid", ""))
                hit = [t for t in trades if t["is_open"] and (wanted == "all" or str(t["trade_id"]) == wanted)]
                if not hit:
                    return self.reply(400, {"error": "Error querying /api/v1/forceexit: invalid argument"})
                ms = int(datetime.now(timezone.utc).timestamp() * 1000)
                for t in hit:
                    close_trade(t, ms, close_at(t["pair"], now_k()), "force_exit")
                    broadcast(fill_message(t))
                save(trades)
                return self.reply(200, {"result": f"Created exit orders for trade {wanted}."})
            if path == "/api/v1/locks":
                items = body if isinstance(body, list) else [body or {}]
                now = datetime.now(timezone.utc)
                for item in items:
                    until = item.get("until")
                    end = datetime.fromisoformat(until.replace("Z", "+00:00")) if until else now + timedelta(minutes=int(item.get("minutes", 60)))
                    state["lock_id"] += 1
                    state["locks"].append({"id": state["lock_id"], "pair": item["pair"], "base": item["pair"].split("/")[0],
                                           "side": item.get("side", "*"), "lock_time": now.isoformat(), "lock_timestamp": int(now.timestamp() * 1000),
                                           "lock_end_time": end.astimezone(timezone.utc).isoformat(), "lock_end_timestamp": int(end.timestamp() * 1000),
                                           "reason": item.get("reason"), "active": True})
                return self.reply(200, locks())
            if path == "/api/v1/blacklist":
                for pair in (body or {}).get("blacklist", []):
                    if pair not in state["blacklist"]:
                        state["blacklist"].append(pair)
                return self.reply(200, blacklist())
        self.reply(404, {"detail": "Not Found"})

    def do_DELETE(self):
        path, query = self.route()
        if not self.authorised():
            return self.reply(401, {"detail": "Unauthorized"})
        with lock:
            if path.startswith("/api/v1/locks/"):
                wanted = path.rsplit("/", 1)[1]
                state["locks"] = [e for e in state["locks"] if str(e["id"]) != wanted]
                return self.reply(200, locks())
            if path == "/api/v1/blacklist":
                gone = set(query.get("pairs_to_delete", []))
                state["blacklist"] = [p for p in state["blacklist"] if p not in gone]
                return self.reply(200, blacklist())
        self.reply(404, {"detail": "Not Found"})

    def log_message(self, fmt, *values):
        sys.stderr.write("freqtrade stand-in api: " + (fmt % values) + "\n")


print(f"freqtrade stand-in: dry-run, {len(trades)} trades in {DB}, pairs {PAIRS}, serving the API", flush=True)
ThreadingHTTPServer((api["listen_ip_address"], api["listen_port"]), Handler).serve_forever()
'''

DOCKERFILE = """FROM {base}
USER root
RUN mv /opt/freqtrade-venv/bin/freqtrade /opt/freqtrade-venv/bin/freqtrade-real
COPY freqtrade /opt/freqtrade-venv/bin/freqtrade
RUN chmod 0755 /opt/freqtrade-venv/bin/freqtrade
USER 1000:1000
LABEL fta.test=desk-standin
"""


def docker(*args: str, check: bool = True, timeout: int = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, DOCKER_HOST=os.environ.get("FTA_TEST_DOCKER_HOST", "unix:///run/fta-test/docker.sock"), DOCKER_BUILDKIT="0")
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, env=env, check=check)


def standin_image(base: str) -> str:
    """The Freqtrade image with the stand-in as `freqtrade`, built offline (the base is local; the
    legacy builder needs no registry). Its tag carries the hash of its inputs, so an unchanged
    one is reused."""
    base_id = docker("image", "inspect", "-f", "{{.Id}}", base).stdout.strip()
    dockerfile = DOCKERFILE.format(base=base)
    tag = "fta-test/freqtrade-desk-standin:" + hashlib.sha256((base_id + dockerfile + STANDIN_WRAPPER).encode()).hexdigest()[:12]
    if docker("image", "inspect", tag, check=False).returncode == 0:
        return tag
    with tempfile.TemporaryDirectory() as context:
        Path(context, "Dockerfile").write_text(dockerfile)
        Path(context, "freqtrade").write_text(STANDIN_WRAPPER)
        built = docker("build", "--force-rm", "-q", "-t", tag, context, check=False)
        assert built.returncode == 0, f"building {tag} failed:\n{built.stderr[-3000:]}"
    return tag


def _locale(value: float, most: int, least: int) -> str:
    """Number.toLocaleString('en-US', {maximumFractionDigits: most, minimumFractionDigits: least})."""
    whole, _, fraction = f"{abs(value):,.{most}f}".partition(".")
    fraction = fraction.rstrip("0").ljust(least, "0")
    return whole + ("." + fraction if fraction else "")


def js_amount(value: float, signed: bool = False) -> str:
    """web/js/format.js amount(): 2 decimals from 1 up, up to 6 below; U+2212 for minus."""
    digits = 6 if 0 < abs(value) < 1 else 2
    text = _locale(value, digits, 2)
    if value < 0:
        return "\u2212" + text
    return ("+" if signed and value > 0 else "") + text


def js_rate(value: float) -> str:
    """web/js/desk/common.js rate(): precision by size, like a price."""
    digits = 2 if abs(value) >= 1000 else 4 if abs(value) >= 1 else 8
    return ("-" if value < 0 else "") + _locale(value, digits, 2)


def desk_shot(browser, name: str, selector: str = ".desk") -> None:
    """Screenshots of a desk view at 1280x900 and 360x780 (webportal's sizes), scrolled to
    `selector` at each width (the desk sits below the bot's overview, out of a top-of-page
    shot); at 360 px the page must not scroll sideways."""
    import time
    from webportal import DESKTOP, PHONE
    folder = browser.artifacts / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        for width, height in (DESKTOP, PHONE):
            browser.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
            time.sleep(0.5)  # layout settles; Chart.js redraws at the new width
            browser.driver.execute_script("document.querySelector(arguments[0]).scrollIntoView({block: 'start'})", selector)
            time.sleep(0.2)
            browser.driver.save_screenshot(str(folder / f"{browser.name}-{name}-{width}x{height}.png"))
            if width == PHONE[0]:
                scroll, client = browser.driver.execute_script(
                    "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
                assert scroll <= client, f"{name}: the page scrolls sideways at {width} px ({scroll} > {client})"
    finally:
        browser.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    browser.collect_console()
