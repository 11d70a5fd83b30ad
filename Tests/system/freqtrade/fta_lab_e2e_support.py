"""Helpers of the strategy lab's end-to-end test (issue 16, test_strategy_lab.py).

What the portal's API cannot tell a test about a lab job, read where the truth is:
- every job container of the test's clients, seen from the engine itself the moment it starts
  (`docker events`): its labels, mounts, network and environment (what its code could read from
  /proc/1/environ), and its whole output (`docker logs -f` from its start, so nothing is lost when
  the lab removes the container right after it exits), with the times it started and died;
- the host while hostile code runs: its process count, its available memory, the free space of
  the engine's data directory, sampled in a thread;
- TCP listeners on host addresses that record every connection that reaches them;
- the fixture strategies (lab_strategies/), with the values a test substitutes in them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
LAB_STRATEGIES = HERE / "lab_strategies"


def docker_env() -> dict:
    return dict(os.environ, DOCKER_HOST=os.environ.get("FTA_TEST_DOCKER_HOST", "unix:///run/fta-test/docker.sock"))


# --- time ranges ---------------------------------------------------------------------------------

def yesterday() -> tuple[str, datetime, datetime]:
    """Yesterday as a lab timerange (`YYYYMMDD-YYYYMMDD`, whole UTC days) and its start and end."""
    end = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=1)
    return f"{start:%Y%m%d}-{end:%Y%m%d}", start, end


def iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- fixture strategies ----------------------------------------------------------------------------

def strategy_source(name: str, replace: dict[str, str] | None = None) -> str:
    """lab_strategies/<name>.py, each `replace` key (which must occur once) replaced by its value."""
    source = (LAB_STRATEGIES / f"{name}.py").read_text()
    for old, new in (replace or {}).items():
        assert source.count(old) == 1, f"{name}.py: expected {old!r} exactly once"
        source = source.replace(old, new)
    return source


def at_first_candle(source: str) -> str:
    """A hostile fixture whose module calls `attack()` at import, changed to attack in its first
    populate_indicators instead (once per process): validation only imports a strategy, so the
    attack then happens where the test wants it, in the backtest or the bot. A fixture that
    already attacks there is returned as it is."""
    lines = source.split("\n")
    if "attack()" not in lines:
        return source
    lines.remove("attack()")
    hook = "    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:"
    assert lines.count(hook) == 1, "the fixture has no populate_indicators to move its attack into"
    at = lines.index(hook) + 1
    lines[at:at] = ["        if not getattr(attack, 'done', False):", "            attack.done = True", "            attack()"]
    return "\n".join(lines)


def markers(lines: list[str], kind: str) -> list[str]:
    """The hostile fixtures' own report lines (`FTA-HOSTILE <kind> ...`), without the prefix."""
    prefix = f"FTA-HOSTILE {kind} "
    return [line[line.index(prefix) + len(prefix):] for line in lines if prefix in line]


# --- the engine's view of the lab's jobs --------------------------------------------------------------

class Job:
    """One `fta-job-*` container as the engine showed it."""

    def __init__(self, name: str, started: float) -> None:
        self.name = name
        self.id = name[len("fta-job-"):]
        self.started = started
        self.died: float | None = None
        self.inspect: dict | None = None
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.closed = threading.Event()

    @property
    def labels(self) -> dict:
        return (self.inspect or {}).get("Config", {}).get("Labels") or {}

    @property
    def kind(self) -> str | None:
        return self.labels.get("fta.kind")

    @property
    def client(self) -> str | None:
        return self.labels.get("fta.client")

    @property
    def env(self) -> dict[str, str]:
        items = (self.inspect or {}).get("Config", {}).get("Env") or []
        return dict(item.split("=", 1) for item in items if "=" in item)

    @property
    def strategy(self) -> str | None:
        return self.env.get("FTA_STRATEGY")

    @property
    def lines(self) -> list[str]:
        return self.stdout + self.stderr

    def text(self) -> str:
        return "\n".join(self.lines)

    def duration(self) -> float | None:
        return None if self.died is None else self.died - self.started

    def __repr__(self) -> str:
        return f"Job({self.name}, kind={self.kind}, strategy={self.strategy}, client={self.client})"


