"""One owner per fact (issue 12): fta owns its database and its configuration's defaults, and
install.sh asks fta instead of reading the one or repeating the other.

- No file of the installer runs sqlite3 or names a setting whose default is fta's.
- Steps 10 and 13 judge what changed by fta's own answers (`fta migrate`, `fta migrate --check`,
  `fta admin exists`, `fta admin create --if-none`), here from a stand-in fta that gives each
  answer of that contract, and refuse an answer outside it.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from fta_install_support import INSTALL_LIB, INSTALL_SH, REPO

INSTALLER_FILES = [INSTALL_SH, *sorted(INSTALL_LIB.glob("*.sh")), *sorted((REPO / "scripts" / "install").glob("*.sh"))]
# What install.sh itself decides in fta.env: its paths, secrets, URL and port, the image a flag
# names, the ids and paths compose/docker-compose.yml needs on this host, and the bots' volume
# store it mounts (and, on an engine it does not own, turns off: FTA_BOT_DISK_MB=off).
INSTALL_CHOICES = {"FTA_PORT", "FTA_DATABASE", "FTA_WEB_ROOT", "FTA_DOCKER_URL", "FTA_BOT_IMAGE", "FTA_SECRET_KEY",
                   "FTA_PUBLIC_URL", "FTA_PROXY_SOCKET_DIR", "FTA_PROXY_UID", "FTA_GID", "DOCKER_GID",
                   "FTA_DOCKER_SOCKET", "FTA_BOT_STORE", "FTA_BOT_DISK_MB"}


def code_lines(path: Path) -> list[tuple[int, str]]:
    """The lines of a shell file that are not comments (a trailing comment is cut off)."""
    lines = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        lines.append((number, re.sub(r"\s#\s.*$", "", line)))
    return lines


def test_the_installer_never_runs_sqlite3():
    found = [f"{p.relative_to(REPO)}:{n}: {line.strip()}" for p in INSTALLER_FILES for n, line in code_lines(p)
             if re.search(r"(?<![\w-])sqlite3\b", line)]
    assert not found, "install.sh reads fta's database itself:\n" + "\n".join(found)


def test_the_installer_repeats_none_of_ftas_defaults():
    """Every setting of .env.example that is not an install choice is fta's alone: the installer
    never names it (the template, `fta config example`, carries it), and never the default image."""
    settings = {m.group(1) for m in re.finditer(r"^([A-Z_][A-Z0-9_]*)=", (REPO / ".env.example").read_text(), re.M)}
    # The one value of fta's the installer reads (never repeats): the bots' firewall lets the hosts
    # of FTA_EXCHANGE_OVERRIDE's URLs through (scripts/install/fta-firewall.sh), until fta can
    # answer which destinations its configuration needs (issue 15).
    ftas_own = settings - INSTALL_CHOICES - {"FTA_EXCHANGE_OVERRIDE"}
    assert {"FTA_MEMORY_BUDGET_MB", "FTA_LISTEN", "DOCKER_NETWORK"} <= ftas_own
    found = [f"{p.relative_to(REPO)}:{n}: {line.strip()}" for p in INSTALLER_FILES for n, line in code_lines(p)
             for key in ftas_own if re.search(rf"\b{key}\b", line)]
    found += [f"{p.relative_to(REPO)}:{n}: {line.strip()}" for p in INSTALLER_FILES for n, line in code_lines(p)
              if "freqtradeorg/freqtrade:" in line]
    assert not found, "the installer repeats a default of fta's:\n" + "\n".join(found)


FAKE_FTA = """#!/bin/bash
# A stand-in for fta, answering as the contract says; it logs what it was asked and its stdin.
echo "$*" >> "$FAKE_LOG"
case "$*" in
    "migrate --check") echo "$FAKE_CHECK"; exit "$FAKE_CHECK_RC" ;;
    migrate) echo "$FAKE_MIGRATE" ;;
    "admin exists") exit "$FAKE_EXISTS_RC" ;;
    "admin create --username "*" --password-stdin --if-none")
        if [ "$FAKE_CREATE" = created ]; then cat > "$FAKE_STDIN"; fi
        echo "$FAKE_CREATE" ;;
    *) echo "unexpected: $*" >&2; exit 64 ;;
