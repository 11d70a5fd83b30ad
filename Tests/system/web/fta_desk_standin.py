"""A scripted Freqtrade for the trading-desk browser tests (issue 13): fast, and told by the test
what to answer.

The image is the local Freqtrade image (FTA_TEST_FREQTRADE_IMAGE) with `freqtrade` replaced by
STANDIN below: a Python program (standard library only, so it is up in well under a second) that
reads the config the portal rendered and serves, on the bot's API port, the Freqtrade REST routes
the desk reads (token login, ping, show_config, profit, status, trades, daily/weekly/monthly,
performance, balance, count, locks, whitelist, blacklist...) and the message websocket
(`/api/v1/message/ws?token=<ws_token>`: after the client's `subscribe`, the RPC messages of the
subscribed types, flat like Freqtrade broadcasts them: `{"type": "entry_fill", "pair": ...}`). It starts with no trades; the test scripts it over two routes that only
this stand-in has, on the same port (reachable from the host, like the portal reaches it):

  POST /fta-test/state  {"closed": [...], "open": [...]}  the trades; /profit and the rest follow
  POST /fta-test/emit   {"type": "entry_fill", "pair": ...}  pushed as it is to every websocket
                         client subscribed to that type (answers how many got it)
  POST /fta-test/outage {"seconds": 20}  the API goes away (listener and open connections
                         closed, websockets included) and comes back after that many seconds
  GET  /fta-test/ws     the websocket clients and what they subscribed to (for diagnostics)

Dry-run is reported true, so the portal's guard lets the bot be read. Nothing here trades.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import urllib.request
from pathlib import Path

STANDIN = r'''#!/opt/freqtrade-venv/bin/python3
"""TEST ONLY (fta desk browser tests): a scripted Freqtrade API and message websocket."""
import base64
import hashlib
import json
import secrets
import socket
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

args = sys.argv[1:]
if not args or args[0] not in ("trade", "webserver"):
    print("freqtrade desk stand-in:", *args)
    sys.exit(0)
path = args[args.index("--config") + 1] if "--config" in args else args[args.index("-c") + 1]
with open(path) as handle:
    config = json.load(handle)
api = config["api_server"]
basic = "Basic " + base64.b64encode(f"{api['username']}:{api['password']}".encode()).decode()
ws_tokens = api.get("ws_token") or []
ws_tokens = [ws_tokens] if isinstance(ws_tokens, str) else list(ws_tokens)
token = secrets.token_urlsafe(24)
stake_currency = config.get("stake_currency", "USDT")
pairs = list(config.get("exchange", {}).get("pair_whitelist", []))
lock = threading.Lock()
state = {"closed": [], "open": []}
sockets = []  # [{"send": fn, "subs": set()}]
connections = set()  # every open client connection, HTTP and websocket
started = time.time()
outage = {"seconds": 0.0, "server": None}


def fmt(dt):
    return dt.strftime("%Y-%m-%d %H:%M:%S")


def parse(text):
    return datetime.strptime(text[:19].replace("T", " "), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)


def trade(t, tid, is_open):
    """A scripted trade ({pair, profit_abs, stake_amount, close_date, ...}) in Freqtrade's shape."""
    now = datetime.now(timezone.utc)
    close = parse(t["close_date"]) if t.get("close_date") else None
    opened = parse(t["open_date"]) if t.get("open_date") else (close or now) - timedelta(hours=2)
    stake = float(t.get("stake_amount", 10))
    profit = float(t.get("profit_abs", 0))
    rate = float(t.get("open_rate", 100))
    out = {"trade_id": tid, "pair": t.get("pair", pairs[0] if pairs else "BTC/USDT"), "is_open": is_open,
           "exchange": "binance", "amount": stake / rate, "stake_amount": stake, "open_rate": rate,
           "open_date": fmt(opened), "open_timestamp": int(opened.timestamp() * 1000),
           "profit_abs": profit, "profit_ratio": profit / stake if stake else 0, "profit_pct": round(profit / stake * 100, 2) if stake else 0,
           "strategy": config.get("strategy"), "timeframe": config.get("timeframe"), "enter_tag": t.get("enter_tag", "stand-in"),
           "is_short": False, "leverage": 1, "orders": [], "stop_loss_abs": rate * 0.9, "stoploss_current_dist": -rate * 0.1}
    if is_open:
        out.update(current_rate=rate * (1 + out["profit_ratio"]), close_date=None, close_timestamp=None,
                   close_rate=None, exit_reason=None, total_profit_abs=profit)
    else:
        out.update(close_date=fmt(close), close_timestamp=int(close.timestamp() * 1000),
                   close_rate=rate * (1 + out["profit_ratio"]), exit_reason=t.get("exit_reason", "roi"))
    return out


