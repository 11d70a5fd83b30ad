"""Raw HTTP to the Docker engine and to the fta socket proxy, plus fta's request bodies.

Standard library only. Requests are written byte for byte (no client library normalising paths,
headers or bodies), because the point of these tests is what a hostile client can put on the
wire. Every request carries `Connection: close` and the response is read to EOF.
"""

from __future__ import annotations

import json
import os
import socket
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest

API = "/v1.41"  # the version prefix fta pins (docs/contracts.md)
REPO = Path(__file__).resolve().parents[3]


def unavailable(reason: str):
    """Skip locally, fail under CI (a missing component must never pass silently there)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: a missing component is a failure)", pytrace=False)
    pytest.skip(reason)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))


def _connect(url: str, timeout: float) -> socket.socket:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(parsed.path)
        return sock
    if parsed.scheme in ("http", "tcp"):
        sock = socket.create_connection((parsed.hostname, parsed.port or 80), timeout=timeout)
        sock.settimeout(timeout)
        return sock
    raise ValueError(f"unsupported Docker URL {url!r} (want unix:///path or http://host:port)")


def _dechunk(data: bytes) -> bytes:
    out, pos = bytearray(), 0
    while True:
        end = data.index(b"\r\n", pos)
        size = int(data[pos:end].split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        start = end + 2
        out += data[start:start + size]
        pos = start + size + 2


def parse_response(raw: bytes, head_only: bool = False) -> Response:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("iso-8859-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        raise ConnectionError(f"no HTTP response (got {raw[:80]!r})")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if head_only:
        body = b""
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    elif "content-length" in headers:
        body = body[:int(headers["content-length"])]
    return Response(status, headers, body)


def send_raw(url: str, raw: bytes, timeout: float = 30.0, head_only: bool = False) -> Response:
    """Send `raw` as is, read until the server closes, parse the FIRST response."""
    sock = _connect(url, timeout)
    try:
        try:
            sock.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer (e.g. 403) and close before it read everything
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            # Responses to HEAD and to denied requests can arrive before we are done sending.
            joined = b"".join(chunks)
            if head_only and b"\r\n\r\n" in joined:
                break
    finally:
        sock.close()
    # For 1xx interim responses (100 Continue), skip to the final one.
    data = b"".join(chunks)
    while data.startswith(b"HTTP/1.1 1"):
        data = data.split(b"\r\n\r\n", 1)[1]
    return parse_response(data, head_only=head_only)


def build_request(method: str, target: str, body: bytes | str | None = None,
                  headers: dict[str, str] | None = None, content_type: str | None = "application/json",
                  content_length: bool = True, host: str = "docker") -> bytes:
    """An HTTP/1.1 request as libcurl would send it for fta (Host, Content-Type, Content-Length)."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", "User-Agent: fta-proxy-tests",
             "Accept: */*", "Connection: close"]
    if body is not None:
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        if content_length:
            lines.append(f"Content-Length: {len(body)}")
    elif method in ("POST", "PUT"):
        lines.append("Content-Length: 0")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("iso-8859-1") + (body or b"")


def request(url: str, method: str, target: str, body=None, timeout: float = 60.0, **kw) -> Response:
    if body is not None and not isinstance(body, (bytes, str)):
        body = compact_json(body)
    return send_raw(url, build_request(method, target, body, **kw), timeout=timeout,
                    head_only=(method == "HEAD"))


