"""Helpers of the test VM's system tests (Tests/system/vm): scripts/vm/vm.sh with timeouts.

A uniquely named module (not `conftest`), so that pytest's importlib mode and the sibling test
folders' own conftest files never mix them up.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
VM_SH = REPO / "scripts" / "vm" / "vm.sh"
BUILD_IMAGE_SH = REPO / "scripts" / "vm" / "build-image.sh"

# build-image.sh's exit status for "a host tool is missing and could not be installed".
MISSING_TOOL_STATUS = 3

# TCG on a 2-core host that also builds Swift: a boot takes 1-3 minutes, so every wait is
# generous, but every wait is bounded.
BOOT_TIMEOUT_S = int(os.environ.get("FTA_TEST_VM_BOOT_TIMEOUT", "480"))
BUILD_TIMEOUT_S = int(os.environ.get("FTA_TEST_VM_BUILD_TIMEOUT", "2400"))


class VM:
    """One instance of the test VM, named so that it never collides with a VM someone else runs."""

    def __init__(self, name: str, images: list[str]):
        self.name = name
        self.images = images
        self.env = dict(os.environ, FTA_VM_NAME=name, FTA_VM_BOOT_TIMEOUT=str(BOOT_TIMEOUT_S),
                        FTA_VM_IMAGES=" ".join(images))
        self.timings: dict[str, float] = {}
        cache = Path(os.environ.get("FTA_VM_DIR", "/var/lib/fta-test/vm"))
        self.state_dir = cache / "run" / name

    def script(self, *args: str, timeout: float, check: bool = True,
               stdin: str | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(VM_SH), *args], env=self.env, input=stdin, capture_output=True,
                              text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"vm.sh {' '.join(args)} exited {proc.returncode}\n"
                                 f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
        return proc

    def timed(self, label: str, *args: str, timeout: float) -> subprocess.CompletedProcess:
        started = time.monotonic()
        proc = self.script(*args, timeout=timeout)
        self.timings[label] = time.monotonic() - started
        return proc

    def ssh(self, command: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
        """Runs a shell command in the guest as root."""
        return self.script("ssh", command, timeout=timeout, check=check)

    def out(self, command: str, timeout: float = 120) -> str:
        return self.ssh(command, timeout=timeout).stdout.strip()