class JobWatch:
    """Follows the engine's container events; for every lab job of `clients` that starts, keeps
    its inspect and its whole output. The engine is read directly (FTA_TEST_DOCKER_HOST), not
    through the socket proxy: this is the test's view, not the portal's."""

    def __init__(self, clients: set[str]) -> None:
        self.clients = clients
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()
        self.followers: list[subprocess.Popen] = []
        self.events = subprocess.Popen(
            ["docker", "events", "--format", "{{json .}}", "--filter", "type=container",
             "--filter", "event=start", "--filter", "event=die", "--filter", "label=fta.managed=true"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=docker_env())
        self.thread = threading.Thread(target=self._events, name="lab-job-events", daemon=True)
        self.thread.start()

    def _events(self) -> None:
        for raw in self.events.stdout:
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            attributes = event.get("Actor", {}).get("Attributes", {})
            name = attributes.get("name", "")
            if not name.startswith("fta-job-") or attributes.get("fta.client") not in self.clients:
                continue
            if event.get("Action") == "start":
                job = Job(name, time.time())
                with self.lock:
                    self.jobs[name] = job
                threading.Thread(target=self._follow, args=(job,), daemon=True).start()
            elif event.get("Action") == "die":
                with self.lock:
                    job = self.jobs.get(name)
                if job is not None:
                    job.died = time.time()

    def _follow(self, job: Job) -> None:
        run = subprocess.run(["docker", "inspect", job.name], capture_output=True, text=True, env=docker_env(), timeout=30)
        if run.returncode == 0:
            job.inspect = json.loads(run.stdout)[0]
        proc = subprocess.Popen(["docker", "logs", "-f", job.name], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=docker_env())
        with self.lock:
            self.followers.append(proc)

        def read(stream, into: list[str]) -> None:
            for line in iter(stream.readline, b""):
                into.append(line.decode("utf-8", errors="replace").rstrip("\n"))

        readers = [threading.Thread(target=read, args=(proc.stdout, job.stdout), daemon=True),
                   threading.Thread(target=read, args=(proc.stderr, job.stderr), daemon=True)]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join()
        proc.wait()
        job.closed.set()

    def all(self, kind: str | None = None, client: str | None = None, strategy: str | None = None) -> list[Job]:
        with self.lock:
            jobs = sorted(self.jobs.values(), key=lambda j: j.started)
        return [j for j in jobs if (kind is None or j.kind == kind) and (client is None or j.client == client)
                and (strategy is None or j.strategy == strategy)]

    def job(self, job_id: str, timeout: float = 10) -> Job:
        """The job `fta-job-<job_id>` once its output is complete (the container is gone)."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                found = self.jobs.get(f"fta-job-{job_id}")
            if found is not None and found.closed.wait(max(0.0, deadline - time.monotonic())):
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"the engine showed no finished job fta-job-{job_id} (jobs seen: {self.all()})")
            time.sleep(0.2)

    def finished(self, kind: str, strategy: str, client: str, timeout: float = 10) -> Job:
        """The last finished job of this kind for the strategy class."""
        deadline = time.monotonic() + timeout
        while True:
            jobs = self.all(kind=kind, client=client, strategy=strategy)
            if jobs and jobs[-1].closed.wait(max(0.0, deadline - time.monotonic())):
                return jobs[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no finished {kind} job of {strategy} for {client} (jobs seen: {self.all()})")
            time.sleep(0.2)

    def close(self) -> None:
        self.events.terminate()
        with self.lock:
            followers = list(self.followers)
        for proc in followers + [self.events]:
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()


# --- the host -------------------------------------------------------------------------------------

def process_count() -> int:
    return sum(1 for entry in os.scandir("/proc") if entry.name.isdigit())


def mem_available_mb() -> int:
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    raise AssertionError("no MemAvailable in /proc/meminfo")


def engine_data_dir() -> Path:
    """The test engine's data-root, as the engine reports it: where volumes and logs land."""
    run = subprocess.run(["docker", "info", "--format", "{{.DockerRootDir}}"], capture_output=True, text=True,
                         env=docker_env(), timeout=30)
    assert run.returncode == 0 and run.stdout.strip(), f"docker info: {run.stderr}"
    return Path(run.stdout.strip())


def disk_free_mb(path: Path) -> int:
    return shutil.disk_usage(path).free >> 20


class HostSampler:
    """The host's process count, available memory and the engine's free disk, every 0.2 s,
    from start() to stop(): the worst of each while hostile code runs."""

    def __init__(self) -> None:
        self.data_dir = engine_data_dir()
        self.baseline = {"processes": process_count(), "memAvailableMB": mem_available_mb(), "diskFreeMB": disk_free_mb(self.data_dir)}
        self.peak_processes = self.baseline["processes"]
        self.min_mem_mb = self.baseline["memAvailableMB"]
        self.min_disk_mb = self.baseline["diskFreeMB"]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="host-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_processes = max(self.peak_processes, process_count())
            self.min_mem_mb = min(self.min_mem_mb, mem_available_mb())
            self.min_disk_mb = min(self.min_disk_mb, disk_free_mb(self.data_dir))

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join(timeout=5)
        return {"baseline": self.baseline, "peakProcesses": self.peak_processes, "minMemAvailableMB": self.min_mem_mb,
                "minDiskFreeMB": self.min_disk_mb}


class Listener:
    """A TCP listener on a host address; records the peer and time of every connection."""

    def __init__(self, host: str) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.5)
        self.address = f"{host}:{self.sock.getsockname()[1]}"
        self.connections: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"listener-{self.address}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.connections.append((time.time(), peer[0]))
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


