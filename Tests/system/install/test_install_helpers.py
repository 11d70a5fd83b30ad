"""The pieces of install.sh that a dry run cannot exercise, tested on their own: the env file
(fresh secrets, never overwritten), the daemon.json merge, the Amazon Linux nginx.conf edit, and
the fta-run / fta-supervise helpers."""

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from fta_install_support import INSTALL_SH, REPO, require_tool

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def sourced(script: str, **env) -> subprocess.CompletedProcess:
    """Runs bash with install.sh sourced (main does not run), then `script`."""
    full = dict(os.environ, **env)
    return subprocess.run(["bash", "-c", f'source "{INSTALL_SH}"\n{script}'], capture_output=True,
                          text=True, env=full, cwd=REPO, check=False)


def parse_env(text: str) -> dict:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def render_env(tmp_path: Path, example: str | None, existing: str | None, public_url="http://127.0.0.1:8081",
               binary: Path | None = None):
    example_path = tmp_path / ".env.example"
    if example is not None:
        example_path.write_text(example)
    existing_path = tmp_path / "fta.env"
    if existing is not None:
        existing_path.write_text(existing)
    out = tmp_path / "out.env"
    result = sourced(f'''
        TMP_DIR=$(mktemp -d); PUBLIC_URL="{public_url}"; FTA_PORT_VALUE=8080
        ENV_EXAMPLE="{example_path}"; OPT_BINARY="{binary or ''}"
        render_env_file "{out}" "{existing_path}"
        rm -rf "$TMP_DIR"''')
    assert result.returncode == 0, result.stderr
    return out.read_text()


EXAMPLE = """# fta configuration
FTA_LISTEN=127.0.0.1
FTA_PORT=8080
FTA_SECRET_KEY=change-me-64-hex-chars
FTA_BOT_IMAGE=freqtradeorg/freqtrade:2026.9
FTA_PUBLIC_URL=http://127.0.0.1:8081
FTA_MAX_BOTS_PER_CLIENT=3
"""

# fta's own defaults (PortalConfiguration): install.sh never writes them of its own accord.
FTA_DEFAULTS = ("FTA_LISTEN", "FTA_BOT_IMAGE", "DOCKER_NETWORK", "FTA_MEMORY_BUDGET_MB", "FTA_MAX_BOTS_PER_CLIENT",
                "FTA_SESSION_IDLE_MINUTES", "FTA_BCRYPT_COST", "FTA_LOG_LEVEL")


def test_env_file_placeholders_become_fresh_secrets(tmp_path):
    first = parse_env(render_env(tmp_path, EXAMPLE, None))
    assert HEX64.match(first["FTA_SECRET_KEY"])
    # This install's layout is added where the template lacks it; fta's own defaults are not.
    for key in ("FTA_DATABASE", "FTA_WEB_ROOT", "FTA_DOCKER_URL"):
        assert key in first
    for key in ("DOCKER_NETWORK", "FTA_MEMORY_BUDGET_MB"):
        assert key not in first, f"install.sh wrote {key}, a default that is fta's"
    (tmp_path / "again").mkdir()
    second = parse_env(render_env(tmp_path / "again", EXAMPLE, None))
    assert second["FTA_SECRET_KEY"] != first["FTA_SECRET_KEY"]  # random per install


def test_env_file_rerun_keeps_secrets_and_operator_values_and_adds_missing_keys(tmp_path):
    existing = "FTA_SECRET_KEY=" + "ab" * 32 + "\nFTA_MAX_BOTS_PER_CLIENT=7\nFTA_PUBLIC_URL=http://127.0.0.1:8081\n"
    example = EXAMPLE + "FTA_NEW_SETTING=42\n"
    result = parse_env(render_env(tmp_path, example, existing, public_url="https://portal.example.org"))
    assert result["FTA_SECRET_KEY"] == "ab" * 32
    assert result["FTA_MAX_BOTS_PER_CLIENT"] == "7"
    assert result["FTA_NEW_SETTING"] == "42"
    assert result["FTA_PUBLIC_URL"] == "https://portal.example.org"  # derived from --domain


