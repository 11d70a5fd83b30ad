"""Alerts against real local receivers (issue 14, part 3; docs/operations.md, "Alerts").

A portal of its own (scripts/lib/portal.sh, name `alerts`) sends to a webhook receiver and to an
SMTP sink (aiosmtpd), both on loopback, looking every second. Its database lives on a small
tmpfs (so the disk can run low), and it reaches the test proxy through a TCP relay this test
controls (so the engine can go away, and the relay can answer creates as a refusing proxy does).
Each alert class is made to happen for real where this machine can:

- `backup.missing`: no scheduled backup at start; `fta backup --scheduled` ends it;
- `auth.lockouts`: wrong passwords until a lockout;
- `engine.unreachable`: the relay stops, then comes back;
- `disk.low`: the tmpfs is filled, then emptied;
- `bot.failed` and `proxy.denials`: five bot starts refused (403, as the proxy answers);
- `bot.oom_killed`, `bot.unhealthy` and `dryrun.guard`: their audit entries, as the reconciler
  and the guard write them (their detection is tested with real containers in FTAPortalTests and
  Tests/system/freqtrade); here the rows are appended with sqlite3.

Each class must fire exactly once, however many looks it lasts, and resolve exactly once, on
both receivers.
"""

from __future__ import annotations

import email
import json
import os
import socket
import sqlite3
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fta_operations_support import bot_body, fta
from fta_portal_support import login, request
from fta_system_support import missing, small_tmpfs, start_portal, stop_portal, wait_until

CLASSES = ["backup.missing", "auth.lockouts", "engine.unreachable", "disk.low", "bot.failed", "proxy.denials",
           "bot.oom_killed", "bot.unhealthy", "dryrun.guard"]


class Webhook:
    def __init__(self):
        self.received: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.received.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


class Mailbox:
    def __init__(self):
        try:
            from aiosmtpd.controller import Controller
        except ImportError:
            missing("aiosmtpd is missing (Tests/system/requirements.txt; scripts/lib/pyenv.sh installs it)")
        self.messages: list[email.message.Message] = []
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                outer.messages.append(email.message_from_bytes(envelope.content))
                return "250 OK"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)
        self.controller.start()
        self.url = f"smtp://127.0.0.1:{port}"

    def subjects(self) -> list[str]:
        return [m["Subject"] for m in self.messages]