def compact_json(value) -> str:
    """What fta's Swift JSONEncoder writes: sorted keys, no whitespace, UTF-8, `/` unescaped."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def label_filter(**labels: str) -> str:
    """?filters= value as fta sends it: {"label":["fta.managed=true",...]}, percent-encoded."""
    wanted = ["fta.managed=true"] + [f"fta.{k}={v}" for k, v in labels.items()]
    return urllib.parse.quote(compact_json({"label": wanted}), safe="")


class Engine:
    """Direct access to the engine (setup and state checks only; never through the proxy)."""

    def __init__(self, url: str):
        self.url = url

    def call(self, method: str, path: str, body=None, expect=(200, 201, 204, 304), timeout=60.0):
        resp = request(self.url, method, API + path, body, timeout=timeout)
        if expect and resp.status not in expect:
            raise AssertionError(f"engine {method} {path}: {resp.status} {resp.body[:300]!r}")
        return resp

    def get(self, path: str):
        return self.call("GET", path).json()

    def ping(self) -> bool:
        try:
            return request(self.url, "GET", "/_ping", timeout=5).status == 200
        except OSError:
            return False

    def remove_container(self, name: str):
        self.call("DELETE", f"/containers/{name}?force=1&v=1", expect=(204, 404))

    def remove_network(self, name: str):
        self.call("DELETE", f"/networks/{name}", expect=(204, 404))

    def remove_volume(self, name: str):
        self.call("DELETE", f"/volumes/{name}?force=1", expect=(204, 404))

    def run(self, name: str, image: str, script: str, network: str, timeout: float = 60.0) -> tuple[int, str]:
        """Run `sh -c script` in a throwaway container; return (exit code, combined output)."""
        self.call("POST", f"/containers/create?name={name}", {
            "Image": image, "Entrypoint": ["/bin/sh", "-c"], "Cmd": [script], "User": "1000:1000",
            "HostConfig": {"NetworkMode": network, "CapDrop": ["ALL"],
                           "SecurityOpt": ["no-new-privileges:true"]},
        })
        try:
            self.call("POST", f"/containers/{name}/start")
            code = self.call("POST", f"/containers/{name}/wait", timeout=timeout).json()["StatusCode"]
            logs = self.call("GET", f"/containers/{name}/logs?stdout=1&stderr=1").body
            return code, demux(logs)
        finally:
            self.remove_container(name)

    def snapshot(self) -> dict:
        """Engine-wide state that a forwarded attack would change (ids, names, states)."""
        def labels(obj):
            return tuple(sorted((obj.get("Labels") or {}).items()))
        containers = sorted(
            (c["Id"], tuple(sorted(c["Names"])), c["State"], c["Image"], c["ImageID"], labels(c))
            for c in self.get("/containers/json?all=1"))
        networks = sorted((n["Id"], n["Name"], n["Driver"], labels(n)) for n in self.get("/networks"))
        volumes = sorted((v["Name"], v["Driver"], v["Mountpoint"], labels(v))
                         for v in (self.get("/volumes").get("Volumes") or []))
        images = sorted((i["Id"], tuple(sorted(i.get("RepoTags") or [])))
                        for i in self.get("/images/json?all=1"))
        return {"containers": containers, "networks": networks, "volumes": volumes, "images": images}


def demux(stream: bytes) -> str:
    """Docker's multiplexed log stream (8-byte frame headers) to text."""
    out, pos = bytearray(), 0
    while pos + 8 <= len(stream) and stream[pos] in (0, 1, 2) and stream[pos + 1:pos + 4] == b"\0\0\0":
        size = int.from_bytes(stream[pos + 4:pos + 8], "big")
        out += stream[pos + 8:pos + 8 + size]
        pos += 8 + size
    if pos == 0:
        return stream.decode("utf-8", "replace")
    return out.decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------------
# fta's bodies (docs/contracts.md), with a realistic rendered config and strategy in Env.
# ---------------------------------------------------------------------------------------------

STRATEGY_SOURCE = '''# pragma pylint: disable=missing-docstring, invalid-name
"""Stratégie EMA croisée (exemple de client) — sample strategy shipped with the tests."""
import re
from functools import reduce

import talib.abstract as ta
from pandas import DataFrame

from freqtrade.strategy import IStrategy, IntParameter


class FtaSample{n}(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "5m"
    minimal_roi = {{"0": 0.04, "30": 0.02, "60": 0.01}}
    stoploss = -0.10
    buy_fast = IntParameter(5, 30, default=12, space="buy")
    pair_re = re.compile(r"^[A-Z0-9]+/USDT$")  # backslashes survive JSON: \\d+ \\s* "quoted"
    label = "caf\\u00e9"  # a \\u escape in the Python source is an escaped backslash in JSON

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["ema_fast"] = ta.EMA(dataframe, timeperiod=self.buy_fast.value)
        dataframe["ema_slow"] = ta.EMA(dataframe, timeperiod=26)
        dataframe["rsi"] = ta.RSI(dataframe, timeperiod=14)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        conditions = [dataframe["ema_fast"] > dataframe["ema_slow"], dataframe["rsi"] < 70]
        dataframe.loc[reduce(lambda a, b: a & b, conditions), ["enter_long", "enter_tag"]] = (1, "ema\\tcross")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["ema_fast"] < dataframe["ema_slow"], "exit_long"] = 1
        return dataframe
'''


