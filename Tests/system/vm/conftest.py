"""Fixtures for the test VM (Tests/system/vm): a real 1 GiB Debian 12 guest under qemu (issue 11).

The session's VM is built (or reused) by scripts/vm/build-image.sh and booted by
scripts/vm/vm.sh under its own instance name, on a fresh copy-on-write overlay, and stopped at
the end. It starts with the stand-in bot image (FTA_TEST_IMAGE, default fta-test/busybox:latest)
on its image disk (scripts/vm/build-docker-disk.sh), taken from the private test engine
(FTA_TEST_DOCKER_HOST, default unix:///run/fta-test/docker.sock).

Under CI=true a host that cannot run it (not root, qemu or debootstrap missing and not
installable, no test engine) is a failure, never a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fta_system_support import missing  # noqa: E402
from fta_vm_support import (  # noqa: E402
    BOOT_TIMEOUT_S, BUILD_IMAGE_SH, BUILD_TIMEOUT_S, MISSING_TOOL_STATUS, REPO, VM,
)

ENGINE = os.environ.get("FTA_TEST_DOCKER_HOST", "unix:///run/fta-test/docker.sock")
TEST_IMAGE = os.environ.get("FTA_TEST_IMAGE", "fta-test/busybox:latest")


@pytest.fixture(scope="session")
def preloaded_image() -> str:
    """The stand-in bot image, in the test engine (built there when absent)."""
    env = dict(os.environ, DOCKER_HOST=ENGINE)
    ping = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], env=env,
                          capture_output=True, text=True, timeout=30)
    if ping.returncode != 0:
        missing(f"no Docker engine answers at {ENGINE} (scripts/lib/engine.sh start)")
    subprocess.run([str(REPO / "scripts" / "lib" / "test-image.sh")], env=env, check=True,
                   capture_output=True, timeout=300)
    return TEST_IMAGE


@pytest.fixture(scope="session")
def vm_image() -> None:
    """The guest's disk image, built (or reused) once for every VM of the session."""
    if os.geteuid() != 0:
        missing("the test VM needs root (debootstrap, mounts, the image cache)")
    build = subprocess.run([str(BUILD_IMAGE_SH)], capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    if build.returncode == MISSING_TOOL_STATUS:
        missing(f"the test VM cannot be built here: {build.stderr.strip().splitlines()[-1]}")
    assert build.returncode == 0, f"build-image.sh exited {build.returncode}\n{build.stderr}"


@pytest.fixture(scope="session")
def vm(vm_image, preloaded_image):
    machine = VM(f"pytest-{os.getpid()}", images=[preloaded_image])
    try:
        machine.timed("start", "start", timeout=120)
        machine.timed("boot", "wait-ready", timeout=BOOT_TIMEOUT_S + 60)
        yield machine
    finally:
        # Whatever happened, no VM outlives the session (test_stop checks that stop works).
        machine.script("stop", timeout=180, check=False)
        # Its state directory (ports, console log) goes too: a failed boot already printed the
        # console's last lines, and every session would otherwise leave one behind.
        shutil.rmtree(machine.state_dir, ignore_errors=True)
        print(f"\ntest VM timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in machine.timings.items()))
