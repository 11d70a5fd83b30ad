#!/usr/bin/env python3
"""A local, deterministic stand-in for Binance's public spot REST API, for Freqtrade tests.

Freqtrade reaches exchanges through ccxt; ccxt's binance class lets a config replace its API base
URLs (`ccxt_config.urls.api`), so a dry-run bot can be pointed at this server instead of the
internet. It answers what Freqtrade (ccxt 4.5) calls in dry-run on spot markets: ping, server time,
exchangeInfo, klines, 24h tickers, book tickers, price tickers, order book depth, recent trades,
and average price. Private and unknown endpoints answer with a Binance-style JSON error.

Prices come from a seeded random walk per pair on one-minute candles, starting `--history-minutes`
before the server started; other intervals are aggregated from those candles, so every timeframe
agrees. The same seed gives the same candle sequence. Within the current minute the ticker and
the order book follow the candle's path (open, low, high, close), so prices move every second.

Stdlib only. Usage:
    market_sim.py [--host 127.0.0.1] [--port 8765] [--seed 42] [--history-minutes 10080] [--quiet]
`--port 0` picks a free port. The first line on stdout is `market_sim listening on http://H:P`.
GET /__sim/stats (not part of Binance's API) returns request counts by path, for tests.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MINUTE_MS = 60_000

# symbol -> (base, quote, starting price, tick size, step size)
PAIRS = {
    "BTCUSDT": ("BTC", "USDT", 60000.0, "0.01", "0.00001"),
    "ETHUSDT": ("ETH", "USDT", 3000.0, "0.01", "0.0001"),
    "BNBUSDT": ("BNB", "USDT", 600.0, "0.01", "0.001"),
    "SOLUSDT": ("SOL", "USDT", 150.0, "0.01", "0.001"),
    "XRPUSDT": ("XRP", "USDT", 0.6, "0.0001", "0.1"),
    "ADAUSDT": ("ADA", "USDT", 0.45, "0.0001", "0.1"),
    "ETHBTC": ("ETH", "BTC", 0.05, "0.00001", "0.0001"),
}

INTERVALS = {
    "1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30,
    "1h": 60, "2h": 120, "4h": 240, "6h": 360, "8h": 480, "12h": 720, "1d": 1440,
}

# One-minute log-return standard deviation: 0.25 % moves prices visibly within a few candles,
# which is what the strategies under test need to produce signals.
MINUTE_SIGMA = 0.0025


def now_ms() -> int:
    return int(time.time() * 1000)


def fmt(value: float, tick: str) -> str:
    """Formats a price or quantity on the pair's grid, as Binance does (fixed decimals)."""
    decimals = len(tick.split(".")[1]) if "." in tick else 0
    step = float(tick)
    return f"{round(value / step) * step:.{decimals}f}"


class Walk:
    """One pair's one-minute candles, generated lazily from a seeded RNG, oldest first."""

    def __init__(self, symbol: str, seed: int, start_minute: int) -> None:
        self.symbol = symbol
        self.tick = PAIRS[symbol][3]
        self.rng = random.Random(f"{seed}:{symbol}")
        self.start_minute = start_minute
        self.price = PAIRS[symbol][2]
        self.candles: list[tuple[float, float, float, float, float]] = []  # o, h, l, c, volume
        self.lock = threading.Lock()

    def _extend_to(self, minute: int) -> None:
        while self.start_minute + len(self.candles) <= minute:
            rng = self.rng
            open_ = self.price
            # Mild pull back towards the starting price keeps long runs in a sensible range.
            drift = -0.0005 * math.log(open_ / PAIRS[self.symbol][2])
            close = open_ * math.exp(drift + rng.gauss(0.0, MINUTE_SIGMA))
            high = max(open_, close) * (1 + abs(rng.gauss(0.0, MINUTE_SIGMA / 2)))
            low = min(open_, close) * (1 - abs(rng.gauss(0.0, MINUTE_SIGMA / 2)))
            volume = 10 + rng.random() * 90
            self.candles.append((open_, high, low, close, volume))
            self.price = close

    def minutes(self, first: int, last: int) -> list[tuple[int, tuple[float, float, float, float, float]]]:
        """The one-minute candles whose minute index is in [first, last], clipped to the history."""
        first = max(first, self.start_minute)
        with self.lock:
            self._extend_to(last)
            return [(m, self.candles[m - self.start_minute]) for m in range(first, last + 1)]

    def last_price(self) -> float:
        """The price now: inside the current candle, open -> low -> high -> close (or open -> high
        -> low -> close for a falling candle), so tickers and order books move every second and
        dry-run limit orders get crossed within the minute, as on a live market."""
        t = now_ms()
        current = t // MINUTE_MS
        with self.lock:
            self._extend_to(current)
            o, h, l, c, _ = self.candles[current - self.start_minute]
        path = [o, l, h, c] if c >= o else [o, h, l, c]
        x = (t % MINUTE_MS) / MINUTE_MS * 3
        i = min(int(x), 2)
        return path[i] + (path[i + 1] - path[i]) * (x - i)


