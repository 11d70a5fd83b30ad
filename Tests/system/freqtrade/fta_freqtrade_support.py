"""Helpers for the real-Freqtrade system tests: the market simulator, configs, the bot's REST API.

The bot config written here mirrors what fta renders (Sources/FTACore/Freqtrade/FreqtradeConfig.swift)
plus the exchange block documented in docs/freqtrade-testing.md, which points ccxt's binance class
at market_sim.py.
"""

from __future__ import annotations

import base64
import json
import math
import os
import random
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
MARKET_SIM = HERE / "market_sim.py"
VENV_SH = REPO / "scripts" / "lib" / "freqtrade-venv.sh"
IMAGE_SH = REPO / "scripts" / "build-freqtrade-image.sh"

# The start command fta gives a bot container (Entrypoint ["/bin/sh", "-c"]): config and strategy
# arrive in the environment and are written to the tmpfs; the root file system stays read-only.
START_SCRIPT = """set -eu
umask 077
mkdir -p /tmp/fta/strategies
printf '%s' "$FTA_CONFIG" > /tmp/fta/config.json
printf '%s' "$FTA_STRATEGY_SOURCE" > "/tmp/fta/strategies/$FTA_STRATEGY.py"
unset FTA_CONFIG FTA_STRATEGY_SOURCE
exec freqtrade trade --dry-run -c /tmp/fta/config.json --strategy-path /tmp/fta/strategies --strategy "$FTA_STRATEGY" --userdir /freqtrade/user_data
"""


def unavailable(reason: str) -> None:
    """A missing component: a failure under CI=true, a skip otherwise."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"required component missing (CI=true): {reason}", pytrace=False)
    pytest.skip(reason)


# --- the simulated exchange --------------------------------------------------------------------

def sim_ccxt_config(base_url: str) -> dict:
    """The `ccxt_config` that sends ccxt's binance class to market_sim.py at base_url, spot only."""
    return {
        "urls": {
            "api": {
                "public": f"{base_url}/api/v3",
                "private": f"{base_url}/api/v3",
                "v1": f"{base_url}/api/v1",
                "sapi": f"{base_url}/sapi/v1",
            }
        },
        "options": {"fetchMarkets": {"types": ["spot"]}},
    }


def sim_exchange_block(base_url: str, pairs: list[str]) -> dict:
    """The whole `exchange` block of a Freqtrade config that trades on market_sim.py."""
    return {
        "name": "binance",
        "key": "",
        "secret": "",
        "ccxt_config": sim_ccxt_config(base_url),
        "ccxt_async_config": {},
        # ccxt.pro would open websockets to the real exchange, which the URL override does not cover.
        "enable_ws": False,
        "pair_whitelist": pairs,
        "pair_blacklist": [],
    }


