"""Fixtures for the test VM (Tests/system/vm): a real 1 GiB Debian 12 guest under qemu (issue 11).

The session's VM is built (or reused) by scripts/vm/build-image.sh and booted by
scripts/vm/vm.sh under its own instance name, on a fresh copy-on-write overlay, and stopped at
the end. Under CI=true a host that cannot run it (not root, qemu or debootstrap missing and not
installable) is a failure, never a skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fta_system_support import missing  # noqa: E402
from fta_vm_support import BOOT_TIMEOUT_S, BUILD_IMAGE_SH, BUILD_TIMEOUT_S, MISSING_TOOL_STATUS, VM  # noqa: E402


@pytest.fixture(scope="session")
def vm():
    if os.geteuid() != 0:
        missing("the test VM needs root (debootstrap, mounts, the image cache)")
    build = subprocess.run([str(BUILD_IMAGE_SH)], capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    if build.returncode == MISSING_TOOL_STATUS:
        missing(f"the test VM cannot be built here: {build.stderr.strip().splitlines()[-1]}")
    assert build.returncode == 0, f"build-image.sh exited {build.returncode}\n{build.stderr}"
    machine = VM(f"pytest-{os.getpid()}")
    try:
        machine.timed("start", "start", timeout=120)
        machine.timed("boot", "wait-ready", timeout=BOOT_TIMEOUT_S + 60)
        yield machine
    finally:
        # Whatever happened, no VM outlives the session (test_stop checks that stop works).
        machine.script("stop", timeout=180, check=False)
        print(f"\ntest VM timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in machine.timings.items()))
