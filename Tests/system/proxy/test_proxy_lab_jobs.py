"""The strategy lab's one-shot jobs (fta-job-*) and shared data volumes (fta-data-*) through the proxy.

What passes: a data volume of fta's exact shape; a job of each kind (validate, download,
backtest) with fta's exact body, of realistic size, created, started, waited for, inspected, read
(logs), stopped and removed through the proxy, and really run by the engine: a validate job has
no network and no volume, a download job writes into the data volume, a backtest job reads it
and cannot write it. A create body of exactly the new limit (98304 bytes) passes, inspected whole.

What does not: each case is fta's exact body (or call) with ONE change, sent through the proxy;
it must get the proxy's 403, the rule named in the proxy's log, and change nothing on the engine
(the job or volume not created, no volume auto-created by a mount, the bot's volume and the data
volume as before).

The module runs its OWN HAProxy from the repository's cfg (compose/haproxy/haproxy.cfg, the file
that ships) on a socket in a temporary directory, so it proves the policy in the working tree
whatever the shared proxy (scripts/lib/proxy.sh) has loaded, and reads the rule names from that
instance's own log.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest

from fta_proxy_support import (API, REPO, STRATEGY_SOURCE, Engine, build_request, compact_json,
                               container_body, demux, freqtrade_config, network_body, request, send_raw,
                               unavailable, volume_body)

POLICY = REPO / "compose" / "haproxy" / "haproxy.cfg"
DENIED = {"message": "denied by fta socket proxy"}
LIMIT = 98304  # the create-body limit (haproxy.cfg, body.toolarge)
MiB = 1 << 20
DATA_DIR = "/freqtrade/user_data"


# --- the proxy under test: our own HAProxy with the shipped cfg ----------------------------------

class Proxy:
    def __init__(self, url: str, log: Path):
        self.url, self.log = url, log

    def offset(self) -> int:
        return self.log.stat().st_size

    def denials_since(self, offset: int, timeout: float = 3.0) -> list[str]:
        """The 403 lines logged after `offset`. HAProxy writes a line as each request ends, which
        may be just after the client saw the answer: this waits for the first one. (Only this
        module talks to this proxy, and it sends one request at a time.)"""
        deadline = time.time() + timeout
        while True:
            with self.log.open("rb") as log:
                log.seek(offset)
                lines = [ln for ln in log.read().decode("utf-8", "replace").splitlines()
                         if ln.startswith("fta-proxy ") and " status=403 " in ln]
            if lines or time.time() > deadline:
                return lines
            time.sleep(0.05)


@pytest.fixture(scope="module")
def lab_proxy(engine, tmp_path_factory):
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not os.path.exists(haproxy):
        unavailable("haproxy is not installed")
    engine_sock = urllib.parse.urlsplit(engine.url).path
    if not engine_sock:
        unavailable(f"the engine URL {engine.url} is not a unix socket; this module's proxy needs one")
    # A short directory: a unix socket path must stay under 108 bytes.
    work = Path(tmp_path_factory.mktemp("px", numbered=True))
    log = work / "haproxy.log"
    env = dict(os.environ, FTA_PROXY_BIND=f"unix@{work}/docker.sock",
               FTA_PROXY_HEALTH_BIND=f"unix@{work}/health.sock", DOCKER_SOCKET=engine_sock)
    check = subprocess.run([haproxy, "-c", "-q", "-f", str(POLICY)], env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    with log.open("wb") as out:
        proc = subprocess.Popen([haproxy, "-db", "-f", str(POLICY)], env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    url = f"unix://{work}/docker.sock"
    try:
        deadline = time.time() + 10
        while not Engine(url).ping():
            assert proc.poll() is None, log.read_text()
            assert time.time() < deadline, "the module's haproxy does not answer /_ping"
            time.sleep(0.1)
        yield Proxy(url, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- fta's lab bodies (docs/proxy.md, Lab jobs) -------------------------------------------------

# A stand-in for the job runner (Sources/FTAPortal/Lab/LabRunnerSource.swift): Python text with
# what JSON has to escape (quotes, backslashes, newlines, tabs), about 11 KiB, like the real one.
RUNNER_PART = '''
def emit_result(result: dict) -> None:
    """FTA-RESULT-PART lines: base64 chunks of at most 8000 chars, "in order"."""
    text = base64.b64encode(json.dumps(result, separators=(",", ":")).encode("utf-8")).decode("ascii")
    parts = [text[i:i + 8000] for i in range(0, len(text), 8000)] or [""]
    for i, part in enumerate(parts, 1):
        print(f"FTA-RESULT-PART {i} {len(parts)} {part}", flush=True)
    trimmed = re.sub(r"(/[\\w.-]+)+/", "", str(result.get("message", "")))[:2000]\t# paths trimmed
'''
RUNNER = "import base64, json, re, sys\n" + RUNNER_PART * 18


def data_volume_body(key: str, size: str | None = None) -> dict:
    body = {"Driver": "local", "Labels": {"fta.data": key, "fta.managed": "true"}, "Name": f"fta-data-{key}"}
    if size:
        body["DriverOpts"] = {"size": size}
    return body


def job_body(job: str, client: str, kind: str, image: str, data_key: str | None = None,
             script: str = "true", strategy_kib: int = 32) -> dict:
    """The job create body of the contract (lab-api section 1): exactly these keys."""
    strategy = "".join(STRATEGY_SOURCE.format(n=i) for i in range(strategy_kib))[:strategy_kib * 1024]
    args = {"validate": {}, "download": {"pairs": ["BTC/USDT"], "timeframe": "5m", "timerange": "20261201-20261205"},
            "backtest": {"timerange": "20261201-20261205"}}[kind]
    config = compact_json(freqtrade_config(job, pairs=20))
    host = {
        "CapDrop": ["ALL"], "Init": True,
        "LogConfig": {"Config": {"max-file": "3", "max-size": "10m"}, "Type": "json-file"},
        "Memory": 256 * MiB, "MemorySwap": 256 * MiB, "NanoCpus": 1000000000, "PidsLimit": 128,
        "ReadonlyRootfs": True, "RestartPolicy": {"Name": "no"}, "SecurityOpt": ["no-new-privileges:true"],
        "Tmpfs": {"/tmp": "rw,noexec,nosuid,nodev,size=64m"},
    }
    body = {
        "Cmd": [script], "Entrypoint": ["/bin/sh", "-c"],
        "Env": [f"FTA_JOB_KIND={kind}", "FTA_STRATEGY=FtaSample0", f"FTA_LAB_ARGS={compact_json(args)}",
                f"FTA_CONFIG={config}", f"FTA_LAB_RUNNER={RUNNER}", f"FTA_STRATEGY_SOURCE={strategy}",
                "HOME=/tmp", "PYTHONDONTWRITEBYTECODE=1"],
        "HostConfig": host, "Image": image,
        "Labels": {"fta.client": client, "fta.job": job, "fta.kind": kind, "fta.managed": "true"},
        "StopTimeout": 5, "User": "1000:1000",
    }
    if kind == "validate":
        host["NetworkMode"] = "none"
    else:
        host["Mounts"] = [{"ReadOnly": kind == "backtest", "Source": f"fta-data-{data_key}", "Target": DATA_DIR,
                           "Type": "volume"}]
        host["NetworkMode"] = f"fta-client-{client}"
        body["NetworkingConfig"] = {"EndpointsConfig": {f"fta-client-{client}": {}}}
    return body


def padded_to(body: dict, size: int) -> str:
    """`body` as compact JSON of exactly `size` bytes (a PAD entry in Env)."""
    text = compact_json(body)
    body = json.loads(text)
    body["Env"].append("PAD=" + "x" * (size - len(text.encode()) - len(',"PAD="')))
    text = compact_json(body)
    assert len(text.encode()) == size, len(text.encode())
    return text


# --- the world: two clients, a bot volume, a seeded data volume, a running job ------------------

class World:
    def __init__(self, run_id: str, image: str):
        self.run_id, self.image, self.counter = run_id, image, 0
        self.client, self.other_client = f"{run_id}ja", f"{run_id}jb"
        self.bot = f"{run_id}jv"          # another client's bot: its volume is the prize
        self.data_key = f"{run_id}-5m"    # the shared candle cache
        self.target = f"fta-job-{run_id}jt"  # a running job, for the calls jobs must not get

    @property
    def net(self):
        return f"fta-client-{self.client}"

    @property
    def other_net(self):
        return f"fta-client-{self.other_client}"

    @property
    def bot_vol(self):
        return f"fta-bot-{self.bot}"

    @property
    def data_vol(self):
        return f"fta-data-{self.data_key}"

    def fresh(self) -> str:
        """A job id never used before: a forwarded create would really create something."""
        self.counter += 1
        return f"{self.run_id}j{self.counter}"

    def job(self, kind: str, **kw) -> tuple[str, dict]:
        job = self.fresh()
        return job, job_body(job, self.client, kind, self.image, self.data_key, **kw)


def ours(engine, run_id: str) -> dict:
    """Every container and volume of this module on the engine (names carry the run id)."""
    mark = f"{run_id}j"
    return {
        "containers": sorted((c["Names"][0], c["Id"], c["State"]) for c in engine.get("/containers/json?all=1")
                             if mark in c["Names"][0]),
        "volumes": sorted((v["Name"], v["CreatedAt"], tuple(sorted((v.get("Labels") or {}).items())))
                          for v in engine.get("/volumes").get("Volumes") or [] if mark in v["Name"]
                          or v["Name"].startswith(f"fta-data-{run_id}")),
    }


@pytest.fixture(scope="module")
def world(engine, image, run_id):
    w = World(run_id, image)
    for client in (w.client, w.other_client):
        engine.call("POST", "/networks/create", network_body(client))
    engine.call("POST", "/volumes/create", volume_body(w.bot, w.other_client))
    engine.call("POST", "/volumes/create", data_volume_body(w.data_key))
    # Seed the data volume as a finished download would leave it. Directly on the engine and as
    # root: a fresh volume's root belongs to root unless the image has the mount point (owned by
    # 1000) for the engine to copy its ownership from; fta's Freqtrade image must (docs/proxy.md).
    seed = f"zz-seed-{run_id}"
    engine.call("POST", f"/containers/create?name={seed}", {
        "Image": image, "User": "0:0", "Entrypoint": ["/bin/sh", "-c"],
        "Cmd": ["chown 1000:1000 /d && echo seeded >/d/BTC_USDT-5m.feather && chown 1000:1000 /d/BTC_USDT-5m.feather"],
        "HostConfig": {"NetworkMode": "none", "Mounts": [{"Type": "volume", "Source": w.data_vol, "Target": "/d"}]}})
    try:
        engine.call("POST", f"/containers/{seed}/start")
        assert engine.call("POST", f"/containers/{seed}/wait").json()["StatusCode"] == 0
    finally:
        engine.remove_container(seed)
    # A running job, created directly (for exec/attach/archive/kill/restart/stats attempts).
    engine.call("POST", f"/containers/create?name={w.target}",
                job_body(f"{run_id}jt", w.client, "validate", image, script="exec sleep 3600", strategy_kib=1))
    engine.call("POST", f"/containers/{w.target}/start")
    yield w
    for c in engine.get("/containers/json?all=1"):
        if f"{run_id}j" in c["Names"][0]:
            engine.remove_container(c["Id"])
    for v in engine.get("/volumes").get("Volumes") or []:
        if f"{run_id}j" in v["Name"] or v["Name"].startswith(f"fta-data-{run_id}"):
            engine.remove_volume(v["Name"])
    for net in (w.net, w.other_net):
        engine.remove_network(net)


def target_state(engine, w: World) -> tuple:
    info = engine.get(f"/containers/{w.target}/json")
    return (info["State"]["Status"], info["State"]["Pid"], info["State"]["StartedAt"], info["ExecIDs"],
            info["RestartCount"], info["HostConfig"]["Memory"])


@pytest.fixture(scope="module")
def before(engine, world):
    return ours(engine, world.run_id), target_state(engine, world)


@pytest.fixture
def sweep(engine, world, before):
    """After a refusal case: remove whatever of this module's it left behind (only an attack that
    got through leaves anything; that case has failed already), so the cases after it still
    compare against the state before the first."""
    yield
    now = ours(engine, world.run_id)
    for name, cid, _ in set(now["containers"]) - set(before[0]["containers"]):
        engine.remove_container(cid)
    for name, *_ in set(now["volumes"]) - set(before[0]["volumes"]):
        engine.remove_volume(name)


# --- helpers -------------------------------------------------------------------------------------

def call(proxy: Proxy, method: str, path: str, body=None, expect=200, **kw):
    resp = request(proxy.url, method, API + path, body, **kw)
    assert resp.status == expect, f"{method} {path}: {resp.status} {resp.body[:300]!r}"
    return resp


def denied_by(proxy: Proxy, raw: bytes, rule: str, head_only: bool = False):
    """Send `raw`: the proxy's own 403, and its log line names `rule`."""
    offset = proxy.offset()
    resp = send_raw(proxy.url, raw, timeout=20, head_only=head_only)
    assert resp.status == 403, f"expected 403 ({rule}), got {resp.status} {resp.body[:300]!r}"
    if not head_only:
        assert json.loads(resp.body) == DENIED
    lines = proxy.denials_since(offset)
    assert len(lines) == 1 and f" deny={rule} " in lines[0], f"expected one 403 with deny={rule}: {lines}"


