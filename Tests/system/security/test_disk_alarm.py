"""The disk alarm (issue 15, class 4; docs/security.md, "Disk") on a real `fta serve`.

The portal's own directory (its database, its log) is put on a small filesystem of its own, a
512 MiB tmpfs this test mounts; then the test fills that filesystem the way a runaway writer
would, leaving 200 MiB. `/api/v1/health` must turn `degraded` with `disk: low` (and nothing more
than that word), the admin's `/system` must fail the `disk` check with the figures, and the
portal must keep serving and writing. When the space comes back, so does `ok`.

The caps on bots' volumes need project quotas, which this sandbox's kernel lacks: the VM install
test proves them (Tests/system/vm/test_vm_install.py, a bot writing 1 GiB into its volume).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fta_portal_support import login, request
from fta_system_support import small_tmpfs, start_portal, stop_portal, wait_until

NAME = "disk"


@pytest.fixture(scope="module")
def small_disk(tmp_path_factory):
    with small_tmpfs(tmp_path_factory.mktemp("fta-small-disk"), "512m") as disk:
        yield disk


@pytest.fixture(scope="module")
def portal(small_disk):
    portal = start_portal(NAME, FTA_TEST_RUN_DIR=str(small_disk))
    try:
        yield portal
    finally:
        stop_portal(portal)


def health(portal) -> dict:
    status, _, body = request(portal["url"] + "/api/v1/health")
    assert status == 200, body
    return body


def free_mb(path: Path) -> int:
    info = os.statvfs(path)
    return info.f_bavail * info.f_frsize // (1 << 20)


def test_low_disk_under_the_database_degrades_health_and_fails_the_disk_check(portal, small_disk):
    assert Path(portal["dir"]).resolve().is_relative_to(small_disk.resolve())
    before = health(portal)
    assert before["status"] == "ok" and before["checks"]["disk"] == "ok", before

    filler = small_disk / "filler"
    with open(filler, "wb") as handle:
        os.posix_fallocate(handle.fileno(), 0, (free_mb(small_disk) - 200) << 20)
    try:
        assert 150 <= free_mb(small_disk) <= 250, free_mb(small_disk)
        low = health(portal)
        assert low == {"status": "degraded", "checks": {"database": "ok", "docker": "ok", "disk": "low"}}, low
        admin = login(portal, portal["admin"], portal["password"])
        status, _, system = request(portal["url"] + "/api/v1/system", cookie=admin)
        assert status == 200, system
        disk = next(c for c in system["checks"] if c["name"] == "disk")
        assert disk["status"] == "fail" and "MiB free on" in disk["detail"] and disk["fix"], disk
        # Still serving and still writing: a client is a row of the database on the low disk.
        client = f"dk{os.getpid() % 100000}"
        status, _, body = request(portal["url"] + "/api/v1/clients", "POST", {"id": client, "name": "Disk alarm"}, cookie=admin)
        assert status == 201, body
    finally:
        filler.unlink()
    wait_until(lambda: health(portal)["status"] == "ok", "health back to ok once the space is free", timeout=30)
    assert health(portal)["checks"]["disk"] == "ok"
