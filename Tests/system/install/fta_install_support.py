"""Helpers for the install.sh and nginx tests (Tests/system/install).

A uniquely named module (not `conftest`), so that pytest's importlib mode and the sibling test
folders' own conftest files never mix them up. Under CI=true a missing tool (shellcheck, nginx,
openssl, git) is a failure, never a skip.
"""

from __future__ import annotations

import grp
import hashlib
import http.server
import json
import os
import pwd
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
INSTALL_SH = REPO / "install.sh"
# The files install.sh sources, one per concern.
INSTALL_LIB = REPO / "scripts" / "install" / "lib"


def require_tool(name: str) -> str:
    """The path of a tool; skip without it, or fail under CI=true."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (CI=true: a missing tool is a failure)")
        pytest.skip(message)
    return path


def precondition(ok: bool, message: str) -> None:
    """A real install's precondition (root, free ports, a test engine): skips without it; fails
    under CI=true, where every precondition must hold."""
    if ok:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: a missing precondition is a failure)")
    pytest.skip(message)


# A real install on this machine (test_install_full, test_install_upgrade): the engine it uses,
# the binary it installs, the fixed ports, and what an installation leaves on the machine (none
# of it may exist before, or after the purge).
DOCKER_HOST = os.environ.get("FTA_TEST_DOCKER_HOST") or "unix:///run/fta-test/docker.sock"
BINARY = Path(os.environ.get("FTA_TEST_BINARY") or REPO / ".build" / "debug" / "fta")
FTA_PORT = 8080
NGINX_PORT = 8081
INSTALLED_PATHS = [Path(p) for p in (
    "/etc/fta", "/var/lib/fta", "/var/log/fta", "/run/fta", "/run/fta-proxy", "/usr/local/bin/fta",
    "/usr/local/sbin/fta-admin", "/usr/local/share/fta", "/usr/local/lib/fta", "/etc/nginx/conf.d/fta.conf",
)]


def real_install_preconditions(tools: tuple[str, ...], remaining) -> str:
    """What a real install needs before it may start: root, the tools, the binary, the test
    engine answering, no installation here already, the fixed ports free. Returns the stand-in
    bot image (FTA_TEST_IMAGE, which scripts/test exports, or built now); `remaining(cap)` is the
    calling module's timeout budget."""
    precondition(os.geteuid() == 0, "a real install needs root")
    for tool in tools:
        require_tool(tool)
    precondition(BINARY.is_file() and os.access(BINARY, os.X_OK), f"no fta binary at {BINARY}: run swift build (or set FTA_TEST_BINARY)")
    assert DOCKER_HOST.startswith("unix:///"), f"FTA_TEST_DOCKER_HOST must be unix:///PATH, not {DOCKER_HOST}"
    ping = subprocess.run(["curl", "-fsS", "--max-time", "5", "--unix-socket", DOCKER_HOST.removeprefix("unix://"), "http://docker/_ping"],
                          capture_output=True, text=True)
    precondition(ping.returncode == 0, f"no test engine answers at {DOCKER_HOST} (scripts/lib/engine.sh start)")
    leftovers = [str(p) for p in INSTALLED_PATHS if p.exists()]
    assert not leftovers, (f"an fta installation is already here ({', '.join(leftovers)}); this test installs for "
                           f"real and would take it over: remove it first with ./install.sh --uninstall --purge -y")
    for port in (FTA_PORT, NGINX_PORT):
        taken = listeners(port)
        assert not taken, f"port {port} is already in use ({', '.join(taken)}): a real-install test needs it free"
    image = os.environ.get("FTA_TEST_IMAGE")
    if not image:
        built = subprocess.run([str(REPO / "scripts" / "lib" / "test-image.sh")], capture_output=True, text=True,
                               env={**os.environ, "FTA_TEST_DOCKER_HOST": DOCKER_HOST}, timeout=remaining(120))
        assert built.returncode == 0, f"scripts/lib/test-image.sh failed:\n{built.stderr}"
        image = built.stdout.strip().splitlines()[-1]
    return image


def purge_problems(gone: subprocess.CompletedProcess) -> list[str]:
    """What `install.sh --uninstall --purge` (its result: `gone`) left that it must not: its own
    failure, an installed path, a listener on the fixed ports, the users, nginx's stock site not
    re-enabled; and the shared test engine must still answer."""
    problems = []
    if gone.returncode != 0:
        problems.append(f"--uninstall --purge exited {gone.returncode}:\n{gone.stdout}\n{gone.stderr}")
    problems += [f"{p} is still there after --uninstall --purge" for p in INSTALLED_PATHS if p.exists()]
    for port in (FTA_PORT, NGINX_PORT):
        if listeners(port):
            problems.append(f"port {port} still listens after --uninstall --purge: {listeners(port)}")
    for user in ("fta", "fta-proxy"):
        try:
            pwd.getpwnam(user)
            problems.append(f"user {user} is still there after --purge")
        except KeyError:
            pass
    if os.path.isdir("/etc/nginx/sites-available") and Path("/etc/nginx/sites-available/default").exists() \
            and not Path("/etc/nginx/sites-enabled/default").exists():
        problems.append("nginx's stock default site was not re-enabled")
    if subprocess.run(["curl", "-fsS", "--max-time", "5", "--unix-socket", DOCKER_HOST.removeprefix("unix://"), "http://docker/_ping"],
                      capture_output=True).returncode != 0:
        problems.append(f"the test engine at {DOCKER_HOST} no longer answers")
    return problems