def unchanged(engine, world: World, before):
    assert ours(engine, world.run_id) == before[0]
    assert target_state(engine, world) == before[1]


def run_job(proxy: Proxy, engine, name: str, body) -> tuple[int, str, dict]:
    """create, start, wait, inspect, logs, delete: all through the proxy."""
    call(proxy, "POST", f"/containers/create?name={name}", body, expect=201)
    try:
        call(proxy, "POST", f"/containers/{name}/start", expect=204)
        code = call(proxy, "POST", f"/containers/{name}/wait?condition=not-running", timeout=60).json()["StatusCode"]
        info = call(proxy, "GET", f"/containers/{name}/json").json()
        logs = demux(call(proxy, "GET", f"/containers/{name}/logs?stdout=1&stderr=1&tail=all").body)
    finally:
        call(proxy, "DELETE", f"/containers/{name}?force=1&v=1", expect=204)
    assert request(engine.url, "GET", f"{API}/containers/{name}/json").status == 404
    return code, logs, info


def assert_job_hardening(info: dict):
    host = info["HostConfig"]
    assert info["Config"]["User"] == "1000:1000"
    assert host["ReadonlyRootfs"] is True and host["CapDrop"] == ["ALL"] and host["Privileged"] is False
    assert host["RestartPolicy"]["Name"] == "no"
    assert host["MemorySwap"] == host["Memory"] == 256 * MiB
    assert host["Init"] is True and host["PortBindings"] in (None, {})
    assert info["Config"].get("Healthcheck") is None


