"""A compromised portal asks for less than fta's hardened bot, or for another bot's or client's
objects, through the real proxy to the real engine; each request is refused and changes nothing.

Issue 15, class 5. The proxy must REQUIRE fta's whole hardened shape (docs/contracts.md), only
the bot's own volume (fta-bot-<bot> where ?name=fta-bot-<bot>) and only its client's network
(fta-client-<client> where the body's fta.client label is <client>), and must not let a network
create break an existing client's starts. Each case is fta's exact body with ONE change, so the
rule the proxy names in its log is the rule under test. Every case checks: 403 with the proxy's
own body, the named rule in the proxy's log line for that request, the object not created, and
the victim client's container, volume and network (and the attacker client's network) unchanged.

The positive side: fta's own bodies, pretty-printed, with keys in another order, and with tabs
and CRLFs between tokens, still pass (whitespace and key order are not an attack).
"""

from __future__ import annotations

import copy
import json
import random
import threading
import time

import pytest

from fta_proxy_support import (API, compact_json, container_body, network_body, request, send_raw,
                               build_request, unavailable, volume_body)

DENIED = {"message": "denied by fta socket proxy"}
MiB = 1 << 20


# --- the world: a victim client with a running bot, and the attacker's own client network -----

class World:
    def __init__(self, run_id: str, image: str):
        self.run_id, self.image, self.counter = run_id, image, 0
        self.victim_client, self.victim_bot = f"{run_id}v", f"{run_id}vb"
        self.attacker_client = f"{run_id}k"

    @property
    def victim_net(self):
        return f"fta-client-{self.victim_client}"

    @property
    def victim_vol(self):
        return f"fta-bot-{self.victim_bot}"

    @property
    def attacker_net(self):
        return f"fta-client-{self.attacker_client}"

    def fresh(self) -> str:
        """A bot id never used before: a forwarded create would really create something."""
        self.counter += 1
        return f"{self.run_id}h{self.counter}"


@pytest.fixture(scope="module")
def world(engine, image, run_id) -> World:
    w = World(run_id, image)
    # Created directly on the engine, exactly as fta creates them.
    engine.call("POST", "/networks/create", network_body(w.victim_client))
    engine.call("POST", "/networks/create", network_body(w.attacker_client))
    engine.call("POST", "/volumes/create", volume_body(w.victim_bot, w.victim_client))
    engine.call("POST", f"/containers/create?name={w.victim_vol}",
                container_body(w.victim_bot, w.victim_client, image, env_kib=4))
    engine.call("POST", f"/containers/{w.victim_vol}/start")
    yield w
    # Everything of this run, also what an attack that got through made (by id: two networks of
    # one name cannot be removed by that name).
    mine = (f"fta-bot-{run_id}h", w.victim_vol)
    for c in engine.get("/containers/json?all=1"):
        if c["Names"][0].lstrip("/").startswith(mine):
            engine.remove_container(c["Id"])
    for v in engine.get("/volumes").get("Volumes") or []:
        if v["Name"].startswith(mine):
            engine.remove_volume(v["Name"])
    for n in engine.get("/networks"):
        if n["Name"] in (w.victim_net, w.attacker_net):
            engine.remove_network(n["Id"])


def networks_named(engine, name: str) -> list:
    return sorted((n["Id"], n["Internal"], tuple(sorted((n.get("Options") or {}).items())),
                   tuple(sorted((n.get("Labels") or {}).items())))
                  for n in engine.get("/networks") if n["Name"] == name)


def victim_state(engine, w: World) -> dict:
    """What a forwarded attack on the victim (or a shadowing network) would change."""
    ctr = engine.get(f"/containers/{w.victim_vol}/json")
    vol = engine.get(f"/volumes/{w.victim_vol}")
    return {
        "container": (ctr["Id"], ctr["State"]["Status"], ctr["State"]["StartedAt"], ctr["RestartCount"],
                      [(m["Type"], m.get("Name")) for m in ctr["Mounts"]], sorted(ctr["NetworkSettings"]["Networks"])),
        "volume": (vol["Name"], vol["CreatedAt"], sorted(vol["Labels"].items())),
        "networks": [networks_named(engine, w.victim_net), networks_named(engine, w.attacker_net)],
    }