class Relay:
    """TCP on loopback -> the proxy's unix socket. `up`/`down` open and close the port; with
    `deny`, container creates get the proxy's 403 instead of being passed on."""

    def __init__(self, target: str):
        self.target = target
        self.deny = False
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.listener = None
        self.up()

    def up(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def down(self):
        listener, self.listener = self.listener, None
        listener.close()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        with client:
            head = client.recv(65536)
            if self.deny and head.startswith(b"POST ") and b"/containers/create" in head.split(b"\r\n", 1)[0]:
                body = b'{"message":"denied by fta socket proxy"}'
                client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nConnection: close\r\n"
                               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
                return
            with socket.socket(socket.AF_UNIX) as upstream:
                upstream.connect(self.target)
                upstream.sendall(head)
                threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
                self._pipe(upstream, client)

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    proxy_url = os.environ.get("FTA_TEST_DOCKER_URL", "")
    if not proxy_url.startswith("unix://"):
        missing("FTA_TEST_DOCKER_URL must be the test proxy's unix socket (scripts/lib/proxy.sh url)")
    with small_tmpfs(tmp_path_factory.mktemp("alerts-disk"), "512m") as disk:
        webhook, mailbox, relay = Webhook(), Mailbox(), Relay(proxy_url.removeprefix("unix://"))
        backups = disk / "backups"
        portal = start_portal("alerts", FTA_TEST_RUN_DIR=str(disk), FTA_TEST_DOCKER_URL=f"http://127.0.0.1:{relay.port}",
                              FTA_ALERT_WEBHOOK_URL=webhook.url, FTA_ALERT_SMTP_URL=mailbox.url, FTA_ALERT_EMAIL_FROM="fta@example.test",
                              FTA_ALERT_EMAIL_TO="operator@example.test", FTA_ALERT_CHECK_SECONDS="1", FTA_ALERT_REPEAT_MINUTES="60",
                              FTA_LOGIN_MAX_FAILURES="2", FTA_LOGIN_LOCKOUT_SECONDS="2", FTA_BACKUP_DIR=str(backups),
                              FTA_RECONCILE_SECONDS="2")
        portal["env"]["FTA_BACKUP_DIR"] = str(backups)
        try:
            yield {"portal": portal, "webhook": webhook, "mailbox": mailbox, "relay": relay, "disk": disk}
        finally:
            stop_portal(portal)
            mailbox.controller.stop()
            webhook.server.shutdown()


def states(webhook: Webhook, kind: str) -> list[tuple[str, str]]:
    return [(a["key"], a["state"]) for a in webhook.received if a["kind"] == kind]


def wait_for(webhook: Webhook, kind: str, state: str, count: int = 1, timeout: float = 60):
    wait_until(lambda: sum(1 for _, s in states(webhook, kind) if s == state) >= count, f"{kind} {state} x{count}", timeout=timeout)


def append_audit(portal, actor: str, action: str, target: str, detail: str):
    """An audit row as the reconciler or the dry-run guard appends it (the trail is append-only)."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.000")
    with sqlite3.connect(f"{portal['dir']}/fta.sqlite", timeout=10) as db:
        db.execute("INSERT INTO auditLog (at, actor, action, target, outcome, detail) VALUES (?, ?, ?, ?, 'failure', ?)",
                   (now, actor, action, target, detail))


def test_every_alert_class_fires_once_and_recovers_once_on_both_receivers(setup):
    portal, webhook, mailbox, relay, disk = (setup[k] for k in ("portal", "webhook", "mailbox", "relay", "disk"))
    admin = login(portal)

    # backup.missing: there is none yet. It lasts several looks and is sent once.
    wait_for(webhook, "backup.missing", "firing")
    time.sleep(3)
    run = fta(portal, "backup", "--scheduled")
    assert run.returncode == 0, run.stderr
    wait_for(webhook, "backup.missing", "resolved")

    # auth.lockouts: two wrong passwords lock the account out.
    for _ in range(2):
        request(portal["url"] + "/api/v1/auth/login", "POST", {"username": "nobody-alerts", "password": "wrong password!"})
    wait_for(webhook, "auth.lockouts", "firing")
    wait_for(webhook, "auth.lockouts", "resolved", timeout=30)

    # engine.unreachable: the way to Docker goes away, and comes back.
    relay.down()
    wait_for(webhook, "engine.unreachable", "firing")
    time.sleep(2)
    relay.up()
    wait_for(webhook, "engine.unreachable", "resolved")

    # disk.low: the database's filesystem filled to under 300 MiB free.
    filler = disk / "filler"
    with open(filler, "wb") as handle:
        info = os.statvfs(disk)
        os.posix_fallocate(handle.fileno(), 0, info.f_bavail * info.f_frsize - (200 << 20))
    wait_for(webhook, "disk.low", "firing")
    filler.unlink()
    wait_for(webhook, "disk.low", "resolved")

    # bot.failed x5 and proxy.denials: five starts refused as the proxy refuses.
    client = f"al{os.getpid() % 100000}"
    assert request(portal["url"] + "/api/v1/clients", "POST", {"id": client, "name": "Alerts", "maxBots": 6}, cookie=admin)[0] == 201
    relay.deny = True
    bots = [f"{client}-b{n}" for n in range(5)]
    for bot in bots:
        status, _, body = request(portal["url"] + "/api/v1/bots", "POST", bot_body(bot, client, start=True), cookie=admin)
        assert status in (201, 500), body
    relay.deny = False
    wait_for(webhook, "proxy.denials", "firing")
    wait_for(webhook, "bot.failed", "firing", count=5)
    for bot in bots:
        assert request(portal["url"] + f"/api/v1/bots/{bot}", "DELETE", cookie=admin)[0] in (200, 202, 204)
    wait_for(webhook, "bot.failed", "resolved", count=5)
    wait_for(webhook, "proxy.denials", "resolved", timeout=60)

    # bot.oom_killed, bot.unhealthy and dryrun.guard: the audit entries their detectors write.
    append_audit(portal, "reconciler", "bot.oom_killed", f"{client}-oom", "The bot was killed for running out of memory.")
    append_audit(portal, "reconciler", "bot.unhealthy", f"{client}-stuck",
                 "run started at 2026-12-07T00:00:00Z; Freqtrade's API does not answer its health check; strategy FtaRsi")
    append_audit(portal, "dry-run-guard", "bot.quarantine", f"{client}-live", "show_config.dry_run was false; container stopped")
    wait_for(webhook, "bot.oom_killed", "firing")
    wait_for(webhook, "bot.unhealthy", "firing")
    wait_for(webhook, "dryrun.guard", "firing")
    wait_for(webhook, "bot.oom_killed", "resolved")
    wait_for(webhook, "bot.unhealthy", "resolved")
    wait_for(webhook, "dryrun.guard", "resolved")

    # Exactly once each way, per key, on the webhook; the same on e-mail.
    for kind in CLASSES:
        seen = states(webhook, kind)
        keys = {key for key, _ in seen}
        for key in keys:
            assert [s for k, s in seen if k == key] == ["firing", "resolved"], (key, seen)
    time.sleep(2)
    subjects = mailbox.subjects()
    assert len(subjects) == len(webhook.received), (subjects, webhook.received)
    assert sum(s.startswith("[fta ALERT]") for s in subjects) == sum(a["state"] == "firing" for a in webhook.received)
    assert any("Bot " in s and "failed" in s for s in subjects)
    # Every alert is in the audit trail too.
    with sqlite3.connect(f"file:{portal['dir']}/fta.sqlite?mode=ro", uri=True) as db:
        audited = db.execute("SELECT COUNT(*) FROM auditLog WHERE actor = 'alerts' AND outcome = 'success'").fetchone()[0]
    assert audited == len(webhook.received)
