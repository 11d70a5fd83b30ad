"""The shipped configuration: Compose accepts it with .env.example, HAProxy accepts the policy."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from fta_proxy_support import REPO, unavailable

COMPOSE_FILE = REPO / "compose" / "docker-compose.yml"
POLICY = REPO / "compose" / "haproxy" / "haproxy.cfg"

# Used only when the lead's .env.example is not there yet: the variables this file reads.
FALLBACK_ENV = """\
DOCKER_NETWORK=fta-control
FTA_PROXY_IMAGE=haproxy:2.8.15-alpine
FTA_PROXY_SOCKET_DIR=/run/fta-proxy
FTA_PROXY_UID=99
FTA_GID=999
DOCKER_GID=998
FTA_DOCKER_SOCKET=/var/run/docker.sock
FTA_PROXY_MEMORY=64m
"""


def compose_command() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"],
                                                 capture_output=True).returncode == 0:
        return ["docker", "compose"]
    unavailable("neither docker-compose nor `docker compose` is installed")


@pytest.fixture(scope="module")
def compose_config(tmp_path_factory) -> str:
    env_file = REPO / ".env.example"
    if not env_file.exists():
        env_file = tmp_path_factory.mktemp("env") / ".env.example"
        env_file.write_text(FALLBACK_ENV)
    # Compose must not pick up a developer's real .env or shell overrides.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FTA_", "DOCKER_")) and k != "COMPOSE_FILE"}
    run = subprocess.run(compose_command() + ["-f", str(COMPOSE_FILE), "--env-file", str(env_file), "config"],
                         capture_output=True, text=True, cwd=REPO, env=env)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_proxy_compose_config_accepts_env_example(compose_config):
    assert re.search(r"image: haproxy:2\.8\.\d+", compose_config)
    assert "name: fta-control" in compose_config


def test_proxy_compose_service_is_hardened(compose_config):
    text = compose_config
    assert "read_only: true" in text
    assert re.search(r"cap_drop:\s*\n\s*- ALL", text)
    assert "no-new-privileges:true" in text
    assert re.search(r"mem_limit: \S+", text)
    assert re.search(r"user: '?\d+:\d+'?", text)
    assert "healthcheck:" in text
    assert re.search(r"- \S+:/var/run/docker\.sock:ro", text)
    assert re.search(r"haproxy\.cfg:/usr/local/etc/haproxy/haproxy\.cfg:ro", text)
    # The proxy is never published: no ports, no host network, no privileges.
    for forbidden in ("ports:", "network_mode:", "privileged:", "cap_add:", "pid:"):
        assert forbidden not in text, forbidden
    assert "FTA_PROXY_BIND: unix@/run/fta-proxy/docker.sock" in text


def test_proxy_policy_is_valid_for_debian_haproxy():
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not os.path.exists(haproxy):
        unavailable("haproxy is not installed")
    for bind in ("unix@/run/fta-proxy/docker.sock", "127.0.0.1:2375"):
        env = dict(os.environ, FTA_PROXY_BIND=bind)
        run = subprocess.run([haproxy, "-c", "-f", str(POLICY)], capture_output=True, text=True, env=env)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "[WARNING]" not in run.stdout + run.stderr, run.stdout + run.stderr