@pytest.fixture(scope="module")
def victim_before(engine, world) -> dict:
    return victim_state(engine, world)


# --- the proxy's log ---------------------------------------------------------------------------

def log_lines_since(proxy_log, offset: int, wanted, timeout: float = 3.0) -> list[str]:
    """New lines of the proxy log that satisfy `wanted` (HAProxy writes a line as the request ends)."""
    deadline = time.time() + timeout
    while True:
        with proxy_log.open("rb") as log:
            log.seek(offset)
            lines = [ln for ln in log.read().decode("utf-8", "replace").splitlines() if wanted(ln)]
        if lines or time.time() > deadline:
            return lines
        time.sleep(0.05)


def denied_by(proxy_url, proxy_log, raw: bytes, rule: str, uri: str):
    """Send `raw`; it must get the proxy's 403, logged for `uri` with deny=`rule`."""
    offset = proxy_log.stat().st_size if proxy_log else 0
    resp = send_raw(proxy_url, raw, timeout=20)
    assert resp.status == 403, f"expected 403 ({rule}), got {resp.status} {resp.body[:300]!r}"
    assert json.loads(resp.body) == DENIED
    if proxy_log is None:
        unavailable("the proxy under test is not the one scripts/lib/proxy.sh runs: no log to read the rule from")
    lines = log_lines_since(proxy_log, offset, lambda ln: f'uri="{uri}"' in ln and " status=403 " in ln)
    assert lines, f"no 403 logged for {uri}"
    assert any(f" deny={rule} " in ln for ln in lines), f"expected deny={rule}: {lines}"


# --- container creates: fta's exact body, one change each ---------------------------------------

def hc(body):
    return body["HostConfig"]


def drop(*path):
    def apply(body):
        obj = body
        for key in path[:-1]:
            obj = obj[key]
        del obj[path[-1]]
    return apply


def put(value, *path):
    def apply(body):
        obj = body
        for key in path[:-1]:
            obj = obj[key]
        obj[path[-1]] = value
    return apply


def text(old, new):
    """A change only text can make: a duplicate key (a dict cannot hold one)."""
    return ("text", old, new)


