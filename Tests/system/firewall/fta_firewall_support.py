"""The firewall tests' own small network, inside this machine only (issue 15, class 1).

A network namespace stands for the appliance's host: a private dockerd of its own runs in it
(own data-root, exec-root, socket and bridges; in a private mount namespace whose /etc/resolv.conf
names the test resolver), so that its iptables are the "host firewall" the tests change, and
neither the shared test engine nor this machine's own tables are touched. Four more namespaces,
each on a veth link to the host, are the hosts bots try to reach:

| role | address | stands for |
| --- | --- | --- |
| imds | 169.254.169.254 | the cloud's instance metadata service (port 80) |
| priv | 10.203.0.10 | a VPC neighbour: port 8000 (closed to bots), 8001 (allow-listed), and the resolver on 53 |
| xchg | 10.0.2.2 | the market simulator, at the address the VM tests use (allowed by FTA_EXCHANGE_OVERRIDE) |
| pub | 203.0.113.10 | a public exchange API (port 80), named exchange.test by the resolver |

The host itself listens on [::]:2222 (every address, IPv4 and IPv6: an sshd) and on its first
bot network's gateway, port 8082. Bots are fta-test/busybox:latest containers with fta's
hardening, on fta-client-<id> networks made the way fta makes them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from fta_system_support import missing, wait_until

REPO = Path(__file__).resolve().parents[3]
FIREWALL = REPO / "scripts" / "install" / "fta-firewall.sh"
FTA_ADMIN = REPO / "scripts" / "install" / "fta-admin.sh"
INSTALL_SH = REPO / "install.sh"
MARKET_SIM = REPO / "Tests" / "system" / "freqtrade" / "market_sim.py"
NAMESPACE_HOST = Path(__file__).with_name("namespace_host.py")
TEST_IMAGE_SH = REPO / "scripts" / "lib" / "test-image.sh"
TOOLS = ("ip", "nsenter", "unshare", "iptables", "ip6tables", "iptables-save", "ip6tables-save",
         "iptables-restore", "dockerd", "docker", "getent", "jq", "curl")

# role -> (the host's address on the link, the namespace host's address)
HOSTS = {
    "imds": ("169.254.0.1/16", "169.254.169.254/16"),
    "priv": ("10.203.0.1/24", "10.203.0.10/24"),
    # The other private ranges, on the same neighbour.
    "priv-172": ("172.16.0.1/24", "172.16.0.10/24"),
    "priv-192": ("192.168.77.1/24", "192.168.77.10/24"),
    "priv-100": ("100.64.0.1/24", "100.64.0.10/24"),
    "xchg": ("10.0.2.15/24", "10.0.2.2/24"),
    "pub": ("203.0.113.1/24", "203.0.113.10/24"),
}
IMDS, PRIVATE, SIMULATOR, PUBLIC = "169.254.169.254", "10.203.0.10", "10.0.2.2", "203.0.113.10"
NAMESPACES = [role for role in HOSTS if "-" not in role]
# One address in each private range (RFC 1918 and RFC 6598), all held by the "priv" host.
PRIVATE_ADDRESSES = [PRIVATE, "172.16.0.10", "192.168.77.10", "100.64.0.10"]
SIM_PORT, HOST_PORT, GATEWAY_PORT = 8765, 2222, 8082
CLOSED_PORT, ALLOWED_PORT = 8000, 8001
# The host's own addresses a bot could aim at, besides its network's gateway.
HOST_ADDRESSES = ["10.203.0.1", "169.254.0.1", "10.0.2.15", "203.0.113.1", "172.16.0.1"]
ALLOW = f"{PRIVATE}:{ALLOWED_PORT}"
BOT_IMAGE = "fta-test/busybox:latest"


def require_root_and_tools() -> None:
    if os.geteuid() != 0:
        missing("the firewall tests need root (network namespaces, iptables, a dockerd)")
    for tool in TOOLS:
        if shutil.which(tool) is None:
            missing(f"{tool} is not installed (scripts/lib/deps.sh installs it)")


def run(*cmd, check: bool = True, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def normalised(save: str, without_fta: bool = False) -> list[str]:
    """iptables-save output without its comments and packet counters, and without the tables that
    hold nothing (only built-in chains that accept): whether such a table is listed depends only on
    whether a rule was ever put in it (ip6tables' raw table, for fta's IPv6 rule). `without_fta`:
    as if fta's chains and the jumps to them were not there."""
    lines, table = [], []
    for line in save.splitlines():
        if not line or line.startswith("#") or (without_fta and "FTA-BOTS" in line):
            continue
        table.append(re.sub(r"\[\d+:\d+\]", "[0:0]", line))
        if line == "COMMIT":
            if any(not re.fullmatch(r"\*\w+|:[A-Z]+ ACCEPT \[0:0\]|COMMIT", entry) for entry in table):
                lines += table
            table = []
    return lines + table


