"""Fixtures for the socket-proxy system tests (Tests/system/proxy).

Environment (docs/contracts.md):
  FTA_TEST_DOCKER_HOST  the private test engine, direct (default unix:///run/fta-test/docker.sock);
                        used only to set up targets and to check the engine's state.
  FTA_TEST_DOCKER_URL   the socket proxy (default: `scripts/lib/proxy.sh url`; the proxy is then
                        started if it does not answer, and stopped again at the end).
  FTA_TEST_IMAGE        the stand-in bot image (default fta-test/busybox:latest, built by
                        scripts/lib/test-image.sh when absent).
  CI=true               a missing engine, proxy or image is a failure, never a skip.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fta_proxy_support import REPO, Engine, request, unavailable  # noqa: E402

PROXY_SH = REPO / "scripts" / "lib" / "proxy.sh"
TEST_IMAGE_SH = REPO / "scripts" / "lib" / "test-image.sh"


@pytest.fixture(scope="session")
def engine_url() -> str:
    return os.environ.get("FTA_TEST_DOCKER_HOST", "unix:///run/fta-test/docker.sock")


@pytest.fixture(scope="session")
def engine(engine_url) -> Engine:
    eng = Engine(engine_url)
    if not eng.ping():
        unavailable(f"no Docker engine answers at {engine_url} (scripts/lib/engine.sh start)")
    return eng


@pytest.fixture(scope="session")
def proxy_url(engine):
    """The proxy's URL; starts it with scripts/lib/proxy.sh when nobody configured one."""
    url = os.environ.get("FTA_TEST_DOCKER_URL")
    started = False
    if not url:
        try:
            url = subprocess.run([str(PROXY_SH), "url"], check=True, capture_output=True,
                                 text=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError) as err:
            unavailable(f"cannot get the proxy URL from {PROXY_SH}: {err}")
        if not Engine(url).ping():
            status = subprocess.run([str(PROXY_SH), "status"], capture_output=True, text=True)
            if status.returncode != 0:
                run = subprocess.run([str(PROXY_SH), "start"], capture_output=True, text=True)
                if run.returncode != 0:
                    unavailable(f"proxy.sh start failed: {run.stdout}{run.stderr}")
                started = True
    if not Engine(url).ping():
        unavailable(f"the socket proxy does not answer /_ping at {url}")
    yield url
    if started:
        subprocess.run([str(PROXY_SH), "stop"], check=False, capture_output=True)


@pytest.fixture(scope="session")
def proxy_log(proxy_url) -> Path | None:
    """proxy.sh's log, when the proxy under test is the one proxy.sh runs."""
    ours = subprocess.run([str(PROXY_SH), "url"], capture_output=True, text=True).stdout.strip()
    path = Path(os.environ.get("FTA_TEST_RUN_DIR", "/run/fta-test")) / "proxy.log"
    return path if ours == proxy_url and path.exists() else None


@pytest.fixture(scope="session")
def image(engine) -> str:
    ref = os.environ.get("FTA_TEST_IMAGE", "fta-test/busybox:latest")
    if ref == "fta-test/busybox:latest":
        run = subprocess.run([str(TEST_IMAGE_SH)], capture_output=True, text=True)
        if run.returncode != 0:
            unavailable(f"test-image.sh failed: {run.stderr.strip()}")
    if request(engine.url, "GET", f"/v1.41/images/{ref}/json").status != 200:
        unavailable(f"test image {ref} is not on the engine")
    return ref


@pytest.fixture(scope="session")
def run_id() -> str:
    """Unique per session, so names never collide with other runs or other suites."""
    return "px" + secrets.token_hex(4)


class Cleanup:
    """Removes, directly on the engine, exactly the objects a test registered."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.containers: list[str] = []
        self.networks: list[str] = []
        self.volumes: list[str] = []

    def run(self):
        for name in reversed(self.containers):
            self.engine.remove_container(name)
        for name in reversed(self.volumes):
            self.engine.remove_volume(name)
        for name in reversed(self.networks):
            self.engine.remove_network(name)


@pytest.fixture(scope="module")
def cleanup(engine):
    registry = Cleanup(engine)
    yield registry
    registry.run()
