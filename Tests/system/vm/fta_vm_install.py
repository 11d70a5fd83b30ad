"""fta installed in the test VM the way an operator installs it on a fresh EC2 (issue 11).

Shared by the VM install test (test_vm_install.py) and the density benchmark
(scripts/bench-vm-density): the release archive copied in and installed by its own install.sh
with no toolchain, the portal pointed at the market simulator on the host's loopback (the
guest reaches it as 10.0.2.2), an ssh tunnel to the guest's loopback-only nginx (how an operator
reaches such an install), and the portal's API through that tunnel.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

from fta_vm_support import REPO, VM, VM_SH

# The guest reaches the host's loopback through qemu's user network as this address.
HOST_FROM_GUEST = "10.0.2.2"
# TCG emulates every instruction: a Freqtrade start (Python imports pandas, ccxt) that takes
# 10-20 s natively takes minutes in the guest. Bounded, but generous.
INSTALL_TIMEOUT_S = int(os.environ.get("FTA_TEST_VM_INSTALL_TIMEOUT", "1200"))
BOT_START_TIMEOUT_S = int(os.environ.get("FTA_TEST_VM_BOT_TIMEOUT", "900"))
ADMIN = "admin"
PAIRS = ["BTC/USDT", "ETH/USDT", "BNB/USDT"]


def load_support(folder: str, name: str):
    """A helper module of a sibling system-test folder, by file (see freqtrade/conftest.py)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "Tests" / "system" / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


portal_support = load_support("portal", "fta_portal_support")
freqtrade_support = load_support("freqtrade", "fta_freqtrade_support")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def release_name(archive: Path) -> str:
    """The archive's top directory: fta-VERSION-linux-ARCH (release.sh's naming)."""
    return archive.name.removesuffix(".tar.gz")


