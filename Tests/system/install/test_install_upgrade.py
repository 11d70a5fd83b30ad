"""Upgrades with automatic rollback (issue 14, part 1; docs/install.md, "Upgrade and rollback").

A real install on this machine (as test_install_full.py: root, --offline, --no-swap, the private
test engine through --docker-host, the fixed ports 8080 and 8081, --uninstall --purge in a finally
block and the machine checked clean after), with the binary under test. Through the portal's API
an admin creates a client and a bot that runs (the busybox stand-in image). Then:

1. A dry run of an upgrade prints its plan (backup, keep the previous version, install, migrate,
   restart, health check, rollback on failure) and changes nothing: the installed files, the
   backups and the running portal are the same after it.
2. A broken new version is installed with `--binary`: a small script that hands every command to
   the real fta except two. `serve` execs the real `fta serve` on another port: a portal that
   starts (the process runs, holds the database, logs that it started) and then fails its health
   check, which looks where the portal is configured to answer and finds nothing there; that is
   what a new version that comes up but never becomes healthy looks like to an operator.
   `migrate` first creates a client with fta's own command (a stand-in for a migration that
   changes data), so that the restore of the database can be seen: the marker client must be
   gone afterwards. install.sh must exit 4 and say what happened (the health check, the failed
   version's log, the backup, the rollback); /usr/local/bin/fta must be the original byte for
   byte; the portal must be healthy with the same admin, clients and bots; the database's rows
   the same as before the upgrade (integrity ok); the bot's container never restarted (same
   StartedAt, running); the install log must hold the story.
3. A new version whose `fta migrate` writes and then fails is rolled back the same way (exit 4,
   from step 10, while the portal still runs the previous binary).
4. A good upgrade from a release archive (scripts/release.sh of the same binary, stripped, with
   a new VERSION; installed with --release, so the archive's own install.sh runs) says
   "upgraded from X to Y", passes its health check, keeps the previous version and a backup,
   and keeps the data and the running bot.
5. A rollback that fails (the new version moves the backup away before its migrate fails) exits
   5, says what state it left, and prints the commands to finish by hand; run as printed, once
   the backup is back, they restore the previous version and the data.

Timings and counts are printed. Under CI=true a missing tool or precondition fails.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from fta_install_support import (BINARY, DOCKER_HOST, FTA_PORT, INSTALL_SH, NGINX_PORT, REPO, clean_env,
                                 free_port, purge_problems, real_install_preconditions, require_tool)
from fta_operations_support import bot_body
from fta_portal_support import request
from fta_system_support import wait_until

PORTAL = f"http://127.0.0.1:{FTA_PORT}"
FTA_BIN = Path("/usr/local/bin/fta")
FTA_ADMIN = "/usr/local/sbin/fta-admin"
VERSION_FILE = Path("/usr/local/share/fta/VERSION")
PREVIOUS_DIR = Path("/usr/local/lib/fta/previous")
DATA_DIR = Path("/var/lib/fta")
BACKUP_DIR = DATA_DIR / "backups"
INSTALL_LOG = Path("/var/log/fta/install.log")
PIDFILE = Path("/run/fta/fta.pid")
EXIT_ROLLED_BACK = 4
EXIT_ROLLBACK_FAILED = 5
# The broken version's health check gives up after this many seconds (--health-timeout).
BROKEN_HEALTH_TIMEOUT = 8
GOOD_VERSION = "0.0.1-upgrade-test"
BUDGET_SECONDS = 300
CLOCK = {"started": 0.0}

# A broken "new version" of fta: the real one, but for `serve` and `migrate` (see make_broken).
BROKEN_FTA = """#!/bin/bash
# A broken new version of fta (Tests/system/install/test_install_upgrade.py): the real fta for
# every command but serve and migrate, which break as the test needs them to.
real={real}
case "${{1:-}}" in
    serve) shift; {serve} ;;
    migrate)
        if [ "${{2:-}}" != --check ]; then
            # A migration that changes data: a client only this version wrote.
            "$real" client create {marker} --name "written by the broken version" >&2 || exit 1
            {migrate}
        fi
        exec "$real" "$@" ;;
    *) exec "$real" "$@" ;;