def test_env_file_without_a_template_holds_only_this_installs_choices(tmp_path):
    """No `fta config example` and no .env.example: only this install's paths, its secret and the
    values its flags decide; fta's defaults apply to the rest."""
    result = parse_env(render_env(tmp_path, None, None))
    assert HEX64.match(result["FTA_SECRET_KEY"])
    assert result["FTA_DOCKER_URL"] == "unix:///run/fta-proxy/docker.sock"
    assert result["FTA_DATABASE"] == "/var/lib/fta/fta.sqlite"
    assert result["FTA_WEB_ROOT"] == "/usr/local/share/fta/web"
    assert result["FTA_PUBLIC_URL"] == "http://127.0.0.1:8081" and result["FTA_PORT"] == "8080"
    for key in FTA_DEFAULTS:
        assert key not in result, f"install.sh wrote {key}, a default that is fta's"


def test_env_file_from_the_real_template_leaves_fta_its_memory_budget(tmp_path):
    """The repository's .env.example leaves FTA_MEMORY_BUDGET_MB empty (fta computes it from the
    host); install.sh keeps it empty and every other non-install value as the template has it."""
    example = (REPO / ".env.example").read_text()
    template = parse_env(example)
    result = parse_env(render_env(tmp_path, example, None))
    assert template["FTA_MEMORY_BUDGET_MB"] == "" and result["FTA_MEMORY_BUDGET_MB"] == ""
    decided = {"FTA_SECRET_KEY", "FTA_PUBLIC_URL", "FTA_PORT", "FTA_DOCKER_URL"}
    for key, value in template.items():
        if key not in decided:
            assert result[key] == value, f"{key}: {result[key]!r}, the template says {value!r}"


def test_env_file_template_comes_from_fta_config_example(tmp_path):
    """The binary this run installs describes its own configuration (`fta config example`): a
    release archive needs no .env.example. A binary without that command falls back to it."""
    fake = tmp_path / "fta"
    fake.write_text('#!/bin/sh\n[ "$1 $2" = "config example" ] || exit 64\n'
                    'printf "# from fta itself\\nFTA_SECRET_KEY=\\nFTA_FROM_BINARY=yes\\n"\n')
    fake.chmod(0o755)
    result = parse_env(render_env(tmp_path, EXAMPLE, None, binary=fake))
    assert result["FTA_FROM_BINARY"] == "yes" and HEX64.match(result["FTA_SECRET_KEY"])
    assert "FTA_MAX_BOTS_PER_CLIENT" not in result  # .env.example was not used
    (tmp_path / "older").mkdir()
    older = parse_env(render_env(tmp_path / "older", EXAMPLE, None, binary=Path("/bin/true")))
    assert older["FTA_MAX_BOTS_PER_CLIENT"] == "3" and "FTA_FROM_BINARY" not in older