def sim_override() -> str:
    """FTA_EXCHANGE_OVERRIDE as the VM test writes it: ccxt's binance class sent to the simulator."""
    sys.path.insert(0, str(REPO / "Tests" / "system" / "freqtrade"))
    from fta_freqtrade_support import sim_ccxt_config
    return json.dumps({"ccxt_config": sim_ccxt_config(f"http://{SIMULATOR}:{SIM_PORT}"), "ccxt_async_config": {}},
                      separators=(",", ":"))


class Lab:
    """The namespaces, the engine, the hosts' programs and the bots; `close` removes them all."""

    def __init__(self) -> None:
        self.tag = f"ftafw{os.getpid() % 100000}"
        self.run_dir = Path(f"/run/{self.tag}")
        self.data_root = Path(f"/var/lib/fta-test/{self.tag}-docker")
        self.netns = {role: f"{self.tag}-{role}" for role in ("host", *NAMESPACES)}
        self.sock = self.run_dir / "docker.sock"
        self.docker_host = f"unix://{self.sock}"
        self.env_file = self.run_dir / "fta.env"
        self.conf = self.run_dir / "firewall.conf"
        self.holder: subprocess.Popen | None = None
        self.dockerd: subprocess.Popen | None = None
        self.programs: list[subprocess.Popen] = []
        self.logs: dict[str, Path] = {}
        self.image = BOT_IMAGE
        self.gateway = ""
        self.made_netns: list[str] = []

    # --- building -----------------------------------------------------------------------

    def start(self) -> "Lab":
        self.run_dir.mkdir(mode=0o755)
        (self.run_dir / "resolv.conf").write_text(f"nameserver {PRIVATE}\n")
        (self.run_dir / "daemon.json").write_text("{}\n")
        self.env_file.write_text(f"FTA_SECRET_KEY={'0' * 8}-placeholder\nFTA_EXCHANGE_OVERRIDE='{sim_override()}'\n")
        self.write_conf()
        for name in self.netns.values():
            run("ip", "netns", "add", name)
            self.made_netns.append(name)
            run("ip", "-n", name, "link", "set", "lo", "up")
        host = self.netns["host"]
        for role in NAMESPACES:
            run("ip", "link", "add", f"up-{role}", "netns", host, "type", "veth", "peer", "name", "eth0", "netns", self.netns[role])
        for role, (host_address, address) in HOSTS.items():
            link = role.split("-")[0]
            run("ip", "-n", host, "addr", "add", host_address, "dev", f"up-{link}")
            run("ip", "-n", self.netns[link], "addr", "add", address, "dev", "eth0")
        for role in NAMESPACES:
            run("ip", "-n", host, "link", "set", f"up-{role}", "up")
            run("ip", "-n", self.netns[role], "link", "set", "eth0", "up")
        # The host's mount namespace: its own /etc/resolv.conf, for dockerd and for fta-firewall.
        self.holder = subprocess.Popen(
            ["nsenter", f"--net=/run/netns/{host}", "unshare", "--mount", "--propagation", "private", "sh", "-c",
             f"mount --bind {self.run_dir}/resolv.conf /etc/resolv.conf && exec sleep infinity"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        self.wait_for(lambda: run(*self.in_host("cat", "/etc/resolv.conf"), check=False).stdout.strip() == f"nameserver {PRIVATE}",
                      "the host namespace's /etc/resolv.conf")
        self.start_dockerd()
        image = run(TEST_IMAGE_SH, env={**os.environ, "FTA_TEST_DOCKER_HOST": self.docker_host}, timeout=300)
        self.image = image.stdout.strip().splitlines()[-1]
        # The hosts' programs.
        python = sys.executable
        self.program("imds", [python, NAMESPACE_HOST, "--name", "imds", "--log", self.log("imds"), "--listen", f"{IMDS}:80"])
        self.program("priv", [python, NAMESPACE_HOST, "--name", "priv", "--log", self.log("priv"),
                              "--listen", f"0.0.0.0:{CLOSED_PORT}", f"0.0.0.0:{ALLOWED_PORT}",
                              "--dns", f"{PRIVATE}:53", f"exchange.test={PUBLIC}"])
        self.program("pub", [python, NAMESPACE_HOST, "--name", "pub", "--log", self.log("pub"), "--listen", f"{PUBLIC}:80"])
        self.program("xchg", [python, MARKET_SIM, "--host", SIMULATOR, "--port", str(SIM_PORT), "--quiet"],
                     ready="market_sim listening")
        return self

    def write_conf(self, **changes: str) -> None:
        values = {"FTA_FIREWALL": "on", "FTA_BOT_BRIDGES": "br-+", "FTA_BOT_EGRESS_ALLOW": ALLOW,
                  "FTA_ENV_FILE": str(self.env_file), "DOCKER_HOST": self.docker_host, **changes}
        self.conf.write_text("".join(f"{k}={v}\n" for k, v in values.items()))

    def log(self, role: str) -> Path:
        self.logs[role] = self.run_dir / f"{role}.log"
        self.logs[role].touch()
        return self.logs[role]

    def program(self, role: str, cmd: list, ready: str = "ready") -> None:
        """A long-running program in a namespace host (or, role "host", in the host)."""
        prefix = self.in_host() if role == "host" else ["nsenter", f"--net=/run/netns/{self.netns[role]}"]
        out = self.run_dir / f"{role}.out"
        with open(out, "a") as f:
            proc = subprocess.Popen([*prefix, *map(str, cmd)], stdin=subprocess.DEVNULL, stdout=f,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        self.programs.append(proc)
        self.wait_for(lambda: ready in out.read_text() or proc.poll() is not None, f"{role}'s {Path(cmd[1]).name}")
        assert proc.poll() is None, f"{role}: {cmd[1]} did not start:\n{out.read_text()}"

    def start_host_listener(self) -> None:
        """The host's own listeners: every address (an sshd) and, specifically, the gateway."""
        self.program("host", [sys.executable, NAMESPACE_HOST, "--name", "host", "--log", self.log("host"),
                              "--listen", f"[::]:{HOST_PORT}", f"{self.gateway}:{GATEWAY_PORT}"])

    def start_dockerd(self) -> None:
        log = open(self.run_dir / "dockerd.log", "a")
        self.dockerd = subprocess.Popen(
            [*self.in_host(), "dockerd", "--host", self.docker_host, "--data-root", str(self.data_root),
             "--exec-root", str(self.run_dir / "exec"), "--pidfile", str(self.run_dir / "docker.pid"),
             "--config-file", str(self.run_dir / "daemon.json"), "--bip", "10.231.0.1/24",
             "--default-address-pool", "base=10.232.0.0/16,size=24",
             # As install.sh configures it: bots keep running while dockerd restarts.
             "--live-restore"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        log.close()
        self.wait_for(lambda: self.docker("version", check=False).returncode == 0, "the lab's dockerd", timeout=60)

    def stop_dockerd(self) -> None:
        if self.dockerd and self.dockerd.poll() is None:
            self.dockerd.send_signal(signal.SIGTERM)
            self.dockerd.wait(timeout=60)

    def restart_dockerd(self) -> None:
        self.stop_dockerd()
        self.start_dockerd()

    # --- using ----------------------------------------------------------------------------

    def in_host(self, *cmd) -> list[str]:
        """A command line that runs in the host namespace (its network and its mount namespace)."""
        return ["nsenter", "-t", str(self.holder.pid), "-m", "-n", *map(str, cmd)]

    def host(self, *cmd, check: bool = True, **kw) -> subprocess.CompletedProcess:
        return run(*self.in_host(*cmd), check=check, **kw)

    def firewall(self, *args, check: bool = False) -> subprocess.CompletedProcess:
        return self.host("bash", FIREWALL, "--config", self.conf, *args, check=check)

    def docker(self, *args, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        return run("docker", "-H", self.docker_host, *args, check=check, timeout=timeout)

    def iptables_save(self, without_fta: bool = False) -> list[str]:
        """Every table of the host, IPv4 and IPv6, normalised."""
        return (normalised(self.host("iptables-save").stdout, without_fta)
                + normalised(self.host("ip6tables-save").stdout, without_fta))

    def client_network(self, client: str) -> str:
        """fta-client-<client>, with what fta's runtime sends today (DockerBotRuntime.ensureClientNetwork)."""
        name = f"fta-client-{client}"
        self.docker("network", "create", "--label", "fta.managed=true", "--label", f"fta.client={client}",
                    "-o", "com.docker.network.bridge.enable_icc=false", name)
        return json.loads(self.docker("network", "inspect", name).stdout)[0]["IPAM"]["Config"][0]["Gateway"]

    def bot(self, bot: str, client: str, *extra: str) -> str:
        """A running bot container with fta's hardening (HardenedBotContainer.spec): its address."""
        self.docker("volume", "create", "--label", "fta.managed=true", f"fta-bot-{bot}")
        self.docker("run", "-d", "--name", f"fta-bot-{bot}", "--network", f"fta-client-{client}",
                    "--label", "fta.managed=true", "--label", f"fta.client={client}", "--label", f"fta.bot={bot}",
                    "--user", "1000:1000", "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges:true",
                    "--pids-limit", "256", "--memory", "128m", "--init", "--tmpfs", "/tmp:rw,noexec,nosuid,nodev,size=64m",
                    "--mount", f"type=volume,src=fta-bot-{bot},dst=/freqtrade/user_data", *extra,
                    self.image, "sleep", "86400")
        return self.docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", f"fta-bot-{bot}").stdout.strip()

    def connect(self, bot: str, address: str, port: int) -> tuple[bool, str]:
        """From inside the bot: an HTTP request over TCP (busybox nc, 3 s): whether an answer came."""
        proc = self.docker("exec", f"fta-bot-{bot}", "sh", "-c", 'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 3 "$0" "$1"',
                           address, str(port), check=False, timeout=30)
        return proc.stdout.startswith("HTTP/1."), (proc.stdout.split("\r\n\r\n")[-1] + proc.stderr).strip()

    def fetch(self, bot: str, url: str) -> subprocess.CompletedProcess:
        """busybox wget inside the bot, bounded by busybox timeout (its own -T crashes it)."""
        return self.exec(bot, "timeout", "5", "wget", "-q", "-O-", url)

    def exec(self, bot: str, *cmd: str) -> subprocess.CompletedProcess:
        return self.docker("exec", f"fta-bot-{bot}", *cmd, check=False, timeout=30)

    def seen(self, role: str) -> list[str]:
        return self.logs[role].read_text().splitlines()

    @staticmethod
    def wait_for(condition, what: str, timeout: float = 30) -> None:
        wait_until(condition, what, timeout=timeout, interval=0.3)

    # --- removing -------------------------------------------------------------------------

    def close(self) -> list[str]:
        """Removes everything; returns what could not be removed."""
        problems: list[str] = []
        if self.dockerd and self.dockerd.poll() is None:
            for kind, listing in (("container", ["ps", "-aq"]), ("network", ["network", "ls", "-q", "--filter", "type=custom"]),
                                  ("volume", ["volume", "ls", "-q"])):
                ids = self.docker(*listing, check=False).stdout.split()
                if ids:
                    removal = ["rm", "-f"] if kind == "container" else [kind, "rm"]
                    if self.docker(*removal, *ids, check=False).returncode != 0:
                        problems.append(f"could not remove the lab's {kind}s {ids}")
        try:
            self.stop_dockerd()
        except subprocess.TimeoutExpired:
            self.dockerd.kill()
            problems.append("the lab's dockerd did not stop within 60 s")
        for proc in [*self.programs, self.holder]:
            if proc and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        for name in self.made_netns:
            if run("ip", "netns", "del", name, check=False).returncode != 0:
                problems.append(f"could not delete the network namespace {name}")
        shutil.rmtree(self.data_root, ignore_errors=True)
        shutil.rmtree(self.run_dir, ignore_errors=True)
        for path in (self.data_root, self.run_dir):
            if path.exists():
                problems.append(f"{path} is still there")
        return problems