def clean_env() -> dict:
    """The caller's environment without any FTA_* variable install.sh would read (FTA_PORT,
    FTA_BINARY, FTA_ADMIN_PASSWORD, ...): everything a test wants goes in as flags."""
    return {k: v for k, v in os.environ.items() if not k.startswith("FTA_")}


def listeners(port: int) -> list[str]:
    """Local addresses of the TCP listeners on port, from `ss -Hltn`."""
    out = subprocess.run([require_tool("ss"), "-Hltn"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 4:
            address, _, p = fields[3].rpartition(":")
            if p == str(port):
                found.append(address.strip("[]"))
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_install(*args: str, env: dict | None = None, check: bool = True, timeout: int = 120) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(
        ["bash", str(INSTALL_SH), *args],
        cwd=REPO, env=full_env, capture_output=True, text=True, timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"install.sh {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def make_cert(directory: Path, name: str, cn: str) -> tuple[Path, Path]:
    """A throwaway self-signed certificate (RSA 2048) for `cn`."""
    require_tool("openssl")
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", f"/CN={cn}", "-addext", f"subjectAltName=DNS:{cn}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


@dataclass
class Site:
    """A rendered site plus the nginx.conf that wraps it."""
    root: Path
    conf: Path
    mode: str
    nginx_port: int
    http_port: int
    https_port: int
    upstream_port: int
    domain: str = ""
    acme_root: Path | None = None


def render_site(root: Path, mode: str, upstream_port: int) -> Site:
    """Renders the site with install.sh into root/site and writes root/nginx.conf around it."""
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    nginx_port, http_port, https_port = free_port(), free_port(), free_port()
    env = {"FTA_NGINX_HTTP_PORT": str(http_port), "FTA_NGINX_HTTPS_PORT": str(https_port)}
    args = ["--render-nginx", str(root / "site"), "--port", str(upstream_port)]
    domain, acme_root = "", None
    if mode == "tls":
        domain = "portal.test"
        cert, key = make_cert(root, "portal", domain)
        fallback_cert, fallback_key = make_cert(root, "fallback", "invalid")
        acme_root = root / "acme"
        (acme_root / ".well-known" / "acme-challenge").mkdir(parents=True)
        for p in (acme_root, acme_root / ".well-known", acme_root / ".well-known" / "acme-challenge"):
            os.chmod(p, 0o755)
        env.update({"FTA_NGINX_FALLBACK_CERT": str(fallback_cert), "FTA_NGINX_FALLBACK_KEY": str(fallback_key),
                    "FTA_ACME_ROOT": str(acme_root)})
        args += ["--domain", domain, "--tls-cert", str(cert), "--tls-key", str(key)]
    else:
        args += ["--loopback", "--nginx-port", str(nginx_port)]
    run_install(*args, env=env)

    user_line = ""
    temp_owner = None
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        group = grp.getgrgid(nobody.pw_gid).gr_name
        user_line = f"user nobody {group};"
        temp_owner = (nobody.pw_uid, nobody.pw_gid)
    temps = {}
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        d = root / "temp" / name
        d.mkdir(parents=True, exist_ok=True)
        if temp_owner:
            os.chown(d, *temp_owner)
        temps[name] = d
    os.chmod(root / "temp", 0o755)
    conf = root / "nginx.conf"
    conf.write_text(f"""
{user_line}
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log info;
events {{ worker_connections 128; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {temps['client_body']};
    proxy_temp_path {temps['proxy']};
    fastcgi_temp_path {temps['fastcgi']};
    uwsgi_temp_path {temps['uwsgi']};
    scgi_temp_path {temps['scgi']};
    include {root}/site/fta.conf;
}}
""")
    return Site(root=root, conf=conf, mode=mode, nginx_port=nginx_port, http_port=http_port,
                https_port=https_port, upstream_port=upstream_port, domain=domain, acme_root=acme_root)


def nginx_test(site: Site) -> subprocess.CompletedProcess:
    nginx = require_tool("nginx")
    return subprocess.run([nginx, "-t", "-p", str(site.root), "-c", str(site.conf)],
                          capture_output=True, text=True)


# How long the stub's event stream waits between its two messages.
SSE_PAUSE = 3.0


class StubPortal(http.server.BaseHTTPRequestHandler):
    """Stands in for `fta serve`: echoes what it received, and sends its own copies of the
    security headers (which nginx must replace, not duplicate)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without this, Nagle + delayed ACK cost 40 ms
        # per request and the rate-limit tests could not outrun the refill.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _stream(self):
        """Server-Sent Events as `fta serve` sends them (GET /api/v1/stream): one message at once,
        another after a pause, then the end. `?accel=no` adds the portal's X-Accel-Buffering."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        if "accel=no" in self.path:
            self.send_header("X-Accel-Buffering", "no")
        self.send_header("Connection", "close")
        self.end_headers()
        for index, pause in enumerate((0, SSE_PAUSE)):
            time.sleep(pause)
            self.wfile.write(f"event: bots\ndata: {{\"n\": {index}}}\n\n".encode())
            self.wfile.flush()
        self.close_connection = True

    def _answer(self):
        if self.path.startswith("/sse-stub"):
            return self._stream()
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        status = 200
        if self.path.startswith("/missing"):
            status = 404
        elif self.path.startswith("/api/v1/auth/login"):
            status = 401
        elif self.path.startswith("/portal-429"):
            status = 429
        body = json.dumps({
            "path": self.path,
            "x_forwarded_for": self.headers.get_all("X-Forwarded-For"),
            "x_real_ip": self.headers.get("X-Real-IP"),
            "x_forwarded_proto": self.headers.get("X-Forwarded-Proto"),
            "host": self.headers.get("Host"),
        }).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Frame-Options", "SAMEORIGIN")
        self.send_header("Content-Security-Policy", "default-src *")
        self.send_header("X-Content-Type-Options", "nosniff")
        if status == 429:
            self.send_header("Retry-After", "7")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer


def wait_for_port(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"nginx exited with {proc.returncode}:\n{log.read_text() if log.exists() else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nginx did not listen on {port}")


def start_nginx(site: Site):
    nginx = require_tool("nginx")
    result = nginx_test(site)
    assert result.returncode == 0, result.stderr
    proc = subprocess.Popen([nginx, "-p", str(site.root), "-c", str(site.conf), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    port = site.nginx_port if site.mode == "loopback" else site.https_port
    wait_for_port(port, proc, site.root / "error.log")
    return proc


def stop_nginx(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class CmdlineScanner(threading.Thread):
    """Reads every /proc/*/cmdline until stopped: what any local user can do to read a secret
    passed as an argument. With markers, keeps each command line holding one (hits); without
    (secrets not known yet, as during an install that generates them), keeps every distinct
    command line seen, for `lines_with` afterwards."""

    def __init__(self, markers: list[str] | None = None):
        super().__init__(daemon=True)
        self.markers = [m.encode() for m in markers] if markers is not None else None
        self.hits: list[str] = []
        self.seen: set[bytes] = set()
        self.passes = 0
        self.stopped = threading.Event()

    def run(self):
        own = str(os.getpid())
        while not self.stopped.is_set():
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit() or entry.name == own:
                    continue
                try:
                    with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                        data = f.read()
                except OSError:
                    continue  # gone already
                if self.markers is None:
                    self.seen.add(data)
                elif any(m in data for m in self.markers):
                    self.hits.append(data.replace(b"\0", b" ").decode(errors="replace"))
            self.passes += 1

    def lines_with(self, secrets: list[str]) -> list[str]:
        """The command lines seen that hold one of secrets."""
        wanted = [s.encode() for s in secrets if s]
        return [d.replace(b"\0", b" ").decode(errors="replace") for d in self.seen if any(w in d for w in wanted)]

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.join(timeout=10)


# Everything a real install writes to (and the places a careless dry run would touch).
WATCHED = [
    "/etc/fta", "/var/lib/fta", "/var/log/fta", "/etc/nginx", "/etc/docker", "/run/fta",
    "/run/fta-proxy", "/usr/local/bin/fta", "/usr/local/sbin/fta-admin", "/usr/local/share/fta",
    "/usr/local/lib/fta", "/etc/systemd/system/fta.service", "/etc/systemd/system/fta-proxy.service",
    "/etc/tmpfiles.d/fta-proxy.conf", "/etc/passwd", "/etc/group", "/etc/fstab", "/swapfile",
    "/var/lib/fta-acme",
]


def tree_digest(path: str) -> str:
    """Names, types, modes, owners and contents of everything under path ('absent' if none)."""
    digest = hashlib.sha256()
    root = Path(path)
    if not root.exists() and not root.is_symlink():
        return "absent"
    entries = [root] if not root.is_dir() else [root, *sorted(root.rglob("*"))]
    for entry in entries:
        st = entry.lstat()
        digest.update(f"{entry}|{st.st_mode}|{st.st_uid}|{st.st_gid}".encode())
        if entry.is_symlink():
            digest.update(os.readlink(entry).encode())
        elif entry.is_file():
            if entry.stat().st_size < 50_000_000:
                digest.update(entry.read_bytes())
    return digest.hexdigest()


def snapshot() -> dict:
    return {path: tree_digest(path) for path in WATCHED}