# --- what passes ---------------------------------------------------------------------------------

def test_proxy_lab_allows_a_data_volume(lab_proxy, engine, world):
    """fta's data volume body: created, inspected and removed through the proxy; with its size cap
    the engine (not the proxy) decides (this sandbox's kernel has no project quotas)."""
    key = f"{world.run_id}-1h"
    name = f"fta-data-{key}"
    call(lab_proxy, "POST", "/volumes/create", data_volume_body(key), expect=201)
    assert call(lab_proxy, "GET", f"/volumes/{name}").json()["Labels"] == {"fta.data": key, "fta.managed": "true"}
    call(lab_proxy, "DELETE", f"/volumes/{name}", expect=204)
    assert request(engine.url, "GET", f"{API}/volumes/{name}").status == 404
    resp = request(lab_proxy.url, "POST", f"{API}/volumes/create", data_volume_body(key, size="512m"))
    assert b"denied by fta socket proxy" not in resp.body, resp.body
    assert resp.status == 201 or (resp.status == 400 and b"no quota support" in resp.body), (resp.status, resp.body)
    engine.remove_volume(name)


def test_proxy_lab_runs_a_validate_job_without_network_or_volume(lab_proxy, engine, world):
    job, body = world.job("validate", script=(
        'echo "ifaces:$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\\n" ,)"; '
        # The test image has the directory; what must be absent is a volume mounted there.
        f'grep -q " {DATA_DIR} " /proc/mounts || echo no-data-dir; echo "kind:$FTA_JOB_KIND"'))
    text = compact_json(body)
    assert 40 * 1024 < len(text.encode()) < LIMIT and "\\u" not in text.replace("\\\\", "")
    code, logs, info = run_job(lab_proxy, engine, f"fta-job-{job}", text)
    assert code == 0, logs
    assert "ifaces:lo," in logs and "no-data-dir" in logs and "kind:validate" in logs, logs
    assert info["HostConfig"]["NetworkMode"] == "none" and info["Mounts"] == []
    assert_job_hardening(info)


def test_proxy_lab_runs_a_download_job_that_writes_the_data_volume(lab_proxy, engine, world):
    job, body = world.job("download", script=(
        f'echo fresh >{DATA_DIR}/ETH_USDT-5m.feather && echo wrote; '
        'echo "ifaces:$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | sort | tr "\\n" ,)"'))
    code, logs, info = run_job(lab_proxy, engine, f"fta-job-{job}", body)
    assert code == 0 and "wrote" in logs and "eth0" in logs, logs
    assert [(m["Name"], m["Destination"], m["RW"]) for m in info["Mounts"]] == [(world.data_vol, DATA_DIR, True)]
    assert list(info["NetworkSettings"]["Networks"]) == [world.net]
    assert_job_hardening(info)


def test_proxy_lab_runs_a_backtest_job_that_only_reads_the_data_volume(lab_proxy, engine, world):
    job, body = world.job("backtest", script=(
        f'cat {DATA_DIR}/BTC_USDT-5m.feather; '
        f'if echo x >{DATA_DIR}/BTC_USDT-5m.feather 2>/dev/null; then echo WROTE; else echo read-only; fi'))
    code, logs, info = run_job(lab_proxy, engine, f"fta-job-{job}", body)
    assert code == 0 and "seeded" in logs and "read-only" in logs and "WROTE" not in logs, logs
    assert [(m["Name"], m["Destination"], m["RW"]) for m in info["Mounts"]] == [(world.data_vol, DATA_DIR, False)]
    assert_job_hardening(info)


