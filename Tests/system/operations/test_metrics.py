"""`GET /metrics` on a real `fta serve` (issue 14, part 2; docs/operations.md, "Metrics").

Its own portal (scripts/lib/portal.sh, name `metrics`) on the test engine through the proxy, with
a low sign-in limit and a scheduled-backup directory. The exposition must pass Prometheus' own
linter (`promtool check metrics`), answer only a local scraper (a request that came through
nginx, which always sets X-Forwarded-For, is a 404), and its counters and gauges must move as
the events happen: wrong passwords and a lockout, requests by route, reconcile passes, a bot
created, a backup written.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from fta_operations_support import bot_body, fta, metrics_response as scrape, sample, start_portal, stop_portal
from fta_portal_support import login, request
from fta_system_support import missing, wait_until


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    backups = tmp_path_factory.mktemp("metrics-backups")
    portal = start_portal("metrics", FTA_LOGIN_MAX_FAILURES="3", FTA_LOGIN_LOCKOUT_SECONDS="600", FTA_RECONCILE_SECONDS="2",
                          FTA_BACKUP_DIR=str(backups / "b"))
    portal["env"]["FTA_BACKUP_DIR"] = str(backups / "b")
    try:
        yield portal
    finally:
        stop_portal(portal)






def test_metrics_pass_promtool_and_answer_only_a_local_scraper(portal):
    promtool = shutil.which("promtool")
    if not promtool:
        missing("promtool is missing (Debian's prometheus package; scripts/lib/deps.sh installs it)")
    status, text = scrape(portal)
    assert status == 200, text
    check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, f"promtool: {check.stdout}{check.stderr}\n{text[:3000]}"
    for family in ("fta_build_info", "fta_bots", "fta_database_size_bytes", "fta_disk_free_bytes", "fta_login_failures_total",
                   "fta_login_lockouts_total", "fta_proxy_denials_total", "fta_bot_oom_kills_total", "fta_bot_restarts_total",
                   "fta_reconcile_passes_total", "fta_memory_budget_bytes", "fta_backups", "fta_dry_run_guard_trips_total"):
        assert f"# TYPE {family} " in text, family
    assert sample(text, "fta_build_info", 'version="dev"') == 1
    # What came through nginx (it always sets X-Forwarded-For) is answered like an unknown path.
    for header in ({"X-Forwarded-For": "203.0.113.9"}, {"X-Real-IP": "203.0.113.9"}, {"Forwarded": "for=203.0.113.9"}):
        status, body = scrape(portal, header)
        assert status == 404 and "fta_" not in body, (header, status, body[:200])


def test_counters_move_with_the_events(portal):
    # Signed in first: the lockout below also locks this address (one key per address, one per account).
    admin = login(portal)
    _, before = scrape(portal)
    failures0 = sample(before, "fta_login_failures_total")
    lockouts0 = sample(before, "fta_login_lockouts_total")
    # Three wrong passwords for one account: the third locks it out (FTA_LOGIN_MAX_FAILURES=3).
    for _ in range(3):
        status, _, _ = request(portal["url"] + "/api/v1/auth/login", "POST", {"username": "nobody-metrics", "password": "wrong password!"})
        assert status == 401, status
    status, _, _ = request(portal["url"] + "/api/v1/auth/login", "POST", {"username": "nobody-metrics", "password": "wrong password!"})
    assert status == 429
    # A client and a bot that is created, not started.
    client = f"mt{int(time.time()) % 100000}"
    assert request(portal["url"] + "/api/v1/clients", "POST", {"id": client, "name": "Metrics"}, cookie=admin)[0] == 201
    status, _, body = request(portal["url"] + "/api/v1/bots", "POST", bot_body(f"{client}-b", client), cookie=admin)
    assert status == 201, body
    # A scheduled backup, which the backup gauges read from FTA_BACKUP_DIR.
    run = fta(portal, "backup", "--scheduled")
    assert run.returncode == 0, run.stderr

    def moved():
        _, text = scrape(portal)
        return text if (sample(text, "fta_reconcile_passes_total", 'result="ok"') or 0) >= 1 else None

    text = wait_until(moved, "a reconcile pass counted", timeout=30)
    assert sample(text, "fta_login_failures_total") - failures0 == 3
    assert sample(text, "fta_login_lockouts_total") - lockouts0 >= 1
    assert sample(text, "fta_bots", 'state="created"') >= 1
    assert sample(text, "fta_backups") == 1 and 0 <= sample(text, "fta_backup_age_seconds") < 120
    assert sample(text, "fta_database_size_bytes") > 0
    assert (sample(text, "fta_http_request_duration_seconds_count", 'route="/api/v1/auth/login",method="POST",code="4xx"') or 0) >= 4, \
        [line for line in text.splitlines() if "auth/login" in line]
    assert (sample(text, "fta_reconcile_duration_seconds_count") or 0) >= 1