class MarketSim:
    """market_sim.py in a child process; `url` is its base URL."""

    def __init__(self, host: str = "127.0.0.1", seed: int = 42, python: str = sys.executable) -> None:
        self.proc = subprocess.Popen(
            [python, str(MARKET_SIM), "--host", host, "--port", "0", "--seed", str(seed), "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        line = self.proc.stdout.readline().strip()
        match = re.match(r"market_sim listening on (http://\S+)$", line)
        if not match:
            self.stop()
            raise RuntimeError(f"market_sim did not start: {line!r} {self.proc.stderr.read()}")
        self.url = match.group(1)

    def stats(self) -> dict[str, int]:
        with urllib.request.urlopen(f"{self.url}/__sim/stats", timeout=5) as resp:
            return json.load(resp)["requests"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --- configs -----------------------------------------------------------------------------------

def api_credentials() -> dict:
    return {
        "username": "fta-" + secrets.token_hex(4),
        "password": secrets.token_urlsafe(24),
        "jwt_secret_key": secrets.token_hex(32),
        "ws_token": secrets.token_urlsafe(24),
    }


def bot_config(*, exchange: dict, strategy: str, timeframe: str, credentials: dict,
               listen: str = "0.0.0.0", port: int = 8080,
               db_url: str = "sqlite:////freqtrade/user_data/tradesv3.dryrun.sqlite") -> dict:
    """A dry-run bot config with the keys fta renders. Without `fiat_display_currency`: with it,
    Freqtrade calls CoinGecko on the internet at start-up and for every profit report."""
    return {
        "bot_name": "fta-test-bot",
        "dry_run": True,
        "dry_run_wallet": 1000,
        "max_open_trades": 2,
        "stake_currency": "USDT",
        "stake_amount": 100,
        "timeframe": timeframe,
        "initial_state": "running",
        "trading_mode": "spot",
        "exchange": exchange,
        "api_server": {
            "enabled": True,
            "listen_ip_address": listen,
            "listen_port": port,
            "verbosity": "error",
            "enable_openapi": False,
            "jwt_secret_key": credentials["jwt_secret_key"],
            "ws_token": credentials["ws_token"],
            "CORS_origins": [],
            "username": credentials["username"],
            "password": credentials["password"],
        },
        "strategy": strategy,
        "db_url": db_url,
        "tradable_balance_ratio": 0.99,
        "cancel_open_orders_on_exit": False,
        "force_entry_enable": False,
        "unfilledtimeout": {"entry": 10, "exit": 10, "exit_timeout_count": 0, "unit": "minutes"},
        "entry_pricing": {"price_side": "same", "use_order_book": True, "order_book_top": 1,
                          "price_last_balance": 0.0},
        "exit_pricing": {"price_side": "same", "use_order_book": True, "order_book_top": 1},
        "pairlists": [{"method": "StaticPairList"}],
        "telegram": {"enabled": False, "token": "", "chat_id": ""},
        "internals": {"process_throttle_secs": 5},
    }


# --- synthetic history for backtests -----------------------------------------------------------

def write_ohlcv_json(datadir: Path, pair: str, timeframe_minutes: int, candles: int, seed: int,
                     start_price: float, end_ms: int) -> Path:
    """Writes a seeded random walk as Freqtrade's json OHLCV file (data/<exchange>/BASE_QUOTE-Nm.json)."""
    rng = random.Random(f"{seed}:{pair}:{timeframe_minutes}")
    step_ms = timeframe_minutes * 60_000
    first = end_ms // step_ms * step_ms - candles * step_ms
    price = start_price
    rows = []
    for i in range(candles):
        open_ = price
        # Slow swings on top of noise: trends for the EMA cross, dips for RSI and Bollinger.
        swing = 0.002 * math.sin(i / 60.0)
        close = open_ * (1 + swing + rng.gauss(0.0, 0.004))
        high = max(open_, close) * (1 + abs(rng.gauss(0.0, 0.002)))
        low = min(open_, close) * (1 - abs(rng.gauss(0.0, 0.002)))
        rows.append([first + i * step_ms, round(open_, 2), round(high, 2), round(low, 2), round(close, 2),
                     round(10 + rng.random() * 90, 4)])
        price = close
    datadir.mkdir(parents=True, exist_ok=True)
    path = datadir / f"{pair.replace('/', '_')}-{timeframe_minutes}m.json"
    path.write_text(json.dumps(rows))
    return path


# --- the bot's REST API ------------------------------------------------------------------------

class BotAPI:
    """Freqtrade's REST API with token login (POST /api/v1/token/login, HTTP basic credentials)."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.basic = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.token: str | None = None

    def _call(self, method: str, path: str, auth: str) -> object:
        req = urllib.request.Request(f"{self.base_url}/api/v1/{path}", method=method,
                                     headers={"Authorization": auth})
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.load(resp)

    def login(self) -> None:
        self.token = self._call("POST", "token/login", f"Basic {self.basic}")["access_token"]

    def get(self, path: str) -> object:
        if self.token is None:
            self.login()
        try:
            return self._call("GET", path, f"Bearer {self.token}")
        except urllib.error.HTTPError as err:
            if err.code != 401:
                raise
            self.login()
            return self._call("GET", path, f"Bearer {self.token}")


def wait_for_open_trade(api: BotAPI, timeout: float, alive=lambda: True) -> tuple[list, float]:
    """Polls /status until it lists an open trade; returns (trades, seconds waited)."""
    started = time.monotonic()
    last_error = "no answer yet"
    while time.monotonic() - started < timeout:
        if not alive():
            raise AssertionError("the bot stopped before a trade opened")
        try:
            trades = api.get("status")
            if isinstance(trades, list) and any(t.get("is_open") for t in trades):
                return trades, time.monotonic() - started
            last_error = f"status: {trades!r}"[:200]
        except (OSError, ValueError, KeyError) as err:  # not listening yet, or starting up
            last_error = f"{type(err).__name__}: {err}"[:200]
        time.sleep(2)
    raise AssertionError(f"no open dry-run trade within {timeout:.0f} s ({last_error})")


# --- docker ------------------------------------------------------------------------------------

def docker(*args: str, check: bool = True, input: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, DOCKER_HOST=os.environ.get("FTA_TEST_DOCKER_HOST", "unix:///run/fta-test/docker.sock"))
    return subprocess.run(["docker", *args], env=env, check=check, capture_output=True, text=True,
                          input=input, timeout=timeout)