def trades():
    with lock:
        closed = [trade(t, i + 1, False) for i, t in enumerate(state["closed"])]
        opened = [trade(t, len(closed) + i + 1, True) for i, t in enumerate(state["open"])]
    return closed, opened


def profit():
    closed, opened = trades()
    closed_sorted = sorted(closed, key=lambda t: t["close_timestamp"])
    closed_abs = sum(t["profit_abs"] for t in closed)
    open_abs = sum(t["profit_abs"] for t in opened)
    wallet = float(config.get("dry_run_wallet", 1000))
    wins = sum(1 for t in closed if t["profit_abs"] > 0)
    losses = sum(1 for t in closed if t["profit_abs"] < 0)
    # Drawdown of the closed-profit curve on top of the starting wallet, as a ratio of its peak.
    peak, cum, dd, dd_abs = wallet, wallet, 0.0, 0.0
    for t in closed_sorted:
        cum += t["profit_abs"]
        peak = max(peak, cum)
        if peak - cum > dd_abs:
            dd_abs, dd = peak - cum, (peak - cum) / peak
    first = closed_sorted[0] if closed_sorted else None
    last = closed_sorted[-1] if closed_sorted else None
    return {"profit_closed_coin": closed_abs, "profit_closed_percent": round(closed_abs / wallet * 100, 2),
            "profit_closed_ratio": closed_abs / wallet, "profit_closed_fiat": closed_abs,
            "profit_all_coin": closed_abs + open_abs, "profit_all_percent": round((closed_abs + open_abs) / wallet * 100, 2),
            "profit_all_ratio": (closed_abs + open_abs) / wallet, "profit_all_fiat": closed_abs + open_abs,
            "trade_count": len(closed) + len(opened), "closed_trade_count": len(closed),
            "first_trade_date": first["open_date"] if first else "", "first_trade_timestamp": first["open_timestamp"] if first else 0,
            "latest_trade_date": last["close_date"] if last else "", "latest_trade_timestamp": last["close_timestamp"] if last else 0,
            "avg_duration": "2:00:00", "best_pair": "", "best_rate": 0, "best_pair_profit_ratio": 0,
            "winning_trades": wins, "losing_trades": losses, "winrate": wins / len(closed) if closed else 0,
            "profit_factor": None, "expectancy": 0, "expectancy_ratio": 0,
            "max_drawdown": dd, "max_drawdown_abs": dd_abs, "trading_volume": 0, "bot_start_timestamp": int(started * 1000),
            "bot_start_date": fmt(datetime.fromtimestamp(started, timezone.utc))}


def periodic(unit, count):
    closed, _ = trades()
    wallet = float(config.get("dry_run_wallet", 1000))
    today = datetime.now(timezone.utc).date()
    def key(d):
        if unit == "days":
            return d
        if unit == "weeks":
            return d - timedelta(days=d.weekday())
        return d.replace(day=1)
    buckets = {}
    for t in closed:
        k = key(parse(t["close_date"]).date())
        b = buckets.setdefault(k, [0.0, 0])
        b[0] += t["profit_abs"]
        b[1] += 1
    rows, day = [], key(today)
    for _ in range(count):
        p, n = buckets.get(day, [0.0, 0])
        rows.append({"date": day.isoformat(), "abs_profit": p, "rel_profit": p / wallet, "starting_balance": wallet,
                     "fiat_value": p, "trade_count": n})
        day = key(day - timedelta(days=1))  # the previous day, week or month
    return {"data": rows, "fiat_display_currency": "", "stake_currency": stake_currency}


