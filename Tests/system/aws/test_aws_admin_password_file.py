"""install.sh --admin-password-file PATH, which the AWS user data relies on: the generated first
admin password goes to a root-only (0600) file and only PATH is printed, so that nothing secret
reaches the console output or cloud-init's log. Without the flag nothing changes: the password is
printed once, as before.

Step 13 runs for real with install.sh sourced, and `as_fta` (the call into fta) replaced by a
stand-in that answers as `fta admin create --if-none` does and keeps what it read on stdin.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from fta_aws_support import REPO
from fta_system_support import missing

INSTALL_SH = REPO / "install.sh"


def step_13(tmp_path: Path, *args: str, answer: str = "created", fta_status: int = 0, env: dict | None = None):
    """Runs step 13 and the summary with these install.sh arguments. Returns the result and what
    fta read on stdin (None when it was not asked)."""
    if os.geteuid() != 0:
        missing("install.sh's step 13 runs as root")
    got = tmp_path / "fta-stdin"
    script = f'''
        source "{INSTALL_SH}"
        parse_args "$@"
        TMP_DIR=$(mktemp -d); trap 'rm -rf "$TMP_DIR"' EXIT
        ADMIN_USER=admin NGINX_MODE=loopback NGINX_PORT=8081 PUBLIC_URL=http://127.0.0.1:8081
        as_fta() {{ cat >"{got}"; echo {answer}; return {fta_status}; }}
        step_13_admin
        print_summary
    '''
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FTA_")}
    result = subprocess.run(["bash", "-c", script, "install.sh", *args], capture_output=True, text=True,
                            env={**clean, **(env or {})}, cwd="/", timeout=60)
    return result, (got.read_text() if got.exists() else None)


def leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.startswith(".fta-admin-password.")]


def test_the_generated_password_goes_to_a_root_only_file_and_only_its_path_is_printed(tmp_path):
    dest = tmp_path / "secret" / "fta-admin-password"
    dest.parent.mkdir(mode=0o700)
    result, password = step_13(tmp_path, "--admin-password-file", str(dest))
    assert result.returncode == 0, result.stdout + result.stderr
    assert password and len(password) == 24
    st = dest.stat()
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0 and st.st_gid == 0
    assert dest.read_text() == password + "\n"
    assert password not in result.stdout + result.stderr
    assert f"  Password:  in {dest} (root only: sudo cat {dest})\n" in result.stdout
    assert "      created admin 'admin'\n" in result.stdout
    assert leftovers(dest.parent) == []


def test_without_the_flag_the_password_is_printed_once_as_before(tmp_path):
    result, password = step_13(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"  Password:  {password}\n" in result.stdout and result.stdout.count(password) == 1
    assert "(shown only this once; change it after signing in)" in result.stdout


def test_an_existing_admin_writes_nothing_and_keeps_an_earlier_file(tmp_path):
    dest = tmp_path / "fta-admin-password"
    dest.write_text("the earlier one\n")
    result, _ = step_13(tmp_path, "--admin-password-file", str(dest), answer="exists")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "an admin already exists: nothing to do, no password printed" in result.stdout
    assert dest.read_text() == "the earlier one\n" and "Password:" not in result.stdout
    assert leftovers(tmp_path) == []


def test_a_symlink_at_the_path_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("untouched\n")
    victim.chmod(0o644)
    dest = tmp_path / "fta-admin-password"
    dest.symlink_to(victim)
    result, password = step_13(tmp_path, "--admin-password-file", str(dest))
    assert result.returncode == 0, result.stdout + result.stderr
    assert not dest.is_symlink() and dest.read_text() == password + "\n"
    assert victim.read_text() == "untouched\n" and stat.S_IMODE(victim.stat().st_mode) == 0o644


def test_a_directory_it_cannot_write_stops_the_step_before_an_admin_exists(tmp_path):
    """The password file is made first: an admin whose password went nowhere is never created."""
    result, password = step_13(tmp_path, "--admin-password-file", "/proc/fta-admin-password")
    assert result.returncode == 1
    assert "--admin-password-file: cannot write a file in /proc" in result.stderr
    assert password is None, "fta was asked to create the admin"


def test_a_failing_fta_leaves_no_password_file(tmp_path):
    dest = tmp_path / "fta-admin-password"
    result, _ = step_13(tmp_path, "--admin-password-file", str(dest), fta_status=1)
    assert result.returncode == 1 and "fta admin create failed" in result.stderr
    assert not dest.exists() and leftovers(tmp_path) == []


def test_a_password_from_the_environment_is_not_written_or_printed(tmp_path):
    dest = tmp_path / "fta-admin-password"
    result, password = step_13(tmp_path, "--admin-password-file", str(dest),
                               env={"FTA_ADMIN_PASSWORD": "operator-chosen-password"})
    assert result.returncode == 0 and password == "operator-chosen-password"
    assert not dest.exists() and leftovers(tmp_path) == []
    assert "operator-chosen-password" not in result.stdout + result.stderr and "Password:" not in result.stdout


def test_a_dry_run_names_the_file(tmp_path):
    dest = tmp_path / "fta-admin-password"
    result, password = step_13(tmp_path, "--dry-run", "--admin-password-file", str(dest))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"would: create admin 'admin' with a generated one-time password, written to {dest} (root only)" in result.stdout
    assert password is None and not dest.exists()


@pytest.mark.parametrize("path", ["fta-admin-password", "/no/such/directory/fta-admin-password"])
def test_a_relative_path_or_a_missing_directory_is_a_usage_error(path):
    result = subprocess.run(["bash", str(INSTALL_SH), "--dry-run", "--admin-password-file", path], capture_output=True,
                            text=True, cwd="/", timeout=60)
    assert result.returncode == 2
    assert f"--admin-password-file: an absolute path in an existing directory, not {path}" in result.stderr