def merge_daemon_json(current: dict) -> dict:
    require_tool("jq")
    result = subprocess.run(
        ["bash", "-c", f'source "{INSTALL_SH}"; jq -S --arg pool 10.200.0.0/14 "$DAEMON_JSON_MERGE"'],
        input=json.dumps(current), capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def pool_capacity(config: dict) -> int:
    result = subprocess.run(
        ["bash", "-c", f'source "{INSTALL_SH}"; jq "$DAEMON_JSON_POOL_CAPACITY"'],
        input=json.dumps(config), capture_output=True, text=True, check=True)
    return int(result.stdout)


def test_daemon_json_merge_on_an_empty_file():
    merged = merge_daemon_json({})
    assert merged["log-driver"] == "json-file"
    assert merged["log-opts"] == {"max-size": "10m", "max-file": "3"}
    assert merged["default-address-pools"] == [{"base": "10.200.0.0/14", "size": 24}]
    assert merged["live-restore"] is True and merged["no-new-privileges"] is True
    assert pool_capacity(merged) == 1024
    assert merge_daemon_json(merged) == merged  # idempotent: a re-run changes nothing


def test_daemon_json_merge_keeps_the_operators_keys():
    current = {"registry-mirrors": ["https://mirror.example"], "log-opts": {"max-size": "50m"},
               "default-address-pools": [{"base": "172.80.0.0/16", "size": 24}], "live-restore": False}
    merged = merge_daemon_json(current)
    assert merged["registry-mirrors"] == ["https://mirror.example"]
    assert merged["log-opts"] == {"max-size": "50m", "max-file": "3"}
    assert merged["default-address-pools"] == [{"base": "172.80.0.0/16", "size": 24}]
    assert pool_capacity(merged) == 256
    assert merged["live-restore"] is True  # fta needs it: a dockerd restart must not stop bots
    journald = merge_daemon_json({"log-driver": "journald"})
    assert journald["log-driver"] == "journald" and "log-opts" not in journald


AL2023_NGINX_CONF = """user nginx;
worker_processes auto;
events {
    worker_connections 1024;
}
http {
    include             /etc/nginx/mime.types;
    include /etc/nginx/conf.d/*.conf;

    server {
        listen       80;
        listen       [::]:80;
        server_name  _;
        root         /usr/share/nginx/html;
        # Load configuration files for the default server block. { not a brace }
        include /etc/nginx/default.d/*.conf;
        error_page 404 /404.html;
        location = /404.html {
        }
    }

# Settings for a TLS enabled server.
#    server {
#        listen       443 ssl http2;
#    }
}
"""


def test_amazon_linux_default_server_is_commented_out(tmp_path):
    conf = tmp_path / "nginx.conf"
    conf.write_text(AL2023_NGINX_CONF)
    out = tmp_path / "out.conf"
    result = sourced(f'comment_out_server_blocks "{conf}" "{out}"')
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    active = [l for l in text.splitlines() if not l.lstrip().startswith("#")]
    assert not any("listen" in l or "server_name" in l for l in active)
    assert any("include /etc/nginx/conf.d/*.conf;" in l for l in active)
    assert text.count("{") - text.count("}") == AL2023_NGINX_CONF.count("{") - AL2023_NGINX_CONF.count("}")
    # --uninstall's undo (sed 's/^#fta# //') restores the original exactly.
    restored = "\n".join(l[6:] if l.startswith("#fta# ") else l for l in text.splitlines()) + "\n"
    assert restored == AL2023_NGINX_CONF
    # Applying it again changes nothing.
    again = tmp_path / "again.conf"
    sourced(f'comment_out_server_blocks "{out}" "{again}"')
    assert again.read_text() == text


def root_only():
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("the helper tests switch users: they need root (CI=true)")
        pytest.skip("needs root")


def test_fta_run_switches_user_and_passes_only_the_env_file(tmp_path):
    root_only()
    env_file = tmp_path / "env"
    env_file.write_text('# comment\nFTA_A=1\nexport FTA_B="two words"\nFTA_C=\'x=y\'\n\nnot a line\n')
    result = subprocess.run(
        [str(REPO / "scripts/install/fta-run.sh"), "--user", "nobody", "--env-file", str(env_file), "--",
         "sh", "-c", 'id -u; printf "%s|%s|%s|%s\\n" "$FTA_A" "$FTA_B" "$FTA_C" "${LEAK-unset}"; grep CapBnd /proc/self/status; grep NoNewPrivs /proc/self/status'],
        capture_output=True, text=True, env=dict(os.environ, LEAK="from the caller"), check=True)
    lines = result.stdout.splitlines()
    assert lines[0] == str(65534)
    assert lines[1] == "1|two words|x=y|unset"
    assert lines[2].split()[1] == "0000000000000000"
    assert lines[3].split()[1] == "1"


def test_fta_run_as_root_keeps_privileges_but_not_the_callers_environment(tmp_path):
    """fta-admin runs `fta doctor` this way: nginx -t and the root-only env file need root."""
    root_only()
    env_file = tmp_path / "env"
    env_file.write_text("FTA_A=1\n")
    result = subprocess.run(
        [str(REPO / "scripts/install/fta-run.sh"), "--user", "root", "--env-file", str(env_file), "--",
         "sh", "-c", 'id -u; printf "%s|%s|%s\\n" "$FTA_A" "$FTA_ENV_FILE" "${LEAK-unset}"; grep CapEff /proc/self/status'],
        capture_output=True, text=True, env=dict(os.environ, LEAK="from the caller"), check=True)
    lines = result.stdout.splitlines()
    assert lines[0] == "0"
    assert lines[1] == f"1|{env_file}|unset"
    assert lines[2].split()[1] != "0000000000000000"


def test_fta_supervise_restarts_on_failure_and_stops_on_term(tmp_path):
    root_only()
    pidfile, log, counter = tmp_path / "s.pid", tmp_path / "s.log", tmp_path / "count"
    # Fails twice, then stays up.
    script = f'n=$(cat {counter} 2>/dev/null || echo 0); echo $((n+1)) > {counter}; [ "$n" -ge 2 ] && exec sleep 60; exit 3'
    proc = subprocess.Popen([str(REPO / "scripts/install/fta-supervise.sh"), "--name", "t", "--pidfile", str(pidfile),
                             "--log", str(log), "--", "sh", "-c", script])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not counter.exists() or counter.read_text().strip() != "3"):
        time.sleep(0.2)
    assert counter.read_text().strip() == "3"
    assert pidfile.read_text().strip() == str(proc.pid)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert not pidfile.exists()
    text = log.read_text()
    assert text.count("exited with status 3") == 2 and "stopped" in text