def shown():
    return {"dry_run": True, "runmode": "dry_run", "state": "running", "bot_name": config.get("bot_name"),
            "strategy": config.get("strategy"), "stake_currency": stake_currency, "stake_amount": config.get("stake_amount"),
            "max_open_trades": config.get("max_open_trades"), "dry_run_wallet": config.get("dry_run_wallet"),
            "timeframe": config.get("timeframe"), "exchange": config.get("exchange", {}).get("name"), "version": "desk-stand-in",
            "trading_mode": "spot", "short_allowed": False, "api_version": 2.34}


def answer(route, query):
    closed, opened = trades()
    if route == "/api/v1/show_config":
        return shown()
    if route == "/api/v1/profit":
        return profit()
    if route == "/api/v1/status":
        return opened
    if route == "/api/v1/count":
        return {"current": len(opened), "max": config.get("max_open_trades"), "total_stake": sum(t["stake_amount"] for t in opened)}
    if route == "/api/v1/trades":
        every = sorted(closed + opened, key=lambda t: t["trade_id"], reverse=True)
        limit = int(query.get("limit", ["500"])[0])
        offset = int(query.get("offset", ["0"])[0])
        return {"trades": every[offset:offset + limit], "trades_count": len(every[offset:offset + limit]),
                "offset": offset, "total_trades": len(every)}
    if route.startswith("/api/v1/trade/"):
        wanted = route.rsplit("/", 1)[1]
        for t in closed + opened:
            if str(t["trade_id"]) == wanted:
                return t
        return None
    if route in ("/api/v1/daily", "/api/v1/weekly", "/api/v1/monthly"):
        unit = {"/api/v1/daily": "days", "/api/v1/weekly": "weeks", "/api/v1/monthly": "months"}[route]
        return periodic(unit, int(query.get("timescale", ["7"])[0]))
    if route == "/api/v1/performance":
        per = {}
        for t in closed:
            p = per.setdefault(t["pair"], {"pair": t["pair"], "profit_abs": 0.0, "profit_ratio": 0.0, "count": 0})
            p["profit_abs"] += t["profit_abs"]
            p["profit_ratio"] += t["profit_ratio"]
            p["count"] += 1
        return sorted(per.values(), key=lambda p: -p["profit_abs"])
    if route == "/api/v1/balance":
        total = float(config.get("dry_run_wallet", 1000)) + profit()["profit_closed_coin"]
        return {"currencies": [{"currency": stake_currency, "free": total, "balance": total, "used": 0, "est_stake": total, "stake": stake_currency}],
                "total": total, "symbol": stake_currency, "value": total, "stake": stake_currency, "note": "Simulated balances"}
    if route == "/api/v1/locks":
        return {"lock_count": 0, "locks": []}
    if route == "/api/v1/whitelist":
        return {"whitelist": pairs, "length": len(pairs), "method": ["StaticPairList"]}
    if route == "/api/v1/blacklist":
        return {"blacklist": [], "blacklist_expanded": [], "length": 0, "method": ["StaticPairList"], "errors": {}}
    if route == "/api/v1/stats":
        return {"exit_reasons": {}, "durations": {"wins": None, "draws": None, "losses": None}}
    if route == "/api/v1/entries":
        return []
    if route == "/api/v1/exits":
        return []
    if route == "/api/v1/version":
        return {"version": "desk-stand-in"}
    if route == "/api/v1/health":
        return {"last_process": fmt(datetime.now(timezone.utc)), "last_process_ts": int(time.time())}
    return None


# --- websocket (RFC 6455, the few frames Freqtrade's channel uses) ---------------------------------

def ws_frame(opcode, payload):
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 65536:
        head += bytes([126]) + n.to_bytes(2, "big")
    else:
        head += bytes([127]) + n.to_bytes(8, "big")
    return head + payload


