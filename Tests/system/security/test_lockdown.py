"""`fta lockdown` on the real stack (issue 15, class 8; docs/security.md, "Contain").

Its own `fta serve` (scripts/lib/portal.sh, name `security`) with a client, an owner, a viewer and a
running bot on the test engine through the proxy. The operator's command, run beside the serving
portal as on a server, must refuse the client users' right passwords and end their sessions,
stop the bot's container and keep it stopped through the portal's reconciler passes, keep every
audit row, and be reported by /system and `fta doctor`; `--lift` lets the clients back in with
the bot still stopped.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time

import pytest

import fta_security_support as sec
from fta_portal_support import login, request, run
from fta_system_support import start_portal, stop_portal, wait_until

NAME = "security"


@pytest.fixture(scope="module")
def portal():
    portal = start_portal(NAME)
    try:
        yield portal
    finally:
        stop_portal(portal)


def api(portal, path, method="GET", body=None, cookie=None):
    return request(portal["url"] + "/api/v1" + path, method, body, cookie=cookie)


def sign_in(portal, username, password):
    return api(portal, "/auth/login", "POST", {"username": username, "password": password})


def audit_rows(portal) -> dict[int, tuple]:
    with sqlite3.connect(f"file:{portal['dir']}/fta.sqlite?mode=ro", uri=True) as db:
        return {row[0]: row for row in db.execute("SELECT * FROM auditLog")}


def container_running(bot: str) -> bool:
    state = sec.docker("inspect", "--format", "{{.State.Running}}", f"fta-bot-{bot}", check=False)
    return state.returncode == 0 and state.stdout.strip() == "true"


def test_lockdown_refuses_clients_stops_bots_keeps_the_trail_and_lift_lets_clients_back(portal):
    suffix = str(os.getpid() % 100000)
    client, bot, password = f"lk{suffix}", f"lk{suffix}-bot", "lockdown test passphrase"
    admin = login(portal)
    assert api(portal, "/clients", "POST", {"id": client, "name": "Lockdown test"}, cookie=admin)[0] == 201
    for username, role in ((f"{client}-owner", "owner"), (f"{client}-viewer", "viewer")):
        status, _, body = api(portal, f"/clients/{client}/users", "POST", {"username": username, "password": password, "role": role}, cookie=admin)
        assert status == 201, body
    owner = login(portal, f"{client}-owner", password)
    viewer = login(portal, f"{client}-viewer", password)
    bot_body = {"id": bot, "name": "Lockdown bot", "exchange": "binance", "pairs": ["BTC/USDT"], "stakeCurrency": "USDT",
                "stakeAmount": "50", "dryRunWallet": 1000, "maxOpenTrades": 1, "timeframe": "5m", "strategy": "FtaRsi", "size": "small"}
    try:
        status, _, body = api(portal, "/bots", "POST", bot_body, cookie=owner)
        assert status == 201, body
        wait_until(lambda: container_running(bot), f"fta-bot-{bot} to run")
        before = audit_rows(portal)

        locked = run([portal["binary"], "lockdown", "--reason", "system test"], env=portal["env"])
        assert locked.returncode == 0, locked.stderr
        assert "lockdown in force" in locked.stdout and bot in locked.stdout and "2 client sessions ended" in locked.stdout

        # Client users: sessions gone, right passwords refused with the lockdown's message.
        for cookie in (owner, viewer):
            assert api(portal, "/me", cookie=cookie)[0] == 401
        for username in (f"{client}-owner", f"{client}-viewer"):
            status, headers, body = sign_in(portal, username, password)
            assert status == 403 and body["error"]["code"] == "lockdown" and "Set-Cookie" not in headers, body
        assert sign_in(portal, f"{client}-owner", "a wrong passphrase here")[0] == 401
        admin = login(portal)

        # The bot's container is stopped and stays stopped through the portal's reconciler passes
        # (FTA_RECONCILE_SECONDS=5); the admin cannot start it either.
        assert not container_running(bot)
        status, _, body = api(portal, f"/bots/{bot}/start", "POST", cookie=admin)
        assert status == 409 and "locked the portal down" in body["error"]["message"], body
        time.sleep(12)
        assert not container_running(bot)
        status, _, body = api(portal, f"/bots/{bot}", cookie=admin)
        assert body["bot"]["state"] == "stopped" and body["bot"]["desiredState"] == "stopped", body

        # Reported to the operator.
        status, _, system = api(portal, "/system", cookie=admin)
        assert status == 200 and system["lockdown"]["active"] is True and system["lockdown"]["reason"] == "system test"
        doctor = run([portal["binary"], "doctor", "--json"], env=portal["env"])
        check = next(c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "lockdown")
        assert check["status"] == "warn" and "fta lockdown --lift" in check["fix"], check

        # Nothing was removed from the trail; the lockdown, the stop and the refusals are on it.
        during = audit_rows(portal)
        assert all(during.get(key) == row for key, row in before.items()), "an audit row changed or disappeared"
        added = [row for key, row in during.items() if key not in before]
        actions = [(row[5], row[8]) for row in added]  # (action, outcome)
        assert ("system.lockdown", "success") in actions and ("bot.stop", "success") in actions
        assert actions.count(("auth.login", "denied")) == 2

        lifted = run([portal["binary"], "lockdown", "--lift"], env=portal["env"])
        assert lifted.returncode == 0 and "lockdown lifted" in lifted.stdout, lifted.stderr
        owner = login(portal, f"{client}-owner", password)
        time.sleep(6)
        assert not container_running(bot), "the lift started the bot"
        assert api(portal, f"/bots/{bot}/start", "POST", cookie=owner)[0] == 200
        wait_until(lambda: container_running(bot), f"fta-bot-{bot} to run again")
        assert api(portal, "/system", cookie=login(portal))[2]["lockdown"]["active"] is False
    finally:
        run([portal["binary"], "lockdown", "--lift"], env=portal["env"])
        api(portal, f"/bots/{bot}", "DELETE", cookie=login(portal))
