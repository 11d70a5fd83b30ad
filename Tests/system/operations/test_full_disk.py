"""A full disk under the database (issue 14, part 6; docs/operations.md, "Faults").

A portal of its own with its directory on a 128 MiB tmpfs this test mounts. The tmpfs is filled
to the last byte: a write must fail with a clear answer (503 `disk_full`, nothing saved), reads
must go on, the database must not be damaged, and when the space comes back the same write must
succeed with no restart. The counts of rows written, acknowledged and found are printed.
"""

from __future__ import annotations

import os
import sqlite3

import pytest

from fta_portal_support import login, request
from fta_system_support import small_tmpfs, start_portal, stop_portal


@pytest.fixture()
def portal(tmp_path_factory):
    with small_tmpfs(tmp_path_factory.mktemp("full-disk"), "128m") as disk:
        portal = start_portal("fulldisk", FTA_TEST_RUN_DIR=str(disk))
        portal["disk"] = disk
        try:
            yield portal
        finally:
            stop_portal(portal)


def create(portal, admin, client):
    return request(portal["url"] + "/api/v1/clients", "POST", {"id": client, "name": "Full disk"}, cookie=admin)


def test_a_full_disk_refuses_writes_clearly_keeps_reads_and_recovers(portal):
    admin = login(portal)
    acknowledged = [c for c in (f"fd{n}" for n in range(5)) if create(portal, admin, c)[0] == 201]
    assert len(acknowledged) == 5

    filler = portal["disk"] / "filler"
    with open(filler, "wb") as handle:
        info = os.statvfs(portal["disk"])
        os.posix_fallocate(handle.fileno(), 0, info.f_bavail * info.f_frsize)
        # What fallocate could not place (tmpfs rounds), plain writes take until ENOSPC.
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    try:
        refused = []
        for n in range(20):
            status, _, body = create(portal, admin, f"fdfull{n}")
            if status == 201:
                acknowledged.append(f"fdfull{n}")
                continue
            refused.append((status, body))
        assert refused, "every write succeeded on a full disk"
        for status, body in refused:
            assert status == 503 and body["error"]["code"] == "disk_full", (status, body)
            assert "disk is full" in body["error"]["message"]
        # Reads go on.
        status, _, listing = request(portal["url"] + "/api/v1/clients", cookie=admin)
        assert status == 200 and {c["id"] for c in listing["clients"]} >= set(acknowledged[:5]), listing
        health = request(portal["url"] + "/api/v1/health")[2]
        assert health["status"] == "degraded" and health["checks"]["disk"] == "low", health
    finally:
        filler.unlink()

    status, _, body = create(portal, admin, "fdafter")
    assert status == 201, body
    acknowledged.append("fdafter")
    with sqlite3.connect(f"file:{portal['dir']}/fta.sqlite?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        found = {row[0] for row in db.execute("SELECT id FROM clients WHERE name = 'Full disk'")}
    print(f"\nfull disk: {5 + 20 + 1} written, {len(acknowledged)} acknowledged, {len(found)} found, {len(refused)} refused with disk_full")
    assert found == set(acknowledged)
