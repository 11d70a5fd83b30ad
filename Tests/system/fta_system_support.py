"""What every system test folder shares."""
import contextlib
import os
import subprocess
import time
from pathlib import Path

import pytest

CI = os.environ.get("CI") == "true"


def missing(reason: str):
    """A missing component fails under CI=true and skips elsewhere."""
    if CI:
        pytest.fail(f"{reason} (CI=true: a missing component is a failure)", pytrace=False)
    pytest.skip(reason)


def wait_until(condition, what: str, timeout: float = 60, interval: float = 0.5):
    """Polls `condition` until it returns something true (which is returned), or fails naming
    `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


REPO = Path(__file__).resolve().parents[2]
PORTAL_SH = REPO / "scripts" / "lib" / "portal.sh"


def fta_binary() -> Path:
    """The fta the system tests run: FTA_TEST_BINARY, or the debug build."""
    path = Path(os.environ.get("FTA_TEST_BINARY", REPO / ".build" / "debug" / "fta"))
    if not os.access(path, os.X_OK):
        missing(f"the fta binary {path} is missing (swift build)")
    return path


def start_portal(name: str, **env: str) -> dict:
    """A portal of a test's own: scripts/lib/portal.sh start NAME with extra variables (on the
    test image unless FTA_BOT_IMAGE is given). Its URL, admin, directory, and the environment
    its CLI commands need (its env file's values)."""
    fta_binary()
    if not os.environ.get("FTA_TEST_DOCKER_URL"):
        missing("FTA_TEST_DOCKER_URL is not set (scripts/lib/proxy.sh url)")
    full = dict(os.environ, FTA_BOT_IMAGE=os.environ.get("FTA_TEST_IMAGE", "fta-test/busybox:latest"))
    full.update(env)
    started = subprocess.run([str(PORTAL_SH), "start", name], capture_output=True, text=True, timeout=120, env=full)
    assert started.returncode == 0, f"portal.sh start {name}: {started.stderr[-2000:]}"
    values = dict(line.split("=", 1) for line in subprocess.run([str(PORTAL_SH), "env", name], capture_output=True, text=True,
                                                                env=full, check=True).stdout.splitlines())
    directory = values["FTA_TEST_PORTAL_DIR"]
    cli = dict(full)
    with open(os.path.join(directory, "env")) as handle:
        cli.update(line.rstrip("\n").split("=", 1) for line in handle if "=" in line)
    return {"name": name, "url": values["FTA_TEST_PORTAL_URL"], "admin": values["FTA_TEST_ADMIN_USER"],
            "password": values["FTA_TEST_ADMIN_PASSWORD"], "dir": directory, "env": cli, "start_env": full,
            "binary": str(fta_binary())}


def stop_portal(portal: dict) -> None:
    subprocess.run([str(PORTAL_SH), "stop", portal["name"]], capture_output=True, text=True, timeout=60, env=portal["start_env"])


@contextlib.contextmanager
def small_tmpfs(path: Path, size: str):
    """A tmpfs of `size` mounted on `path` for the block (a disk a test can fill); needs root."""
    if os.geteuid() != 0:
        missing("mounting a small filesystem needs root")
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "fta-test-small", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)

