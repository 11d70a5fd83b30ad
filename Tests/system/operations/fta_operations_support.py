"""Helpers of the operations tests (issue 14): a portal of their own, and fta's CLI beside it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from fta_system_support import missing

REPO = Path(__file__).resolve().parents[3]
PORTAL_SH = REPO / "scripts" / "lib" / "portal.sh"


def binary() -> Path:
    path = Path(os.environ.get("FTA_TEST_BINARY", REPO / ".build" / "debug" / "fta"))
    if not os.access(path, os.X_OK):
        missing(f"the fta binary {path} is missing (swift build)")
    return path


def start_portal(name: str, **env: str) -> dict:
    """scripts/lib/portal.sh start NAME with extra variables; the portal's URL, admin, directory,
    and the environment its CLI commands need (its env file's values)."""
    if not os.environ.get("FTA_TEST_DOCKER_URL"):
        missing("FTA_TEST_DOCKER_URL is not set (scripts/lib/proxy.sh url)")
    full = dict(os.environ, FTA_BOT_IMAGE=os.environ.get("FTA_TEST_IMAGE", "fta-test/busybox:latest"), **env)
    started = subprocess.run([str(PORTAL_SH), "start", name], capture_output=True, text=True, timeout=120, env=full)
    assert started.returncode == 0, f"portal.sh start {name}: {started.stderr[-2000:]}"
    values = dict(line.split("=", 1) for line in subprocess.run([str(PORTAL_SH), "env", name], capture_output=True, text=True,
                                                                env=full, check=True).stdout.splitlines())
    directory = values["FTA_TEST_PORTAL_DIR"]
    cli = dict(full)
    with open(os.path.join(directory, "env")) as handle:
        cli.update(line.rstrip("\n").split("=", 1) for line in handle if "=" in line)
    return {"name": name, "url": values["FTA_TEST_PORTAL_URL"], "admin": values["FTA_TEST_ADMIN_USER"],
            "password": values["FTA_TEST_ADMIN_PASSWORD"], "dir": directory, "env": cli, "start_env": full}


def stop_portal(portal: dict) -> None:
    subprocess.run([str(PORTAL_SH), "stop", portal["name"]], capture_output=True, text=True, timeout=60, env=portal["start_env"])


def fta(portal: dict, *args: str, extra: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    """Runs `fta ARGS` with the portal's configuration (plus `extra`)."""
    return subprocess.run([str(binary()), *args], capture_output=True, text=True, timeout=timeout,
                          env={**portal["env"], **(extra or {})})