def test_proxy_lab_stops_a_running_job(lab_proxy, engine, world):
    job, body = world.job("validate", script="exec sleep 600", strategy_kib=1)
    name = f"fta-job-{job}"
    call(lab_proxy, "POST", f"/containers/create?name={name}", body, expect=201)
    try:
        call(lab_proxy, "POST", f"/containers/{name}/start", expect=204)
        assert call(lab_proxy, "GET", f"/containers/{name}/json").json()["State"]["Running"] is True
        call(lab_proxy, "POST", f"/containers/{name}/stop?t=2", expect=204)
        call(lab_proxy, "POST", f"/containers/{name}/wait")
        assert call(lab_proxy, "GET", f"/containers/{name}/json").json()["State"]["Running"] is False
    finally:
        call(lab_proxy, "DELETE", f"/containers/{name}?force=true", expect=204)


@pytest.mark.parametrize("expect_continue", [False, True], ids=["plain", "expect-100-continue"])
def test_proxy_lab_inspects_a_body_of_exactly_the_limit_whole(expect_continue, lab_proxy, engine, world, before, sweep):
    """98304 bytes: a valid job passes; the same body with its LAST key weakened is refused by the
    rule for that key, so the checks saw the body to its end (compact JSON with sorted keys ends
    with "User")."""
    headers = {"Expect": "100-continue"} if expect_continue else {}
    job, body = world.job("backtest")
    text = padded_to(body, LIMIT)
    assert text.endswith('"User":"1000:1000"}')
    name = f"fta-job-{job}"
    call(lab_proxy, "POST", f"/containers/create?name={name}", text, expect=201, headers=headers)
    call(lab_proxy, "DELETE", f"/containers/{name}?force=1", expect=204)

    job, body = world.job("backtest")
    weak = padded_to(body, LIMIT).replace('"User":"1000:1000"}', '"User":"0:0000000"}')
    assert len(weak.encode()) == LIMIT
    denied_by(lab_proxy, build_request("POST", f"{API}/containers/create?name=fta-job-{job}", weak,
                                       headers=headers), "ctr.user")
    assert request(engine.url, "GET", f"{API}/containers/fta-job-{job}/json").status == 404
    unchanged(engine, world, before)


@pytest.mark.parametrize("size", [LIMIT + 1, 128 * 1024, 140 * 1024, 400 * 1024])
def test_proxy_lab_refuses_a_body_over_the_limit(size, lab_proxy, engine, world, before, sweep):
    """One byte over, the buffer's size, past the buffer: all body.toolarge, nothing created."""
    job, body = world.job("backtest")
    denied_by(lab_proxy, build_request("POST", f"{API}/containers/create?name=fta-job-{job}",
                                       padded_to(body, size)), "body.toolarge")
    assert request(engine.url, "GET", f"{API}/containers/fta-job-{job}/json").status == 404
    unchanged(engine, world, before)


