"""Helpers of the operations tests (issue 14): fta's CLI beside a test's portal, and a bot body.

The portal itself comes from fta_system_support (start_portal, stop_portal), shared with the
other folders.
"""

from __future__ import annotations

import os
import re
import subprocess

from fta_portal_support import request
from fta_system_support import REPO, fta_binary as binary, start_portal, stop_portal, wait_until  # noqa: F401 (re-exported)


def fta(portal: dict, *args: str, extra: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    """Runs `fta ARGS` with the portal's configuration (plus `extra`)."""
    return subprocess.run([str(binary()), *args], capture_output=True, text=True, timeout=timeout,
                          env={**portal["env"], **(extra or {})})


def bot_body(bot_id: str, client: str, start: bool = False, name: str | None = None) -> dict:
    """POST /api/v1/bots as an admin sends it: a small FtaEmaCross bot of `client`."""
    return {"id": bot_id, "clientId": client, "name": name or bot_id, "exchange": "binance", "pairs": ["BTC/USDT"],
            "stakeCurrency": "USDT", "stakeAmount": "10", "dryRunWallet": 1000, "maxOpenTrades": 1, "timeframe": "5m",
            "strategy": "FtaEmaCross", "size": "small", "start": start}


DOCKER_HOST = os.environ.get("FTA_TEST_DOCKER_HOST", "unix:///run/fta-test/docker.sock")


def docker(*args: str, check: bool = True, timeout: int = 120) -> subprocess.CompletedProcess:
    """The docker CLI on the private test engine (the legacy builder: no registry needed)."""
    run = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout,
                         env=dict(os.environ, DOCKER_HOST=DOCKER_HOST, DOCKER_BUILDKIT="0"))
    if check and run.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {run.stderr[-1500:]}")
    return run


def metrics_response(portal: dict, headers: dict | None = None) -> tuple[int, str]:
    """GET /metrics of the portal: (status, body as text)."""
    status, _, body = request(portal["url"] + "/metrics", headers=headers)
    return status, body if isinstance(body, str) else str(body)


def scrape(portal: dict) -> str:
    status, text = metrics_response(portal)
    assert status == 200, text
    return text


def sample(text: str, name: str, labels: str = "") -> float | None:
    """The value of `name{labels}` (labels as exposed, in order), or None when absent."""
    pattern = "^" + re.escape(name) + (re.escape("{" + labels + "}") if labels else r"(?:\{\})?") + r" (\S+)$"
    match = re.search(pattern, text, re.M)
    return float(match.group(1)) if match else None


def counter(text: str, name: str, labels: str = "") -> float:
    """A counter's value, 0 before its first increment (absent)."""
    return sample(text, name, labels) or 0.0


def after_passes(portal: dict, count: int, since: float | None = None) -> str:
    """The exposition once `count` more reconcile passes ended ok (after `since` of them, or now)."""
    if since is None:
        since = counter(scrape(portal), "fta_reconcile_passes_total", 'result="ok"')
    return wait_until(lambda: (t := scrape(portal)) and counter(t, "fta_reconcile_passes_total", 'result="ok"') >= since + count and t,
                      f"{count} more reconcile passes", timeout=30 + 15 * count)