def ws_read(stream):
    first = stream.read(2)
    if len(first) < 2:
        return None, None
    opcode, n = first[0] & 0x0F, first[1] & 0x7F
    if n == 126:
        n = int.from_bytes(stream.read(2), "big")
    elif n == 127:
        n = int.from_bytes(stream.read(8), "big")
    mask = stream.read(4) if first[1] & 0x80 else b"\0\0\0\0"
    data = bytearray(stream.read(n))
    for i in range(len(data)):
        data[i] ^= mask[i % 4]
    return opcode, bytes(data)


def go_away(seconds):
    """An API outage, as when Freqtrade's API process dies: the listening socket and every open
    connection (kept-alive HTTP, websockets) close; after `seconds` the API listens again."""
    time.sleep(0.2)  # the answer to /fta-test/outage goes out first
    outage["seconds"] = seconds
    server = outage["server"]
    server.shutdown()
    for conn in list(connections):
        try:
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        connections.add(self.connection)

    def finish(self):
        connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        return json.loads(raw) if raw else {}

    def authorized(self):
        return self.headers.get("Authorization") in ("Bearer " + token, basic)

    def do_POST(self):
        route = urlsplit(self.path).path
        if route == "/api/v1/token/login":
            self.body()
            if self.headers.get("Authorization") == basic:
                return self.reply(200, {"access_token": token, "refresh_token": token})
            return self.reply(401, {"detail": "Unauthorized"})
        if route == "/api/v1/token/refresh":
            self.body()
            return self.reply(200, {"access_token": token})
        if route == "/fta-test/state":
            given = self.body()
            with lock:
                state["closed"] = list(given.get("closed", []))
                state["open"] = list(given.get("open", []))
            return self.reply(200, {"profit": profit(), "status": trades()[1]})
        if route == "/fta-test/outage":
            seconds = float(self.body().get("seconds", 20))
            threading.Thread(target=go_away, args=(seconds,), daemon=True).start()
            self.close_connection = True
            return self.reply(200, {"outage_seconds": seconds})
        if route == "/fta-test/emit":
            message = self.body()
            kind = message.get("type")
            sent = 0
            for ws in list(sockets):
                if kind in ws["subs"] or not ws["subscribed"]:
                    if ws["send"](json.dumps(message)):
                        sent += 1
            return self.reply(200, {"sent": sent, "clients": len(sockets)})
        self.body()
        if not self.authorized():
            return self.reply(401, {"detail": "Unauthorized"})
        self.reply(200, {"status": "stand-in: accepted " + route})

    def do_DELETE(self):
        if not self.authorized():
            return self.reply(401, {"detail": "Unauthorized"})
        self.reply(200, {"status": "stand-in: accepted"})

    def do_GET(self):
        split = urlsplit(self.path)
        route, query = split.path, parse_qs(split.query)
        if route == "/api/v1/ping":
            return self.reply(200, {"status": "pong"})
        if route == "/fta-test/ws":
            return self.reply(200, {"clients": [{"subscribed": ws["subscribed"], "subs": sorted(ws["subs"])} for ws in sockets]})
        if route == "/api/v1/message/ws":
            return self.websocket(query)
        if not self.authorized():
            return self.reply(401, {"detail": "Unauthorized"})
        body = answer(route, query)
        if body is None:
            return self.reply(404, {"detail": "Not Found"})
        self.reply(200, body)

    def websocket(self, query):
        key = self.headers.get("Sec-WebSocket-Key")
        if (self.headers.get("Upgrade") or "").lower() != "websocket" or not key:
            return self.reply(400, {"detail": "websocket upgrade expected"})
        if query.get("token", [None])[0] not in ws_tokens:
            # Freqtrade closes the socket of a wrong token; refusing the upgrade says the same.
            return self.reply(403, {"detail": "bad ws token"})
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        send_lock = threading.Lock()

        def send(text, opcode=1):
            try:
                with send_lock:
                    self.wfile.write(ws_frame(opcode, text.encode() if isinstance(text, str) else text))
                    self.wfile.flush()
                return True
            except OSError:
                return False

        ws = {"send": send, "subs": set(), "subscribed": False}
        sockets.append(ws)
        try:
            while True:
                opcode, data = ws_read(self.rfile)
                if opcode is None or opcode == 8:
                    send(b"", 8)
                    break
                if opcode == 9:
                    send(data, 10)
                    continue
                if opcode != 1:
                    continue
                try:
                    message = json.loads(data)
                except ValueError:
                    continue
                if message.get("type") == "subscribe":
                    ws["subs"] = set(message.get("data") or [])
                    ws["subscribed"] = True
                elif message.get("type") == "whitelist":
                    send(json.dumps({"type": "whitelist", "data": pairs}))
        except OSError:
            pass
        finally:
            sockets.remove(ws)
            self.close_connection = True

    def log_message(self, fmt_, *values):
        sys.stderr.write("desk stand-in: " + (fmt_ % values) + "\n")


