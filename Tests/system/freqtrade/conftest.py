"""Fixtures for the real-Freqtrade system tests (Tests/system/freqtrade).

Environment (docs/contracts.md):
  FTA_TEST_FREQTRADE        a `freqtrade` executable in a venv (default: scripts/lib/freqtrade-venv.sh,
                            which installs the pinned Freqtrade when absent).
  FTA_TEST_FREQTRADE_IMAGE  the Freqtrade image (default: scripts/build-freqtrade-image.sh, which
                            builds it without a registry or reuses it).
  FTA_TEST_DOCKER_HOST      the private test engine (default unix:///run/fta-test/docker.sock).
  FTA_TEST_ARTIFACTS        where a failing bot's log is saved (optional).
  CI=true                   a missing component is a failure, never a skip.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _load(name: str):
    """Imports a helper of this folder by file, without putting the folder (and this conftest)
    on sys.path, where sibling test folders' `from conftest import ...` would find it."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


support = _load("fta_freqtrade_support")
_load("shipped_strategies")


@pytest.fixture(scope="session")
def freqtrade_exe() -> str:
    exe = os.environ.get("FTA_TEST_FREQTRADE")
    if not exe:
        if shutil.which("python3") is None:
            support.unavailable("python3 is needed to build the Freqtrade venv")
        run = subprocess.run([str(support.VENV_SH)], capture_output=True, text=True, timeout=1200)
        if run.returncode != 0:
            support.unavailable(f"scripts/lib/freqtrade-venv.sh failed: {run.stderr[-1500:]}")
        exe = run.stdout.strip().splitlines()[-1]
    if not (Path(exe).is_file() and os.access(exe, os.X_OK)):
        support.unavailable(f"FTA_TEST_FREQTRADE={exe} is not an executable")
    return exe


@pytest.fixture(scope="session")
def docker_engine() -> str:
    host = os.environ.get("FTA_TEST_DOCKER_HOST", "unix:///run/fta-test/docker.sock")
    if shutil.which("docker") is None:
        support.unavailable("the docker CLI is not installed (apt-get install docker.io)")
    version = support.docker("version", "--format", "{{.Server.Version}}", check=False, timeout=20)
    if version.returncode != 0:
        support.unavailable(f"no Docker engine answers at {host} (scripts/lib/engine.sh start)")
    return host


@pytest.fixture(scope="session")
def freqtrade_image(docker_engine) -> str:
    ref = os.environ.get("FTA_TEST_FREQTRADE_IMAGE")
    if not ref:
        for tool in ("debootstrap", "tar"):
            if shutil.which(tool) is None:
                support.unavailable(f"{tool} is needed to build the Freqtrade image")
        if os.geteuid() != 0:
            support.unavailable("building the Freqtrade image needs root (debootstrap)")
        run = subprocess.run([str(support.IMAGE_SH)], capture_output=True, text=True, timeout=3600,
                             env=dict(os.environ, DOCKER_HOST=docker_engine))
        # The script is ours: when it runs and fails, that is a failure, not a missing component.
        assert run.returncode == 0, f"scripts/build-freqtrade-image.sh failed:\n{run.stderr[-3000:]}"
        ref = run.stdout.strip().splitlines()[-1]
    if support.docker("image", "inspect", ref, check=False).returncode != 0:
        support.unavailable(f"the Freqtrade image {ref} is not in the engine at {docker_engine}")
    return ref
