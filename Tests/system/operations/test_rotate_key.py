"""`fta rotate-key` (issue 14, part 5; docs/security.md, "Rotate"): every bot's sealed secrets
re-sealed under a new FTA_SECRET_KEY, surviving a crash half-way.

A portal of its own (scripts/lib/portal.sh, name `rotate`) creates three bots, whose API
credentials are sealed under its key A. Then, as `fta-admin rotate-key` runs it with the new key
B current and A previous: a run killed (SIGKILL) after re-sealing one secret inside its
transaction leaves all three under A, the database intact; the next run re-seals all three; with
B alone every secret opens, and with A alone none does.
"""

from __future__ import annotations

import os
import sqlite3

import pytest

from fta_operations_support import bot_body, fta, start_portal, stop_portal
from fta_portal_support import login, request


@pytest.fixture(scope="module")
def portal():
    portal = start_portal("rotate")
    try:
        admin = login(portal)
        client = f"rk{os.getpid() % 100000}"
        assert request(portal["url"] + "/api/v1/clients", "POST", {"id": client, "name": "Rotate"}, cookie=admin)[0] == 201
        for n in range(3):
            status, _, body = request(portal["url"] + "/api/v1/bots", "POST", bot_body(f"{client}-b{n}", client), cookie=admin)
            assert status == 201, body
    finally:
        # The database is the CLI's from here on: nothing else may write the secrets meanwhile.
        stop_portal(portal)
    yield portal


def sealed(portal) -> dict[str, bytes]:
    with sqlite3.connect(f"file:{portal['dir']}/fta.sqlite?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return dict(db.execute("SELECT botId, sealed FROM botSecrets"))


def test_a_rotation_killed_half_way_changes_nothing_and_the_next_run_finishes(portal):
    old = portal["env"]["FTA_SECRET_KEY"]
    new = os.urandom(32).hex()
    rotating = {"FTA_SECRET_KEY": new, "FTA_SECRET_KEY_PREVIOUS": old}
    before = sealed(portal)
    assert len(before) == 3

    check = fta(portal, "rotate-key", "--check", extra=rotating)
    assert check.returncode == 3 and "0 under the current key, 3 under the previous key, 0 under neither" in check.stdout, check

    crashed = fta(portal, "rotate-key", extra={**rotating, "FTA_TEST_ROTATE_CRASH_AFTER": "1"})
    assert crashed.returncode == -9, (crashed.returncode, crashed.stdout, crashed.stderr)
    # Killed inside the transaction: every secret as it was, the file intact.
    assert sealed(portal) == before
    print(f"crashed run: 3 rows read, 1 re-sealed before SIGKILL, 0 committed, {len(sealed(portal))} found unchanged")

    done = fta(portal, "rotate-key", extra=rotating)
    assert done.returncode == 0 and "re-sealed 3 bot secret(s)" in done.stdout, done
    after = sealed(portal)
    assert after.keys() == before.keys() and all(after[k] != before[k] for k in before)
    again = fta(portal, "rotate-key", extra=rotating)
    assert again.returncode == 0 and "re-sealed 0 bot secret(s) under the current key; 3 already were" in again.stdout, again
    print(f"finishing run: 3 rows re-sealed, committed, {len(after)} found under the new key")

    # The new key alone opens every secret; the old key alone opens none.
    only_new = fta(portal, "rotate-key", "--check", extra={"FTA_SECRET_KEY": new})
    assert only_new.returncode == 0 and "3 under the current key, 0 under the previous key, 0 under neither" in only_new.stdout, only_new
    only_old = fta(portal, "rotate-key", "--check", extra={"FTA_SECRET_KEY": old})
    assert only_old.returncode == 3 and "0 under the current key, 0 under the previous key, 3 under neither" in only_old.stdout, only_old


def test_a_previous_key_that_is_not_a_key_is_refused_by_name(portal):
    bad = fta(portal, "rotate-key", "--check", extra={"FTA_SECRET_KEY_PREVIOUS": "not-a-key"})
    assert bad.returncode != 0 and "FTA_SECRET_KEY_PREVIOUS" in bad.stderr, bad