ThreadingHTTPServer.daemon_threads = True
while True:
    outage["server"] = ThreadingHTTPServer((api["listen_ip_address"], api["listen_port"]), Handler)
    print(f"freqtrade desk stand-in: dry_run true, API on {api['listen_ip_address']}:{api['listen_port']}", flush=True)
    outage["server"].serve_forever()
    outage["server"].server_close()
    print(f"freqtrade desk stand-in: API down for {outage['seconds']} s", flush=True)
    time.sleep(outage["seconds"])
'''

DOCKERFILE = """FROM {base}
USER root
COPY freqtrade /opt/freqtrade-venv/bin/freqtrade
RUN chmod 0755 /opt/freqtrade-venv/bin/freqtrade
USER 1000:1000
LABEL fta.test=desk-standin
"""

ENGINE = "unix:///run/fta-test/docker.sock"


def docker(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, DOCKER_HOST=os.environ.get("FTA_TEST_DOCKER_HOST", ENGINE), DOCKER_BUILDKIT="0")
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, env=env, check=check)


def standin_image(base: str) -> str:
    """The stand-in image on `base` (the local Freqtrade image), built offline with the legacy
    builder (no registry); the tag carries the hash of its inputs, so an unchanged one is reused."""
    base_id = docker("image", "inspect", "-f", "{{.Id}}", base).stdout.strip()
    dockerfile = DOCKERFILE.format(base=base)
    digest = hashlib.sha256((base_id + dockerfile + STANDIN).encode()).hexdigest()[:12]
    tag = f"fta-test/freqtrade-desk-standin:{digest}"
    if docker("image", "inspect", tag, check=False).returncode == 0:
        return tag
    with tempfile.TemporaryDirectory() as context:
        Path(context, "Dockerfile").write_text(dockerfile)
        Path(context, "freqtrade").write_text(STANDIN)
        built = docker("build", "--force-rm", "-q", "-t", tag, context, check=False)
        assert built.returncode == 0, f"building {tag} failed:\n{built.stderr[-3000:]}"
    # Earlier builds of this stand-in (other inputs) are of no further use.
    for old in docker("images", "--format", "{{.Repository}}:{{.Tag}}", "fta-test/freqtrade-desk-standin", check=False).stdout.split():
        if old != tag:
            docker("image", "rm", old, check=False)
    return tag


class StandIn:
    """One running stand-in bot, reached like the portal reaches it: its container's address."""

    def __init__(self, bot_id: str):
        self.bot_id = bot_id
        self.container = f"fta-bot-{bot_id}"

    def address(self) -> str:
        out = docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", self.container).stdout.split()
        assert out, f"{self.container} has no address"
        return out[0]

    def call(self, method: str, path: str, body=None, timeout: float = 10):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://{self.address()}:8080{path}", data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def script(self, closed: list[dict], open_trades: list[dict]) -> dict:
        """Sets the trades; returns what the bot answers from now on: {"profit": its /profit,
        "status": its /status (the open trades)}."""
        return self.call("POST", "/fta-test/state", {"closed": closed, "open": open_trades})

    def emit(self, message: dict) -> dict:
        return self.call("POST", "/fta-test/emit", message)

    def outage(self, seconds: float) -> dict:
        return self.call("POST", "/fta-test/outage", {"seconds": seconds})

    def websockets(self) -> list:
        return self.call("GET", "/fta-test/ws")["clients"]

