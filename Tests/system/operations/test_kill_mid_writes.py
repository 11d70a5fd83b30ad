"""`kill -9` of `fta serve` in the middle of writes (issue 14, part 6; docs/operations.md, "Faults").

A portal of its own (scripts/lib/portal.sh makes its database, admin and env file), then run
under fta-supervise, the supervisor install.sh uses where systemd is not PID 1 (with systemd,
`Restart=on-failure` does the same). Four writers create clients as fast as the portal answers;
a second into it, `fta serve` gets SIGKILL. Every client the portal acknowledged (201) must be
in the database afterwards, the supervisor must bring the portal back with no action, the
writers' session must still be valid, and the database must pass its integrity check. The counts
of rows written, acknowledged and found are printed.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time

import pytest

from fta_operations_support import REPO, binary, start_portal, stop_portal
from fta_portal_support import login, request
from fta_system_support import wait_until

SUPERVISE = REPO / "scripts" / "install" / "fta-supervise.sh"


@pytest.fixture()
def supervised(tmp_path):
    portal = start_portal("killed")
    stop_portal(portal)  # its database, admin and env stay; the supervisor runs it from now on
    pidfile = tmp_path / "supervise.pid"
    supervisor = subprocess.Popen(["bash", str(SUPERVISE), "--name", "fta", "--pidfile", str(pidfile), "--log", str(tmp_path / "fta.log"),
                                   "--", str(binary()), "serve"], env=portal["env"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
    try:
        wait_until(lambda: answers(portal), "the supervised portal answers", timeout=30)
        yield portal, supervisor
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(timeout=60)


def answers(portal) -> bool:
    try:
        return request(portal["url"] + "/api/v1/health", timeout=3)[0] == 200
    except OSError:
        return False


def serve_pid(supervisor: subprocess.Popen) -> int:
    out = subprocess.run(["pgrep", "-P", str(supervisor.pid), "-f", "fta serve"], capture_output=True, text=True).stdout.split()
    assert out, "no fta serve under the supervisor"
    return int(out[0])


def test_every_acknowledged_write_survives_kill_9_and_the_supervisor_brings_the_portal_back(supervised):
    portal, supervisor = supervised
    admin = login(portal)
    acknowledged: list[str] = []
    attempted = 0
    stop = threading.Event()
    lock = threading.Lock()

    def writer(n: int):
        nonlocal attempted
        i = 0
        while not stop.is_set():
            client = f"k{n}x{i}"
            i += 1
            with lock:
                attempted += 1
            try:
                status, _, _ = request(portal["url"] + "/api/v1/clients", "POST", {"id": client, "name": "Kill test"}, cookie=admin, timeout=5)
            except OSError:
                time.sleep(0.1)
                continue
            if status == 201:
                with lock:
                    acknowledged.append(client)

    threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    victim = serve_pid(supervisor)
    os.kill(victim, signal.SIGKILL)
    before_kill = len(acknowledged)
    # The supervisor restarts it; the writers go on against the new process.
    wait_until(lambda: answers(portal) and serve_pid(supervisor) != victim,
               "the supervisor brought fta serve back", timeout=60)
    time.sleep(1.5)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)

    with sqlite3.connect(f"file:{portal['dir']}/fta.sqlite?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        found = {row[0] for row in db.execute("SELECT id FROM clients WHERE name = 'Kill test'")}
    missing = sorted(set(acknowledged) - found)
    print(f"\nkill -9 mid-writes: {attempted} written, {len(acknowledged)} acknowledged ({before_kill} before the kill), "
          f"{len(found)} found, {len(missing)} acknowledged but missing")
    assert before_kill > 0 and len(acknowledged) > before_kill, (before_kill, len(acknowledged))
    assert not missing, missing[:20]
    # The session survived the kill: it is a row, not process memory.
    assert request(portal["url"] + "/api/v1/me", cookie=admin)[0] == 200