# Each hardening field removed, then weakened, one at a time: (case, change, rule).
HARDENING = [
    ("user-missing", drop("User"), "ctr.user"),
    ("user-root", put("0:0", "User"), "ctr.user"),
    ("user-uid-only", put("1000", "User"), "ctr.user"),
    ("user-gid-root", put("1000:0", "User"), "ctr.user"),
    ("user-name", put("freqtrade", "User"), "ctr.user"),
    ("readonly-root-missing", drop("HostConfig", "ReadonlyRootfs"), "ctr.readonlyrootfs"),
    ("readonly-root-false", put(False, "HostConfig", "ReadonlyRootfs"), "ctr.readonlyrootfs"),
    ("readonly-root-null", put(None, "HostConfig", "ReadonlyRootfs"), "ctr.readonlyrootfs"),
    ("readonly-root-string", put("true", "HostConfig", "ReadonlyRootfs"), "ctr.readonlyrootfs"),
    ("capdrop-missing", drop("HostConfig", "CapDrop"), "ctr.capdrop"),
    ("capdrop-empty", put([], "HostConfig", "CapDrop"), "ctr.capdrop"),
    ("capdrop-some", put(["NET_RAW", "SYS_ADMIN"], "HostConfig", "CapDrop"), "ctr.capdrop"),
    ("capdrop-lowercase", put(["all"], "HostConfig", "CapDrop"), "ctr.capdrop"),
    ("securityopt-missing", drop("HostConfig", "SecurityOpt"), "ctr.securityopt"),
    ("securityopt-empty", put([], "HostConfig", "SecurityOpt"), "ctr.securityopt"),
    ("securityopt-nnp-false", put(["no-new-privileges:false"], "HostConfig", "SecurityOpt"), "ctr.securityopt"),
    ("securityopt-nnp-twice", put(["no-new-privileges:true", "no-new-privileges:false"], "HostConfig", "SecurityOpt"),
     "ctr.securityopt"),
    ("memory-missing", drop("HostConfig", "Memory"), "ctr.memory"),
    ("memory-unlimited", put(0, "HostConfig", "Memory"), "ctr.memory"),
    ("memory-negative", put(-1, "HostConfig", "Memory"), "ctr.memory"),
    ("memory-too-large", put(8 << 30, "HostConfig", "Memory"), "ctr.memory"),
    ("memory-float", put(268435456.0, "HostConfig", "Memory"), "ctr.memory"),
    ("memory-string", put("256m", "HostConfig", "Memory"), "ctr.memory"),
    ("memoryswap-missing", drop("HostConfig", "MemorySwap"), "ctr.memoryswap"),
    ("memoryswap-unlimited", put(-1, "HostConfig", "MemorySwap"), "ctr.memoryswap"),
    ("memoryswap-default", put(0, "HostConfig", "MemorySwap"), "ctr.memoryswap"),
    ("memoryswap-below-memory", put(128 * MiB, "HostConfig", "MemorySwap"), "ctr.memoryswap"),
    ("memoryswap-too-large", put(16 << 30, "HostConfig", "MemorySwap"), "ctr.memoryswap"),
    ("nanocpus-missing", drop("HostConfig", "NanoCpus"), "ctr.nanocpus"),
    ("nanocpus-unlimited", put(0, "HostConfig", "NanoCpus"), "ctr.nanocpus"),
    ("nanocpus-too-many", put(2_000_000_000, "HostConfig", "NanoCpus"), "ctr.nanocpus"),
    ("pidslimit-missing", drop("HostConfig", "PidsLimit"), "ctr.pidslimit"),
    ("pidslimit-unlimited", put(-1, "HostConfig", "PidsLimit"), "ctr.pidslimit"),
    ("pidslimit-zero", put(0, "HostConfig", "PidsLimit"), "ctr.pidslimit"),
    ("pidslimit-too-large", put(100000, "HostConfig", "PidsLimit"), "ctr.pidslimit"),
    ("init-missing", drop("HostConfig", "Init"), "ctr.init"),
    ("init-false", put(False, "HostConfig", "Init"), "ctr.init"),
    ("tmpfs-missing", drop("HostConfig", "Tmpfs"), "ctr.tmpfs"),
    ("tmpfs-exec", put({"/tmp": "rw,nosuid,nodev,size=64m"}, "HostConfig", "Tmpfs"), "ctr.tmpfs"),
    ("tmpfs-exec-option", put({"/tmp": "rw,exec,nosuid,nodev,size=64m"}, "HostConfig", "Tmpfs"), "ctr.tmpfs"),
    ("tmpfs-suid", put({"/tmp": "rw,noexec,nodev,size=64m"}, "HostConfig", "Tmpfs"), "ctr.tmpfs"),
    ("tmpfs-unbounded", put({"/tmp": "rw,noexec,nosuid,nodev"}, "HostConfig", "Tmpfs"), "ctr.tmpfs"),
    ("tmpfs-too-large", put({"/tmp": "rw,noexec,nosuid,nodev,size=8g"}, "HostConfig", "Tmpfs"), "ctr.tmpfs"),
    ("tmpfs-second", put({"/tmp": "rw,noexec,nosuid,nodev,size=64m", "/run": "rw,size=1m,noexec,nosuid,nodev"},
                         "HostConfig", "Tmpfs"), "ctr.tmpfs"),
    ("logconfig-missing", drop("HostConfig", "LogConfig"), "ctr.logconfig"),
    ("logconfig-syslog", put("syslog", "HostConfig", "LogConfig", "Type"), "ctr.logconfig"),
    ("logconfig-none", put("none", "HostConfig", "LogConfig", "Type"), "ctr.logconfig"),
    ("logconfig-unbounded", drop("HostConfig", "LogConfig", "Config"), "ctr.logconfig"),
    ("logconfig-no-max-size", drop("HostConfig", "LogConfig", "Config", "max-size"), "ctr.logconfig"),
    ("logconfig-huge-file", put("10g", "HostConfig", "LogConfig", "Config", "max-size"), "ctr.logconfig"),
    ("logconfig-many-files", put("1000", "HostConfig", "LogConfig", "Config", "max-file"), "ctr.logconfig"),
    ("restart-always", put({"Name": "always"}, "HostConfig", "RestartPolicy"), "ctr.restart"),
    ("restart-forever-on-failure", put({"Name": "on-failure", "MaximumRetryCount": 0}, "HostConfig", "RestartPolicy"),
     "ctr.restart"),
    ("port-bindings", put({"8080/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}, "HostConfig", "PortBindings"),
     "ctr.ports"),
    ("publish-all", put(True, "HostConfig", "PublishAllPorts"), "ctr.ports"),
    ("hostconfig-missing", drop("HostConfig"), "ctr.hostconfig"),
    ("stop-timeout-hour", put(3600, "StopTimeout"), "ctr.stoptimeout"),
    ("label-managed-missing", drop("Labels", "fta.managed"), "ctr.labels"),
    ("label-managed-false", put("false", "Labels", "fta.managed"), "ctr.labels"),
    ("label-extra", put("x", "Labels", "com.example.extra"), "ctr.labels"),
    # Duplicate keys: Go keeps the last one, case-insensitively, so a later weaker value would win.
    ("dup-readonly-root", text('"ReadonlyRootfs":true', '"ReadonlyRootfs":true,"ReadonlyRootfs":false'), "body.duplicate"),
    ("dup-memory-lowercase", text('"Memory":', '"memory":0,"Memory":'), "body.duplicate"),
    ("dup-user-after", text('"User":"1000:1000"', '"User":"1000:1000","USER":"0"'), "body.duplicate"),
    ("dup-capdrop", text('"CapDrop":["ALL"]', '"CapDrop":["ALL"],"capdrop":[]'), "body.duplicate"),
    ("dup-hostconfig", text('"Image":', '"hostconfig":{"Privileged":true},"Image":'), "body.duplicate"),
    # HostConfig fields at the top level: the engine's legacy embedded HostConfig reads them.
    ("top-level-memory", put(0, "Memory"), "ctr.key"),
    ("top-level-readonly-root", put(False, "ReadonlyRootfs"), "ctr.key"),
]

# How the body is read: what Go would read differently, or not at all, is refused.
PARSER = [
    ("trailing-comma", text('"Init":true,', '"Init":true,,'), "body.json"),
    ("leading-zero", text('"PidsLimit":256', '"PidsLimit":0256'), "body.json"),
    ("exponent", text('"PidsLimit":256', '"PidsLimit":2.56e2'), "ctr.pidslimit"),
    ("raw-tab-in-string", text('"HOME=/tmp"', '"HOME=\t/tmp"'), "body.control"),
    ("escaped-slash-in-network", text('"NetworkMode":"fta-client-', '"NetworkMode":"fta-client-x\\/'), "ctr.networkmode"),
    ("nested-too-deep", text('"Cmd":[', '"Cmd":[' + "[" * 20 + "]" * 20 + ","), "body.json"),
    ("truncated", text('"User":"1000:1000"}', '"User":"1000:1000"'), "body.json"),
    ("two-objects", text('"User":"1000:1000"}', '"User":"1000:1000"}{}'), "body.shape"),
]

# Another bot's volume, another client's network, labels that do not match the request.
FOREIGN = [
    ("volume-of-another-bot", lambda w, b: put([{"Source": w.victim_vol, "Target": "/freqtrade/user_data", "Type": "volume"}],
                                                "HostConfig", "Mounts"), "ctr.mounts"),
    ("volume-own-and-another", lambda w, b: put([
        {"Source": f"fta-bot-{b}", "Target": "/freqtrade/user_data", "Type": "volume"},
        {"Source": w.victim_vol, "Target": "/victim", "Type": "volume"}], "HostConfig", "Mounts"), "ctr.mounts"),
    ("volume-none", lambda w, b: put([], "HostConfig", "Mounts"), "ctr.mounts"),
    ("volume-own-elsewhere", lambda w, b: put("/tmp/data", "HostConfig", "Mounts", 0, "Target"), "ctr.mounts"),
    ("volume-another-bot-binds", lambda w, b: put([f"{w.victim_vol}:/victim"], "HostConfig", "Binds"), "ctr.binds"),
    ("volumes-from-another-bot", lambda w, b: put([w.victim_vol], "HostConfig", "VolumesFrom"), "ctr.volumes"),
    ("network-of-another-client", lambda w, b: lambda body: (
        put(w.victim_net, "HostConfig", "NetworkMode")(body),
        put({w.victim_net: {}}, "NetworkingConfig", "EndpointsConfig")(body)), "ctr.networkmode"),
    ("networkmode-of-another-client", lambda w, b: put(w.victim_net, "HostConfig", "NetworkMode"), "ctr.networkmode"),
    ("endpoint-of-another-client", lambda w, b: put({w.victim_net: {}}, "NetworkingConfig", "EndpointsConfig"),
     "ctr.endpoints"),
    ("endpoints-both-clients", lambda w, b: put({w.attacker_net: {}, w.victim_net: {}}, "NetworkingConfig",
                                                "EndpointsConfig"), "ctr.endpoints"),
    ("endpoints-missing", lambda w, b: drop("NetworkingConfig"), "ctr.endpoints"),
    ("label-bot-of-another-bot", lambda w, b: put(w.victim_bot, "Labels", "fta.bot"), "ctr.labels"),
    ("label-client-of-another-client", lambda w, b: put(w.victim_client, "Labels", "fta.client"), "ctr.networkmode"),
    ("label-client-missing", lambda w, b: drop("Labels", "fta.client"), "ctr.labels"),
]


def attacker_body(w: World, bot: str) -> dict:
    """fta's exact body for a new bot of the attacker's own client."""
    return container_body(bot, w.attacker_client, w.image, env_kib=4)


def container_create(w: World, change) -> tuple[bytes, str, str]:
    bot = w.fresh()
    body = attacker_body(w, bot)
    if isinstance(change, tuple):
        _, old, new = change
        payload = compact_json(body)
        assert old in payload, old
        payload = payload.replace(old, new, 1)
    else:
        change(body)
        payload = compact_json(body)
    uri = f"{API}/containers/create?name=fta-bot-{bot}"
    return build_request("POST", uri, payload), uri, bot


def assert_nothing_created(engine, w: World, bot: str, victim_before: dict):
    assert request(engine.url, "GET", f"{API}/containers/fta-bot-{bot}/json").status == 404
    assert victim_state(engine, w) == victim_before


@pytest.mark.parametrize("case,change,rule", HARDENING + PARSER, ids=[c[0] for c in HARDENING + PARSER])
def test_proxy_requires_every_hardening_field(case, change, rule, proxy_url, proxy_log, engine, world, victim_before):
    raw, uri, bot = container_create(world, change)
    denied_by(proxy_url, proxy_log, raw, rule, uri)
    assert_nothing_created(engine, world, bot, victim_before)


@pytest.mark.parametrize("case,change,rule", FOREIGN, ids=[c[0] for c in FOREIGN])
def test_proxy_allows_only_the_bots_own_volume_and_its_clients_network(case, change, rule, proxy_url, proxy_log,
                                                                       engine, world, victim_before):
    bot = world.fresh()
    body = attacker_body(world, bot)
    change(world, bot)(body)
    uri = f"{API}/containers/create?name=fta-bot-{bot}"
    denied_by(proxy_url, proxy_log, build_request("POST", uri, compact_json(body)), rule, uri)
    assert_nothing_created(engine, world, bot, victim_before)


def test_proxy_refuses_a_container_named_for_another_bot_than_its_volume(proxy_url, proxy_log, engine, world,
                                                                           victim_before):
    """The body is the victim bot's own, but the request names a new container: its volume is not
    that container's."""
    bot = world.fresh()
    uri = f"{API}/containers/create?name=fta-bot-{bot}"
    body = container_body(world.victim_bot, world.victim_client, world.image, env_kib=4)
    denied_by(proxy_url, proxy_log, build_request("POST", uri, compact_json(body)), "ctr.labels", uri)
    assert_nothing_created(engine, world, bot, victim_before)


# --- network and volume creates that would break or take over an existing client's objects ------

def weaken_network(w: World, change):
    body = network_body(w.victim_client)
    if isinstance(change, tuple):
        _, old, new = change
        payload = compact_json(body)
        assert old in payload, old
        return payload.replace(old, new, 1)
    change(body)
    return compact_json(body)


NETWORK_CASES = [
    # A second network of the victim's name makes it ambiguous: every start of its bots fails.
    ("duplicate-name-unchecked", put(False, "CheckDuplicate"), "net.checkduplicate"),
    ("duplicate-name-check-missing", drop("CheckDuplicate"), "net.checkduplicate"),
    ("duplicate-name-check-overridden", text('"CheckDuplicate":true', '"CheckDuplicate":true,"checkDuplicate":false'),
     "body.duplicate"),
    # Options that break the client's bots, or labels that give its network to someone else.
    ("internal", put(True, "Internal"), "net.internal"),
    ("labels-of-another-client", lambda b: b["Labels"].update({"fta.client": "someoneelse"}), "net.labels"),
    ("labels-unmanaged", drop("Labels", "fta.managed"), "net.labels"),
    ("mtu", put({"com.docker.network.bridge.enable_icc": "false", "com.docker.network.driver.mtu": "68"}, "Options"),
     "net.options"),
    ("icc-missing", put({}, "Options"), "net.options"),
    ("subnet", put({"Config": [{"Subnet": "172.31.0.0/16"}]}, "IPAM"), "net.ipam"),
]


@pytest.mark.parametrize("case,change,rule", NETWORK_CASES, ids=[c[0] for c in NETWORK_CASES])
def test_proxy_refuses_a_network_create_that_breaks_an_existing_client(case, change, rule, proxy_url, proxy_log,
                                                                        engine, world, victim_before):
    uri = f"{API}/networks/create"
    denied_by(proxy_url, proxy_log, build_request("POST", uri, weaken_network(world, change)), rule, uri)
    assert victim_state(engine, world) == victim_before
    assert len(networks_named(engine, world.victim_net)) == 1


VOLUME_CASES = [
    ("labels-of-another-bot", lambda w: put(w.victim_bot, "Labels", "fta.bot"), "vol.labels"),
    ("labels-unmanaged", lambda w: drop("Labels", "fta.managed"), "vol.labels"),
    ("driver-missing", lambda w: drop("Driver"), "vol.driver"),
]


@pytest.mark.parametrize("case,change,rule", VOLUME_CASES, ids=[c[0] for c in VOLUME_CASES])
def test_proxy_refuses_a_volume_whose_labels_or_driver_are_not_ftas(case, change, rule, proxy_url, proxy_log, engine,
                                                                     world, victim_before):
    bot = world.fresh()
    body = volume_body(bot, world.attacker_client)
    change(world)(body)
    uri = f"{API}/volumes/create"
    denied_by(proxy_url, proxy_log, build_request("POST", uri, compact_json(body)), rule, uri)
    assert request(engine.url, "GET", f"{API}/volumes/fta-bot-{bot}").status == 404
    assert victim_state(engine, world) == victim_before


def test_proxy_lets_only_one_of_concurrent_network_creates_through(proxy_url, engine, world, cleanup):
    """fta's exact network body, sent 8 times at once: the engine's name check is not atomic (all
    8 would pass it and make 8 networks of one name); the proxy queues network creates, so one is
    created and the other 7 get the engine's 409."""
    client = f"{world.run_id}r"
    cleanup.networks.append(f"fta-client-{client}")
    raw = build_request("POST", f"{API}/networks/create", compact_json(network_body(client)))
    start, statuses = threading.Barrier(8), []

    def create():
        start.wait()
        statuses.append(send_raw(proxy_url, raw, timeout=30).status)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    named = networks_named(engine, f"fta-client-{client}")
    for net_id, *_ in named:  # remove all, whatever happened, so cleanup by name cannot fail
        engine.call("DELETE", f"/networks/{net_id}", expect=(204, 404))
    assert len(named) == 1, f"{len(named)} networks named fta-client-{client}; statuses {statuses}"
    assert sorted(statuses) == [201] + [409] * 7


# --- the positive side: fta's bodies, formatted differently, still pass ------------------------

def reorder(value, rng: random.Random):
    """The same JSON value with every object's keys in a shuffled order."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: reorder(v, rng) for k, v in items}
    if isinstance(value, list):
        return [reorder(v, rng) for v in value]
    return value


FORMATS = [
    ("pretty", lambda v: json.dumps(v, indent=2, ensure_ascii=False)),
    ("keys-reversed", lambda v: json.dumps(dict(reversed(list(v.items()))), separators=(",", ":"), ensure_ascii=False)),
    ("keys-shuffled", lambda v: json.dumps(reorder(v, random.Random(15)), separators=(",", ":"), ensure_ascii=False)),
    ("tabs-crlf", lambda v: "\r\n\t" + json.dumps(reorder(v, random.Random(5)), indent="\t",
                                                   separators=(" ,\r\n", " :\t"), ensure_ascii=False) + "\r\n "),
]


@pytest.mark.parametrize("fmt", [f for f, _ in FORMATS])
def test_proxy_accepts_ftas_bodies_formatted_differently(fmt, proxy_url, engine, world, cleanup):
    dump = dict(FORMATS)[fmt]
    client, bot = world.fresh(), world.fresh()
    net, name = f"fta-client-{client}", f"fta-bot-{bot}"
    cleanup.networks.append(net)
    cleanup.volumes.append(name)
    cleanup.containers.append(name)
    body = container_body(bot, client, world.image, env_kib=30)
    for path, payload in ((f"{API}/networks/create", network_body(client)),
                          (f"{API}/volumes/create", volume_body(bot, client)),
                          (f"{API}/containers/create?name={name}", body)):
        text = dump(payload)
        assert text != compact_json(payload) and "\\u" not in text.replace("\\\\", "")
        resp = request(proxy_url, "POST", path, text)
        assert resp.status == 201, f"{fmt} {path}: {resp.status} {resp.body[:300]!r}"
    # The engine read the same hardened spec as from fta's compact body.
    host = engine.get(f"/containers/{name}/json")["HostConfig"]
    fields = ("ReadonlyRootfs", "CapDrop", "SecurityOpt", "Memory", "MemorySwap", "NanoCpus", "PidsLimit", "Init",
              "Tmpfs", "LogConfig", "NetworkMode")
    assert {k: host[k] for k in fields} == {k: body["HostConfig"][k] for k in fields}
    engine.remove_container(name)
    engine.remove_volume(name)
    engine.remove_network(net)


def test_proxy_reads_strings_that_look_like_json_as_strings(proxy_url, engine, world, cleanup):
    """Env text with escaped quotes, braces, a trailing backslash and a backslash before `u` is one
    string each, not structure: fta's body with such values still passes, and the engine got them
    as they were (nothing in them became a key)."""
    bot = world.fresh()
    name = f"fta-bot-{bot}"
    cleanup.containers.append(name)
    cleanup.volumes.append(name)
    body = attacker_body(world, bot)
    tricky = ["T1=\\", 'T2=\\"}],"HostConfig":{"Privileged":true},"x":["', "T3=\\u0041 \\\\\n", "T4=a/b"]
    body["Env"] += tricky
    resp = request(proxy_url, "POST", f"{API}/containers/create?name={name}", compact_json(body))
    assert resp.status == 201, resp.body[:300]
    info = engine.get(f"/containers/{name}/json")
    assert [e for e in info["Config"]["Env"] if e[:3] in ("T1=", "T2=", "T3=", "T4=")] == tricky
    assert info["HostConfig"]["Privileged"] is False
    engine.remove_container(name)
    engine.remove_volume(name)


# --- last, because it restarts the victim's bot (the checks above compare its state) ----------

def test_proxy_lets_the_victims_bot_start_after_the_network_attempts(engine, world):
    """The point of the network rules: the victim client's bot still starts on its network."""
    assert len(networks_named(engine, world.victim_net)) == 1
    engine.call("POST", f"/containers/{world.victim_vol}/restart?t=1")
    info = engine.get(f"/containers/{world.victim_vol}/json")
    assert info["State"]["Running"] is True
    assert list(info["NetworkSettings"]["Networks"]) == [world.victim_net]
