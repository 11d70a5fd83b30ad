"""The socket proxy down, then back (issue 14, part 6; docs/operations.md, "Faults").

The test proxy (scripts/lib/proxy.sh) is stopped under a serving portal of its own: health must
say `degraded` with `docker: fail`, the admin's system page data must say Docker is not
reachable, a bot start must be refused with the engine's 503 (not hang, not fail the bot), and
when the proxy is started again the portal must recover by itself, with no restart: health `ok`
and the same start now working.
"""

from __future__ import annotations

import subprocess

import pytest

from fta_operations_support import REPO, bot_body, start_portal, stop_portal
from fta_portal_support import login, request
from fta_system_support import wait_until

PROXY_SH = REPO / "scripts" / "lib" / "proxy.sh"


@pytest.fixture(scope="module")
def portal():
    portal = start_portal("proxydown", FTA_RECONCILE_SECONDS="2")
    try:
        yield portal
    finally:
        # Whatever happened, the proxy is up again for the tests after this one.
        subprocess.run([str(PROXY_SH), "start"], capture_output=True, text=True, timeout=120, env=portal["start_env"])
        stop_portal(portal)


def health(portal) -> dict:
    status, _, body = request(portal["url"] + "/api/v1/health")
    assert status == 200, body
    return body


def test_the_portal_says_degraded_while_the_proxy_is_down_and_recovers_by_itself(portal):
    admin = login(portal)
    client = "pxdown"
    assert request(portal["url"] + "/api/v1/clients", "POST", {"id": client, "name": "Proxy down"}, cookie=admin)[0] == 201
    assert request(portal["url"] + "/api/v1/bots", "POST", bot_body(f"{client}-b", client), cookie=admin)[0] == 201
    assert health(portal)["status"] == "ok"

    stopped = subprocess.run([str(PROXY_SH), "stop"], capture_output=True, text=True, timeout=60, env=portal["start_env"])
    assert stopped.returncode == 0, stopped.stderr
    try:
        down = wait_until(lambda: (h := health(portal))["status"] == "degraded" and h, "health degraded", timeout=30)
        assert down["checks"]["docker"] == "fail" and down["checks"]["database"] == "ok", down
        status, _, system = request(portal["url"] + "/api/v1/system", cookie=admin)
        assert status == 200 and system["docker"]["reachable"] is False, system
        status, _, body = request(portal["url"] + f"/api/v1/bots/{client}-b/start", "POST", cookie=admin)
        assert status == 503 and body["error"]["code"] == "docker_unavailable", (status, body)
        status, _, shown = request(portal["url"] + f"/api/v1/bots/{client}-b", cookie=admin)
        assert status == 200 and shown["bot"]["state"] != "running", shown
    finally:
        started = subprocess.run([str(PROXY_SH), "start"], capture_output=True, text=True, timeout=120, env=portal["start_env"])
        assert started.returncode == 0, started.stderr

    wait_until(lambda: health(portal)["status"] == "ok", "health ok again, with no restart", timeout=30)
    status, _, body = request(portal["url"] + f"/api/v1/bots/{client}-b/start", "POST", cookie=admin)
    assert status in (200, 202), (status, body)
    # The bot goes with its client's network and volume: nothing of this test stays on the engine.
    status, _, body = request(portal["url"] + f"/api/v1/bots/{client}-b", "DELETE", cookie=admin)
    assert status in (200, 202, 204), (status, body)
    wait_until(lambda: request(portal["url"] + f"/api/v1/bots/{client}-b", cookie=admin)[0] == 404, "the bot deleted", timeout=60)
