"""A damaged database at start (issue 14, part 6; docs/operations.md, "A damaged database").

`fta serve` on a truncated database file, and on a file that is not a database at all, must
refuse to start with a clear message naming the restore command and the newest backup, exit
with a failure status (so that a supervisor says so), and leave the file as it was. Then the
named restore must work on the damaged file and `fta serve` must start on the result, with every
row the backup held.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from fta_operations_support import binary


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def setup(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FTA_")}
    env.update(FTA_SECRET_KEY=os.urandom(32).hex(), FTA_DATABASE=str(tmp_path / "fta.sqlite"), FTA_BACKUP_DIR=str(tmp_path / "backups"),
               FTA_WEB_ROOT=str(Path(__file__).resolve().parents[3] / "web"), FTA_DOCKER_URL="unix:///nonexistent/proxy.sock",
               FTA_BOT_IMAGE="fta-test/busybox:latest", FTA_PORT=str(free_port()))

    def fta(*args, timeout=60):
        return subprocess.run([str(binary()), *args], capture_output=True, text=True, timeout=timeout, env=env)

    assert fta("migrate").returncode == 0
    for n in range(3):
        assert fta("client", "create", f"dmg{n}", "--name", f"Damaged {n}").returncode == 0
    backup = fta("backup", "--scheduled")
    assert backup.returncode == 0, backup.stderr
    newest = backup.stdout.split("backup written to ", 1)[1].split(" ", 1)[0]
    with sqlite3.connect(env["FTA_DATABASE"]) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"env": env, "fta": fta, "db": Path(env["FTA_DATABASE"]), "newest": newest}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("damage", ["truncated", "not a database"])
def test_a_damaged_database_is_refused_with_the_restore_command_and_the_restore_works(setup, damage):
    db, fta = setup["db"], setup["fta"]
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"this is no longer a database " * 100)
    before = digest(db)

    started = time.monotonic()
    serve = fta("serve", timeout=30)
    assert serve.returncode == 2, (serve.returncode, serve.stderr[-2000:])
    assert time.monotonic() - started < 20
    assert f"the database {db} is damaged and was not opened" in serve.stderr, serve.stderr
    assert f"sudo fta-admin restore {setup['newest']}" in serve.stderr, serve.stderr
    assert "Usage:" not in serve.stderr
    assert digest(db) == before, "the damaged file was changed"

    restored = fta("restore", setup["newest"])
    assert restored.returncode == 0, restored.stderr
    assert "the previous database is kept at" in restored.stdout
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        assert conn.execute("SELECT COUNT(*) FROM clients WHERE id LIKE 'dmg%'").fetchone()[0] == 3

    proc = subprocess.Popen([str(binary()), "serve"], env=setup["env"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{setup['env']['FTA_PORT']}/api/v1/health"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() is not None else "no answer"
                time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