def test_proxy_lab_lua_copes_with_a_limit_sized_body_of_escapes(lab_proxy, engine, world):
    """The worst case for the parser's memory (tune.lua.maxmem): a strategy that is almost all
    JSON escapes, the body at the limit. It passes (a failing check would deny it: body.check)."""
    job, body = world.job("download", strategy_kib=1)
    room = LIMIT - len(compact_json(body).encode()) - 64
    body["Env"].append("FTA_STRATEGY_SOURCE=" + '"\\\n\t' * (room // 8))  # 4 characters, 8 bytes in JSON
    text = compact_json(body)
    assert LIMIT - 100 < len(text.encode()) <= LIMIT, len(text.encode())
    name = f"fta-job-{job}"
    call(lab_proxy, "POST", f"/containers/create?name={name}", padded_to(json.loads(text), LIMIT), expect=201)
    call(lab_proxy, "DELETE", f"/containers/{name}?force=1", expect=204)


# --- what does not: job create bodies, one change each -------------------------------------------

def hc(**changes):
    def apply(body, w):
        body["HostConfig"].update(changes)
    return apply


def drop_hc(key):
    def apply(body, w):
        del body["HostConfig"][key]
    return apply


def top(**changes):
    def apply(body, w):
        body.update(changes)
    return apply


def label(key, value):
    def apply(body, w):
        if value is None:
            del body["Labels"][key]
        else:
            body["Labels"][key] = value
    return apply


def mount(**changes):
    def apply(body, w):
        body["HostConfig"]["Mounts"][0].update({k: v(w) if callable(v) else v for k, v in changes.items()})
    return apply


def mounts(value):
    def apply(body, w):
        body["HostConfig"]["Mounts"] = value(w)
    return apply


def network(mode, endpoints):
    def apply(body, w):
        body["HostConfig"]["NetworkMode"] = mode(w) if callable(mode) else mode
        if endpoints is None:
            body.pop("NetworkingConfig", None)
        else:
            body["NetworkingConfig"] = {"EndpointsConfig": endpoints(w)}
    return apply


def text(old, new):
    return ("text", old, new)


def data_mount(w, read_only=None):
    m = {"Source": w.data_vol, "Target": DATA_DIR, "Type": "volume"}
    if read_only is not None:
        m["ReadOnly"] = read_only
    return m


BOT_AT_DATA = lambda w: [{"ReadOnly": True, "Source": w.bot_vol, "Target": DATA_DIR, "Type": "volume"}]  # noqa: E731

# (case, kind, change, rule)
JOB_CASES = [
    # The data volume: read-only for a backtest, and only ever a data volume.
    ("backtest-writable", "backtest", mount(ReadOnly=False), "job.mounts"),
    ("backtest-readonly-absent", "backtest", lambda b, w: b["HostConfig"]["Mounts"][0].pop("ReadOnly"), "job.mounts"),
    ("backtest-readonly-string", "backtest", mount(ReadOnly="true"), "job.mounts"),
    ("backtest-readonly-dup", "backtest", text('"ReadOnly":true', '"ReadOnly":true,"readOnly":false'),
     "body.duplicate"),
    ("backtest-bot-volume", "backtest", mount(Source=lambda w: w.bot_vol), "job.mounts"),
    ("download-bot-volume", "download", mount(Source=lambda w: w.bot_vol), "job.mounts"),
    ("download-bot-volume-at-user-data", "download", mounts(lambda w: [
        {"Source": w.bot_vol, "Target": "/freqtrade/user_data", "Type": "volume"}]), "job.mounts"),
    ("download-data-and-bot-volume", "download", mounts(lambda w: [
        data_mount(w), {"Source": w.bot_vol, "Target": "/victim", "Type": "volume"}]), "job.mounts"),
    ("download-foreign-volume", "download", mount(Source=lambda w: f"evil{w.run_id}j"), "job.mounts"),
    ("download-data-elsewhere", "download", mount(Target="/freqtrade/user_data/data"), "job.mounts"),
    ("download-bind-root", "download", mounts(lambda w: [{"Source": "/", "Target": DATA_DIR, "Type": "bind"}]),
     "job.mounts"),
    ("download-volume-options", "download", mount(VolumeOptions={"DriverConfig": {"Name": "local", "Options": {
        "type": "none", "o": "bind", "device": "/"}}}), "ctr.mountopts"),
    ("download-no-mount", "download", mounts(lambda w: []), "job.mounts"),
    ("download-readonly-null", "download", text('"ReadOnly":false', '"ReadOnly":null'), "job.mounts"),
    ("validate-data-volume", "validate", mounts(lambda w: [data_mount(w, True)]), "job.mounts"),
    ("validate-bot-volume", "validate", mounts(BOT_AT_DATA), "job.mounts"),
    ("validate-binds", "validate", hc(Binds=["/:/host"]), "ctr.binds"),
    ("backtest-binds", "backtest", hc(Binds=["/var/run/docker.sock:/s"]), "ctr.binds"),
    ("backtest-volumes-from", "backtest", lambda b, w: b["HostConfig"].update(VolumesFrom=[w.bot_vol]), "ctr.volumes"),
    # Never restarted: {"Name":"no"} required.
    ("restart-on-failure", "backtest", hc(RestartPolicy={"Name": "on-failure", "MaximumRetryCount": 3}), "job.restart"),
    ("restart-missing", "backtest", drop_hc("RestartPolicy"), "job.restart"),
    ("restart-always", "validate", hc(RestartPolicy={"Name": "always"}), "job.restart"),
    ("restart-unless-stopped", "download", hc(RestartPolicy={"Name": "unless-stopped"}), "job.restart"),
    ("restart-no-with-count", "validate", hc(RestartPolicy={"Name": "no", "MaximumRetryCount": 0}), "job.restart"),
    ("restart-empty", "validate", hc(RestartPolicy={}), "job.restart"),
    ("restart-dup", "validate", text('"RestartPolicy":{"Name":"no"}',
                                     '"RestartPolicy":{"Name":"no"},"restartPolicy":{"Name":"always"}'),
     "body.duplicate"),
    ("healthcheck", "backtest", top(Healthcheck={"Test": ["CMD", "true"]}), "job.healthcheck"),
    # Privileges and host reach, as for bots.
    ("privileged", "backtest", hc(Privileged=True), "ctr.privileged"),
    ("privileged-lower", "validate", text('"HostConfig":{', '"HostConfig":{"privileged":true,'), "ctr.privileged"),
    ("capadd", "download", hc(CapAdd=["NET_ADMIN"]), "ctr.capadd"),
    ("port-bindings", "backtest", hc(PortBindings={"8080/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}),
     "ctr.ports"),
    ("publish-all", "download", hc(PublishAllPorts=True), "ctr.ports"),
    ("exposed-ports", "validate", top(ExposedPorts={"8080/tcp": {}}), "ctr.ports"),
    ("pid-host", "backtest", hc(PidMode="host"), "ctr.namespace"),
    ("devices", "download", hc(Devices=[{"PathOnHost": "/dev/mem", "PathInContainer": "/dev/mem",
                                         "CgroupPermissions": "rwm"}]), "ctr.devices"),
    # Networks: validate has none; download/backtest only the label's client's network.
    ("validate-client-network", "validate", network(lambda w: w.net, lambda w: {w.net: {}}), "job.networkmode"),
    ("validate-client-networkmode", "validate", network(lambda w: w.net, None), "job.networkmode"),
    ("validate-endpoint-only", "validate", network("none", lambda w: {w.net: {}}), "job.endpoints"),
    ("validate-bridge", "validate", network("bridge", None), "job.networkmode"),
    ("validate-host", "validate", network("host", None), "job.networkmode"),
    ("validate-networkmode-missing", "validate", drop_hc("NetworkMode"), "job.networkmode"),
    ("validate-container-ns", "validate", lambda b, w: b["HostConfig"].update(NetworkMode=f"container:{w.target}"),
     "job.networkmode"),
    ("backtest-host-network", "backtest", network("host", lambda w: {w.net: {}}), "job.networkmode"),
    ("download-host-network", "download", network("host", lambda w: {"host": {}}), "job.networkmode"),
    ("download-bridge", "download", network("bridge", lambda w: {"bridge": {}}), "job.networkmode"),
    ("download-network-none", "download", network("none", None), "job.networkmode"),
    ("backtest-other-client-network", "backtest", network(lambda w: w.other_net, lambda w: {w.other_net: {}}),
     "job.networkmode"),
    ("backtest-other-client-endpoint", "backtest", network(lambda w: w.net, lambda w: {w.other_net: {}}),
     "job.endpoints"),
    ("download-both-client-endpoints", "download", network(lambda w: w.net, lambda w: {w.net: {}, w.other_net: {}}),
     "job.endpoints"),
    ("download-endpoints-missing", "download", network(lambda w: w.net, None), "job.endpoints"),
    ("download-endpoint-ipam", "download", network(lambda w: w.net, lambda w: {w.net: {"IPAMConfig": {
        "IPv4Address": "169.254.169.254"}}}), "job.endpoints"),
    # Labels bind the job to its name and say its kind.
    ("label-job-of-another-name", "backtest", label("fta.job", "someotherjob"), "job.labels"),
    ("label-job-missing", "validate", label("fta.job", None), "job.labels"),
    ("label-kind-missing", "backtest", label("fta.kind", None), "job.labels"),
    ("label-client-missing", "download", label("fta.client", None), "job.labels"),
    ("label-client-bad", "download", label("fta.client", "Acme/../x"), "job.labels"),
    ("label-managed-false", "validate", label("fta.managed", "false"), "job.labels"),
    ("label-extra", "validate", label("com.example", "x"), "job.labels"),
    ("label-bot", "backtest", label("fta.bot", "b1"), "job.labels"),
    ("label-other-client", "download", label("fta.client", "someoneelse"), "job.networkmode"),
    ("kind-hyperopt", "backtest", label("fta.kind", "hyperopt"), "job.kind"),
    ("kind-trade", "download", label("fta.kind", "trade"), "job.kind"),
    ("kind-uppercase", "backtest", label("fta.kind", "Backtest"), "job.kind"),
    ("kind-empty", "validate", label("fta.kind", ""), "job.kind"),
    # The hardening, as for bots (a sample: the bots' full matrix runs the same code).
    ("user-root", "backtest", top(User="0:0"), "ctr.user"),
    ("user-missing", "validate", lambda b, w: b.pop("User"), "ctr.user"),
    ("readonly-root-false", "download", hc(ReadonlyRootfs=False), "ctr.readonlyrootfs"),
    ("capdrop-missing", "backtest", drop_hc("CapDrop"), "ctr.capdrop"),
    ("securityopt-unconfined", "validate", hc(SecurityOpt=["seccomp=unconfined"]), "ctr.securityopt"),
    ("init-missing", "backtest", drop_hc("Init"), "ctr.init"),
    ("memory-unlimited", "download", hc(Memory=0), "ctr.memory"),
    ("memory-too-large", "backtest", hc(Memory=2048 * MiB, MemorySwap=2048 * MiB), "ctr.memory"),
    ("memoryswap-above-memory", "backtest", hc(MemorySwap=512 * MiB), "ctr.memoryswap"),
    ("memoryswap-unlimited", "download", hc(MemorySwap=-1), "ctr.memoryswap"),
    ("memoryswap-missing", "validate", drop_hc("MemorySwap"), "ctr.memoryswap"),
    ("nanocpus-missing", "backtest", drop_hc("NanoCpus"), "ctr.nanocpus"),
    ("pidslimit-unlimited", "backtest", hc(PidsLimit=-1), "ctr.pidslimit"),
    ("tmpfs-exec", "download", hc(Tmpfs={"/tmp": "rw,nosuid,nodev,size=64m"}), "ctr.tmpfs"),
    ("tmpfs-on-data", "backtest", hc(Tmpfs={"/tmp": "rw,noexec,nosuid,nodev,size=64m",
                                            DATA_DIR: "rw,noexec,nosuid,nodev,size=1m"}), "ctr.tmpfs"),
    ("logconfig-syslog", "validate", lambda b, w: b["HostConfig"]["LogConfig"].update(Type="syslog"), "ctr.logconfig"),
    ("stop-timeout-hour", "backtest", top(StopTimeout=3600), "ctr.stoptimeout"),
    ("image-not-a-reference", "backtest", top(Image="../../x y"), "ctr.image"),
    ("top-level-memory", "backtest", top(Memory=0), "ctr.key"),
    ("unknown-key", "validate", hc(ShmSize=1), "ctr.key"),
    ("uescape", "backtest", text('"NetworkMode":"fta-client-', '"NetworkMode":"\\u0066ta-client-'), "body.uescape"),
    ("trailing-data", "download", text('"User":"1000:1000"}', '"User":"1000:1000"}{"HostConfig":{"Privileged":true}}'),
     "body.shape"),
]

assert len({c[0] for c in JOB_CASES}) == len(JOB_CASES)


def build_job_case(world: World, kind: str, change) -> tuple[bytes, str]:
    job, body = world.job(kind, strategy_kib=4)
    if isinstance(change, tuple):
        _, old, new = change
        payload = compact_json(body)
        assert old in payload, old
        payload = payload.replace(old, new, 1)
    else:
        change(body, world)
        payload = compact_json(body)
    return build_request("POST", f"{API}/containers/create?name=fta-job-{job}", payload), job


@pytest.mark.parametrize("case,kind,change,rule", JOB_CASES, ids=[c[0] for c in JOB_CASES])
def test_proxy_lab_refuses_a_job_body(case, kind, change, rule, lab_proxy, engine, world, before, sweep):
    raw, job = build_job_case(world, kind, change)
    denied_by(lab_proxy, raw, rule)
    assert request(engine.url, "GET", f"{API}/containers/fta-job-{job}/json").status == 404
    unchanged(engine, world, before)


def test_proxy_lab_refuses_a_bot_that_mounts_a_data_volume(lab_proxy, engine, world, before, sweep):
    """A bot's code must not reach the lab's shared cache: the data volume instead of its own, or
    beside it, is ctr.mounts."""
    for n, mounts_of in enumerate((
            lambda bot: [data_mount(world)],
            lambda bot: [{"Source": f"fta-bot-{bot}", "Target": "/freqtrade/user_data", "Type": "volume"},
                         data_mount(world, True)],
            lambda bot: [{"Source": world.data_vol, "Target": "/freqtrade/user_data", "Type": "volume"}])):
        bot = world.fresh()
        body = container_body(bot, world.client, world.image, env_kib=4)
        body["HostConfig"]["Mounts"] = mounts_of(bot)
        denied_by(lab_proxy, build_request("POST", f"{API}/containers/create?name=fta-bot-{bot}",
                                           compact_json(body)), "ctr.mounts")
        assert request(engine.url, "GET", f"{API}/containers/fta-bot-{bot}/json").status == 404, n
        unchanged(engine, world, before)


def test_proxy_lab_binds_the_body_to_the_route(lab_proxy, engine, world, before, sweep):
    """A bot's body on the job route, and a job's body on the bot route, are refused: the name
    decides which rules apply, and the body's labels must match that name."""
    job = world.fresh()
    bot_body = container_body(job, world.client, world.image, env_kib=4)
    denied_by(lab_proxy, build_request("POST", f"{API}/containers/create?name=fta-job-{job}",
                                       compact_json(bot_body)), "job.healthcheck")
    del bot_body["Healthcheck"]
    bot_body["HostConfig"]["RestartPolicy"] = {"Name": "no"}
    denied_by(lab_proxy, build_request("POST", f"{API}/containers/create?name=fta-job-{job}",
                                       compact_json(bot_body)), "job.labels")
    assert request(engine.url, "GET", f"{API}/containers/fta-job-{job}/json").status == 404
    bot = world.fresh()
    job_as_bot = job_body(bot, world.client, "download", world.image, world.data_key, strategy_kib=4)
    denied_by(lab_proxy, build_request("POST", f"{API}/containers/create?name=fta-bot-{bot}",
                                       compact_json(job_as_bot)), "ctr.labels")
    assert request(engine.url, "GET", f"{API}/containers/fta-bot-{bot}/json").status == 404
    unchanged(engine, world, before)


# --- what does not: data volume creates ----------------------------------------------------------

VOLUME_CASES = [
    ("labels-with-client", lambda b, w: b["Labels"].update({"fta.client": w.client}), "vol.labels"),
    ("labels-with-bot", lambda b, w: b["Labels"].update({"fta.bot": w.bot}), "vol.labels"),
    ("labels-other-key", lambda b, w: b["Labels"].update({"fta.data": "binance-1h"}), "vol.labels"),
    ("labels-managed-missing", lambda b, w: b["Labels"].pop("fta.managed"), "vol.labels"),
    ("labels-missing", lambda b, w: b.pop("Labels"), "vol.labels"),
    ("labels-of-a-bot-volume", lambda b, w: b.update(Labels={"fta.bot": b["Name"][9:], "fta.client": w.client,
                                                             "fta.managed": "true"}), "vol.labels"),
    ("driver-foreign", lambda b, w: b.update(Driver="evil"), "vol.driver"),
    ("driver-missing", lambda b, w: b.pop("Driver"), "vol.driver"),
    ("driveropts-bind", lambda b, w: b.update(DriverOpts={"type": "none", "o": "bind", "device": "/"}),
     "vol.driveropts"),
    ("driveropts-size-and-device", lambda b, w: b.update(DriverOpts={"size": "256m", "device": "/"}), "vol.driveropts"),
    ("size-too-large", lambda b, w: b.update(DriverOpts={"size": "8193m"}), "vol.size"),
    ("size-gigabytes", lambda b, w: b.update(DriverOpts={"size": "2g"}), "vol.size"),
    ("name-uppercase", lambda b, w: b.update(Name="fta-data-Binance-5m"), "vol.name"),
    ("name-empty-key", lambda b, w: b.update(Name="fta-data-"), "vol.name"),
    ("name-slash", lambda b, w: b.update(Name="fta-data-x/../../etc"), "vol.name"),
    ("name-too-long", lambda b, w: b.update(Name="fta-data-" + "a" * 32), "vol.name"),
    ("cluster-spec", lambda b, w: b.update(ClusterVolumeSpec={"Group": "x"}), "vol.driveropts"),
]


@pytest.mark.parametrize("case,change,rule", VOLUME_CASES, ids=[c[0] for c in VOLUME_CASES])
def test_proxy_lab_refuses_a_data_volume_body(case, change, rule, lab_proxy, engine, world, before, sweep):
    key = f"{world.fresh()}-5m"
    body = data_volume_body(key)
    change(body, world)
    denied_by(lab_proxy, build_request("POST", f"{API}/volumes/create", compact_json(body)), rule)
    assert request(engine.url, "GET", f"{API}/volumes/fta-data-{key}").status == 404
    unchanged(engine, world, before)


def test_proxy_lab_refuses_a_bot_volume_with_data_labels(lab_proxy, engine, world, before, sweep):
    bot = world.fresh()
    body = dict(volume_body(bot, world.client), Labels={"fta.data": bot, "fta.managed": "true"})
    denied_by(lab_proxy, build_request("POST", f"{API}/volumes/create", compact_json(body)), "vol.labels")
    assert request(engine.url, "GET", f"{API}/volumes/fta-bot-{bot}").status == 404
    unchanged(engine, world, before)


# --- what does not: calls jobs do not get, and names that are not fta's -------------------------

def R(method, target, body=None, **kw):
    if body is not None and not isinstance(body, (bytes, str)):
        body = compact_json(body)
    return build_request(method, target, body, **kw)


# (case, request builder, rule); w.target is a running job, w.data_vol the data volume.
ROUTE_CASES = [
    ("exec", lambda w: R("POST", f"{API}/containers/{w.target}/exec", {"Cmd": ["id"], "AttachStdout": True}),
     "api.exec"),
    ("exec-noprefix", lambda w: R("POST", f"/containers/{w.target}/exec", {"Cmd": ["id"]}), "api.exec"),
    ("attach", lambda w: R("POST", f"{API}/containers/{w.target}/attach?stream=1&stdout=1"), "api.attach"),
    ("attach-ws", lambda w: R("GET", f"{API}/containers/{w.target}/attach/ws?stream=1"), "api.attach"),
    ("archive-get", lambda w: R("GET", f"{API}/containers/{w.target}/archive?path=/tmp"), "api.archive"),
    ("archive-put", lambda w: R("PUT", f"{API}/containers/{w.target}/archive?path=/tmp", b"\0" * 512,
                                content_type="application/x-tar"), "method"),
    ("archive-head", lambda w: R("HEAD", f"{API}/containers/{w.target}/archive?path=/tmp"), "api.archive"),
    ("export", lambda w: R("GET", f"{API}/containers/{w.target}/export"), "api.export"),
    ("kill", lambda w: R("POST", f"{API}/containers/{w.target}/kill?signal=KILL"), "api.modify"),
    ("kill-noquery", lambda w: R("POST", f"{API}/containers/{w.target}/kill"), "api.modify"),
    ("update", lambda w: R("POST", f"{API}/containers/{w.target}/update", {"Memory": 0}), "api.modify"),
    ("pause", lambda w: R("POST", f"{API}/containers/{w.target}/pause"), "api.modify"),
    ("rename", lambda w: R("POST", f"{API}/containers/{w.target}/rename?name=fta-bot-{w.run_id}jx"), "api.modify"),
    ("top", lambda w: R("GET", f"{API}/containers/{w.target}/top"), "api.modify"),
    ("restart", lambda w: R("POST", f"{API}/containers/{w.target}/restart?t=1"), "scope.job"),
    ("restart-noquery", lambda w: R("POST", f"{API}/containers/{w.target}/restart"), "scope.job"),
    ("stats", lambda w: R("GET", f"{API}/containers/{w.target}/stats?stream=false"), "scope.job"),
    ("stats-one-shot", lambda w: R("GET", f"{API}/containers/{w.target}/stats?stream=false&one-shot=true"),
     "scope.job"),
    ("stats-noquery", lambda w: R("GET", f"{API}/containers/{w.target}/stats"), "scope.job"),
    ("start-with-body", lambda w: R("POST", f"{API}/containers/{w.target}/start", {"Privileged": True}),
     "body.unexpected"),
    ("logs-follow", lambda w: R("GET", f"{API}/containers/{w.target}/logs?follow=1&stdout=1"), "route.query"),
    ("inspect-size", lambda w: R("GET", f"{API}/containers/{w.target}/json?size=1"), "route.query"),
    ("stop-long", lambda w: R("POST", f"{API}/containers/{w.target}/stop?t=3600"), "route.query"),
    ("delete-link", lambda w: R("DELETE", f"{API}/containers/{w.target}?link=1"), "route.query"),
    ("uppercase-name", lambda w: R("POST", f"{API}/containers/FTA-JOB-{w.run_id}JT/stop"), "scope.container"),
    ("old-version-start", lambda w: R("POST", f"/v1.23/containers/{w.target}/start"), "api.version"),
    # Job names: the id grammar [a-z0-9][a-z0-9-]{0,30}, nothing else.
    ("name-uppercase", lambda w: R("POST", f"{API}/containers/create?name=fta-job-J{w.fresh()}",
                                   job_body("x", w.client, "validate", w.image, strategy_kib=1)), "route.query"),
    ("name-underscore", lambda w: R("POST", f"{API}/containers/create?name=fta-job-a_{w.fresh()}",
                                    job_body("x", w.client, "validate", w.image, strategy_kib=1)), "route.query"),
    ("name-dot", lambda w: R("POST", f"{API}/containers/create?name=fta-job-.{w.fresh()}",
                             job_body("x", w.client, "validate", w.image, strategy_kib=1)), "route.query"),
    ("name-leading-dash", lambda w: R("POST", f"{API}/containers/create?name=fta-job--{w.fresh()}",
                                      job_body("x", w.client, "validate", w.image, strategy_kib=1)), "route.query"),
    ("name-empty", lambda w: R("POST", f"{API}/containers/create?name=fta-job-",
                               job_body("x", w.client, "validate", w.image, strategy_kib=1)), "route.query"),
    ("name-too-long", lambda w: R("POST", f"{API}/containers/create?name=fta-job-{w.run_id}{'a' * 30}",
                                  job_body("x", w.client, "validate", w.image, strategy_kib=1)), "route.query"),
    ("name-semicolon", lambda w: R("POST", f"{API}/containers/create?name=fta-job-{w.fresh()};x",
                                   job_body("x", w.client, "validate", w.image, strategy_kib=1)), "query.chars"),
    ("name-encoded", lambda w: R("POST", f"{API}/containers/create?name=fta-job-%41{w.fresh()}",
                                 job_body("x", w.client, "validate", w.image, strategy_kib=1)), "route.query"),
    ("name-second-param", lambda w: R("POST", f"{API}/containers/create?name=fta-job-{w.fresh()}&name=evil{w.run_id}",
                                      job_body("x", w.client, "validate", w.image, strategy_kib=1)), "route.query"),
    ("name-platform-param", lambda w: R("POST", f"{API}/containers/create?name=fta-job-{w.fresh()}&platform=linux",
                                        job_body("x", w.client, "validate", w.image, strategy_kib=1)), "route.query"),
    ("name-path-traversal", lambda w: R("GET", f"{API}/containers/fta-job-{w.run_id}jt/../{w.bot_vol}/json"),
     "path.dotdot"),
    ("name-job-prefix-typo", lambda w: R("GET", f"{API}/containers/fta-jobs-{w.run_id}jt/json"), "scope.container"),
    # Data volumes: inspect and delete by an exact name, no query.
    ("data-delete-force", lambda w: R("DELETE", f"{API}/volumes/{w.data_vol}?force=1"), "route.query"),
    ("data-uppercase", lambda w: R("GET", f"{API}/volumes/fta-data-X{w.run_id}"), "scope.volume"),
    ("data-empty-key", lambda w: R("DELETE", f"{API}/volumes/fta-data-"), "scope.volume"),
    ("data-post", lambda w: R("POST", f"{API}/volumes/{w.data_vol}"), "route.none"),
]

assert len({c[0] for c in ROUTE_CASES}) == len(ROUTE_CASES)


@pytest.mark.parametrize("case,build,rule", ROUTE_CASES, ids=[c[0] for c in ROUTE_CASES])
def test_proxy_lab_refuses_a_call(case, build, rule, lab_proxy, engine, world, before, sweep):
    raw = build(world)
    denied_by(lab_proxy, raw, rule, head_only=raw.startswith(b"HEAD "))
    unchanged(engine, world, before)


def test_proxy_lab_left_the_job_target_running(engine, world, before):
    """After every attempt above, the running job was never exec'd, killed, restarted or paused."""
    assert target_state(engine, world) == before[1]
    assert engine.get(f"/containers/{world.target}/json")["State"]["Running"] is True
