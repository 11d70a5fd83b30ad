"""The shipped configuration: Compose accepts it with .env.example, HAProxy accepts the policy."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest

from fta_proxy_support import REPO, Engine, request, unavailable

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
    assert re.search(r"create-bodies\.lua:/usr/local/etc/haproxy/create-bodies\.lua:ro", text)
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


def standin_haproxy_image(engine, ref: str):
    """The official HAProxy image cannot be pulled here, so the Compose run uses a stand-in:
    Debian's haproxy binary and its libraries, plus busybox for the healthcheck's wget."""
    import io
    import tarfile

    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    libs = re.findall(r"(/\S+) \(0x", subprocess.run(["ldd", haproxy], capture_output=True,
                                                      text=True, check=True).stdout)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path in [haproxy, "/bin/busybox", *libs]:
            tar.add(os.path.realpath(path), arcname=path.lstrip("/"))
        for applet in ("sh", "wget"):
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
    changes = [f'ENTRYPOINT ["{haproxy}","-W","-db","-f","/usr/local/etc/haproxy/haproxy.cfg"]',
               "ENV PATH=/usr/sbin:/bin"]
    query = "&".join(["fromSrc=-", f"repo={ref.split(':')[0]}", f"tag={ref.split(':')[1]}"]
                     + [f"changes={urllib.parse.quote(c)}" for c in changes])
    resp = request(engine.url, "POST", f"/v1.41/images/create?{query}", buf.getvalue(),
                   content_type="application/x-tar", timeout=120)
    assert resp.status == 200, resp.body[:300]


def test_proxy_compose_service_runs_as_designed(engine, run_id, tmp_path):
    """`compose up` on the test engine: the socket is 0660 and group-owned by fta's group, in a
    0750 directory; it answers /_ping, denies /info, and the container becomes healthy."""
    if os.geteuid() != 0:
        unavailable("needs root (the socket directory is chowned to the proxy's uid)")
    ref, fta_gid, proxy_uid = f"fta-test/haproxy-standin:{run_id}", 4242, 99
    sock_dir = Path(os.environ.get("FTA_TEST_RUN_DIR", "/run/fta-test")) / f"compose-{run_id}"
    sock_dir.mkdir(mode=0o750)
    os.chown(sock_dir, proxy_uid, fta_gid)
    engine_sock = urllib.parse.urlsplit(engine.url).path
    env_file = tmp_path / "compose.env"
    env_file.write_text(FALLBACK_ENV + "\n".join([
        f"DOCKER_NETWORK=fta-control-{run_id}", f"FTA_PROXY_IMAGE={ref}",
        f"FTA_PROXY_SOCKET_DIR={sock_dir}", f"FTA_PROXY_UID={proxy_uid}", f"FTA_GID={fta_gid}",
        f"DOCKER_GID={os.stat(engine_sock).st_gid}", f"FTA_DOCKER_SOCKET={engine_sock}"]) + "\n")
    compose = compose_command() + ["-p", f"fta{run_id}", "-f", str(COMPOSE_FILE), "--env-file", str(env_file)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FTA_", "DOCKER_"))}
    env["DOCKER_HOST"] = engine.url
    standin_haproxy_image(engine, ref)
    try:
        up = subprocess.run(compose + ["up", "-d"], capture_output=True, text=True, env=env, cwd=REPO)
        assert up.returncode == 0, up.stderr
        proxy = f"unix://{sock_dir}/docker.sock"
        deadline = time.time() + 20
        while not Engine(proxy).ping() and time.time() < deadline:
            time.sleep(0.3)
        st = os.stat(sock_dir / "docker.sock")
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o660, proxy_uid, fta_gid)
        assert request(proxy, "GET", "/v1.41/_ping").body == b"OK"
        assert request(proxy, "GET", "/v1.41/info").status == 403
        # The create-body checks (create-bodies.lua, mounted beside the cfg) run in the container.
        assert request(proxy, "POST", "/v1.41/volumes/create", {"Name": f"fta-bot-{run_id}"}).status == 403
        # The healthcheck command, run where Docker runs it (inside the container).
        health = subprocess.run(compose + ["exec", "-T", "socket-proxy", "wget", "-q", "-O", "-",
                                           "http://127.0.0.1:2376/healthz"],
                                capture_output=True, text=True, env=env, cwd=REPO)
        assert health.returncode == 0 and "200 OK" in health.stdout, health.stdout + health.stderr
    finally:
        subprocess.run(compose + ["down", "-v"], capture_output=True, env=env, cwd=REPO)
        request(engine.url, "DELETE", f"/v1.41/images/{ref}")
        for leftover in sock_dir.iterdir():
            leftover.unlink()
        sock_dir.rmdir()
