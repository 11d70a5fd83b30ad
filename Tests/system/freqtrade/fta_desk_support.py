"""Helpers of the trading-desk test (issue 13, test_trading_desk.py).

Three things the portal's own API cannot tell a test, read from where the truth is:
- the bot's own Freqtrade REST API, reached the way the portal reaches it (the container's address
  on its client's bridge, port 8080, the credentials fta rendered into the container's config),
  so every number the portal passes through can be compared with the source;
- the portal's Server-Sent Events stream, read live by a streaming HTTP client in a thread, so a
  pushed event is timed when it arrives, not when a later request finds it;
- the wallet-reset archive, read out of the bot's named volume by a throwaway container of the
  test image (no network), then counted with sqlite3 on the host.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import os
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.parse
from datetime import datetime
from pathlib import Path

from fta_freqtrade_support import BotAPI, docker

USER_DATA = "/freqtrade/user_data"


# --- the bot's own API ------------------------------------------------------------------------

class BotDirect:
    """The bot's own REST API, beside the portal's view of it.

    The address and credentials are read again from the engine after every restart (`refresh`):
    a restart gives the container a new address, and fta may render new credentials.
    """

    def __init__(self, bot_id: str, network: str) -> None:
        self.container = f"fta-bot-{bot_id}"
        self.network = network
        self.api: BotAPI | None = None
        self.started_at: str | None = None

    def refresh(self) -> None:
        info = json.loads(docker("inspect", self.container).stdout)[0]
        address = info["NetworkSettings"]["Networks"][self.network]["IPAddress"]
        env = dict(item.split("=", 1) for item in info["Config"]["Env"] if "=" in item)
        server = json.loads(env["FTA_CONFIG"])["api_server"]
        self.api = BotAPI(f"http://{address}:{server['listen_port']}", server["username"], server["password"])
        self.started_at = info["State"]["StartedAt"]

    def get(self, path: str) -> object:
        """GET /api/v1/<path> on the bot (path may carry a query)."""
        current = docker("inspect", "-f", "{{.State.StartedAt}}", self.container, check=False).stdout.strip()
        if self.api is None or current != self.started_at:
            self.refresh()
        return self.api.get(path)


# --- the portal's event stream ------------------------------------------------------------------

class EventStream:
    """GET /api/v1/stream read line by line in a thread; every message is kept with the local
    time it arrived (time.time(), comparable with the bots' timestamps on this host)."""

    def __init__(self, portal_url: str, cookie: str, path: str = "/api/v1/stream") -> None:
        parts = urllib.parse.urlsplit(portal_url)
        self.host, self.port, self.path, self.cookie = parts.hostname, parts.port, path, cookie
        self.messages: list[dict] = []
        self.keepalives = 0
        self.status: int | None = None
        self.content_type: str | None = None
        self.error: str | None = None
        self.opened = threading.Event()
        self._closing = False
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"sse{path}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            # The server sends a keepalive comment every 15 s: a read that waits 40 s is a dead stream.
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=40)
            self._conn.request("GET", self.path, headers={"Cookie": self.cookie, "Accept": "text/event-stream"})
            response = self._conn.getresponse()
            self.status = response.status
            self.content_type = response.getheader("Content-Type")
            self.opened.set()
            if response.status != 200:
                self.error = f"HTTP {response.status}: {response.read()[:500]!r}"
                return
            event, data = "message", []
            while not self._closing:
                raw = response.readline()
                if not raw:
                    self.error = "the server closed the stream"
                    return
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                if line == "":
                    if data:
                        text = "\n".join(data)
                        try:
                            parsed = json.loads(text)
                        except ValueError:
                            parsed = text
                        with self._lock:
                            self.messages.append({"event": event, "data": parsed, "received": time.time()})
                    event, data = "message", []
                elif line.startswith(":"):
                    self.keepalives += 1
                else:
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "event":
                        event = value
                    elif name == "data":
                        data.append(value)
        except Exception as error:  # noqa: BLE001 (a socket shut down under http.client raises anything)
            if not self._closing:
                self.error = f"{type(error).__name__}: {error}"
        finally:
            self.opened.set()
            if self._conn is not None:
                self._conn.close()

    def snapshot(self, event: str | None = None) -> list[dict]:
        with self._lock:
            return [m for m in self.messages if event is None or m["event"] == event]

    def wait_for(self, what: str, predicate, timeout: float) -> dict:
        """The first message for which predicate(message) holds, waiting up to timeout s."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.snapshot():
                if predicate(message):
                    return message
            if time.monotonic() > deadline or (self.error and not self._thread.is_alive()):
                kinds = [(m["event"], m["data"].get("kind") if isinstance(m["data"], dict) else None) for m in self.snapshot()]
                raise AssertionError(f"{what}: not on the stream within {timeout:.0f} s "
                                     f"(status {self.status}, error {self.error}, {len(kinds)} messages: {kinds[-30:]})")
            time.sleep(0.5)

    def close(self) -> None:
        self._closing = True
        conn = self._conn
        # Shutting the socket down ends the reader's blocking read; the reader closes the connection.
        if conn is not None and conn.sock is not None:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=5)


# --- the bot's volume ------------------------------------------------------------------------------

def volume_of(bot_id: str) -> str:
    """The named volume mounted at the bot's user_data, as the engine reports it."""
    info = json.loads(docker("inspect", f"fta-bot-{bot_id}").stdout)[0]
    names = [m["Name"] for m in info["Mounts"] if m["Type"] == "volume" and m["Destination"] == USER_DATA]
    assert len(names) == 1, f"expected one volume at {USER_DATA}: {info['Mounts']}"
    return names[0]