class Tunnel:
    """`vm.sh tunnel`: host loopback port -> the guest's nginx on its loopback (8081)."""

    def __init__(self, vm: VM):
        self.vm = vm
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def open(self, timeout: float = 120) -> None:
        self.close()
        self.proc = subprocess.Popen([str(VM_SH), "tunnel", str(self.port)], env=self.vm.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"vm.sh tunnel exited {self.proc.returncode}: {self.proc.stderr.read()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"the tunnel to the guest's nginx did not open within {timeout} s")

    def close(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None


class InstalledVM:
    """A VM with fta installed from `archive`, its portal reached through a tunnel."""

    def __init__(self, vm: VM, archive: Path, bot_image: str, sim_url: str):
        self.vm = vm
        self.archive = archive
        self.bot_image = bot_image
        # The simulator listens on the host's loopback; bots in the guest reach it through 10.0.2.2.
        port = sim_url.rsplit(":", 1)[1]
        self.sim_url_in_guest = f"http://{HOST_FROM_GUEST}:{port}"
        self.name = release_name(archive)
        self.admin_password = "Adm-" + secrets.token_urlsafe(18)
        self.tunnel = Tunnel(vm)
        self.install_output = ""

    # --- install ---------------------------------------------------------------------------

    def install(self) -> subprocess.CompletedProcess:
        """What docs/install.md tells an operator on a fresh EC2: copy the archive and its
        .sha256 in, check, unpack, run its install.sh. --offline: the guest reaches no registry,
        so the proxy runs under Debian's haproxy and the bots' image is the one on the image disk."""
        sums = self.archive.with_name(self.archive.name + ".sha256")
        self.vm.timed("copy-in archive", "copy-in", str(self.archive), f"/root/{self.archive.name}", timeout=300)
        self.vm.script("copy-in", str(sums), f"/root/{sums.name}", timeout=60)
        # The password goes in a root-only file, never in a command line.
        self.vm.script("ssh", "umask 077; cat > /root/admin-password", stdin=self.admin_password, timeout=60)
        started = time.monotonic()
        proc = self.vm.ssh(
            f"set -e; cd /root; sha256sum --check --quiet {sums.name}; tar -xzf {self.archive.name}; "
            f"FTA_ADMIN_PASSWORD=$(cat /root/admin-password) ./{self.name}/install.sh --non-interactive "
            f"--offline --bot-image {self.bot_image} --admin-user {ADMIN} 2>&1",
            timeout=INSTALL_TIMEOUT_S, check=False)
        self.vm.timings["install"] = time.monotonic() - started
        self.install_output = proc.stdout + proc.stderr
        return proc

    def point_bots_at_the_simulator(self) -> None:
        """Test-only settings, as an operator would set them: the exchange override (bots trade
        on the simulator) and the test strategies (FtaQuickTest trades within a minute)."""
        override = json.dumps({"ccxt_config": freqtrade_support.sim_ccxt_config(self.sim_url_in_guest),
                               "ccxt_async_config": {}}, separators=(",", ":"))
        # One pair of single quotes around the value: systemd's EnvironmentFile= and fta-run both
        # strip them and keep the JSON's double quotes.
        lines = f"FTA_EXCHANGE_OVERRIDE='{override}'\nFTA_ALLOW_TEST_STRATEGIES=true\n"
        self.vm.script("ssh", "sed -i '/^FTA_EXCHANGE_OVERRIDE=/d; /^FTA_ALLOW_TEST_STRATEGIES=/d' /etc/fta/fta.env "
                       "&& cat >> /etc/fta/fta.env && systemctl restart fta", stdin=lines, timeout=120)
        self.wait_healthy()

    def uninstall(self, purge: bool = True) -> subprocess.CompletedProcess:
        return self.vm.ssh(f"cd /root && ./{self.name}/install.sh --uninstall {'--purge ' if purge else ''}"
                           "--non-interactive 2>&1", timeout=600, check=False)

    # --- the portal through the tunnel -------------------------------------------------------

    def wait_healthy(self, timeout: float = 300) -> float:
        """(Re)opens the tunnel and waits for /api/v1/health through nginx; returns the wait."""
        started = time.monotonic()
        deadline = started + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                if self.tunnel.proc is None or self.tunnel.proc.poll() is not None:
                    self.tunnel.open(timeout=max(5, deadline - time.monotonic()))
                status, _, body = portal_support.request(self.tunnel.url + "/api/v1/health")
                if status == 200:
                    return time.monotonic() - started
                last = (status, body)
            except (OSError, AssertionError) as error:
                last = error
                self.tunnel.close()
            time.sleep(2)
        raise AssertionError(f"the portal was not healthy through nginx within {timeout} s: {last}")

    def call(self, method: str, path: str, cookie: str | None, body: dict | None = None,
             timeout: float = 30) -> tuple[int, object]:
        status, _, parsed = portal_support.request(self.tunnel.url + "/api/v1" + path, method, body, cookie, timeout=timeout)
        return status, parsed

    def login(self, username: str = ADMIN, password: str | None = None) -> str:
        return portal_support.login({"url": self.tunnel.url, "admin": ADMIN, "password": self.admin_password},
                                    username, password)

    def create_client_and_owner(self, client: str, max_bots: int = 4) -> str:
        """A client and its owner, as admin; returns the owner's session cookie."""
        admin = self.login()
        status, body = self.call("POST", "/clients", admin, {"id": client, "name": f"VM {client}", "maxBots": max_bots})
        assert status == 201, body
        username, password = f"{client}-owner", "Pw-" + secrets.token_urlsafe(18)
        status, body = self.call("POST", f"/clients/{client}/users", admin,
                                 {"username": username, "password": password, "role": "owner"})
        assert status == 201, body
        return self.login(username, password)

    @staticmethod
    def bot(bot_id: str, size: str = "small", strategy: str = "FtaQuickTest", timeframe: str = "1m") -> dict:
        return {"id": bot_id, "name": f"VM {bot_id}", "exchange": "binance", "pairs": PAIRS, "stakeCurrency": "USDT",
                "stakeAmount": "100", "dryRunWallet": 1000, "maxOpenTrades": 2, "timeframe": timeframe,
                "strategy": strategy, "size": size}

    def bot_state(self, cookie: str, bot_id: str) -> dict:
        status, body = self.call("GET", f"/bots/{bot_id}", cookie)
        assert status == 200, body
        return body["bot"]

    def wait_running(self, cookie: str, bot_id: str, timeout: float = BOT_START_TIMEOUT_S) -> float:
        """Until the portal says running and the bot's own API answers through it (Freqtrade has
        finished starting); returns the wait. A failed or quarantined bot fails at once."""
        started = time.monotonic()
        deadline = started + timeout
        last: object = None
        while time.monotonic() < deadline:
            try:
                bot = self.bot_state(cookie, bot_id)
            except (OSError, AssertionError) as error:
                last = error
                time.sleep(5)
                continue
            assert bot["state"] not in ("failed", "quarantined"), bot
            if bot["state"] == "running":
                status, body = self.call("GET", f"/bots/{bot_id}/status", cookie)
                if status == 200:
                    return time.monotonic() - started
                last = (status, body)
            else:
                last = bot
            time.sleep(5)
        logs = self.vm.ssh(f"docker logs --tail 40 fta-bot-{bot_id} 2>&1", check=False).stdout
        raise AssertionError(f"bot {bot_id} not running with its API up within {timeout} s: {last}\n--- bot log ---\n{logs}")

    def container(self, bot_id: str) -> dict | None:
        """`docker inspect` of the bot's container in the guest, or None."""
        proc = self.vm.ssh(f"docker inspect fta-bot-{bot_id}", check=False)
        if proc.returncode != 0:
            return None
        return json.loads(proc.stdout)[0]

    def doctor(self) -> tuple[int, dict[str, dict]]:
        proc = self.vm.ssh("fta-admin doctor --json", timeout=300, check=False)
        return proc.returncode, {c["name"]: c for c in json.loads(proc.stdout)["checks"]}