esac
"""


def run_step(tmp_path: Path, step: str, dry_run: bool = False, **answers) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Runs one step of install.sh (sourced) with the stand-in fta behind as_fta."""
    fake = tmp_path / "fta"
    fake.write_text(FAKE_FTA)
    fake.chmod(0o755)
    log = tmp_path / "asked"
    env = dict(os.environ, FAKE_LOG=str(log), FAKE_STDIN=str(tmp_path / "stdin"), FAKE_CHECK="schema up to date",
               FAKE_CHECK_RC="0", FAKE_MIGRATE="schema up to date", FAKE_EXISTS_RC="3", FAKE_CREATE="created")
    env.update({k: str(v) for k, v in answers.items()})
    env.pop("FTA_ADMIN_PASSWORD", None)
    script = f'''source "{INSTALL_SH}"
        TMP_DIR=$(mktemp -d); DRY_RUN={int(dry_run)}; ADMIN_USER=admin
        as_fta() {{ shift; "{fake}" "$@"; }}   # the installed fta, as user fta
        can_ask_fta() {{ true; }}
        {step}
        print_summary
        rm -rf "$TMP_DIR"'''
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
    return result, log.read_text().splitlines() if log.exists() else []


@pytest.mark.parametrize("answer, expected, changes", [
    ("database created, 7 migrations applied", "created the database", 1),
    ("2 migrations applied", "applied new migrations", 1),
    ("schema up to date", "schema up to date", 0),
])
def test_migrate_step_reports_what_fta_says_it_did(tmp_path, answer, expected, changes):
    result, asked = run_step(tmp_path, "step_10_migrate", FAKE_MIGRATE=answer)
    assert result.returncode == 0, result.stdout + result.stderr
    assert asked == ["migrate"]
    assert expected in result.stdout
    assert f"({changes} changes" in result.stdout or (changes == 0 and "0 changes" in result.stdout), result.stdout


def test_migrate_step_refuses_an_answer_outside_the_contract(tmp_path):
    result, _ = run_step(tmp_path, "step_10_migrate", FAKE_MIGRATE="database /var/lib/fta/fta.sqlite is up to date")
    assert result.returncode == 1
    assert "fta migrate answered 'database /var/lib/fta/fta.sqlite is up to date'" in result.stderr


@pytest.mark.parametrize("rc, answer, planned", [(0, "schema up to date", False), (3, "2 migrations pending", True),
                                                 (3, "no database", True)])
def test_migrate_dry_run_only_checks(tmp_path, rc, answer, planned):
    result, asked = run_step(tmp_path, "step_10_migrate", dry_run=True, FAKE_CHECK=answer, FAKE_CHECK_RC=rc)
    assert result.returncode == 0, result.stderr
    assert asked == ["migrate --check"], "a dry run must never migrate"
    assert (f"would: run 'fta migrate' as user fta ({answer})" in result.stdout) == planned, result.stdout
    assert (f"schema up to date" in result.stdout) == (not planned)


def test_admin_step_creates_the_admin_with_the_password_on_stdin_and_prints_it_once(tmp_path):
    result, asked = run_step(tmp_path, "step_13_admin", FAKE_CREATE="created")
    assert result.returncode == 0, result.stderr
    assert asked == ["admin create --username admin --password-stdin --if-none"]
    password = (tmp_path / "stdin").read_text()
    assert re.fullmatch(r"[A-Za-z0-9]{24}", password)
    assert "created admin 'admin'" in result.stdout and result.stdout.count(password) == 1


def test_admin_step_with_an_admin_creates_nothing_and_prints_no_password(tmp_path):
    # fta answers "exists" without reading stdin: the password written into the pipe is dropped.
    result, asked = run_step(tmp_path, "step_13_admin", FAKE_CREATE="exists")
    assert result.returncode == 0, result.stdout + result.stderr
    assert asked == ["admin create --username admin --password-stdin --if-none"]
    assert "an admin already exists" in result.stdout and "Password:" not in result.stdout
    assert "0 changes" in result.stdout and not (tmp_path / "stdin").exists()


def test_admin_step_refuses_an_answer_outside_the_contract(tmp_path):
    result, _ = run_step(tmp_path, "step_13_admin", FAKE_CREATE="admin admin created")
    assert result.returncode == 1 and "Password:" not in result.stdout
    assert "answered 'admin admin created'" in result.stderr


@pytest.mark.parametrize("rc, exists", [(0, True), (3, False)])
def test_admin_dry_run_asks_whether_an_admin_exists(tmp_path, rc, exists):
    result, asked = run_step(tmp_path, "step_13_admin", dry_run=True, FAKE_EXISTS_RC=rc)
    assert result.returncode == 0, result.stderr
    assert asked == ["admin exists"], "a dry run must never create an admin"
    assert ("an admin already exists" in result.stdout) == exists
    assert ("would: create admin 'admin'" in result.stdout) == (not exists)