esac
"""
MIGRATION_FAILS = 'echo "Error: migration v99-broken failed: simulated" >&2; exit 1'


def make_broken(path: Path, real: Path, marker: str, *, serve: str = 'exec "$real" serve "$@"', migrate: str = ":") -> Path:
    """The broken version as an executable script at path; it passes install.sh's checks of a
    binary (--help names serve and migrate; ldd finds nothing missing)."""
    path.write_text(BROKEN_FTA.format(real=real, marker=marker, serve=serve, migrate=migrate))
    path.chmod(0o755)
    return path


def remaining(cap: int) -> int:
    """A subprocess timeout: at most cap, and never past the module's budget."""
    left = int(BUDGET_SECONDS - (time.monotonic() - CLOCK["started"]))
    if left <= 5:
        pytest.fail(f"the upgrade test ran out of its {BUDGET_SECONDS} s budget")
    return min(cap, left)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_install(script: Path, *flags: str, env: dict, timeout: int = 150) -> subprocess.CompletedProcess:
    """install.sh with only the variables this test names (no FTA_* of the caller's)."""
    full = {**clean_env(), **env}
    return subprocess.run(["bash", str(script), "--non-interactive", *flags], cwd=REPO, env=full,
                          capture_output=True, text=True, timeout=remaining(timeout))


def docker(*args: str) -> str:
    proc = subprocess.run([require_tool("docker"), *args], capture_output=True, text=True, timeout=remaining(60),
                          env={**os.environ, "DOCKER_HOST": DOCKER_HOST})
    assert proc.returncode == 0, f"docker {' '.join(args)}: {proc.stderr}"
    return proc.stdout.strip()


def container_state(name: str) -> tuple[str, str, bool]:
    """(Id, State.StartedAt, State.Running) of a container."""
    cid, started, running = docker("inspect", "--format", "{{.Id}} {{.State.StartedAt}} {{.State.Running}}", name).split()
    return cid, started, running == "true"


def health() -> tuple[int, object]:
    try:
        status, _, body = request(PORTAL + "/api/v1/health", timeout=5)
        return status, body
    except OSError as error:
        return 0, str(error)


def login(password: str) -> str:
    status, headers, body = request(PORTAL + "/api/v1/auth/login", "POST", {"username": "admin", "password": password})
    assert status == 200, f"the admin's login failed: {status} {body}"
    return headers["Set-Cookie"].split(";")[0]


def portal_view(cookie: str) -> tuple[list[str], list[tuple[str, str, str]]]:
    """What the admin sees: the client ids, and every bot's (id, desired state, state)."""
    status, _, clients = request(PORTAL + "/api/v1/clients", cookie=cookie)
    assert status == 200, clients
    status, _, bots = request(PORTAL + "/api/v1/bots", cookie=cookie)
    assert status == 200, bots
    return (sorted(c["id"] for c in clients["clients"]),
            sorted((b["id"], b["desiredState"], b["state"]) for b in bots["bots"]))


def fta_admin(*args: str) -> str:
    proc = subprocess.run([FTA_ADMIN, *args], capture_output=True, text=True, timeout=remaining(60))
    assert proc.returncode == 0, f"fta-admin {' '.join(args)}: {proc.stdout}{proc.stderr}"
    return proc.stdout