def freqtrade_config(bot: str, pairs: int) -> dict:
    """A rendered Freqtrade config of the size fta produces (dry-run, no exchange secrets)."""
    return {
        "api_server": {"enabled": True, "jwt_secret_key": "0" * 64, "listen_ip_address": "0.0.0.0",
                       "listen_port": 8080, "password": "p" * 32, "username": f"bot-{bot}",
                       "ws_token": "w" * 32, "CORS_origins": [], "verbosity": "error"},
        "bot_name": f"fta-bot-{bot}", "db_url": "sqlite:////freqtrade/user_data/tradesv3.dryrun.sqlite",
        "dry_run": True, "dry_run_wallet": 1000, "entry_pricing": {"price_side": "same",
                                                                   "use_order_book": True},
        "exchange": {"name": "binance", "key": "", "secret": "", "ccxt_config": {},
                     "pair_whitelist": [f"C{i:03d}/USDT" for i in range(pairs)],
                     "pair_blacklist": ["BNB/.*"]},
        "exit_pricing": {"price_side": "same", "use_order_book": True},
        "initial_state": "running", "internals": {"process_throttle_secs": 5},
        "max_open_trades": 3, "pairlists": [{"method": "StaticPairList"}],
        "stake_amount": "unlimited", "stake_currency": "USDT", "strategy": "FtaSample0",
        "telegram": {"enabled": False, "token": "", "chat_id": ""}, "timeframe": "5m",
        "user_data_dir": "/freqtrade/user_data",
    }


def network_body(client: str) -> dict:
    return {"CheckDuplicate": True, "Driver": "bridge", "Internal": False,
            "Labels": {"fta.client": client, "fta.managed": "true"}, "Name": f"fta-client-{client}",
            "Options": {"com.docker.network.bridge.enable_icc": "false"}}


def volume_body(bot: str, client: str) -> dict:
    return {"Driver": "local", "Labels": {"fta.bot": bot, "fta.client": client, "fta.managed": "true"},
            "Name": f"fta-bot-{bot}"}


def container_body(bot: str, client: str, image: str, env_kib: int = 30) -> dict:
    """The hardened container create body of docs/contracts.md, Env about `env_kib` KiB."""
    strategy = "".join(STRATEGY_SOURCE.format(n=i) for i in range(max(1, env_kib)))
    config = compact_json(freqtrade_config(bot, pairs=max(10, env_kib * 8)))
    # Trim to the requested size so the total stays under the 48 KiB contract limit.
    budget = env_kib * 1024
    strategy = strategy[:max(1000, budget - len(config))]
    return {
        "Cmd": ['printf %s "$FTA_CONFIG" >/tmp/config.json && '
                'exec freqtrade trade --dry-run --config /tmp/config.json'],
        "Entrypoint": ["/bin/sh", "-c"],
        "Env": [f"FTA_CONFIG={config}", f"FTA_STRATEGY={strategy}", "HOME=/tmp"],
        "Healthcheck": {"Interval": 30000000000, "Retries": 3, "StartPeriod": 120000000000,
                        "Test": ["CMD", "python3", "-c",
                                 "import urllib.request;urllib.request.urlopen("
                                 "'http://127.0.0.1:8080/api/v1/ping',timeout=4)"],
                        "Timeout": 5000000000},
        "HostConfig": {
            "CapDrop": ["ALL"], "Init": True,
            "LogConfig": {"Config": {"max-file": "3", "max-size": "10m"}, "Type": "json-file"},
            "Memory": 268435456, "MemorySwap": 268435456,
            "Mounts": [{"Source": f"fta-bot-{bot}", "Target": "/freqtrade/user_data", "Type": "volume"}],
            "NanoCpus": 500000000, "NetworkMode": f"fta-client-{client}", "PidsLimit": 256,
            "ReadonlyRootfs": True, "RestartPolicy": {"MaximumRetryCount": 5, "Name": "on-failure"},
            "SecurityOpt": ["no-new-privileges:true"],
            "Tmpfs": {"/tmp": "rw,noexec,nosuid,nodev,size=64m"},
        },
        "Image": image,
        "Labels": {"fta.bot": bot, "fta.client": client, "fta.managed": "true"},
        "NetworkingConfig": {"EndpointsConfig": {f"fta-client-{client}": {}}},
        "StopTimeout": 20,
        "User": "1000:1000",
    }