def _in_volume(volume: str, image: str, *command: str) -> subprocess.CompletedProcess:
    """Runs command in a throwaway container of the test image with the volume read-only at
    /data, without a network (bytes in, bytes out)."""
    return subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--read-only", "-v", f"{volume}:/data:ro", image, *command],
        env=_docker_env(), capture_output=True, timeout=120,
    )


def _docker_env() -> dict:
    return dict(os.environ, DOCKER_HOST=os.environ.get("FTA_TEST_DOCKER_HOST", "unix:///run/fta-test/docker.sock"))


def list_volume(volume: str, image: str) -> list[str]:
    """Every file in the volume, as paths relative to its root."""
    run = _in_volume(volume, image, "find", "/data", "-type", "f")
    assert run.returncode == 0, f"listing volume {volume} failed: {run.stderr.decode(errors='replace')}"
    return sorted(line[len("/data/"):] for line in run.stdout.decode().splitlines() if line.startswith("/data/"))


def copy_out(volume: str, image: str, relative: str, destination: Path) -> Path:
    run = _in_volume(volume, image, "cat", f"/data/{relative}")
    assert run.returncode == 0, f"reading {relative} from {volume} failed: {run.stderr.decode(errors='replace')}"
    destination.write_bytes(run.stdout)
    return destination


def copy_database(volume: str, image: str, relative: str, folder: Path) -> tuple[Path, list[str]]:
    """A SQLite database out of the volume with its -wal and -shm files when it has them: Freqtrade
    runs SQLite in WAL mode, and committed trades may still live in the -wal file next to it (an
    archive that left them behind would have lost them). Returns the copy and what was copied."""
    files = list_volume(volume, image)
    taken = [name for name in (relative, relative + "-wal", relative + "-shm") if name in files]
    target = folder / Path(relative).name
    for name in taken:
        copy_out(volume, image, name, folder / (target.name + name[len(relative):]))
    return target, taken


def trades_in_database(path: Path) -> list[dict]:
    """The trades table of a Freqtrade database file (a copy: SQLite may write its -shm)."""
    connection = sqlite3.connect(str(path))
    try:
        rows = connection.execute("SELECT id, pair, is_open, close_profit_abs FROM trades ORDER BY id").fetchall()
    finally:
        connection.close()
    return [{"id": r[0], "pair": r[1], "is_open": bool(r[2]), "profit_abs": r[3]} for r in rows]


# --- small readers ----------------------------------------------------------------------------------

def parse_csv(text: str) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


def iso_seconds(value: str) -> float:
    """An ISO 8601 instant (with Z or an offset) as epoch seconds."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def entry_fill_seconds(trade: dict) -> float | None:
    """When the trade's first entry order filled (epoch s), from the trade detail's orders."""
    fills = [o.get("order_filled_timestamp") for o in trade.get("orders") or []
             if o.get("ft_is_entry", o.get("ft_order_side") == "buy") and o.get("order_filled_timestamp")]
    return min(fills) / 1000 if fills else None


def close(a, b, tolerance: float = 1e-6) -> bool:
    """Numbers equal up to rounding (the portal may pass JSON numbers through a Double)."""
    if a is None or b is None:
        return a is b
    return abs(float(a) - float(b)) <= tolerance * max(1.0, abs(float(a)), abs(float(b)))
