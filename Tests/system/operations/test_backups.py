"""Scheduled backups and the restore drill (issue 14, part 4; docs/operations.md, "Backups").

`fta backup --scheduled` against a serving portal's database (its own, scripts/lib/portal.sh,
name `backups`), as the daily timer runs it: retention keeps the newest N and deletes the rest
only after the new one is in place; files are 0600 in a 0700 directory; with a key the backup is
AES-256-GCM and unreadable without it (no SQLite header, no row in clear, the drill refuses, a
wrong key is named as such); the operator's hook gets each new file; `fta backup --drill`
restores the newest into a scratch file and reports the live database's rows.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from pathlib import Path

import pytest

from fta_operations_support import fta, start_portal, stop_portal
from fta_portal_support import login, request

CLIENT_NAME = "Backup Drill Client"


@pytest.fixture(scope="module")
def portal():
    portal = start_portal("backups")
    try:
        admin = login(portal)
        client = f"bk{os.getpid() % 100000}"
        assert request(portal["url"] + "/api/v1/clients", "POST", {"id": client, "name": CLIENT_NAME}, cookie=admin)[0] == 201
        yield portal
    finally:
        stop_portal(portal)


def backups_in(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.name.startswith("fta-"))


def live_clients(portal) -> int:
    with sqlite3.connect(f"file:{portal['dir']}/fta.sqlite?mode=ro", uri=True) as db:
        return db.execute("SELECT COUNT(*) FROM clients").fetchone()[0]


def test_scheduled_backups_keep_the_newest_private_and_the_drill_restores_the_newest(portal, tmp_path):
    directory = tmp_path / "backups"
    extra = {"FTA_BACKUP_DIR": str(directory), "FTA_BACKUP_KEEP": "2"}
    written = []
    for _ in range(3):
        run = fta(portal, "backup", "--scheduled", extra=extra)
        assert run.returncode == 0, run.stderr
        written.append(run.stdout.split("backup written to ", 1)[1].split(" ", 1)[0])
        time.sleep(1.1)  # names are by the second
    kept = backups_in(directory)
    assert [str(p) for p in kept] == written[1:], (kept, written)
    assert "deleted " + written[0] in run.stdout
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in kept:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert path.read_bytes().startswith(b"SQLite format 3\x00")
    drill = fta(portal, "backup", "--drill", extra=extra)
    assert drill.returncode == 0, drill.stderr
    assert written[2] in drill.stdout and "integrity ok" in drill.stdout
    assert f"clients {live_clients(portal)}" in drill.stdout, drill.stdout
    # The drill never touches the live database: it still serves.
    assert request(portal["url"] + "/api/v1/health")[0] == 200


def test_an_encrypted_backup_cannot_be_read_without_its_key(portal, tmp_path):
    directory = tmp_path / "sealed"
    key = tmp_path / "backup.key"
    key.write_text(os.urandom(32).hex() + "\n")
    key.chmod(0o600)
    extra = {"FTA_BACKUP_DIR": str(directory), "FTA_BACKUP_KEY_FILE": str(key)}
    run = fta(portal, "backup", "--scheduled", extra=extra)
    assert run.returncode == 0 and "encrypted" in run.stdout, run.stderr
    (sealed,) = backups_in(directory)
    assert sealed.name.endswith(".sqlite.enc")
    data = sealed.read_bytes()
    assert not data.startswith(b"SQLite format 3") and CLIENT_NAME.encode() not in data and b"CREATE TABLE" not in data
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(f"file:{sealed}?mode=ro", uri=True).execute("SELECT COUNT(*) FROM clients").fetchone()
    # With its key the drill restores it; without, or with another key, it says exactly that.
    drill = fta(portal, "backup", "--drill", extra=extra)
    assert drill.returncode == 0 and "encrypted" in drill.stdout and f"clients {live_clients(portal)}" in drill.stdout, drill.stderr
    without = fta(portal, "backup", "--drill", extra={"FTA_BACKUP_DIR": str(directory)})
    assert without.returncode != 0 and "is encrypted: set FTA_BACKUP_KEY_FILE" in without.stderr, without.stderr
    other = tmp_path / "other.key"
    other.write_text(os.urandom(32).hex())
    other.chmod(0o600)
    wrong = fta(portal, "backup", "--drill", extra={**extra, "FTA_BACKUP_KEY_FILE": str(other)})
    assert wrong.returncode != 0 and "does not open with this key" in wrong.stderr, wrong.stderr
    # fta restore opens it with the key, into another database file (the live one is in use).
    target = tmp_path / "restored.sqlite"
    restored = fta(portal, "restore", str(sealed), "--database", str(target), extra=extra)
    assert restored.returncode == 0, restored.stderr
    with sqlite3.connect(f"file:{target}?mode=ro", uri=True) as db:
        assert db.execute("SELECT COUNT(*) FROM clients WHERE name = ?", (CLIENT_NAME,)).fetchone()[0] == 1
    refused = fta(portal, "restore", str(sealed), "--database", str(tmp_path / "never.sqlite"), extra={"FTA_BACKUP_DIR": str(directory)})
    assert refused.returncode != 0 and "is encrypted" in refused.stderr and not (tmp_path / "never.sqlite").exists()
    # A key others can read is refused before anything is written.
    key.chmod(0o644)
    loose = fta(portal, "backup", "--scheduled", extra=extra)
    assert loose.returncode != 0 and "chmod 600" in loose.stderr, loose.stderr
    assert backups_in(directory) == [sealed]


def test_the_hook_gets_each_new_backup_and_its_failure_is_reported(portal, tmp_path):
    directory = tmp_path / "hooked"
    seen = tmp_path / "seen"
    hook = tmp_path / "copy-off-host"
    hook.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$1\" >> {seen}\n")
    hook.chmod(0o700)
    run = fta(portal, "backup", "--scheduled", extra={"FTA_BACKUP_DIR": str(directory), "FTA_BACKUP_HOOK": str(hook)})
    assert run.returncode == 0 and "FTA_BACKUP_HOOK done" in run.stdout, run.stderr
    assert seen.read_text().split() == [str(p) for p in backups_in(directory)]
    failing = tmp_path / "failing-hook"
    failing.write_text("#!/bin/sh\necho 'bucket unreachable' >&2\nexit 4\n")
    failing.chmod(0o700)
    time.sleep(1.1)
    run = fta(portal, "backup", "--scheduled", extra={"FTA_BACKUP_DIR": str(directory), "FTA_BACKUP_HOOK": str(failing)})
    assert run.returncode != 0 and "exited 4" in run.stderr and "bucket unreachable" in run.stderr, run.stderr
    # The backup itself is kept.
    assert len(backups_in(directory)) == 2
