"""A Docker engine restart under running bots (issue 14, part 6; docs/operations.md, "Faults").

A portal of its own with three running stand-in bots of two clients. The private test engine
(scripts/lib/engine.sh, shared by the whole run) is stopped and started again (`engine.sh
restart`), as a host's `systemctl restart docker` would; its daemon config has `live-restore`, as install.sh sets it on a
real host (scripts/install/lib/host.sh). The bots must not notice: each container has the same Id
and StartedAt afterwards, still running with no restart counted. The socket proxy (HAProxy) must
pass requests again without being restarted itself, the portal's health must come back to `ok`
by itself, and the reconciler must converge in one pass: passes end `ok` after the restart, none
of them recreates a bot (`fta_bot_restarts_total` and the audit trail's `bot.recreate` stay as
they were), and the API shows every bot running. The counts and the times are printed.

The engine is shared: the restart waits until no other test run (pytest) or load benchmark is
running on this machine, and a `finally` starts the engine again whatever happened.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from fta_operations_support import after_passes, counter, docker, scrape, REPO, bot_body, start_portal, stop_portal
from fta_portal_support import login, request
from fta_system_support import missing, wait_until

ENGINE_SH = REPO / "scripts" / "lib" / "engine.sh"
PROXY_SH = REPO / "scripts" / "lib" / "proxy.sh"
RUN_DIR = Path(os.environ.get("FTA_TEST_RUN_DIR", "/run/fta-test"))
BOTS = {"ers-a": ["ers-a-1", "ers-a-2"], "ers-b": ["ers-b-1"]}










def others_on_the_engine() -> list[str]:
    """Other test runs and load benchmarks on this machine (this test's own process tree aside)."""
    mine, pid = set(), os.getpid()
    while pid > 1:
        mine.add(pid)
        with open(f"/proc/{pid}/stat") as handle:
            pid = int(handle.read().rsplit(")", 1)[1].split()[1])
    found = subprocess.run(["pgrep", "-af", r"[-]m pytest|bin/pytest|bench-load"], capture_output=True, text=True).stdout
    return [line for line in found.splitlines() if int(line.split()[0]) not in mine]


@pytest.fixture(scope="module")
def portal():
    if not (RUN_DIR / "engine.owned").exists():
        missing(f"the test engine was not started by scripts/lib/engine.sh ({RUN_DIR}/engine.owned): it cannot be restarted here")
    portal = start_portal("enginerestart", FTA_RECONCILE_SECONDS="2")
    admin = login(portal)
    try:
        yield portal
    finally:
        for bots in BOTS.values():
            for bot in bots:
                request(portal["url"] + f"/api/v1/bots/{bot}", "DELETE", cookie=admin, timeout=60)
        stop_portal(portal)


def inspect(bot: str) -> dict:
    fields = docker("inspect", "-f", "{{.Id}} {{.State.StartedAt}} {{.State.Status}} {{.RestartCount}}", f"fta-bot-{bot}").stdout.split()
    return dict(zip(("id", "startedAt", "status", "restarts"), fields))


def health(portal) -> str:
    try:
        status, _, body = request(portal["url"] + "/api/v1/health", timeout=5)
    except OSError:
        return "no answer"
    return body.get("status", "?") if status == 200 and isinstance(body, dict) else f"HTTP {status}"


def test_bots_keep_running_across_an_engine_restart_and_one_pass_converges(portal):
    live = docker("info", "--format", "{{.LiveRestoreEnabled}}").stdout.strip()
    assert live == "true", f"the test engine runs without live-restore ({live}): scripts/lib/engine.sh writes it into its daemon.json"
    admin = login(portal)
    for client, bots in BOTS.items():
        assert request(portal["url"] + "/api/v1/clients", "POST", {"id": client, "name": "Engine restart"}, cookie=admin)[0] == 201
        for bot in bots:
            status, _, body = request(portal["url"] + "/api/v1/bots", "POST", bot_body(bot, client, start=True), cookie=admin, timeout=120)
            assert status == 201, body
    every_bot = [bot for bots in BOTS.values() for bot in bots]

    def states() -> dict[str, str]:
        return {bot: request(portal["url"] + f"/api/v1/bots/{bot}", cookie=admin)[2]["bot"]["state"] for bot in every_bot}

    wait_until(lambda: set(states().values()) == {"running"} and all(inspect(b)["status"] == "running" for b in every_bot),
               "every bot running", timeout=60)
    before = {bot: inspect(bot) for bot in every_bot}
    proxy_pid = (RUN_DIR / "proxy.pid").read_text().strip()
    # At least one ok pass with the bots running, so that the counters below start from a converged state.
    text = after_passes(portal, 1)
    restarts_before = counter(text, "fta_bot_restarts_total")
    errors_before = counter(text, "fta_reconcile_passes_total", 'result="error"')

    # The engine is shared by whatever else runs here: restarting it under another test run would
    # break that run, so wait (bounded) until nothing else uses it.
    waited = time.monotonic()
    try:
        wait_until(lambda: not others_on_the_engine(), "no other test run or benchmark on the engine", timeout=1200, interval=5)
    except AssertionError as error:
        raise AssertionError(f"{error}; still running: {others_on_the_engine()}") from None
    waited = time.monotonic() - waited

    # The portal's health, watched through the restart.
    seen: list[tuple[float, str]] = []
    watching = threading.Event()

    def watch():
        # Bounded, also when an assertion below ends the test before it is told to stop.
        while not watching.is_set() and time.monotonic() < restarted + 180:
            seen.append((time.monotonic(), health(portal)))
            time.sleep(0.2)

    restarted = time.monotonic()
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        run = subprocess.run([str(ENGINE_SH), "restart"], capture_output=True, text=True, timeout=180)
        assert run.returncode == 0 and "engine: ready" in run.stdout, run.stdout + run.stderr
    finally:
        # Whatever happened, the engine runs for the tests after this one (a running one is reused).
        started = subprocess.run([str(ENGINE_SH), "start"], capture_output=True, text=True, timeout=120)
        assert started.returncode == 0, started.stdout + started.stderr
    engine_back = time.monotonic()
    passes_at_restart = counter(scrape(portal), "fta_reconcile_passes_total", 'result="ok"')

    # The bots did not notice: same containers, same start, running, not restarted.
    after = {bot: inspect(bot) for bot in every_bot}
    assert after == before, f"containers changed across the engine restart:\nbefore {before}\nafter  {after}"
    assert all(state["status"] == "running" for state in after.values()), after

    # The proxy passes requests again by itself: the same HAProxy process, no restart.
    assert (RUN_DIR / "proxy.pid").read_text().strip() == proxy_pid
    status = subprocess.run([str(PROXY_SH), "status"], capture_output=True, text=True, timeout=30)
    assert status.returncode == 0, status.stdout + status.stderr
    try:
        wait_until(lambda: seen and seen[-1][0] > engine_back and seen[-1][1] == "ok", "the portal's health ok again, with no restart",
                   timeout=60, interval=0.2)
    finally:
        watching.set()
        watcher.join(timeout=10)
    healthy = min(at for at, said in seen if at > engine_back and said == "ok")
    not_ok = [said for at, said in seen if at >= restarted and said != "ok"]

    # The reconciler converges in one pass: two more ok passes (the first may have begun before
    # the engine was back), and none of them had anything to recreate.
    text = after_passes(portal, 2, since=passes_at_restart)
    assert counter(text, "fta_bot_restarts_total") == restarts_before, \
        [line for line in text.splitlines() if line.startswith("fta_bot_restarts_total")]
    assert set(states().values()) == {"running"}, states()
    status, _, audit = request(portal["url"] + "/api/v1/audit?action=bot.recreate", cookie=admin)
    assert status == 200 and audit["entries"] == [], audit
    assert {bot: inspect(bot) for bot in every_bot} == before

    errors = counter(text, "fta_reconcile_passes_total", 'result="error"') - errors_before
    oks = counter(text, "fta_reconcile_passes_total", 'result="ok"') - passes_at_restart
    recreated = counter(text, "fta_bot_restarts_total") - restarts_before
    print(f"\nengine restart: {len(before)} bots of {len(BOTS)} clients running before, "
          f"{sum(s['status'] == 'running' for s in after.values())} after in the same containers; "
          f"engine down and up in {engine_back - restarted:.1f} s (after waiting {waited:.0f} s for other runs), "
          f"portal health not ok in {len(not_ok)} of {len(seen)} looks ({', '.join(sorted(set(not_ok))) or 'none'}), ok again "
          f"{healthy - restarted:.1f} s after the restart began; reconcile passes: "
          f"{errors:.0f} error during it, {oks:.0f} ok after it; bots recreated {recreated:.0f}")