def test_fta_supervise_does_not_restart_a_clean_exit(tmp_path):
    root_only()
    log = tmp_path / "s.log"
    result = subprocess.run([str(REPO / "scripts/install/fta-supervise.sh"), "--name", "t", "--pidfile",
                             str(tmp_path / "s.pid"), "--log", str(log), "--", "true"], timeout=20)
    assert result.returncode == 0
    assert "not restarting" in log.read_text()



def test_fta_supervise_rotates_the_log_while_the_command_runs_and_leaves_nothing_behind(tmp_path):
    """A portal that runs for months: its log is kept under the limit while it runs (not only at
    a restart), the command keeps writing into the emptied file, and stopping the supervisor
    leaves no process of it (the rotator and its sleep included)."""
    root_only()
    pidfile, log = tmp_path / "s.pid", tmp_path / "s.log"
    env = dict(os.environ, FTA_SUPERVISE_LOG_LIMIT="20000", FTA_SUPERVISE_LOG_CHECK_SECONDS="1")
    writer = "i=0; while :; do i=$((i+1)); echo \"line $i of a portal that never stops\"; sleep 0.002; done"
    proc = subprocess.Popen([str(REPO / "scripts/install/fta-supervise.sh"), "--name", "t", "--pidfile", str(pidfile),
                             "--log", str(log), "--", "sh", "-c", writer], env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (tmp_path / "s.log.1").exists():
            time.sleep(0.2)
        assert (tmp_path / "s.log.1").exists(), "the log was not rotated while the command ran"
        time.sleep(2.5)
        size = log.stat().st_size
        # The limit, plus at most what two check intervals let the writer add.
        assert size < 20000 + 2 * 40000, size
        last = log.read_text().splitlines()[-1]
        assert last.startswith("line ") and log.stat().st_size > 0, last
        print(f"log {size} bytes, rotated copy {(tmp_path / 's.log.1').stat().st_size} bytes")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    time.sleep(0.5)
    # Exited ones count as gone: this sandbox's PID 1 does not reap orphans (<defunct>).
    leftovers = [line for line in subprocess.run(["pgrep", "-a", "-s", str(proc.pid)], capture_output=True, text=True).stdout.splitlines()
                 if not line.endswith("<defunct>")]
    assert not leftovers, f"processes of the stopped supervisor are still running: {leftovers}"

FAKE_DOCKER = """#!/bin/sh
case "$FAKE" in
  silent) sleep 100 ;;
  slow) echo "2.8: Pulling from library/haproxy"; sleep 3; echo "Status: Downloaded" ;;
  fail) echo "Error response from daemon: Get https://registry/v2/: dial tcp: lookup registry"; exit 1 ;;
esac
"""


@pytest.mark.parametrize("behaviour, pulled, at_most", [("silent", False, 12), ("slow", True, 12), ("fail", False, 6)])
def test_pull_gives_up_when_no_registry_answers(tmp_path, behaviour, pulled, at_most):
    # An offline machine must not hang for half an hour on `docker pull`.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "docker").write_text(FAKE_DOCKER)
    (fake / "docker").chmod(0o755)
    started = time.monotonic()
    result = sourced('TMP_DIR=$(mktemp -d); PULL_SILENCE_SECONDS=4; if pull_image some/image 20; then echo PULLED; fi',
                     PATH=f"{fake}:{os.environ['PATH']}", FAKE=behaviour)
    assert result.returncode == 0, result.stderr
    assert ("PULLED" in result.stdout) == pulled
    assert time.monotonic() - started < at_most
