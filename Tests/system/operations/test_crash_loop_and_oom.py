"""A bot that crash-loops, and one killed for running out of memory (issue 14, part 6;
docs/operations.md, "Faults").

Each part builds its bot image offline from the busybox stand-in (fta-test/busybox, the legacy
builder: no registry) and runs a portal of its own with FTA_BOT_IMAGE set to it. Nothing in fta is
shortened for the test: Docker's own on-failure policy (HardenedBotContainer: 5 restarts, with
its backoff) decides when the bot is given up, and the portal's reconciler (every 2 s here)
notices.

- Crash loop: the bot's `freqtrade` prints three recognisable lines and a `fatal:` line, then
  exits 1. The bot must end `failed`, its `lastError` must say it stopped with exit code 1 after
  repeated restarts and carry its last output lines (the same ones its logs endpoint returns),
  the audit trail must have a `bot.failed` entry, `/metrics` must count it under
  `fta_bots{state="failed"}`, and the reconciler must not start it again
  (`fta_bot_restarts_total` stays 0).
- OOM: the bot's `freqtrade` allocates without bound, in the smallest size. While Docker restarts
  it, the bot is shown killed for running out of memory (`lastError`, a `bot.oom_killed` audit
  entry, `fta_bot_oom_kills_total` moved); when the policy gives up, it is `failed` with the
  memory message.

The time from start to `failed` and the counts are printed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time

from fta_operations_support import after_passes, counter, docker, scrape, bot_body, start_portal, stop_portal
from fta_portal_support import login, request
from fta_system_support import wait_until

BASE_IMAGE = os.environ.get("FTA_TEST_IMAGE", "fta-test/busybox:latest")

CRASH_LOOP = """#!/bin/sh
# fta test only: a bot that fails at every start (Tests/system/operations/test_crash_loop_and_oom.py).
# All on stderr, where Freqtrade logs: one stream keeps the lines in order in Docker's log.
exec >&2
echo "crash-loop line 1"
echo "crash-loop line 2"
echo "crash-loop line 3"
echo "fatal: the crash-loop stand-in gives up"
exit 1
"""
MEMORY_HOG = """#!/bin/sh
# fta test only: a bot that outgrows any memory limit (an awk string doubling forever).
echo "freqtrade stand-in: allocating until the kernel stops it"
sleep 2
exec awk 'BEGIN { s = "x"; while (1) s = s s }'
"""




def build_image(name: str, freqtrade: str, tmp_path) -> str:
    """The stand-in image with `freqtrade` replaced, tagged by a hash of its inputs."""
    base = docker("image", "inspect", "-f", "{{.Id}}", BASE_IMAGE).stdout.strip()
    tag = f"fta-test/busybox-{name}:{hashlib.sha256((base + freqtrade).encode()).hexdigest()[:12]}"
    context = tmp_path / name
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM {BASE_IMAGE}\nCOPY freqtrade /usr/local/bin/freqtrade\nLABEL fta.test={name}\n")
    (context / "freqtrade").write_text(freqtrade)
    (context / "freqtrade").chmod(0o755)
    docker("build", "--force-rm", "-q", "-t", tag, str(context), timeout=300)
    return tag


@contextlib.contextmanager
def portal_running(name: str, image: str, client: str, bot: str):
    """A portal of its own whose bots run `image`, with `client` created: (portal, admin cookie).
    The bot and the image are removed afterwards."""
    portal = start_portal(name, FTA_BOT_IMAGE=image, FTA_RECONCILE_SECONDS="2")
    try:
        admin = login(portal)
        assert request(portal["url"] + "/api/v1/clients", "POST", {"id": client, "name": client}, cookie=admin)[0] == 201
        yield portal, admin
    finally:
        request(portal["url"] + f"/api/v1/bots/{bot}", "DELETE", cookie=login(portal), timeout=60)
        stop_portal(portal)
        docker("image", "rm", "-f", image, check=False)


def shown(portal, admin, bot: str) -> dict:
    status, _, body = request(portal["url"] + f"/api/v1/bots/{bot}", cookie=admin)
    assert status == 200, body
    return body["bot"]


def audit(portal, admin, action: str, bot: str) -> list[dict]:
    status, _, body = request(portal["url"] + f"/api/v1/audit?action={action}", cookie=admin)
    assert status == 200, body
    return [entry for entry in body["entries"] if entry["target"] == bot]


def restarts(bot: str) -> str:
    fields = "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}}"
    return docker("inspect", "-f", fields, f"fta-bot-{bot}").stdout.strip()


def test_a_crash_looping_bot_ends_failed_with_its_last_output(tmp_path):
    began = time.monotonic()
    image = build_image("crash-loop", CRASH_LOOP, tmp_path)
    client, bot = "crashloop", "crashloop-b"
    with portal_running("crashloop", image, client, bot) as (portal, admin):
        started = time.monotonic()
        status, _, body = request(portal["url"] + "/api/v1/bots", "POST", bot_body(bot, client, start=True), cookie=admin, timeout=120)
        assert status == 201, body
        failed = wait_until(lambda: (b := shown(portal, admin, bot))["state"] == "failed" and b, "the bot shown failed",
                            timeout=180)
        took = time.monotonic() - started
        docker_view = restarts(bot)

        why, _, output = (failed.get("lastError") or "").partition(" Its last output:\n")
        assert why == "The bot stopped with exit code 1 after repeated restarts.", failed
        lines = output.split("\n")
        assert 1 <= len(lines) <= 10, lines
        assert "fatal: the crash-loop stand-in gives up" in lines[-1], lines
        assert any("crash-loop line 3" in line for line in lines), lines
        # The owner reads the same lines through the logs endpoint.
        status, _, logs = request(portal["url"] + f"/api/v1/bots/{bot}/logs?tail=10", cookie=admin)
        assert status == 200, logs
        assert [line for line in logs["lines"] if line] == lines, (logs["lines"], lines)
        status, _, every = request(portal["url"] + f"/api/v1/bots/{bot}/logs?tail=5000", cookie=admin)
        runs = sum("crash-loop line 1" in line for line in every["lines"])
        assert runs == 6, f"{runs} runs logged (Docker's policy: the first and 5 restarts); docker: {docker_view}"

        entries = audit(portal, admin, "bot.failed", bot)
        assert len(entries) == 1 and entries[0]["outcome"] == "failure" and entries[0]["actor"] == "reconciler", entries
        # A failed bot stays failed: later passes neither restart it nor record it again.
        text = after_passes(portal, 2)
        assert counter(text, "fta_bots", 'state="failed"') == 1 and counter(text, "fta_bots", 'state="running"') == 0, \
            [line for line in text.splitlines() if line.startswith("fta_bots")]
        assert counter(text, "fta_bot_restarts_total") == 0
        assert shown(portal, admin, bot)["state"] == "failed" and len(audit(portal, admin, "bot.failed", bot)) == 1
        assert restarts(bot) == docker_view, (restarts(bot), docker_view)

    print(f"\ncrash loop: {runs} runs (Docker restarted it {docker_view.split()[0]} times), failed {took:.1f} s after the start; "
          f"lastError carries {len(lines)} output lines; audit bot.failed 1; fta_bots failed 1, fta_bot_restarts_total 0; "
          f"test {time.monotonic() - began:.0f} s")


def test_a_bot_killed_for_memory_is_shown_oom_killed_then_failed(tmp_path):
    began = time.monotonic()
    image = build_image("oom-hog", MEMORY_HOG, tmp_path)
    client, bot = "oomkill", "oomkill-b"
    with portal_running("oomkill", image, client, bot) as (portal, admin):
        kills_before = counter(scrape(portal), "fta_bot_oom_kills_total")
        started = time.monotonic()
        status, _, body = request(portal["url"] + "/api/v1/bots", "POST", {**bot_body(bot, client, start=True), "size": "small"},
                                  cookie=admin, timeout=120)
        assert status == 201, body
        sizes = request(portal["url"] + "/api/v1/catalog", cookie=admin)[2]["sizes"]
        assert body["bot"]["memoryMB"] == min(size["memoryMB"] for size in sizes), (body, sizes)

        # While Docker's policy restarts it, the owner already sees why.
        def told():
            b = shown(portal, admin, bot)
            return b["state"] in ("running", "failed") and "out of memory" in (b.get("lastError") or "") and b

        restarting = wait_until(told, "the bot shown killed for running out of memory", timeout=120, interval=0.3)
        first_seen = time.monotonic() - started
        assert restarting["state"] == "running", f"never shown OOM-killed while Docker restarted it: {restarting}"
        assert restarting["lastError"].startswith("The bot was killed for running out of memory; it was restarted"), restarting
        assert audit(portal, admin, "bot.oom_killed", bot), "no bot.oom_killed audit entry while it restarts"
        # The counter moves when the pass that recorded the kill ends (its report is counted then).
        wait_until(lambda: counter(scrape(portal), "fta_bot_oom_kills_total") > kills_before, "fta_bot_oom_kills_total moved", timeout=30)

        failed = wait_until(lambda: (b := shown(portal, admin, bot))["state"] == "failed" and b, "the bot shown failed", timeout=240)
        took = time.monotonic() - started
        docker_view = restarts(bot)
        assert docker_view.split()[1:] == ["exited", "137", "true"], docker_view
        assert failed["lastError"].startswith("The bot was killed for running out of memory, after repeated restarts."), failed["lastError"]
        # Two more passes: the counters of the pass that failed it are in, and a failed bot stays as it is.
        text = after_passes(portal, 2)
        assert shown(portal, admin, bot)["state"] == "failed"
        entries = audit(portal, admin, "bot.oom_killed", bot)
        assert entries and all(entry["outcome"] == "failure" for entry in entries), entries
        assert len({entry["detail"] for entry in entries}) == len(entries), f"one kill recorded twice: {entries}"
        assert len(audit(portal, admin, "bot.failed", bot)) == 1
        kills = counter(text, "fta_bot_oom_kills_total") - kills_before
        assert kills == len(entries), (kills, entries)
        assert counter(text, "fta_bots", 'state="failed"') == 1 and counter(text, "fta_bot_restarts_total") == 0

    print(f"\nOOM kill: size small ({body['bot']['memoryMB']} MiB); shown OOM-killed {first_seen:.1f} s after the start while Docker "
          f"restarted it, failed after {took:.1f} s ({docker_view.split()[0]} restarts by Docker); {len(entries)} kills recorded "
          f"(audit bot.oom_killed, fta_bot_oom_kills_total +{kills:.0f}); test {time.monotonic() - began:.0f} s")
