"""The VM's image disk is built without touching the host's Docker network.

scripts/vm/build-docker-disk.sh loads images into a throwaway dockerd started with
`--bridge none`. Such a dockerd deletes the link named docker0 where it runs: in the host's
network namespace that was the test engine's bridge, and every later container on the default
bridge (each `docker build`'s RUN steps among them) failed with "could not find bridge docker0".
It now runs in a network namespace of its own. This test builds a disk from an image made for it
(so the script's cache cannot answer instead) and checks that the engine's bridge is the same
link before and after, and still carries a container.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

import pytest

from fta_system_support import missing
from fta_vm_support import REPO

ENGINE = os.environ.get("FTA_TEST_DOCKER_HOST", "unix:///run/fta-test/docker.sock")
BUILD_DOCKER_DISK = REPO / "scripts" / "vm" / "build-docker-disk.sh"


def docker(*args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess:
    run = subprocess.run(["docker", *args], env=dict(os.environ, DOCKER_HOST=ENGINE), input=stdin,
                         capture_output=True, text=True, timeout=300)
    assert not check or run.returncode == 0, f"docker {' '.join(args)}: {run.stderr}"
    return run


def bridge_link() -> str | None:
    """docker0's interface index and address (a new link would have another index), or None."""
    run = subprocess.run(["ip", "-o", "link", "show", "docker0"], capture_output=True, text=True)
    return " ".join(run.stdout.split()[:2] + run.stdout.split()[-3:]) if run.returncode == 0 else None


@pytest.fixture
def fresh_image(preloaded_image):
    """A one-layer image no disk was ever built from: the stand-in bot image with a new label."""
    tag = f"fta-test/docker-disk-probe:{secrets.token_hex(4)}"
    docker("build", "-q", "-t", tag, "-", stdin=f"FROM {preloaded_image}\nLABEL fta.test.probe={tag}\n")
    yield tag
    docker("image", "rm", "-f", tag, check=False)


def test_building_the_image_disk_leaves_the_engines_bridge_alone(fresh_image, preloaded_image, tmp_path):
    if os.geteuid() != 0:
        missing("build-docker-disk.sh needs root (a dockerd of its own, mkfs)")
    before = bridge_link()
    assert before, "the test engine has no docker0 before the build: an earlier test or tool removed it"
    build = subprocess.run([str(BUILD_DOCKER_DISK), fresh_image], capture_output=True, text=True, timeout=900,
                           env=dict(os.environ, FTA_VM_DIR=str(tmp_path), DOCKER_HOST=ENGINE))
    assert build.returncode == 0, build.stderr[-3000:]
    disk = Path(build.stdout.strip().splitlines()[-1])
    assert (disk / "disk.qcow2").is_file() and (disk / "images").read_text().strip(), list(disk.iterdir())
    assert "reusing" not in build.stderr, "the disk came from the cache: the throwaway dockerd never ran"
    assert bridge_link() == before, f"docker0 changed: {before!r} -> {bridge_link()!r}"
    # And it still carries containers: one on the default bridge, as a `docker build` step runs.
    run = docker("run", "--rm", "--network", "bridge", "--entrypoint", "/bin/sh", preloaded_image, "-c", "echo up", check=False)
    assert run.returncode == 0 and run.stdout.strip() == "up", run.stderr