def database_rows(workdir: Path) -> dict[str, int]:
    """Rows per table of the live database, counted in a copy fta makes (`fta-admin backup`,
    consistent while the portal writes): the test never opens the file the portal writes.
    The copy must pass PRAGMA integrity_check."""
    copy = DATA_DIR / f"upgrade-test-{time.monotonic_ns()}.sqlite"
    fta_admin("backup", str(copy))
    local = workdir / copy.name
    shutil.copyfile(copy, local)
    copy.unlink()
    with sqlite3.connect(local) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        rows = {t: db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    local.unlink()
    return rows


def files_digest() -> dict[str, str]:
    """What a dry run must leave as it is: the installed files and the list of backups."""
    digest = {}
    for root in ("/usr/local/bin/fta", "/usr/local/lib/fta", "/usr/local/share/fta", "/etc/fta"):
        h = hashlib.sha256()
        path = Path(root)
        for entry in [path, *sorted(path.rglob("*"))] if path.is_dir() else [path]:
            st = entry.lstat()
            h.update(f"{entry}|{st.st_mode}|{st.st_uid}|{st.st_size}|{st.st_mtime_ns}".encode())
        digest[root] = h.hexdigest()
    digest["backups"] = " ".join(sorted(p.name for p in BACKUP_DIR.iterdir())) if BACKUP_DIR.is_dir() else ""
    digest["pid"] = PIDFILE.read_text() if PIDFILE.exists() else ""
    return digest


# ----------------------------------------------------------------------------------- fixture

@pytest.fixture(scope="module")
def installed():
    """The first install with a client and a running bot; after the module: --uninstall --purge,
    then a check that the machine is clean again."""
    CLOCK["started"] = time.monotonic()
    image = real_install_preconditions(("bash", "curl", "ss", "nginx", "haproxy", "jq", "openssl", "docker", "setpriv"), remaining)

    # World-traversable (not pytest's 0700 tmp_path): the broken version runs the real binary from
    # here as user fta.
    staging = Path(tempfile.mkdtemp(prefix="fta-upgrade-test-"))
    staging.chmod(0o755)
    real = staging / "fta"
    shutil.copy2(BINARY, real)
    password = secrets.token_urlsafe(18)
    suffix = os.getpid() % 100000
    flags = ["--offline", "--no-swap", "--docker-host", DOCKER_HOST, "--bot-image", image,
             "--port", str(FTA_PORT), "--nginx-port", str(NGINX_PORT)]
    state = {"staging": staging, "real": real, "password": password, "flags": flags, "env": {"FTA_ADMIN_PASSWORD": password},
             "client": f"upg{suffix}", "bot": f"upg{suffix}-bot", "timings": {}}
    try:
        started = time.monotonic()
        first = run_install(INSTALL_SH, *flags, "--binary", str(real), env=state["env"])
        state["timings"]["first install"] = time.monotonic() - started
        assert first.returncode == 0, f"install.sh exited {first.returncode}:\n{first.stdout}\n{first.stderr}"
        assert "Upgraded:" not in first.stdout, "a first install is no upgrade"

        cookie = login(password)
        status, _, body = request(PORTAL + "/api/v1/clients", "POST", {"id": state["client"], "name": "Upgrade test"}, cookie=cookie)
        assert status == 201, body
        status, _, body = request(PORTAL + "/api/v1/bots", "POST", bot_body(state["bot"], state["client"], start=True), cookie=cookie)
        assert status == 201, body

        def running():
            _, _, answer = request(PORTAL + f"/api/v1/bots/{state['bot']}", cookie=cookie)
            return answer["bot"]["state"] == "running"
        wait_until(running, f"bot {state['bot']} running", timeout=remaining(90))
        state["container"] = container_state(f"fta-bot-{state['bot']}")
        assert state["container"][2], state["container"]
        state["view"] = portal_view(cookie)
        state["version"] = VERSION_FILE.read_text()
        state["binary_sha"] = sha256(FTA_BIN)
        yield state
    finally:
        gone = run_install(INSTALL_SH, "--uninstall", "--purge", env={}, timeout=90)
        problems = purge_problems(gone)
        left = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=fta.client={state['client']}"], capture_output=True,
                              text=True, env={**os.environ, "DOCKER_HOST": DOCKER_HOST}).stdout.split()
        if left:
            problems.append(f"the test client's containers are still on the engine: {left}")
        shutil.rmtree(staging, ignore_errors=True)
        print("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in state["timings"].items()))
        assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------------- tests

def test_a_dry_run_shows_the_upgrade_plan_and_changes_nothing(installed, tmp_path):
    broken = make_broken(tmp_path / "fta-new", installed["real"], "never-created")
    before = files_digest()
    log_before = INSTALL_LOG.read_text()
    started = time.monotonic()
    result = run_install(INSTALL_SH, "--dry-run", *installed["flags"], "--binary", str(broken), env=installed["env"], timeout=90)
    installed["timings"]["dry run"] = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for expected in ("upgrade from ", "would: back up the database online first, with the installed fta",
                     f"would: keep the installed version in {PREVIOUS_DIR}", f"would: install {FTA_BIN} from the prebuilt binary",
                     "would: restart fta", "would: check the upgraded portal's health (GET http://127.0.0.1:8080/api/v1/health",
                     f"put the previous version back from {PREVIOUS_DIR}, restore the backup (fta restore), start it, check it again, "
                     f"and exit {EXIT_ROLLED_BACK}"):
        assert expected in out, f"{expected!r} is not in the plan:\n{out}"
    assert files_digest() == before, "the dry run changed an installed file, a backup or the running portal"
    assert INSTALL_LOG.read_text() == log_before
    assert health()[0] == 200


def test_a_broken_upgrade_is_rolled_back_by_itself(installed, tmp_path):
    bot_container = f"fta-bot-{installed['bot']}"
    marker = f"{installed['client']}-marker"
    # The real portal, where no health check looks: it starts, and is never healthy.
    port = free_port()
    broken = make_broken(tmp_path / "fta-broken", installed["real"], marker, serve=f'exec "$real" serve --port {port} "$@"')
    rows_before = database_rows(tmp_path)
    backups_before = set(BACKUP_DIR.iterdir()) if BACKUP_DIR.is_dir() else set()

    started = time.monotonic()
    result = run_install(INSTALL_SH, *installed["flags"], "--binary", str(broken), "--health-timeout", str(BROKEN_HEALTH_TIMEOUT),
                         env=installed["env"])
    installed["timings"]["broken upgrade and rollback"] = time.monotonic() - started
    out, err = result.stdout, result.stderr
    assert result.returncode == EXIT_ROLLED_BACK, f"exit {result.returncode}:\n{out}\n{err}"

    # What the operator sees: what failed, what the health check saw, the rollback, where things are.
    assert re.search(r'step \[11/14\] "Starting the fta service" failed: the upgrade to \S+ \(binary sha256 [0-9a-f]{12}\) failed '
                     r"\(its portal failed the health check: GET http://127\.0\.0\.1:8080/api/v1/health for "
                     rf"{BROKEN_HEALTH_TIMEOUT} s: nothing listens on 127\.0\.0\.1:8080 \(connection refused\)\)\. "
                     r"It was rolled back to \S+ \(binary sha256 [0-9a-f]{12}\) automatically\.", err), err
    assert f"exit status {EXIT_ROLLED_BACK}: the upgrade failed and was rolled back." in err, err
    assert "Steps 12 to 14 were not run." in err
    backup = Path(re.search(r"^  Backup:      (\S+) \(taken before the upgrade; restored\)$", err, re.M).group(1))
    assert backup.is_file() and backup.parent == BACKUP_DIR and backup not in backups_before, backup
    failed_log = Path(re.search(r"^  Failed log:  (\S+) ", err, re.M).group(1))
    assert failed_log.is_file(), failed_log
    # The broken version did start: its portal says so, on the port nobody checks.
    assert "fta serve starting" in failed_log.read_text() and f":{port}" in failed_log.read_text(), failed_log.read_text()
    assert "fta serve starting" in err, "the report shows the failed version's last log lines"
    assert re.search(r"^  Portal:      the previous version runs and is healthy \(200, status (ok|degraded)", err, re.M), err
    assert "  Database:    restored from the backup taken before the upgrade" in err
    aside = Path(re.search(r"^  Kept aside:  (\S+) ", err, re.M).group(1))
    assert aside.is_file() and aside.name.startswith("fta.sqlite.before-restore-"), aside
    assert f"  Bots:        the bot container running before the upgrade ({bot_container}) still runs, never restarted" in err, err

    # The previous binary and VERSION are back, byte for byte; the portal is healthy again.
    assert sha256(FTA_BIN) == installed["binary_sha"], "/usr/local/bin/fta is not the original binary after the rollback"
    assert VERSION_FILE.read_text() == installed["version"]
    status, body = health()
    assert status == 200 and body["status"] in ("ok", "degraded"), (status, body)

    # The data is the data from before the upgrade: the marker the broken migrate wrote is gone.
    rows_after = database_rows(tmp_path)
    assert rows_after == rows_before, f"rows before the upgrade {rows_before}, after the rollback {rows_after}"
    assert marker not in fta_admin("client", "list").split(), "the broken version's write survived the rollback"
    cookie = login(installed["password"])
    assert portal_view(cookie) == installed["view"]

    # The bot was never stopped: the same container, started at the same instant, running.
    assert container_state(bot_container) == installed["container"], "the bot's container was restarted or stopped"

    # The install log tells the same story.
    log = INSTALL_LOG.read_text(errors="replace")
    run_log = log[log.rindex("==== install.sh"):]
    for expected in (f"backup written to {backup}", "---- the upgrade to ", "rolling back to ", "It was rolled back to ", f"restored {backup}",
                     f"exit status {EXIT_ROLLED_BACK}"):
        assert expected in run_log, f"{expected!r} is not in the install log:\n{run_log[-3000:]}"
    conf = (PREVIOUS_DIR / "upgrade.conf").read_text()
    assert f"BACKUP={backup}" in conf, conf
    print(f"broken upgrade rolled back in {installed['timings']['broken upgrade and rollback']:.1f} s; "
          f"rows {sum(rows_after.values())} in {len(rows_after)} tables, unchanged: {rows_after}")


def test_an_upgrade_whose_migration_fails_is_rolled_back_too(installed, tmp_path):
    """The new version's `fta migrate` fails after writing: the same rollback, from step 10, while
    the portal still runs the previous binary."""
    bot_container = f"fta-bot-{installed['bot']}"
    marker = f"{installed['client']}-marker2"
    broken = make_broken(tmp_path / "fta-broken", installed["real"], marker, migrate=MIGRATION_FAILS)
    rows_before, sha_before, version_before = database_rows(tmp_path), sha256(FTA_BIN), VERSION_FILE.read_text()

    started = time.monotonic()
    result = run_install(INSTALL_SH, *installed["flags"], "--binary", str(broken), env=installed["env"])
    installed["timings"]["failed migration and rollback"] = time.monotonic() - started
    err = result.stderr
    assert result.returncode == EXIT_ROLLED_BACK, f"exit {result.returncode}:\n{result.stdout}\n{err}"
    assert re.search(r'step \[10/14\] "Migrating the database" failed: the upgrade to \S+ \(binary sha256 [0-9a-f]{12}\) failed '
                     r"\(fta migrate failed: Error: migration v99-broken failed: simulated\)\. It was rolled back to \S+ "
                     r"\(binary sha256 [0-9a-f]{12}\) automatically\.", err), err
    assert "Steps 11 to 14 were not run." in err and "  Database:    restored from the backup taken before the upgrade" in err, err
    failed_log = Path(re.search(r"^  Failed log:  (\S+) ", err, re.M).group(1))
    assert "simulated" in failed_log.read_text()
    assert sha256(FTA_BIN) == sha_before and VERSION_FILE.read_text() == version_before
    assert health()[0] == 200
    assert database_rows(tmp_path) == rows_before
    assert marker not in fta_admin("client", "list").split(), "the broken version's write survived the rollback"
    assert portal_view(login(installed["password"])) == installed["view"]
    assert container_state(bot_container) == installed["container"], "the bot's container was restarted or stopped"


def test_a_good_upgrade_from_a_release_archive_says_upgraded_and_keeps_data_and_bots(installed, tmp_path):
    bot_container = f"fta-bot-{installed['bot']}"
    made = subprocess.run([str(REPO / "scripts" / "release.sh"), "--binary", str(installed["real"]), "--version", GOOD_VERSION,
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=remaining(120), cwd=REPO)
    assert made.returncode == 0, made.stderr
    archive = Path(made.stdout.splitlines()[0])
    rows_before = database_rows(tmp_path)
    old_sha = sha256(FTA_BIN)

    started = time.monotonic()
    result = run_install(INSTALL_SH, *installed["flags"], "--release", str(archive), env=installed["env"])
    installed["timings"]["good upgrade"] = time.monotonic() - started
    out = result.stdout
    assert result.returncode == 0, f"exit {result.returncode}:\n{out}\n{result.stderr}"
    m = re.search(r"upgraded from (\S+) \(binary sha256 ([0-9a-f]{12})\) to (\S+) \(binary sha256 ([0-9a-f]{12})\): "
                  r"the health check passed \(200, status (ok|degraded), after \d+ s\); "
                  rf"the bot container running before the upgrade \({bot_container}\) still runs, never restarted", out)
    assert m, out
    assert m.group(1) == installed["version"].strip() and m.group(2) == old_sha[:12] and m.group(3) == GOOD_VERSION, m.groups()
    assert "  Upgraded:  from " in out and "backup taken before it: " in out, out

    # The new version runs and says so; the previous one is kept, with the backup it names.
    assert subprocess.run([str(FTA_BIN), "--version"], capture_output=True, text=True).stdout.strip() == GOOD_VERSION
    assert sha256(PREVIOUS_DIR / "fta") == old_sha
    backup = re.search(r"^BACKUP=(\S+)$", (PREVIOUS_DIR / "upgrade.conf").read_text(), re.M).group(1)
    assert Path(backup).is_file() and backup in out
    status, body = health()
    assert status == 200 and body["status"] in ("ok", "degraded"), (status, body)
    assert database_rows(tmp_path) == rows_before
    assert portal_view(login(installed["password"])) == installed["view"]
    assert container_state(bot_container) == installed["container"], "the bot's container was restarted or stopped"
    assert "upgraded from " in INSTALL_LOG.read_text(errors="replace")


def test_a_failed_rollback_says_what_state_the_server_is_in_and_how_to_finish_it(installed, tmp_path):
    """The rollback itself fails: the new version's `migrate` moves the backup taken before it
    away (as a lost disk or a careless hand would), then fails, so `fta restore` finds no backup.
    install.sh must exit 5, say in what state it left the binary, the database and the portal, and
    print the commands that finish the rollback by hand; with the backup back in place, those
    commands, run as printed, must bring the previous version back with the data from before."""
    bot_container = f"fta-bot-{installed['bot']}"
    marker = f"{installed['client']}-marker3"
    hide = f'newest=$(ls -t {BACKUP_DIR}/*.sqlite | head -n 1); mv "$newest" "$newest.hidden"; '
    broken = make_broken(tmp_path / "fta-broken", installed["real"], marker, migrate=hide + MIGRATION_FAILS)
    rows_before, sha_before, version_before = database_rows(tmp_path), sha256(FTA_BIN), VERSION_FILE.read_text()

    started = time.monotonic()
    result = run_install(INSTALL_SH, *installed["flags"], "--binary", str(broken), env=installed["env"])
    installed["timings"]["failed rollback"] = time.monotonic() - started
    err = result.stderr
    assert result.returncode == EXIT_ROLLBACK_FAILED, f"exit {result.returncode}:\n{result.stdout}\n{err}"
    m = re.search(r"the automatic rollback to \S+ \(binary sha256 [0-9a-f]{12}\) failed too: fta restore (\S+) failed: .*", err)
    assert m, err
    backup = Path(m.group(1))
    for expected in ("  Binary:      the previous version, ", "  Database:    as the failed version left it",
                     "  Portal:      stopped", f"  Bots:        the bot container running before the upgrade ({bot_container}) still runs",
                     "Finish the rollback by hand", f"exit status {EXIT_ROLLBACK_FAILED}: the upgrade failed, and so did the rollback."):
        assert expected in err, f"{expected!r} is not in the report:\n{err}"
    assert health()[0] != 200, "the portal is said to be stopped"
    assert container_state(bot_container) == installed["container"], "the bot's container was restarted or stopped"
    assert "Finish the rollback by hand" in INSTALL_LOG.read_text(errors="replace")

    # The operator finds the backup again and runs the printed commands (as root: no sudo here).
    hidden = Path(f"{backup}.hidden")
    assert hidden.is_file(), hidden
    hidden.rename(backup)
    block = err.split("Finish the rollback by hand", 1)[1].split("\ninstall.sh: exit status", 1)[0]
    commands = [line[4:] for line in block.splitlines()[1:] if line.startswith("    ")]
    assert len(commands) >= 5 and any(f"fta-admin restore {backup}" in c for c in commands), commands
    for command in commands[:-1]:
        done = subprocess.run(["bash", "-c", re.sub(r"\bsudo ", "", command)], capture_output=True, text=True, timeout=remaining(60))
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    wait_until(lambda: health()[0] == 200, "the portal started by hand answers", timeout=remaining(30))
    check = subprocess.run(["bash", "-c", re.sub(r"\bsudo ", "", commands[-1])], capture_output=True, text=True, timeout=remaining(60))
    assert check.returncode == 0, f"{commands[-1]}: {check.stdout}{check.stderr}"

    assert sha256(FTA_BIN) == sha_before and VERSION_FILE.read_text() == version_before
    assert database_rows(tmp_path) == rows_before
    assert marker not in fta_admin("client", "list").split()
    assert portal_view(login(installed["password"])) == installed["view"]
    assert container_state(bot_container) == installed["container"], "the bot's container was restarted or stopped"
    print("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in installed["timings"].items()))
