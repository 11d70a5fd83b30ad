"""fta backup while fta serve writes; fta restore refuses while it runs, and brings data back."""
import os
import sqlite3
import stat
import threading

from fta_portal_support import login, request, run, portal_env


def test_backup_while_writing_then_restore(portal, binary, tmp_path):
    env = portal_env(portal)
    cookie = login(portal)
    committed = []
    stop = threading.Event()

    def writer():
        # Each acknowledged POST is a committed row; keep writing through the backups.
        index = 0
        while not stop.is_set() and index < 400:
            status, _, _ = request(portal["url"] + "/api/v1/clients", "POST", {"id": f"bk{os.getpid() % 1000}x{index}", "name": "backup load"},
                                   cookie=cookie)
            if status == 201:
                committed.append(f"bk{os.getpid() % 1000}x{index}")
            index += 1

    thread = threading.Thread(target=writer)
    thread.start()
    backups = []
    try:
        for number in range(3):
            while len(committed) < (number + 1) * 15 and thread.is_alive():
                threading.Event().wait(0.05)
            acknowledged = list(committed)
            target = tmp_path / f"backup-{number}.sqlite"
            result = run([binary, "backup", str(target)], env=env)
            assert result.returncode == 0, result.stderr
            assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
            with sqlite3.connect(target) as db:
                assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                ids = {row[0] for row in db.execute("SELECT id FROM clients")}
            missing = set(acknowledged) - ids
            assert not missing, f"rows committed before the backup are missing: {sorted(missing)[:5]}"
            backups.append((target, ids))
    finally:
        stop.set()
        thread.join()

    # Restore refuses while the server holds the database, and changes nothing.
    result = run([binary, "restore", str(backups[0][0])], env=env)
    assert result.returncode != 0 and "stop it first" in result.stderr
    status, _, body = request(portal["url"] + "/api/v1/clients", cookie=cookie)
    assert set(committed) <= {client["id"] for client in body["clients"]}

    # The database file itself is private.
    assert stat.S_IMODE(os.stat(env["FTA_DATABASE"]).st_mode) == 0o600


def test_restore_brings_data_back(portal, binary, tmp_path):
    """Restore into a copy of the portal's configuration pointing at another database file,
    so the shared test portal keeps running."""
    env = portal_env(portal)
    backup = tmp_path / "snapshot.sqlite"
    assert run([binary, "backup", str(backup)], env=env).returncode == 0
    with sqlite3.connect(backup) as db:
        expected = {row[0] for row in db.execute("SELECT id FROM clients")}
    env["FTA_DATABASE"] = str(tmp_path / "restored" / "fta.sqlite")
    assert run([binary, "migrate"], env=env).returncode == 0
    assert run([binary, "client", "create", "onlyinold"], env=env).returncode == 0
    result = run([binary, "restore", str(backup)], env=env)
    assert result.returncode == 0, result.stderr
    assert "kept at" in result.stdout
    with sqlite3.connect(env["FTA_DATABASE"]) as db:
        assert {row[0] for row in db.execute("SELECT id FROM clients")} == expected
    assert stat.S_IMODE(os.stat(env["FTA_DATABASE"]).st_mode) == 0o600
    # A corrupt file is refused.
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"B" * 8192)
    result = run([binary, "restore", str(garbage)], env=env)
    assert result.returncode != 0 and "integrity" in result.stderr
