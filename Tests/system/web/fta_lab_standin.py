"""A stand-in of the portal for the strategy lab's browser tests (issue 16): fast, and told by
the test what to answer.

Why a stand-in: a real backtest runs Freqtrade for minutes on downloaded market data, and its
outcome depends on the market; the page's behaviour (what it sends, how it shows progress,
errors, results, comparisons and Freqtrade's messages) is what these tests prove, so the
answers are scripted. The stand-in serves the repository's web/ files exactly as the portal does
(the same security headers, the Content-Security-Policy read from the portal's own source, no
inline code allowed), Debian's Chart.js at /vendor/chart.js/chart.min.js, and the API routes the
lab's pages call, shaped as web/api/openapi.json describes them (wrapped objects, the error
shape). It keeps the portal's request rules: a write needs `Content-Type: application/json` and
a same-site origin, a session cookie, and a role that may write. Every API request is recorded
(method, path, query, headers, JSON body) for the test to assert on.

The test changes the state directly (`with standin.lock: standin.backtests[...]`), as the
portal's job runner would, and can make the next call to a route fail (`fail_next`).
"""
from __future__ import annotations

import copy
import json
import mimetypes
import re
import secrets
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

REPO = Path(__file__).resolve().parents[3]
WEB_ROOT = REPO / "web"
MIDDLEWARE = REPO / "Sources" / "FTAPortal" / "HTTP" / "Middleware.swift"
CHARTJS = Path("/usr/share/javascript/chart.js/chart.min.js")

CLIENT = "acme"
USERS = {  # username: (password, role, client)
    "olivia": ("owner-pass-1", "owner", CLIENT),
    "victor": ("viewer-pass-1", "viewer", CLIENT),
    "ada": ("admin-pass-1", "admin", None),
}
SHIPPED = [
    {"name": "FtaEmaCross", "displayName": "EMA crossover", "summary": "Buys when the fast EMA crosses above the slow one."},
    {"name": "FtaRsi", "displayName": "RSI dip", "summary": "Buys oversold RSI, sells overbought."},
    {"name": "FtaBollinger", "displayName": "Bollinger bounce", "summary": "Buys the lower band."},
    {"name": "FtaQuickTest", "displayName": "Quick test", "summary": "Trades often; for trying fta out."},
]
PARAMETERS = {
    "className": "FtaEmaCross", "timeframe": "5m",
    "minimalRoi": {"0": 0.06, "30": 0.03, "60": 0.01},
    "stoploss": -0.1, "trailingStop": False, "trailingStopPositive": None, "trailingStopPositiveOffset": 0.0,
    "trailingOnlyOffsetIsReached": False,
    "protections": [{"method": "CooldownPeriod", "stop_duration_candles": 2}],
    "parameters": [
        {"name": "buy_fast", "space": "buy", "type": "int", "default": 12, "low": 5, "high": 30, "decimals": None, "options": None},
        {"name": "buy_slow", "space": "buy", "type": "int", "default": 26, "low": 20, "high": 80, "decimals": None, "options": None},
        {"name": "buy_mode", "space": "buy", "type": "categorical", "default": "cross", "low": None, "high": None, "decimals": None, "options": ["cross", "above"]},
        {"name": "sell_rsi", "space": "sell", "type": "decimal", "default": 70.0, "low": 60.0, "high": 90.0, "decimals": 1, "options": None},
        {"name": "use_volume", "space": "sell", "type": "boolean", "default": True, "low": None, "high": None, "decimals": None, "options": None},
    ],
}


def portal_csp() -> str:
    """The portal's own Content-Security-Policy, read from its source so the two cannot drift."""
    found = re.search(r'static let contentSecurityPolicy = "([^"]+)"', MIDDLEWARE.read_text())
    assert found, f"no contentSecurityPolicy in {MIDDLEWARE}"
    return found.group(1)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


NOW = datetime.now(timezone.utc).replace(microsecond=0)


