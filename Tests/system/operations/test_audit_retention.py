"""Audit trail retention (issue 14, part 5; docs/operations.md, "Retention").

On a real `fta serve` of its own, 300 audit entries dated 500 days ago, 5 dated 100 days ago, 3
dated yesterday and the portal's own:
- the append-only guarantee is attacked first, with sqlite3 on the database file: an UPDATE, a
  DELETE, and a DELETE of yesterday's entries under a pruning permit written by hand all fail
  (no permit reaches an entry younger than 30 days), and the trail is unchanged. (Whoever can
  write the file can also drop the triggers: the schema stops mistakes and the portal's own
  code, not root; the archives' checksums in the trail, and the backups, show tampering.);
- `fta serve` prunes by itself shortly after start (then daily): the 300 old entries are in
  audit-<first>-<last>.jsonl (mode 0600) with a .sha256 that `sha256sum -c` accepts, they are gone
  from the database, the younger ones are all there, and an `audit.pruned` entry names the file,
  the ids and the checksum;
- `fta audit verify` accepts the archive, and refuses it once one byte is changed;
- a prune that cannot write its archive deletes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from fta_operations_support import fta, start_portal, stop_portal
from fta_portal_support import login, request
from fta_system_support import wait_until

OLD, MIDDLE = 300, 5


@pytest.fixture()
def portal(tmp_path):
    archive = tmp_path / "audit-archive"
    portal = start_portal("retention", FTA_AUDIT_ARCHIVE_DIR=str(archive), FTA_AUDIT_RETENTION_DAYS="400")
    portal["archive"] = archive
    try:
        yield portal
    finally:
        stop_portal(portal)


def stamp(days_ago: int) -> str:
    return (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days_ago)).strftime("%Y-%m-%d %H:%M:%S.000")


def sql(portal, statement: str, *args) -> list:
    with sqlite3.connect(portal["env"]["FTA_DATABASE"], timeout=10) as db:
        return db.execute(statement, args).fetchall()


def plant(portal) -> None:
    rows = [(stamp(500), "planted", "old.action", f"old-{i}", "success") for i in range(OLD)]
    rows += [(stamp(100), "planted", "middle.action", f"middle-{i}", "success") for i in range(MIDDLE)]
    rows += [(stamp(1), "planted", "recent.action", f"recent-{i}", "success") for i in range(3)]
    with sqlite3.connect(portal["env"]["FTA_DATABASE"], timeout=10) as db:
        db.executemany("INSERT INTO auditLog (at, actor, action, target, outcome) VALUES (?, ?, ?, ?, ?)", rows)


def attempt(portal, script: str) -> str:
    db = sqlite3.connect(portal["env"]["FTA_DATABASE"], timeout=10, isolation_level=None)
    try:
        db.executescript(script)
    except sqlite3.DatabaseError as error:
        db.execute("ROLLBACK") if db.in_transaction else None
        return str(error)
    finally:
        db.close()
    return "allowed"


def test_old_entries_are_archived_with_a_checksum_then_pruned_and_nothing_else_can_delete(portal):
    plant(portal)
    before = sql(portal, "SELECT id, action FROM auditLog ORDER BY id")

    # The attacks, with the database file in hand: none may change the trail.
    assert "append-only" in attempt(portal, "UPDATE auditLog SET detail = 'x' WHERE action = 'old.action'")
    assert "append-only" in attempt(portal, "DELETE FROM auditLog WHERE action = 'old.action'")
    newest = before[-1][0]
    forged = attempt(portal, f"BEGIN; INSERT INTO auditPrunePermit (id, throughId, before) VALUES (1, {newest}, '9999-01-01');"
                             " DELETE FROM auditLog WHERE action = 'recent.action'; COMMIT;")
    sql(portal, "DELETE FROM auditPrunePermit")
    assert "append-only" in forged, forged
    assert sql(portal, "SELECT id, action FROM auditLog ORDER BY id") == before, "an attack changed the audit trail"

    # fta serve prunes by itself shortly after start.
    pruned = wait_until(lambda: sql(portal, "SELECT target, detail FROM auditLog WHERE action = 'audit.pruned' AND outcome = 'success'"),
                        "fta serve to prune the old entries", timeout=90, interval=1)
    name, detail = pruned[0]
    archive = portal["archive"] / name
    old_ids = [row[0] for row in before if row[1] == "old.action"]
    assert name == f"audit-{old_ids[0]}-{old_ids[-1]}.jsonl", (name, old_ids[:3])
    lines = archive.read_text().splitlines()
    assert [json.loads(line)["target"] for line in lines] == [f"old-{i}" for i in range(OLD)]
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    checked = subprocess.run(["sha256sum", "-c", archive.name + ".sha256"], cwd=archive.parent, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert detail.endswith(f"sha256 {sha}") and f"({OLD})" in detail, detail

    after = sql(portal, "SELECT id, action FROM auditLog ORDER BY id")
    assert not [row for row in after if row[1] == "old.action"], "old entries left in the database"
    # The portal's own first entries are older ids than the planted ones, and stay: by date, not by id.
    assert [row for row in before if row[1] != "old.action"] == [row for row in after if row[0] <= newest], "a younger entry was pruned"
    print(f"pruned {OLD} entries into {name} ({archive.stat().st_size} bytes); kept {len(before) - OLD}; sha256 {sha[:16]}...")

    # The archive verifies, and stops verifying once changed.
    verified = fta(portal, "audit", "verify", str(archive))
    assert verified.returncode == 0 and f"{OLD} entries" in verified.stdout, verified.stderr
    admin = login(portal)
    status, _, body = request(portal["url"] + "/api/v1/audit?action=audit.pruned", cookie=admin)
    assert status == 200 and body["entries"][0]["target"] == name, body
    data = bytearray(archive.read_bytes())
    data[10] ^= 0x01
    archive.write_bytes(bytes(data))
    tampered = fta(portal, "audit", "verify", str(archive))
    assert tampered.returncode == 1 and "was changed" in tampered.stderr, (tampered.stdout, tampered.stderr)

    # Nothing left to prune; and a prune that cannot write its archive deletes nothing.
    assert "nothing to prune" in fta(portal, "audit", "prune").stdout
    plant(portal)
    count = sql(portal, "SELECT COUNT(*) FROM auditLog")[0][0]
    blocked = portal["archive"].parent / "not-a-directory"
    blocked.write_text("a file where the archive directory should be\n")
    failed = fta(portal, "audit", "prune", extra={"FTA_AUDIT_ARCHIVE_DIR": str(blocked)})
    assert failed.returncode != 0 and "nothing was pruned" in failed.stderr, (failed.stdout, failed.stderr)
    assert sql(portal, "SELECT COUNT(*) FROM auditLog")[0][0] == count
    dry = fta(portal, "audit", "prune", "--dry-run")
    assert dry.returncode == 0 and f"would archive and prune {OLD} entries" in dry.stdout, dry.stdout
