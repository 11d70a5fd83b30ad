"""Clock jumps neither end valid sessions early nor keep expired ones alive (issue 14, part 6;
docs/operations.md, "Faults").

The wall clock of a real `fta serve` is jumped with libfaketime (Debian's `faketime` package,
LD_PRELOAD): FAKETIME_TIMESTAMP_FILE holds the offset and is re-read on every call, and
FAKETIME_DONT_FAKE_MONOTONIC=1 leaves the kernel's monotonic and boot clocks alone, which is
exactly what `date -s` or an NTP step does to a real machine. The portal measures session time
with its PortalClock: the wall clock read at start, moved on by CLOCK_BOOTTIME.

With a 1-minute idle timeout:
- forward 2 days: both sessions still work (on the wall clock they were 2 days idle), while the
  audit trail's timestamps prove the process did see the jump;
- back 2 days, then a restart of the portal on that clock: a session left idle for over a
  minute of real time is refused (on the wall clock it had 2 days left), one used every 20 s
  stays valid, and a session started just before the restart is refused after a real idle
  minute too (the restarted portal's clock does not start behind the newest session activity
  in its database).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from fta_operations_support import binary, start_portal, stop_portal
from fta_portal_support import login, request
from fta_system_support import missing, wait_until

LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")


@pytest.fixture()
def portal(tmp_path):
    if not LIBFAKETIME.exists():
        missing(f"{LIBFAKETIME} is missing (apt-get install faketime; scripts/lib/deps.sh installs it)")
    # Set up by the usual starter (database, admin), then served again under libfaketime below.
    portal = start_portal("clockjump", FTA_SESSION_IDLE_MINUTES="1", FTA_SESSION_MAX_HOURS="1")
    stop_portal(portal)
    offset = tmp_path / "faketime"
    offset.write_text("+0\n")
    portal["offset"] = offset
    portal["process"] = None
    try:
        yield portal
    finally:
        stop(portal)


def serve(portal) -> None:
    """`fta serve` on the portal's database and port, with its wall clock at the offset file's."""
    env = {**portal["env"], "LD_PRELOAD": str(LIBFAKETIME), "FAKETIME_TIMESTAMP_FILE": str(portal["offset"]),
           "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    log = open(os.path.join(portal["dir"], "fta-faketime.log"), "ab")
    # Through `sh -c exec`: started straight from Python (vfork) with libfaketime preloaded, the
    # Swift runtime saw no arguments and fta printed its usage; an execve from sh is what an
    # operator's shell or systemd does anyway.
    portal["process"] = subprocess.Popen(["/bin/sh", "-c", 'exec "$0" serve', str(binary())], env=env, stdout=log,
                                         stderr=subprocess.STDOUT)
    wait_until(lambda: reachable(portal), "the portal under libfaketime to answer", timeout=60, interval=0.2)


def reachable(portal) -> bool:
    try:
        return request(portal["url"] + "/api/v1/health", timeout=2)[0] == 200
    except OSError:
        return False


def stop(portal) -> None:
    process = portal.get("process")
    if process and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    portal["process"] = None


def jump(portal, offset: str) -> None:
    portal["offset"].write_text(offset + "\n")


def me(portal, cookie: str) -> int:
    return request(portal["url"] + "/api/v1/me", cookie=cookie)[0]


def newest_audit_time(portal, admin: str) -> dt.datetime:
    status, _, body = request(portal["url"] + "/api/v1/audit?limit=1", cookie=admin)
    assert status == 200, body
    entries = body["entries"] if isinstance(body, dict) else body
    return dt.datetime.fromisoformat(entries[0]["at"].replace("Z", "+00:00"))


def test_sessions_count_real_time_through_clock_jumps_and_a_restart(portal):
    serve(portal)
    idle_one = login(portal)   # left idle from here on
    kept = login(portal)       # used every 20 s
    admin = login(portal)
    started = time.monotonic()

    # Forward 2 days: on the wall clock every session is 2 days idle; none may end.
    jump(portal, "+2d")
    assert request(portal["url"] + "/api/v1/auth/login", "POST", {"username": portal["admin"], "password": "wrong"})[0] == 401
    seen = newest_audit_time(portal, admin)
    ahead = seen - dt.datetime.now(dt.timezone.utc)
    print(f"forward jump: the failed login's audit time is {ahead.total_seconds() / 3600:.1f} h ahead of the real clock")
    assert ahead > dt.timedelta(days=1, hours=23), f"the process did not see the jump (audit time {seen})"
    assert me(portal, idle_one) == 200, "a forward jump of the wall clock ended a valid session early"
    assert me(portal, kept) == 200

    # Back 2 days (from the real time), a session started now, and a restart on that clock.
    jump(portal, "-2d")
    started_late = login(portal)
    stop(portal)
    serve(portal)
    assert me(portal, kept) == 200, "the restart on a clock set back ended a valid session"
    print(f"back 2 days and restarted after {time.monotonic() - started:.0f} s")

    # Over a minute of real time with idle_one and started_late untouched, kept used every 20 s.
    deadline = started + 75
    while time.monotonic() < deadline:
        time.sleep(min(20, max(0.0, deadline - time.monotonic())))
        assert me(portal, kept) == 200, f"a session in use ended at {time.monotonic() - started:.0f} s"
    idle_status, late_status = me(portal, idle_one), me(portal, started_late)
    print(f"after {time.monotonic() - started:.0f} s of real time: idle session {idle_status}, "
          f"session started before the restart {late_status}, session in use {me(portal, kept)}")
    assert idle_status == 401, "a session idle for over a minute of real time was kept alive by a clock set back 2 days"
    assert late_status == 401, "the restarted portal's clock started behind the newest session activity: an idle session lived on"
    assert me(portal, kept) == 200
