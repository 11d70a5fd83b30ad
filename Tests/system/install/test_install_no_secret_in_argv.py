"""No secret is ever an argument of a process (issue 15, class 2).

Any local user can read every process's arguments in /proc/PID/cmdline (and `ps` shows them),
so a secret that is passed as an argument, even to a process that lives a millisecond (`env -i
KEY=VALUE ...` before it execs), is disclosed. These tests run the real helpers with an env file
that holds unique marker secrets and look for the markers in two ways:

- a thread reads every /proc/*/cmdline in a loop while the commands run (what an attacker does);
- strace records the argv of every execve in the command's process tree, so that even a process
  too short-lived for the scanner is seen (strace prints argv, not the environment, without -v).

Each command must still receive the secrets in its environment. test_install_full.py scans the
same way through a real install and `fta-admin doctor`.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from fta_install_support import INSTALL_SH, REPO, CmdlineScanner, require_tool

FTA_RUN = REPO / "scripts" / "install" / "fta-run.sh"


def root_only():
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("fta-run switches users: it needs root (CI=true)")
        pytest.skip("needs root")


def marker() -> str:
    # Hex, like the secrets install.sh generates: strace prints it unescaped.
    return uuid.uuid4().hex + uuid.uuid4().hex


def traced_argv(tmp_path: Path, cmd: list[str], **kwargs) -> tuple[subprocess.CompletedProcess, str]:
    """Runs cmd under strace -f; returns its result and the execve lines (argv, no environment)."""
    strace = require_tool("strace")
    log = tmp_path / f"strace-{uuid.uuid4().hex[:8]}.log"
    result = subprocess.run([strace, "-f", "-qq", "-s", "65536", "-e", "trace=execve", "-o", str(log), *cmd],
                            capture_output=True, text=True, timeout=60, **kwargs)
    return result, log.read_text(errors="replace")


def env_file_with_markers(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    secrets = {"FTA_SECRET_KEY": marker(), "FTA_SOME_PASSWORD": marker(), "FTA_API_TOKEN": marker()}
    path = tmp_path / "fta.env"
    path.write_text("# an env file like /etc/fta/fta.env\nFTA_PORT=8080\n"
                    + "".join(f"{k}={v}\n" for k, v in secrets.items()))
    path.chmod(0o600)
    return path, secrets


# The command: prints what it received, and lives long enough to be seen.
RECEIVER = 'printf "%s|%s|%s" "$FTA_SECRET_KEY" "$FTA_SOME_PASSWORD" "$FTA_API_TOKEN"; sleep 0.3'


@pytest.mark.parametrize("user", ["nobody", "root"])
def test_fta_run_passes_the_env_file_without_any_value_on_a_command_line(tmp_path, user):
    """fta-run starts `fta serve` (without systemd), `fta migrate`, `fta admin create` and, through
    fta-admin, every operator command; as root for `fta doctor`."""
    root_only()
    env_file, secrets = env_file_with_markers(tmp_path)
    expected = "|".join(secrets.values())
    runs = 25
    with CmdlineScanner(list(secrets.values())) as scanner:
        for _ in range(runs):
            run = subprocess.run([str(FTA_RUN), "--user", user, "--env-file", str(env_file), "--", "sh", "-c", RECEIVER],
                                 check=True, timeout=30, capture_output=True, text=True)
            assert run.stdout == expected, "the command did not receive the env file's values"
    assert scanner.passes > runs, f"the scanner made only {scanner.passes} passes over /proc"
    assert not scanner.hits, "a secret was on a command line:\n" + "\n".join(scanner.hits)

    result, argv = traced_argv(tmp_path, [str(FTA_RUN), "--user", user, "--env-file", str(env_file), "--",
                                          "sh", "-c", RECEIVER])
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected
    assert "execve(" in argv and "sh" in argv, argv[:2000]
    leaked = [line for line in argv.splitlines() if any(s in line for s in secrets.values())]
    assert not leaked, "a secret was an argument of execve:\n" + "\n".join(leaked)


def test_installers_env_file_handling_puts_no_secret_on_a_command_line(tmp_path):
    """install.sh renders /etc/fta/fta.env and describes what changes in it on every run: with a
    secret already in the file (a re-run) and a fresh one (a placeholder being replaced)."""
    existing = tmp_path / "fta.env"
    kept, example = marker(), tmp_path / ".env.example"
    existing.write_text(f"FTA_SECRET_KEY={kept}\nFTA_PUBLIC_URL=http://127.0.0.1:8081\nFTA_ADMIN_PASSWORD=x{kept}\n")
    example.write_text("FTA_SECRET_KEY=change-me\nFTA_OTHER_TOKEN=change-me\nFTA_PORT=8080\n")
    out = tmp_path / "out.env"
    script = f'''source "{INSTALL_SH}"
        TMP_DIR=$(mktemp -d); PUBLIC_URL=https://portal.example.org; FTA_PORT_VALUE=8080
        ENV_EXAMPLE="{example}"
        render_env_file "{out}" "{existing}"
        describe_env_changes "{existing}" "{out}"
        rm -rf "$TMP_DIR"'''
    result, argv = traced_argv(tmp_path, ["bash", "-c", script], cwd=REPO)
    assert result.returncode == 0, result.stderr
    rendered = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line and not line.startswith("#"))
    assert rendered["FTA_SECRET_KEY"] == kept
    fresh = rendered["FTA_OTHER_TOKEN"]
    assert len(fresh) == 64 and fresh != "change-me"
    assert "FTA_OTHER_TOKEN (fresh random secret)" in result.stdout
    assert kept not in result.stdout + result.stderr and fresh not in result.stdout + result.stderr
    leaked = [line for line in argv.splitlines() if kept in line or fresh in line]
    assert not leaked, "a secret was an argument of execve:\n" + "\n".join(leaked)