class HealthProbe:
    """GET /api/v1/health every second in a thread: failures and the slowest answer."""

    def __init__(self, url: str) -> None:
        import urllib.request

        self._open = urllib.request.urlopen
        self.url = url + "/api/v1/health"
        self.failures: list[str] = []
        self.answers = 0
        self.slowest = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="health-probe", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            started = time.monotonic()
            try:
                with self._open(self.url, timeout=10) as response:
                    response.read()
                self.answers += 1
            except Exception as error:  # noqa: BLE001 (a refused or timed-out health check is what is counted)
                # A degraded health (503) still answered; anything else is a failure.
                if getattr(error, "code", None) == 503:
                    self.answers += 1
                else:
                    self.failures.append(f"{time.strftime('%H:%M:%S')} {type(error).__name__}: {error}")
            self.slowest = max(self.slowest, time.monotonic() - started)

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join(timeout=15)
        return {"answers": self.answers, "failures": self.failures, "slowestSeconds": round(self.slowest, 2)}


def firewall_installed() -> bool:
    """Whether this machine holds fta's bots' firewall (install.sh's FTA-BOTS chains): the test
    engine of scripts/test does not; the firewall's own tests (Tests/system/firewall) prove it."""
    run = subprocess.run(["iptables-save"], capture_output=True, text=True)
    return run.returncode == 0 and "FTA-BOTS-INPUT" in run.stdout


def container_address(name: str, network: str) -> str:
    run = subprocess.run(["docker", "inspect", name], capture_output=True, text=True, env=docker_env(), timeout=30)
    assert run.returncode == 0, f"{name}: {run.stderr}"
    return json.loads(run.stdout)[0]["NetworkSettings"]["Networks"][network]["IPAddress"]


def network_gateway(network: str) -> str:
    run = subprocess.run(["docker", "network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", network],
                         capture_output=True, text=True, env=docker_env(), timeout=30)
    assert run.returncode == 0 and run.stdout.strip(), f"{network}: {run.stderr}"
    return run.stdout.strip()


def roi(table: dict) -> dict[int, float]:
    """A minimal-ROI table with its keys as whole minutes (JSON has them as strings)."""
    return {int(float(k)): float(v) for k, v in table.items()}


def wait_until(what: str, timeout: float, probe, interval: float = 1.0):
    """probe() -> (value, last seen); the value once truthy, else AssertionError with the last seen."""
    started = time.monotonic()
    while True:
        value, last = probe()
        if value:
            return value
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {str(last)[:1500]})")
        time.sleep(interval)


def no_paths(message: str) -> bool:
    return not re.search(r"/tmp/|/freqtrade|/home/|/var/lib/|/run/", message)