class Market:
    def __init__(self, seed: int, history_minutes: int) -> None:
        start = now_ms() // MINUTE_MS - history_minutes
        self.walks = {symbol: Walk(symbol, seed, start) for symbol in PAIRS}
        self.start_minute = start
        self.stats: dict[str, int] = {}
        self.stats_lock = threading.Lock()

    def count(self, path: str) -> None:
        with self.stats_lock:
            self.stats[path] = self.stats.get(path, 0) + 1

    def klines(self, symbol: str, interval: str, start: int | None, end: int | None, limit: int) -> list:
        tf = INTERVALS[interval]
        tf_ms = tf * MINUTE_MS
        current_open = now_ms() // tf_ms * tf_ms
        last_open = min(current_open, end // tf_ms * tf_ms) if end is not None else current_open
        if start is not None:
            first_open = -(-start // tf_ms) * tf_ms
            first_open = max(first_open, self.start_minute * MINUTE_MS // tf_ms * tf_ms)
            last_open = min(last_open, first_open + (limit - 1) * tf_ms)
        else:
            first_open = last_open - (limit - 1) * tf_ms
        if last_open < first_open:
            return []
        walk = self.walks[symbol]
        minutes = walk.minutes(first_open // MINUTE_MS, min(last_open // MINUTE_MS + tf - 1, now_ms() // MINUTE_MS))
        rows: dict[int, list] = {}
        for minute, (o, h, l, c, v) in minutes:
            open_time = minute * MINUTE_MS // tf_ms * tf_ms
            row = rows.get(open_time)
            if row is None:
                rows[open_time] = [o, h, l, c, v]
            else:
                row[1] = max(row[1], h)
                row[2] = min(row[2], l)
                row[3] = c
                row[4] += v
        out = []
        for open_time in sorted(rows):
            o, h, l, c, v = rows[open_time]
            out.append([
                open_time, fmt(o, walk.tick), fmt(h, walk.tick), fmt(l, walk.tick), fmt(c, walk.tick),
                f"{v:.5f}", open_time + tf_ms - 1, f"{v * c:.8f}", int(v * 7), f"{v / 2:.5f}",
                f"{v * c / 2:.8f}", "0",
            ])
        return out[:limit]

    def book(self, symbol: str) -> tuple[float, float, float]:
        """(bid, ask, last): a spread of two ticks or 0.01 %, whichever is wider, around the last price."""
        walk = self.walks[symbol]
        last = walk.last_price()
        half = max(float(walk.tick) * 2, last * 0.0001) / 2
        return last - half, last + half, last


class Handler(BaseHTTPRequestHandler):
    server_version = "fta-market-sim/1"
    protocol_version = "HTTP/1.1"
    market: Market
    quiet = False

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (BaseHTTPRequestHandler's name)
        if not self.quiet:
            sys.stderr.write("market_sim: %s\n" % (format % args))

    def send_json(self, status: int, body) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def error(self, status: int, code: int, msg: str) -> None:
        self.send_json(status, {"code": code, "msg": msg})

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def do_POST(self) -> None:  # noqa: N802
        self.market.count(urlsplit(self.path).path)
        self.error(401, -2015, "Invalid API-key, IP, or permissions for action (simulator: public API only).")

    do_DELETE = do_PUT = do_POST

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        path = url.path
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.market.count(path)
        route = ROUTES.get(path)
        if route is None:
            sys.stderr.write(f"market_sim: unknown endpoint {path}\n")
            self.error(404, -1000, f"Unknown endpoint {path} (fta market simulator)")
            return
        try:
            route(self, query)
        except BadRequest as e:
            self.error(400, e.code, e.msg)

    # --- general -----------------------------------------------------------------------------

    def ping(self, q) -> None:
        self.send_json(200, {})

    def time(self, q) -> None:
        self.send_json(200, {"serverTime": now_ms()})

    def exchange_info(self, q) -> None:
        symbols = []
        for symbol, (base, quote, _, tick, step) in PAIRS.items():
            symbols.append({
                "symbol": symbol, "status": "TRADING", "baseAsset": base, "baseAssetPrecision": 8,
                "quoteAsset": quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
                "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True,
                "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": True, "cancelReplaceAllowed": True,
                "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": "1000000.00000000", "tickSize": tick},
                    {"filterType": "LOT_SIZE", "minQty": step, "maxQty": "9000000.00000000", "stepSize": step},
                    {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": "9000000.00000000", "stepSize": "0.00000000"},
                    {"filterType": "NOTIONAL", "minNotional": "0.0001" if quote == "BTC" else "5.00000000",
                     "applyMinToMarket": True, "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
                    {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
                ],
                "permissions": [], "permissionSets": [["SPOT"]],
                "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
            })
        self.send_json(200, {
            "timezone": "UTC", "serverTime": now_ms(),
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
            ],
            "exchangeFilters": [], "symbols": symbols,
        })

    # --- market data -------------------------------------------------------------------------

    def klines(self, q) -> None:
        symbol = symbol_of(q)
        interval = q.get("interval", "")
        if interval not in INTERVALS:
            raise BadRequest(-1120, "Invalid interval.")
        limit = min(max(int_of(q, "limit", 500), 1), 1000)
        self.send_json(200, self.market.klines(symbol, interval, opt_int(q, "startTime"), opt_int(q, "endTime"), limit))

    def ticker_24hr(self, q) -> None:
        self.send_json(200, self.each_symbol(q, self.ticker_of))

    def book_ticker(self, q) -> None:
        def one(symbol: str) -> dict:
            walk = self.market.walks[symbol]
            bid, ask, _ = self.market.book(symbol)
            return {"symbol": symbol, "bidPrice": fmt(bid, walk.tick), "bidQty": "5.00000000",
                    "askPrice": fmt(ask, walk.tick), "askQty": "5.00000000"}
        self.send_json(200, self.each_symbol(q, one))

    def ticker_price(self, q) -> None:
        def one(symbol: str) -> dict:
            walk = self.market.walks[symbol]
            return {"symbol": symbol, "price": fmt(walk.last_price(), walk.tick)}
        self.send_json(200, self.each_symbol(q, one))

    def avg_price(self, q) -> None:
        symbol = symbol_of(q)
        walk = self.market.walks[symbol]
        self.send_json(200, {"mins": 5, "price": fmt(walk.last_price(), walk.tick), "closeTime": now_ms()})

    def depth(self, q) -> None:
        symbol = symbol_of(q)
        walk = self.market.walks[symbol]
        levels = min(max(int_of(q, "limit", 100), 1), 5000)
        bid, ask, _ = self.market.book(symbol)
        step = max(float(walk.tick), bid * 0.0001)
        self.send_json(200, {
            "lastUpdateId": now_ms(),
            "bids": [[fmt(bid - i * step, walk.tick), f"{1 + i:.8f}"] for i in range(min(levels, 50))],
            "asks": [[fmt(ask + i * step, walk.tick), f"{1 + i:.8f}"] for i in range(min(levels, 50))],
        })

    def trades(self, q) -> None:
        symbol = symbol_of(q)
        walk = self.market.walks[symbol]
        t = now_ms()
        price = walk.last_price()
        limit = min(max(int_of(q, "limit", 500), 1), 1000)
        self.send_json(200, [
            {"id": t - i, "price": fmt(price, walk.tick), "qty": "0.10000000", "quoteQty": fmt(price / 10, walk.tick),
             "time": t - i * 1000, "isBuyerMaker": i % 2 == 0, "isBestMatch": True}
            for i in range(min(limit, 10))
        ][::-1])

    # --- helpers -----------------------------------------------------------------------------

    def ticker_of(self, symbol: str) -> dict:
        walk = self.market.walks[symbol]
        t = now_ms()
        day = self.market.klines(symbol, "1m", t - 24 * 60 * MINUTE_MS, None, 1000)
        bid, ask, last = self.market.book(symbol)
        open_ = float(day[0][1]) if day else last
        high = max([float(k[2]) for k in day] or [last])
        low = min([float(k[3]) for k in day] or [last])
        volume = sum(float(k[5]) for k in day)
        return {
            "symbol": symbol, "priceChange": fmt(last - open_, walk.tick),
            "priceChangePercent": f"{(last / open_ - 1) * 100:.3f}", "weightedAvgPrice": fmt((high + low) / 2, walk.tick),
            "prevClosePrice": fmt(open_, walk.tick), "lastPrice": fmt(last, walk.tick), "lastQty": "0.10000000",
            "bidPrice": fmt(bid, walk.tick), "bidQty": "5.00000000", "askPrice": fmt(ask, walk.tick), "askQty": "5.00000000",
            "openPrice": fmt(open_, walk.tick), "highPrice": fmt(high, walk.tick), "lowPrice": fmt(low, walk.tick),
            "volume": f"{volume:.8f}", "quoteVolume": f"{volume * last:.8f}",
            "openTime": t - 24 * 60 * MINUTE_MS, "closeTime": t, "firstId": 1, "lastId": 1000, "count": 1000,
        }

    def each_symbol(self, q, one):
        if "symbol" in q:
            return one(symbol_of(q))
        if "symbols" in q:
            try:
                wanted = json.loads(q["symbols"])
            except ValueError:
                raise BadRequest(-1100, "Illegal characters found in parameter 'symbols'.") from None
            unknown = [s for s in wanted if s not in PAIRS]
            if unknown:
                raise BadRequest(-1121, "Invalid symbol.")
            return [one(s) for s in wanted]
        return [one(s) for s in PAIRS]

    def stats(self, q) -> None:
        with self.market.stats_lock:
            self.send_json(200, {"requests": dict(self.market.stats), "startMinute": self.market.start_minute})


class BadRequest(Exception):
    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


def symbol_of(q) -> str:
    symbol = q.get("symbol", "")
    if symbol not in PAIRS:
        raise BadRequest(-1121, "Invalid symbol.")
    return symbol


def int_of(q, name: str, default: int) -> int:
    value = opt_int(q, name)
    return default if value is None else value


def opt_int(q, name: str) -> int | None:
    if name not in q:
        return None
    try:
        return int(q[name])
    except ValueError:
        raise BadRequest(-1100, f"Illegal characters found in parameter '{name}'.") from None


ROUTES = {
    "/api/v3/ping": Handler.ping,
    "/api/v3/time": Handler.time,
    "/api/v3/exchangeInfo": Handler.exchange_info,
    "/api/v3/klines": Handler.klines,
    "/api/v3/uiKlines": Handler.klines,
    "/api/v3/ticker/24hr": Handler.ticker_24hr,
    "/api/v3/ticker/bookTicker": Handler.book_ticker,
    "/api/v3/ticker/price": Handler.ticker_price,
    "/api/v3/avgPrice": Handler.avg_price,
    "/api/v3/depth": Handler.depth,
    "/api/v3/trades": Handler.trades,
    "/__sim/stats": Handler.stats,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--history-minutes", type=int, default=7 * 24 * 60,
                        help="how far back candles exist (default one week of 1m candles)")
    parser.add_argument("--quiet", action="store_true", help="log only unknown endpoints")
    args = parser.parse_args(argv)

    Handler.market = Market(args.seed, args.history_minutes)
    Handler.quiet = args.quiet
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    print(f"market_sim listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