def metrics(**over) -> dict:
    base = {"tradeCount": 120, "wins": 70, "losses": 48, "draws": 2, "winRate": 0.5833, "profitTotal": 0.1234, "profitTotalAbs": 123.4,
            "cagr": 0.87, "maxDrawdown": 0.0412, "maxDrawdownAbs": 42.1, "sharpe": 1.23, "sortino": 1.87, "calmar": 2.5,
            "profitFactor": 1.42, "expectancy": 1.03, "avgDurationMinutes": 95, "startingBalance": 1000, "finalBalance": 1123.4,
            "backtestStart": "2026-11-01T00:00:00Z", "backtestEnd": "2026-11-20T00:00:00Z", "marketChange": 0.021}
    base.update(over)
    return base


def result(m: dict, trades: int, step_profit: float) -> dict:
    """A result whose lists agree with its metrics' counts: `trades` trades on two pairs, an
    equity point after each."""
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    rows, equity, balance = [], [{"t": iso(start), "balance": float(m["startingBalance"])}], float(m["startingBalance"])
    reasons = ["roi", "exit_signal", "stop_loss"]
    for i in range(trades):
        opened = start + timedelta(hours=3 * i)
        profit = step_profit if i % 5 else -step_profit * 1.5
        balance += profit
        rows.append({"pair": ["BTC/USDT", "ETH/USDT"][i % 2], "openDate": iso(opened), "closeDate": iso(opened + timedelta(minutes=95)),
                     "openRate": 60000.0 + i, "closeRate": 60010.0 + i, "amount": 0.0016, "stakeAmount": 100.0, "profitAbs": round(profit, 4),
                     "profitRatio": round(profit / 100, 6), "exitReason": reasons[i % 3], "enterTag": "ema_cross" if i % 2 else None,
                     "durationMinutes": 95})
        equity.append({"t": iso(opened + timedelta(minutes=95)), "balance": round(balance, 4)})
    return {
        "metrics": m,
        "pairs": [{"pair": "BTC/USDT", "trades": (trades + 1) // 2, "profitTotalAbs": 80.2, "profitMean": 0.0013, "winRate": 0.6, "avgDurationMinutes": 90},
                  {"pair": "ETH/USDT", "trades": trades // 2, "profitTotalAbs": 43.2, "profitMean": 0.0007, "winRate": 0.55, "avgDurationMinutes": 100}],
        "exitReasons": [{"reason": "roi", "trades": 60, "profitTotalAbs": 150.0, "wins": 60, "losses": 0, "draws": 0},
                        {"reason": "exit_signal", "trades": 40, "profitTotalAbs": 10.0, "wins": 10, "losses": 28, "draws": 2},
                        {"reason": "stop_loss", "trades": 20, "profitTotalAbs": -36.6, "wins": 0, "losses": 20, "draws": 0}],
        "trades": rows,
        "equity": equity,
    }


def backtest(bt_id: str, strategy: str, status: str, **over) -> dict:
    bt = {"id": bt_id, "clientId": CLIENT, "createdBy": "olivia", "status": status,
          "phase": {"queued": "queued", "running": "backtesting", "downloading": "downloading data"}.get(status, "done"),
          "progress": None, "error": None, "strategy": strategy, "strategyVersion": "ab" * 32, "exchange": "binance",
          "pairs": ["BTC/USDT", "ETH/USDT"], "timeframe": "5m", "timerange": "20261101-20261120", "dryRunWallet": 1000,
          "stakeAmount": "100", "maxOpenTrades": 3, "tuning": None, "botId": None, "createdAt": iso(NOW - timedelta(hours=2)),
          "startedAt": iso(NOW - timedelta(hours=2)), "finishedAt": None, "summary": None, "result": None, "comparison": None}
    bt.update(over)
    if status == "succeeded" and bt["result"]:
        m = bt["result"]["metrics"]
        bt["summary"] = {k: m[k] for k in ("tradeCount", "profitTotal", "profitTotalAbs", "winRate", "maxDrawdown")}
        bt["finishedAt"] = bt["finishedAt"] or iso(NOW - timedelta(hours=1))
    return bt


def seed_backtests() -> list:
    """Newest first, as GET /backtests answers."""
    return [
        backtest("bt-run", "FtaEmaCross", "running", progress={"elapsedSeconds": 150, "timeLimitSeconds": 600}),
        backtest("bt-fail", "FtaBollinger", "failed", error="The backtest ran out of memory (256 MiB).", finishedAt=iso(NOW - timedelta(minutes=90))),
        backtest("bt-done-c", "custom:MyStrat", "succeeded", result=result(metrics(profitTotalAbs=55.5, profitTotal=0.0555, maxDrawdown=0.08,
                                                                                     maxDrawdownAbs=80.0, sharpe=0.9, tradeCount=40, finalBalance=1055.5), 40, 1.5)),
        backtest("bt-done-b", "FtaRsi", "succeeded", result=result(metrics(profitTotalAbs=98.0, profitTotal=0.098, maxDrawdown=0.02,
                                                                             maxDrawdownAbs=20.0, sharpe=1.5, tradeCount=60, finalBalance=1098.0), 60, 2.0)),
        backtest("bt-done-a", "FtaEmaCross", "succeeded", result=result(metrics(), 120, 1.25), tuning={"stoploss": -0.08}),
    ]


def replay_comparison() -> dict:
    return {
        "window": {"start": "2026-12-01T10:00:00Z", "end": "2026-12-03T10:00:00Z"},
        "matched": [{"pair": "BTC/USDT", "dryOpenDate": "2026-12-01T12:05:00Z", "backtestOpenDate": "2026-12-01T12:05:00Z",
                     "dryOpenRate": 60012.5, "backtestOpenRate": 60000.0, "openRateDiff": 12.5, "dryCloseRate": 60300.0,
                     "backtestCloseRate": 60310.0, "closeRateDiff": -10.0, "dryProfitAbs": 0.35, "backtestProfitAbs": 0.38}],
        "onlyDry": [{"pair": "ETH/USDT", "openDate": "2026-12-02T08:00:00Z", "closeDate": "2026-12-02T09:30:00Z", "openRate": 3200.0,
                     "closeRate": 3250.0, "profitAbs": 1.5, "exitReason": "roi"}],
        "onlyBacktest": [{"pair": "SOL/USDT", "openDate": "2026-12-02T14:00:00Z", "closeDate": "2026-12-02T16:00:00Z", "openRate": 140.0,
                          "closeRate": 138.0, "profitAbs": -1.43, "exitReason": "stop_loss"}],
        "profitDelta": {"dry": 12.5, "backtest": 10.0, "delta": 2.5},
    }


def bot(bot_id: str, name: str, **over) -> dict:
    b = {"id": bot_id, "clientId": CLIENT, "name": name, "exchange": "binance", "pairs": ["BTC/USDT", "ETH/USDT"], "stakeCurrency": "USDT",
         "stakeAmount": "100", "dryRunWallet": 1000, "maxOpenTrades": 3, "timeframe": "5m", "strategy": "FtaEmaCross", "size": "small",
         "memoryMB": 256, "state": "stopped", "desiredState": "stopped", "lastError": None, "createdAt": iso(NOW - timedelta(days=3)),
         "updatedAt": iso(NOW - timedelta(days=1)), "startedAt": None, "pendingRestart": False, "walletResets": 0}
    b.update(over)
    return b


class APIError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields


class LabStandin:
    """The stand-in portal. `start()` → its URL; `reset()` puts the state back to the seed."""

    def __init__(self):
        self.lock = threading.RLock()
        self.csp = portal_csp()
        self.server = None
        self.url = ""
        self.reset()

    # ---------- state ----------

    def reset(self) -> None:
        """The seed state again; sessions stay (a browser signed in once stays signed in)."""
        with self.lock:
            self.requests: list[dict] = []
            self.sessions: dict[str, str] = getattr(self, "sessions", {})
            self.failures: dict[tuple[str, str], tuple[int, dict]] = {}
            self.backtests = seed_backtests()
            self.clients = [{"id": CLIENT, "name": "Acme Ltd", "createdAt": iso(NOW - timedelta(days=30)), "botCount": 1, "maxBots": 3,
                             "userCount": 2, "customStrategies": True},
                            {"id": "globex", "name": "Globex", "createdAt": iso(NOW - timedelta(days=20)), "botCount": 0, "maxBots": 2,
                             "userCount": 1, "customStrategies": False}]
            self.custom = [{"name": "MyStrat", "version": "cd" * 32, "sizeBytes": 2048, "status": "valid", "message": None,
                            "uploadedAt": iso(NOW - timedelta(days=2)), "uploadedBy": "olivia", "clientId": CLIENT,
                            "source": "class MyStrat(IStrategy):\n    pass\n"}]
            self.bots = {"b1": bot("b1", "EMA desk bot", startedAt=iso(NOW - timedelta(days=2)))}
            self.lab_data = {"capMB": 512, "usedBytes": 3 * 1048576, "sets": [
                {"key": "binance-5m", "exchange": "binance", "timeframe": "5m", "sizeBytes": 2 * 1048576, "downloadedAt": iso(NOW - timedelta(days=1)),
                 "pairs": {"BTC/USDT": {"first": "2026-10-01T00:00:00Z", "last": "2026-11-30T23:55:00Z", "candles": 17568}}},
                {"key": "kraken-1h", "exchange": "kraken", "timeframe": "1h", "sizeBytes": 1048576, "downloadedAt": iso(NOW - timedelta(days=4)),
                 "pairs": {"ETH/USDT": {"first": "2026-09-01T00:00:00Z", "last": "2026-11-30T23:00:00Z", "candles": 2184}}}]}
            self.seq = 0

    def backtest(self, bt_id: str) -> dict:
        with self.lock:
            return next(b for b in self.backtests if b["id"] == bt_id)

    def fail_next(self, method: str, path: str, status: int, error: dict) -> None:
        """The next `method path` answers `status` with `{"error": error}`, whatever it asks."""
        with self.lock:
            self.failures[(method, path)] = (status, error)

    def calls(self, method: str, path: str | None = None, prefix: str | None = None) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["method"] == method
                    and (path is None or r["path"] == path) and (prefix is None or r["path"].startswith(prefix))]

    # ---------- server ----------

    def start(self) -> str:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):  # quiet: the test output is the failures
                pass

            def do_GET(self):
                standin.handle(self, "GET")

            def do_POST(self):
                standin.handle(self, "POST")

            def do_PATCH(self):
                standin.handle(self, "PATCH")

            def do_DELETE(self):
                standin.handle(self, "DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    # ---------- HTTP ----------

    def send(self, handler, status: int, body: bytes = b"", content_type: str | None = None, extra: dict | None = None) -> None:
        handler.send_response(status)
        # The portal's hardening headers (Sources/FTAPortal/HTTP/Middleware.swift), on every answer.
        headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Content-Security-Policy": self.csp,
                   "X-Frame-Options": "DENY", "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Resource-Policy": "same-origin",
                   "Cache-Control": "no-store", "Content-Length": str(len(body))}
        if content_type:
            headers["Content-Type"] = content_type
        headers.update(extra or {})
        for k, v in headers.items():
            handler.send_header(k, v)
        handler.end_headers()
        if body and handler.command != "HEAD":
            handler.wfile.write(body)

    def send_json(self, handler, status: int, body, extra: dict | None = None) -> None:
        if status == 204:
            self.send(handler, 204, extra=extra)
            return
        self.send(handler, status, json.dumps(body).encode(), "application/json", extra)

    def handle(self, handler, method: str) -> None:
        parts = urlsplit(handler.path)
        path = unquote(parts.path)
        if path.startswith("/api/v1/"):
            self.handle_api(handler, method, path[len("/api/v1"):], parse_qs(parts.query))
        elif method == "GET":
            self.serve_file(handler, path)
        else:
            self.send_json(handler, 405, {"error": {"code": "method_not_allowed", "message": "This method is not allowed here."}})

    def serve_file(self, handler, path: str) -> None:
        if path == "/vendor/chart.js/chart.min.js":
            file = CHARTJS
        else:
            file = (WEB_ROOT / (path.lstrip("/") or "index.html")).resolve()
            if WEB_ROOT.resolve() not in file.parents or not file.is_file():
                body = (WEB_ROOT / "404.html").read_bytes()
                self.send(handler, 404, body, "text/html; charset=utf-8")
                return
        if not file.is_file():
            self.send(handler, 404, b"missing", "text/plain")
            return
        types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8",
                 ".svg": "image/svg+xml", ".json": "application/json"}
        self.send(handler, 200, file.read_bytes(), types.get(file.suffix, mimetypes.guess_type(file.name)[0] or "application/octet-stream"))

    def handle_api(self, handler, method: str, path: str, query: dict) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        body = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = "<not json>"
        cookie = handler.headers.get("Cookie") or ""
        token = next((c.split("=", 1)[1] for c in cookie.split("; ") if c.startswith("fta_session=")), None)
        record = {"method": method, "path": path, "query": {k: v[0] for k, v in query.items()}, "body": body,
                  "contentType": handler.headers.get("Content-Type"), "origin": handler.headers.get("Origin"),
                  "fetchSite": handler.headers.get("Sec-Fetch-Site")}
        with self.lock:
            self.requests.append(record)
            user = USERS.get(self.sessions.get(token or "", ""), None)
            username = self.sessions.get(token or "")
            failure = self.failures.pop((method, path), None)
        try:
            if method != "GET":
                # The portal's CSRF rules (docs/api.md): JSON only, never from another site.
                if (handler.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
                    raise APIError(415, "unsupported_media_type", "Send JSON (Content-Type: application/json).")
                origin = handler.headers.get("Origin")
                if (origin and origin != self.url) or handler.headers.get("Sec-Fetch-Site") not in (None, "same-origin", "none"):
                    raise APIError(403, "cross_site", "Cross-site requests are refused.")
            if path == "/auth/login" and method == "POST":
                return self.login(handler, body or {})
            if not user:
                raise APIError(401, "unauthenticated", "You are not signed in.")
            if failure:
                return self.send_json(handler, failure[0], {"error": failure[1]})
            role = user[1]
            if method != "GET" and role == "viewer":
                raise APIError(403, "forbidden", "Viewers cannot change anything.")
            with self.lock:
                status, answer = self.route(method, path, query, body, username, role)
            self.send_json(handler, status, answer)
        except APIError as e:
            error = {"code": e.code, "message": e.message}
            if e.fields:
                error["fields"] = e.fields
            self.send_json(handler, e.status, {"error": error})

    def login(self, handler, body: dict) -> None:
        found = USERS.get(body.get("username", ""))
        if not found or found[0] != body.get("password"):
            raise APIError(401, "invalid_credentials", "Wrong username or password.")
        token = secrets.token_urlsafe(16)
        with self.lock:
            self.sessions[token] = body["username"]
        self.send_json(handler, 200, {"user": self.user(body["username"])},
                       {"Set-Cookie": f"fta_session={token}; HttpOnly; SameSite=Strict; Path=/"})

    def user(self, username: str) -> dict:
        _, role, client = USERS[username]
        return {"id": list(USERS).index(username) + 1, "username": username, "role": role, "clientId": client, "disabled": False,
                "createdAt": iso(NOW - timedelta(days=30))}

    # ---------- routes ----------

    def route(self, method: str, path: str, query: dict, body, username: str, role: str):
        admin = role == "admin"
        client = next((c for c in self.clients if c["id"] == CLIENT), None)
        seg = path.strip("/").split("/")
        if path == "/me":
            return 200, {"user": self.user(username), "client": None if admin else client,
                         "budget": {"memoryMB": 4096, "usedMB": 256, "freeMB": 3840}}
        if path == "/catalog":
            return 200, {"exchanges": ["binance", "kraken"], "timeframes": ["1m", "5m", "15m", "1h"],
                         "strategies": [{"id": s["name"], "name": s["displayName"], "description": s["summary"]} for s in SHIPPED],
                         "sizes": [{"id": "small", "memoryMB": 256, "cpus": 0.5}, {"id": "medium", "memoryMB": 512, "cpus": 1}],
                         "stakeCurrencies": ["USDT"], "limits": {"maxPairs": 20}}
        if path == "/events":
            return 200, {"events": []}

        # strategies
        if path == "/strategies" and method == "GET":
            custom = [{k: v for k, v in s.items() if k != "source"} for s in self.custom]
            return 200, {"customEnabled": bool(client and client["customStrategies"]), "shipped": SHIPPED, "custom": custom}
        if path == "/strategies" and method == "POST":
            if not admin and not client["customStrategies"]:
                raise APIError(403, "forbidden", "Custom strategies are not enabled for your client.")
            name = str(body.get("fileName", ""))
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}\.py", name) or name[:-3] in {s["name"] for s in SHIPPED}:
                raise APIError(400, "validation_failed", "Some fields are not valid.", {"fileName": "must be <ClassName>.py, not a shipped name"})
            if f"class {name[:-3]}(" not in str(body.get("source", "")):
                raise APIError(400, "validation_failed", "Some fields are not valid.", {"source": f"has no 'class {name[:-3]}(' line"})
            entry = {"name": name[:-3], "version": secrets.token_hex(32), "sizeBytes": len(body["source"].encode()), "status": "validating",
                     "message": None, "uploadedAt": iso(datetime.now(timezone.utc)), "uploadedBy": username, "clientId": CLIENT,
                     "source": body["source"]}
            self.custom = [s for s in self.custom if s["name"] != entry["name"]] + [entry]
            return 202, {"strategy": {k: v for k, v in entry.items() if k != "source"}}
        if seg[0] == "strategies" and len(seg) == 3 and seg[2] == "parameters":
            if seg[1] not in {s["name"] for s in SHIPPED} | {s["name"] for s in self.custom}:
                raise APIError(404, "not_found", "No such strategy.")
            return 200, dict(copy.deepcopy(PARAMETERS), className=seg[1])
        if seg[0] == "strategies" and len(seg) == 2:
            found = next((s for s in self.custom if s["name"] == seg[1]), None)
            if not found:
                raise APIError(404, "not_found", "No such strategy.")
            if method == "DELETE":
                self.custom.remove(found)
                return 204, None
            versions = [{k: v for k, v in found.items() if k != "source"},
                        {"name": found["name"], "version": "ef" * 32, "sizeBytes": 1500, "status": "invalid", "message": "SyntaxError: invalid syntax (line 3)",
                         "uploadedAt": iso(NOW - timedelta(days=5)), "uploadedBy": "olivia", "clientId": CLIENT}]
            return 200, {"name": found["name"], "clientId": CLIENT, "versions": versions, "source": found["source"]}

        # backtests
        if path == "/backtests" and method == "GET":
            return 200, {"backtests": [{k: v for k, v in b.items() if k not in ("result", "comparison")} for b in self.backtests]}
        if path == "/backtests" and method == "POST":
            return self.create_backtest(body, username)
        if path == "/backtests/compare":
            ids = [i for i in query.get("ids", [""])[0].split(",") if i]
            if not 2 <= len(ids) <= 4:
                raise APIError(400, "bad_request", "Name 2 to 4 backtests.")
            found = []
            for i in ids:
                b = next((x for x in self.backtests if x["id"] == i), None)
                if not b:
                    raise APIError(404, "not_found", f"No backtest {i}.")
                out = {k: v for k, v in b.items() if k not in ("result", "comparison")}
                if b["result"]:
                    out.update(metrics=b["result"]["metrics"], equity=b["result"]["equity"])
                found.append(out)
            return 200, {"backtests": found}
        if seg[0] == "backtests" and len(seg) >= 2:
            b = next((x for x in self.backtests if x["id"] == seg[1]), None)
            if not b:
                raise APIError(404, "not_found", "No such backtest.")
            if len(seg) == 2 and method == "GET":
                return 200, {"backtest": b}
            if len(seg) == 2 and method == "DELETE":
                self.backtests.remove(b)
                return 204, None
            if seg[2:] == ["cancel"] and method == "POST":
                if b["status"] not in ("queued", "downloading", "running"):
                    raise APIError(409, "conflict", "The backtest has already finished.")
                b.update(status="cancelled", phase="done", finishedAt=iso(datetime.now(timezone.utc)))
                return 200, {"backtest": b}
            if seg[2:] == ["bot"] and method == "POST":
                if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,30}", str(body.get("id", ""))):
                    raise APIError(400, "validation_failed", "Some fields are not valid.", {"id": "must be lowercase letters, digits and dashes"})
                if body["id"] in self.bots:
                    raise APIError(409, "conflict", "You already have a bot with the id.")
                new = bot(body["id"], body.get("name", ""), pairs=b["pairs"], timeframe=b["timeframe"], size=body.get("size") or "small",
                          strategy=b["strategy"], state="starting", desiredState="running")
                self.bots[new["id"]] = new
                return 201, {"bot": new}

        # bots (what the bot page reads) and replays
        if seg[0] == "bots" and len(seg) >= 2:
            b = self.bots.get(seg[1])
            if not b:
                raise APIError(404, "not_found", "No such bot.")
            if len(seg) == 2:
                return 200, {"bot": b}
            if seg[2:] == ["logs"]:
                return 200, {"lines": ["2026-12-03 10:00:00 freqtrade stand-in: stopped"]}
            if seg[2:] == ["replay"] and method == "POST":
                self.seq += 1
                replay = backtest(f"bt-replay-{self.seq}", b["strategy"], "queued", botId=b["id"], createdBy=username,
                                  timerange=f"{int((NOW - timedelta(days=2)).timestamp())}-{int(NOW.timestamp())}",
                                  progress={"elapsedSeconds": 0, "timeLimitSeconds": 600}, createdAt=iso(datetime.now(timezone.utc)))
                self.backtests.insert(0, replay)
                return 202, {"backtest": replay}
            raise APIError(409, "bot_not_running", "The bot is not running.")

        # operator
        if path == "/clients" and admin:
            return 200, {"clients": self.clients}
        if seg[0] == "clients" and len(seg) == 2 and method == "PATCH" and admin:
            c = next((x for x in self.clients if x["id"] == seg[1]), None)
            if not c:
                raise APIError(404, "not_found", "No such client.")
            if set(body) != {"customStrategies"} or not isinstance(body["customStrategies"], bool):
                raise APIError(400, "validation_failed", "Some fields are not valid.", {"customStrategies": "must be true or false"})
            c["customStrategies"] = body["customStrategies"]
            return 200, {"client": c}
        if seg[0] == "clients" and seg[2:] == ["users"] and admin:
            return 200, {"users": []}
        if path == "/lab/data" and admin:
            return 200, self.lab_data
        if seg[:2] == ["lab", "data"] and len(seg) == 3 and method == "DELETE" and admin:
            before = len(self.lab_data["sets"])
            self.lab_data["sets"] = [s for s in self.lab_data["sets"] if s["key"] != seg[2]]
            if len(self.lab_data["sets"]) == before:
                raise APIError(404, "not_found", "No such data set.")
            return 204, None
        if admin or path.startswith(("/clients", "/lab/")):
            raise APIError(403 if not admin else 404, "forbidden" if not admin else "not_found", "Not here.")
        raise APIError(404, "not_found", "No such page or endpoint.")

    def create_backtest(self, body, username: str):
        if not isinstance(body, dict):
            raise APIError(400, "bad_request", "The request is malformed.")
        allowed = {"strategy", "pairs", "timeframe", "timerange", "dryRunWallet", "stakeAmount", "maxOpenTrades", "tuning", "exchange"}
        if set(body) - allowed:
            raise APIError(400, "bad_request", f"Unknown fields: {sorted(set(body) - allowed)}")
        fields = {}
        for pair in body.get("pairs", []):
            if pair.startswith("NOPE/"):
                fields["pairs"] = f"{pair} is not traded on {body.get('exchange', 'binance')}."
        if not re.fullmatch(r"\d{8}-\d{8}", str(body.get("timerange", ""))):
            fields["timerange"] = "must be YYYYMMDD-YYYYMMDD"
        if fields:
            raise APIError(400, "validation_failed", "Some fields are not valid.", fields)
        self.seq += 1
        bt = backtest(f"bt-new-{self.seq}", body["strategy"], "queued", createdBy=username, pairs=body["pairs"], timeframe=body["timeframe"],
                      timerange=body["timerange"], dryRunWallet=body["dryRunWallet"], stakeAmount=body["stakeAmount"],
                      maxOpenTrades=body["maxOpenTrades"], tuning=body.get("tuning"), exchange=body.get("exchange") or "binance",
                      progress={"elapsedSeconds": 0, "timeLimitSeconds": 600}, createdAt=iso(datetime.now(timezone.utc)))
        self.backtests.insert(0, bt)
        return 202, {"backtest": bt}
