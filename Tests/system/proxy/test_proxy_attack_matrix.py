"""A compromised portal tries everything it can through the proxy; every request is refused.

Each case is a raw HTTP request a hostile portal could send. Targets exist on the engine (created
directly, not through the proxy): a running fta-shaped container and an fta network/volume, and a
non-fta container, network and volume, so a request that slipped through would really act. Every
case must get 403 (or 405) with the proxy's JSON body, and the engine's lists of containers,
networks, volumes and images, plus the targets' own state, must be identical before and after.
"""

from __future__ import annotations

import gzip
import json
import re
import urllib.parse
from dataclasses import dataclass

import pytest

from fta_proxy_support import (API, build_request, compact_json, container_body, network_body,
                               request, send_raw, volume_body)

DENIED = {"message": "denied by fta socket proxy"}


@dataclass
class Ctx:
    run_id: str
    image: str
    counter: int = 0

    # fta-shaped targets (created directly on the engine)
    @property
    def T(self):  # a running bot container
        return f"fta-bot-{self.run_id}t"

    @property
    def TN(self):  # its client network
        return f"fta-client-{self.run_id}t"

    @property
    def TV(self):
        return f"fta-bot-{self.run_id}t"

    # non-fta targets: a container, a network and a volume that are not the portal's business
    @property
    def X(self):
        return f"xx{self.run_id}"

    def fresh(self) -> str:
        """A bot id never used before, so a forwarded create would really create something."""
        self.counter += 1
        return f"{self.run_id}m{self.counter}"


# --- request builders --------------------------------------------------------------------------

def R(method, target, body=None, **kw):
    if body is not None and not isinstance(body, (bytes, str)):
        body = compact_json(body)
    return build_request(method, target, body, **kw)


def ctr_create(ctx: Ctx, mutate, name: str | None = None, **kw) -> bytes:
    """POST /containers/create with fta's exact body, then one textual mutation applied."""
    bot = ctx.fresh()
    text = compact_json(container_body(bot, f"{ctx.run_id}t", ctx.image, env_kib=4))
    text = mutate(text)
    return R("POST", f"{API}/containers/create?name={name or 'fta-bot-' + bot}", text, **kw)


def in_hc(fragment):
    """Insert `"Key":value` at the start of HostConfig."""
    return lambda t: t.replace('"HostConfig":{', '"HostConfig":{' + fragment + ",", 1)


def at_top(fragment):
    return lambda t: "{" + fragment + "," + t[1:]


def sub(old, new):
    def apply(t):
        assert old in t, old
        return t.replace(old, new, 1)
    return apply


def mounts(value):
    return lambda t: re.sub(r'"Mounts":\[[^\]]*\]', lambda _: '"Mounts":' + value, t, count=1)


def net_create(ctx: Ctx, mutate) -> bytes:
    text = mutate(compact_json(network_body(ctx.fresh())))
    return R("POST", f"{API}/networks/create", text)


def vol_create(ctx: Ctx, mutate) -> bytes:
    bot = ctx.fresh()
    text = mutate(compact_json(volume_body(bot, f"{ctx.run_id}t")))
    return R("POST", f"{API}/volumes/create", text)


def enc(value) -> str:
    return urllib.parse.quote(value if isinstance(value, str) else compact_json(value), safe="")


def chunked(ctx: Ctx) -> bytes:
    body = compact_json(container_body(ctx.fresh(), f"{ctx.run_id}t", ctx.image, env_kib=4)).encode()
    head = (f"POST {API}/containers/create?name=fta-bot-{ctx.fresh()} HTTP/1.1\r\nHost: docker\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    half = len(body) // 2
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in (body[:half], body[half:]))
    return head.encode() + chunks + b"0\r\n\r\n"


def padded(ctx: Ctx, size: int) -> bytes:
    body = container_body(ctx.fresh(), f"{ctx.run_id}t", ctx.image, env_kib=4)
    text = compact_json(body)
    body["Env"].append("PAD=" + "x" * (size - 7 - len(text.encode())))
    text = compact_json(body)
    assert len(text.encode()) == size
    return R("POST", f"{API}/containers/create?name=fta-bot-{ctx.fresh()}", text)


LABEL_OK = {"label": ["fta.managed=true"]}
BIND_ROOT = '[{"Source":"/","Target":"/host","Type":"bind"}]'

# --- the matrix: (case id, builder) ------------------------------------------------------------

CASES = [
    # Dangerous API families, on an fta container so a forwarded call would act.
    ("exec-create", lambda c: R("POST", f"{API}/containers/{c.T}/exec", {"Cmd": ["id"], "AttachStdout": True})),
    ("exec-create-noprefix", lambda c: R("POST", f"/containers/{c.T}/exec", {"Cmd": ["id"]})),
    ("exec-start", lambda c: R("POST", f"{API}/exec/0123456789ab/start", {"Detach": True})),
    ("exec-inspect", lambda c: R("GET", f"{API}/exec/0123456789ab/json")),
    ("attach", lambda c: R("POST", f"{API}/containers/{c.T}/attach?stream=1&stdout=1")),
    ("attach-ws", lambda c: R("GET", f"{API}/containers/{c.T}/attach/ws?stream=1")),
    ("archive-get", lambda c: R("GET", f"{API}/containers/{c.T}/archive?path=/etc")),
    ("archive-head", lambda c: R("HEAD", f"{API}/containers/{c.T}/archive?path=/etc")),
    ("archive-put", lambda c: R("PUT", f"{API}/containers/{c.T}/archive?path=/tmp", b"\0" * 1024,
                                content_type="application/x-tar")),
    ("export", lambda c: R("GET", f"{API}/containers/{c.T}/export")),
    ("commit", lambda c: R("POST", f"{API}/commit?container={c.T}&repo=evil", {})),
    ("build", lambda c: R("POST", f"{API}/build?t=evil", b"\0" * 512, content_type="application/x-tar")),
    ("image-pull", lambda c: R("POST", f"{API}/images/create?fromImage=alpine&tag=latest")),
    ("image-load", lambda c: R("POST", f"{API}/images/load", b"\0" * 512, content_type="application/x-tar")),
    ("image-push", lambda c: R("POST", f"{API}/images/{c.image.split(':')[0]}/push")),
    ("image-tag", lambda c: R("POST", f"{API}/images/{c.image}/tag?repo=evil&tag=x")),
    ("image-delete", lambda c: R("DELETE", f"{API}/images/{c.image}?force=1")),
    ("image-list", lambda c: R("GET", f"{API}/images/json")),
    ("image-prune", lambda c: R("POST", f"{API}/images/prune")),
    ("update", lambda c: R("POST", f"{API}/containers/{c.T}/update", {"Memory": 0, "PidsLimit": -1})),
    ("rename", lambda c: R("POST", f"{API}/containers/{c.T}/rename?name=evil{c.run_id}")),
    ("kill", lambda c: R("POST", f"{API}/containers/{c.T}/kill?signal=KILL")),
    ("pause", lambda c: R("POST", f"{API}/containers/{c.T}/pause")),
    ("top", lambda c: R("GET", f"{API}/containers/{c.T}/top")),
    ("changes", lambda c: R("GET", f"{API}/containers/{c.T}/changes")),
    ("container-prune", lambda c: R("POST", f"{API}/containers/prune")),
    ("volume-prune", lambda c: R("POST", f"{API}/volumes/prune")),
    ("network-prune", lambda c: R("POST", f"{API}/networks/prune")),
    ("network-connect", lambda c: R("POST", f"{API}/networks/{c.TN}/connect", {"Container": c.X})),
    ("network-disconnect", lambda c: R("POST", f"{API}/networks/{c.TN}/disconnect", {"Container": c.T, "Force": True})),
    ("swarm-inspect", lambda c: R("GET", f"{API}/swarm")),
    ("swarm-init", lambda c: R("POST", f"{API}/swarm/init", {"ListenAddr": "127.0.0.1:2377"})),
    ("services", lambda c: R("GET", f"{API}/services")),
    ("service-create", lambda c: R("POST", f"{API}/services/create", {"Name": "evil"})),
    ("tasks", lambda c: R("GET", f"{API}/tasks")),
    ("nodes", lambda c: R("GET", f"{API}/nodes")),
    ("secrets", lambda c: R("GET", f"{API}/secrets")),
    ("secret-create", lambda c: R("POST", f"{API}/secrets/create", {"Name": "x", "Data": "eA=="})),
    ("configs", lambda c: R("GET", f"{API}/configs")),
    ("plugins", lambda c: R("GET", f"{API}/plugins")),
    ("plugin-pull", lambda c: R("POST", f"{API}/plugins/pull?remote=evil", [])),
    ("session", lambda c: R("POST", f"{API}/session", headers={"Upgrade": "h2c", "Connection": "Upgrade"})),
    ("grpc", lambda c: R("POST", f"{API}/grpc")),
    ("system-df", lambda c: R("GET", f"{API}/system/df")),
    ("info", lambda c: R("GET", f"{API}/info")),
    ("events", lambda c: R("GET", f"{API}/events")),
    ("distribution", lambda c: R("GET", f"{API}/distribution/alpine/json")),
    ("auth", lambda c: R("POST", f"{API}/auth", {"username": "x", "password": "y"})),
    # Methods.
    ("method-put", lambda c: R("PUT", f"{API}/containers/{c.T}/json", {})),
    ("method-patch", lambda c: R("PATCH", f"{API}/containers/{c.T}/json", {})),
    ("method-options", lambda c: R("OPTIONS", f"{API}/_ping")),
    ("method-lowercase", lambda c: R("get", f"{API}/containers/{c.X}/json")),
    ("head-inspect", lambda c: R("HEAD", f"{API}/containers/{c.T}/json")),
    # Objects that are not fta's.
    ("scope-ctr-inspect", lambda c: R("GET", f"{API}/containers/{c.X}/json")),
    ("scope-ctr-start", lambda c: R("POST", f"{API}/containers/{c.X}/start")),
    ("scope-ctr-stop", lambda c: R("POST", f"{API}/containers/{c.X}/stop?t=1")),
    ("scope-ctr-delete", lambda c: R("DELETE", f"{API}/containers/{c.X}?force=1")),
    ("scope-ctr-logs", lambda c: R("GET", f"{API}/containers/{c.X}/logs?stdout=1&stderr=1")),
    ("scope-ctr-by-id", lambda c: R("GET", f"{API}/containers/{c.xid}/json")),
    ("scope-ctr-by-id-delete", lambda c: R("DELETE", f"{API}/containers/{c.xid}?force=1")),
    ("scope-ctr-uppercase", lambda c: R("GET", f"{API}/containers/FTA-BOT-{c.run_id}T/json")),
    ("scope-ctr-slash-name", lambda c: R("GET", f"{API}/containers//{c.X}/json")),
    ("scope-net-inspect", lambda c: R("GET", f"{API}/networks/{c.X}")),
    ("scope-net-delete", lambda c: R("DELETE", f"{API}/networks/{c.X}")),
    ("scope-net-bridge", lambda c: R("DELETE", f"{API}/networks/bridge")),
    ("scope-net-host", lambda c: R("GET", f"{API}/networks/host")),
    ("scope-vol-inspect", lambda c: R("GET", f"{API}/volumes/{c.X}")),
    ("scope-vol-delete", lambda c: R("DELETE", f"{API}/volumes/{c.X}?force=1")),
    ("create-non-fta-name", lambda c: ctr_create(c, lambda t: t, name=c.X + "n")),
    ("create-no-name", lambda c: R("POST", f"{API}/containers/create",
                                   compact_json(container_body(c.fresh(), f"{c.run_id}t", c.image, 4)))),
    ("create-dup-name-param", lambda c: ctr_create(c, lambda t: t, name=f"fta-bot-{c.fresh()}&name={c.X}n")),
    ("create-name-uppercase", lambda c: ctr_create(c, lambda t: t, name=f"FTA-BOT-{c.fresh()}")),
    ("create-name-encoded", lambda c: ctr_create(c, lambda t: t, name=f"%66ta-bot-{c.fresh()}")),
    ("create-platform-param", lambda c: ctr_create(c, lambda t: t, name=f"fta-bot-{c.fresh()}&platform=linux")),
    ("create-name-too-long", lambda c: ctr_create(c, lambda t: t, name="fta-bot-a" + "b" * 40)),
    # Lists: only label-filtered on fta.managed=true.
    ("list-ctr-unfiltered", lambda c: R("GET", f"{API}/containers/json?all=1")),
    ("list-ctr-other-label", lambda c: R("GET", f"{API}/containers/json?all=1&filters={enc({'label': ['com.example=1']})}")),
    ("list-ctr-name-filter", lambda c: R("GET", f"{API}/containers/json?filters={enc({'name': [c.X]})}")),
    ("list-ctr-extra-filter", lambda c: R("GET", f"{API}/containers/json?filters={enc({'label': ['fta.managed=true'], 'name': ['x']})}")),
    ("list-ctr-double-encoded", lambda c: R("GET", f"{API}/containers/json?filters={enc(enc(LABEL_OK))}")),
    ("list-ctr-dup-filters", lambda c: R("GET", f"{API}/containers/json?filters={enc({'label': ['x=1']})}&filters={enc(LABEL_OK)}")),
    ("list-ctr-extra-param", lambda c: R("GET", f"{API}/containers/json?all=1&filters={enc(LABEL_OK)}&limit=1")),
    ("list-ctr-semicolon", lambda c: R("GET", f"{API}/containers/json?all=1;filters={enc(LABEL_OK)}")),
    ("list-ctr-plus", lambda c: R("GET", f"{API}/containers/json?filters=%7B%22label%22:+%5B%22fta.managed=true%22%5D%7D")),
    ("list-ctr-raw-json", lambda c: R("GET", f"{API}/containers/json?filters=" + compact_json(LABEL_OK))),
    ("list-ctr-negated-label", lambda c: R("GET", f"{API}/containers/json?filters={enc({'label': ['fta.managed!=true']})}")),
    ("list-net-unfiltered", lambda c: R("GET", f"{API}/networks")),
    ("list-net-empty-filter", lambda c: R("GET", f"{API}/networks?filters=%7B%7D")),
    ("list-vol-unfiltered", lambda c: R("GET", f"{API}/volumes")),
    ("list-vol-dangling", lambda c: R("GET", f"{API}/volumes?filters={enc({'dangling': ['true']})}")),
    # Path normalisation tricks aimed at the rules or the engine's router.
    ("path-dotdot", lambda c: R("GET", f"{API}/containers/{c.T}/../{c.X}/json")),
    ("path-dotdot-encoded", lambda c: R("GET", f"{API}/containers/{c.T}/%2e%2e/{c.X}/json")),
    ("path-encoded-letter", lambda c: R("GET", f"{API}/containers/%66ta-bot-{c.run_id}t/json")),
    ("path-encoded-slash", lambda c: R("GET", f"{API}/containers/{c.T}%2fjson")),
    ("path-double-slash-lead", lambda c: R("GET", f"/{API}/containers/{c.X}/json")),
    ("path-double-slash-mid", lambda c: R("GET", f"{API}//containers/{c.T}/json")),
    ("path-dot-segment", lambda c: R("GET", f"{API}/containers/./{c.X}/json")),
    ("path-trailing-dot", lambda c: R("GET", f"{API}/containers/{c.T}/json/.")),
    ("path-backslash", lambda c: R("GET", f"{API}/containers/{c.T}\\..\\{c.X}/json")),
    ("path-semicolon", lambda c: R("GET", f"{API}/containers/{c.T};/json")),
    ("path-absolute-form", lambda c: R("GET", f"http://docker{API}/containers/{c.X}/json")),
    ("path-uppercase-prefix", lambda c: R("GET", f"/V1.41/containers/{c.T}/json")),
    ("path-trailing-slash", lambda c: R("GET", f"{API}/containers/{c.T}/json/")),
    ("query-on-inspect", lambda c: R("GET", f"{API}/containers/{c.T}/json?size=1")),
    ("query-logs-follow", lambda c: R("GET", f"{API}/containers/{c.T}/logs?follow=1&stdout=1")),
    ("query-stats-stream", lambda c: R("GET", f"{API}/containers/{c.T}/stats")),
    ("query-stop-long", lambda c: R("POST", f"{API}/containers/{c.T}/stop?t=3600")),
    ("query-delete-link", lambda c: R("DELETE", f"{API}/containers/{c.T}?link=1")),
    ("query-ping", lambda c: R("GET", f"{API}/_ping?x=1")),
    # Version prefixes: none and /v1.41 are fine, anything odd is not.
    ("version-legacy-start-hostconfig", lambda c: R("POST", f"/v1.12/containers/{c.T}/start",
                                                    {"Binds": ["/:/host"], "Privileged": True})),
    ("version-1.23-start-body", lambda c: R("POST", f"/v1.23/containers/{c.T}/start", {"Privileged": True})),
    ("version-1.40", lambda c: R("GET", f"/v1.40/containers/{c.T}/json")),
    ("version-three-part", lambda c: R("GET", "/v1.41.0/version")),
    ("version-v2", lambda c: R("GET", "/v2/version")),
    ("version-twice", lambda c: R("GET", f"{API}{API}/version")),
    ("version-short", lambda c: R("GET", "/v1/version")),
    ("version-long", lambda c: R("GET", "/v1.410/version")),
    # Bodies where none belongs, and body framing.
    ("start-with-body", lambda c: R("POST", f"{API}/containers/{c.T}/start", {"Privileged": True})),
    ("create-chunked", chunked),
    ("create-no-content-length", lambda c: ctr_create(c, lambda t: t, content_length=False)),
    # The create-body limit is 96 KiB (98304 bytes; haproxy.cfg, body.toolarge): one byte over
    # it, and past the 128 KiB buffer.
    ("create-oversized-140k", lambda c: padded(c, 140 * 1024)),
    ("create-just-over-96k", lambda c: padded(c, 96 * 1024 + 1)),
    ("create-gzip", lambda c: R("POST", f"{API}/containers/create?name=fta-bot-{c.fresh()}",
                                gzip.compress(compact_json(container_body(c.fresh(), f"{c.run_id}t", c.image, 4)).encode()),
                                headers={"Content-Encoding": "gzip"})),
    ("create-text-plain", lambda c: ctr_create(c, lambda t: t, content_type="text/plain")),
    ("upgrade-header", lambda c: R("POST", f"{API}/containers/{c.T}/wait", headers={"Upgrade": "tcp", "Connection": "Upgrade"})),
    # Container create bodies: privileges and host reach.
    ("ctr-privileged", lambda c: ctr_create(c, in_hc('"Privileged":true'))),
    ("ctr-privileged-lower", lambda c: ctr_create(c, in_hc('"privileged":true'))),
    ("ctr-privileged-upper", lambda c: ctr_create(c, in_hc('"PRIVILEGED":true'))),
    ("ctr-privileged-uescape", lambda c: ctr_create(c, in_hc('"Privil\\u0065ged":true'))),
    ("ctr-privileged-top-level", lambda c: ctr_create(c, at_top('"Privileged":true'))),
    ("ctr-privileged-dup", lambda c: ctr_create(c, in_hc('"Privileged":false,"Privileged":true'))),
    ("ctr-privileged-spaces", lambda c: ctr_create(c, in_hc('"Privileged" : true'))),
    ("ctr-capadd", lambda c: ctr_create(c, in_hc('"CapAdd":["SYS_ADMIN"]'))),
    ("ctr-capadd-mixed-case", lambda c: ctr_create(c, in_hc('"cApAdD":["ALL"]'))),
    ("ctr-capabilities", lambda c: ctr_create(c, in_hc('"Capabilities":["CAP_SYS_ADMIN"]'))),
    ("ctr-binds", lambda c: ctr_create(c, in_hc('"Binds":["/:/host"]'))),
    ("ctr-binds-lower", lambda c: ctr_create(c, in_hc('"binds":["/etc:/x:ro"]'))),
    ("ctr-binds-top-level", lambda c: ctr_create(c, at_top('"Binds":["/var/run/docker.sock:/s"]'))),
    ("ctr-binds-longs-fold", lambda c: ctr_create(c, in_hc('"Bind\u017f":["/:/host"]'))),
    ("ctr-privileged-dotless-i", lambda c: ctr_create(c, in_hc('"Pr\u0131vileged":true'))),
    ("ctr-privileged-dotted-i", lambda c: ctr_create(c, in_hc('"Pr\u0130vileged":true'))),
    ("ctr-mount-bind", lambda c: ctr_create(c, mounts(BIND_ROOT))),
    ("ctr-mount-bind-case", lambda c: ctr_create(c, mounts('[{"Source":"/","Target":"/host","Type":"Bind"}]'))),
    ("ctr-mount-bind-uescape", lambda c: ctr_create(c, mounts('[{"Source":"/","Target":"/host","Type":"\\u0062ind"}]'))),
    ("ctr-mount-foreign-volume", lambda c: ctr_create(c, mounts(f'[{{"Source":"{c.X}","Target":"/x","Type":"volume"}}]'))),
    ("ctr-mount-volume-driverconfig", lambda c: ctr_create(c, mounts(
        f'[{{"Source":"fta-bot-{c.fresh()}","Target":"/x","Type":"volume","VolumeOptions":{{"DriverConfig":'
        '{"Name":"local","Options":{"type":"none","o":"bind","device":"/"}}}}]'))),
    ("ctr-mount-npipe", lambda c: ctr_create(c, mounts('[{"Source":"\\\\\\\\.\\\\pipe\\\\docker_engine","Target":"/p","Type":"npipe"}]'))),
    ("ctr-mount-tmpfs-options", lambda c: ctr_create(c, mounts('[{"Target":"/x","TmpfsOptions":{"Mode":4095},"Type":"tmpfs"}]'))),
    ("ctr-mount-dup-source", lambda c: ctr_create(c, mounts(f'[{{"Source":"fta-bot-{c.fresh()}","Source":"{c.X}","Target":"/x","Type":"volume"}}]'))),
    ("ctr-mount-dup-type", lambda c: ctr_create(c, mounts(f'[{{"Source":"fta-bot-{c.fresh()}","Target":"/x","Type":"volume","Type":"bind"}}]'))),
    ("ctr-mount-no-source", lambda c: ctr_create(c, mounts('[{"Target":"/x","Type":"volume"}]'))),
    ("ctr-mounts-lower-key", lambda c: ctr_create(c, in_hc('"mounts":' + BIND_ROOT))),
    ("ctr-devices", lambda c: ctr_create(c, in_hc('"Devices":[{"PathOnHost":"/dev/mem","PathInContainer":"/dev/mem","CgroupPermissions":"rwm"}]'))),
    ("ctr-device-requests", lambda c: ctr_create(c, in_hc('"DeviceRequests":[{"Driver":"nvidia","Count":-1}]'))),
    ("ctr-device-cgroup-rules", lambda c: ctr_create(c, in_hc('"DeviceCgroupRules":["a *:* rwm"]'))),
    ("ctr-volumes-from", lambda c: ctr_create(c, in_hc(f'"VolumesFrom":["{c.X}"]'))),
    ("ctr-anonymous-volumes", lambda c: ctr_create(c, at_top('"Volumes":{"/data":{}}'))),
    ("ctr-volume-driver", lambda c: ctr_create(c, in_hc('"VolumeDriver":"evil"'))),
    ("ctr-networkmode-host", lambda c: ctr_create(c, sub(f'"NetworkMode":"{c.TN}"', '"NetworkMode":"host"'))),
    ("ctr-networkmode-container", lambda c: ctr_create(c, sub(f'"NetworkMode":"{c.TN}"', f'"NetworkMode":"container:{c.X}"'))),
    ("ctr-networkmode-bridge", lambda c: ctr_create(c, sub(f'"NetworkMode":"{c.TN}"', '"NetworkMode":"bridge"'))),
    ("ctr-networkmode-dup", lambda c: ctr_create(c, sub(f'"NetworkMode":"{c.TN}"', f'"NetworkMode":"{c.TN}","NetworkMode":"host"'))),
    ("ctr-networkmode-lower-dup", lambda c: ctr_create(c, sub(f'"NetworkMode":"{c.TN}"', f'"NetworkMode":"{c.TN}","networkmode":"host"'))),
    ("ctr-networkmode-uescape", lambda c: ctr_create(c, sub(f'"NetworkMode":"{c.TN}"', '"NetworkMode":"\\u0068ost"'))),
    ("ctr-networkmode-missing", lambda c: ctr_create(c, sub(f'"NetworkMode":"{c.TN}",', ''))),
    ("ctr-networkmode-top-level-only", lambda c: ctr_create(c, lambda t: at_top(f'"NetworkMode":"{c.TN}"')(
        t.replace(f'"NetworkMode":"{c.TN}",', '')))),
    ("ctr-hostconfig-dup", lambda c: ctr_create(c, lambda t: t[:-1] + ',"HostConfig":{"CapDrop":["ALL"]}}')),
    ("ctr-hostconfig-null-dup", lambda c: ctr_create(c, lambda t: t[:-1] + ',"hostconfig":null}')),
    ("ctr-trailing-data", lambda c: ctr_create(c, lambda t: t + '{"HostConfig":{"Privileged":true}}')),
    ("ctr-pidmode-host", lambda c: ctr_create(c, in_hc('"PidMode":"host"'))),
    ("ctr-pidmode-container", lambda c: ctr_create(c, in_hc(f'"PidMode":"container:{c.X}"'))),
    ("ctr-ipcmode-host", lambda c: ctr_create(c, in_hc('"IpcMode":"host"'))),
    ("ctr-utsmode-host", lambda c: ctr_create(c, in_hc('"UTSMode":"host"'))),
    ("ctr-usernsmode-host", lambda c: ctr_create(c, in_hc('"UsernsMode":"host"'))),
    ("ctr-cgroupnsmode-host", lambda c: ctr_create(c, in_hc('"CgroupnsMode":"host"'))),
    ("ctr-endpoint-bridge", lambda c: ctr_create(c, sub(f'"EndpointsConfig":{{"{c.TN}":{{}}}}', '"EndpointsConfig":{"bridge":{}}'))),
    ("ctr-endpoint-second", lambda c: ctr_create(c, sub(f'"EndpointsConfig":{{"{c.TN}":{{}}}}', f'"EndpointsConfig":{{"{c.TN}":{{}},"{c.X}":{{}}}}'))),
    ("ctr-endpoint-ipam", lambda c: ctr_create(c, sub(f'"EndpointsConfig":{{"{c.TN}":{{}}}}',
                                                       f'"EndpointsConfig":{{"{c.TN}":{{"IPAMConfig":{{"IPv4Address":"169.254.169.254"}}}}}}'))),
    ("ctr-port-bindings", lambda c: ctr_create(c, in_hc('"PortBindings":{"8080/tcp":[{"HostIp":"0.0.0.0","HostPort":"80"}]}'))),
    ("ctr-publish-all", lambda c: ctr_create(c, in_hc('"PublishAllPorts":true'))),
    ("ctr-exposed-ports", lambda c: ctr_create(c, at_top('"ExposedPorts":{"8080/tcp":{}}'))),
    ("ctr-seccomp-unconfined", lambda c: ctr_create(c, sub('"SecurityOpt":["no-new-privileges:true"]', '"SecurityOpt":["seccomp=unconfined"]'))),
    ("ctr-apparmor-unconfined", lambda c: ctr_create(c, sub('"SecurityOpt":["no-new-privileges:true"]', '"SecurityOpt":["apparmor=unconfined"]'))),
    ("ctr-label-disable", lambda c: ctr_create(c, sub('"SecurityOpt":["no-new-privileges:true"]', '"SecurityOpt":["label=disable"]'))),
    ("ctr-systempaths-unconfined", lambda c: ctr_create(c, sub('"SecurityOpt":["no-new-privileges:true"]', '"SecurityOpt":["systempaths=unconfined"]'))),
    ("ctr-securityopt-appended", lambda c: ctr_create(c, sub('"SecurityOpt":["no-new-privileges:true"]', '"SecurityOpt":["no-new-privileges:true","seccomp=unconfined"]'))),
    ("ctr-securityopt-lower-dup", lambda c: ctr_create(c, in_hc('"securityopt":["seccomp=unconfined"]'))),
    ("ctr-sysctls", lambda c: ctr_create(c, in_hc('"Sysctls":{"net.ipv4.ip_unprivileged_port_start":"0"}'))),
    ("ctr-runtime", lambda c: ctr_create(c, in_hc('"Runtime":"runc"'))),
    ("ctr-cgroup-parent", lambda c: ctr_create(c, in_hc('"CgroupParent":"/"'))),
    ("ctr-oom-kill-disable", lambda c: ctr_create(c, in_hc('"OomKillDisable":true'))),
    ("ctr-masked-paths", lambda c: ctr_create(c, in_hc('"MaskedPaths":[]'))),
    ("ctr-readonly-paths", lambda c: ctr_create(c, in_hc('"ReadonlyPaths":[]'))),
    ("ctr-links", lambda c: ctr_create(c, in_hc(f'"Links":["{c.X}:db"]'))),
    ("ctr-links-kelvin-fold", lambda c: ctr_create(c, in_hc(f'"Lin\u212As":["{c.X}:db"]'))),
    ("ctr-log-driver-syslog", lambda c: ctr_create(c, sub('"Type":"json-file"', '"Type":"syslog"'))),
    ("ctr-user-root", lambda c: ctr_create(c, sub('"User":"1000:1000"', '"User":"0"'))),
    ("ctr-user-root-name", lambda c: ctr_create(c, sub('"User":"1000:1000"', '"User":"root"'))),
    ("ctr-user-gid-0", lambda c: ctr_create(c, sub('"User":"1000:1000"', '"User":"1000:0"'))),
    ("ctr-unknown-key", lambda c: ctr_create(c, in_hc('"ShmSize":1'))),
    ("ctr-raw-control-bytes", lambda c: ctr_create(c, in_hc('"Privileged"\t:\ntrue'))),
    ("ctr-uescape-in-env", lambda c: ctr_create(c, sub('"HOME=/tmp"', '"HOME=\\u002f"'))),
    ("ctr-labels-hide-key", lambda c: ctr_create(c, sub('"Labels":{', '"Labels":{"Privileged":"true",'))),
    # Network create bodies.
    ("net-driver-host", lambda c: net_create(c, sub('"Driver":"bridge"', '"Driver":"host"'))),
    ("net-driver-overlay", lambda c: net_create(c, sub('"Driver":"bridge"', '"Driver":"overlay"'))),
    ("net-driver-macvlan", lambda c: net_create(c, lambda t: t.replace('"Driver":"bridge"', '"Driver":"macvlan"').replace(
        '"Options":{"com.docker.network.bridge.enable_icc":"false"}', '"Options":{"parent":"eth0"}'))),
    ("net-driver-lower-dup", lambda c: net_create(c, sub('"Driver":"bridge"', '"Driver":"bridge","driver":"host"'))),
    ("net-name-foreign", lambda c: net_create(c, lambda t: re.sub(r'"Name":"[^"]*"', f'"Name":"{c.X}n"', t))),
    ("net-name-missing", lambda c: net_create(c, lambda t: re.sub(r',"Name":"[^"]*"', '', t))),
    ("net-name-dup", lambda c: net_create(c, lambda t: t[:-1] + f',"Name":"{c.X}n"}}')),
    ("net-name-lower-dup", lambda c: net_create(c, lambda t: t[:-1] + f',"name":"{c.X}n"}}')),
    ("net-name-in-labels", lambda c: net_create(c, lambda t: re.sub(r',"Name":"([^"]*)"', '', t).replace(
        '"Labels":{', f'"Labels":{{"Name":"fta-client-{c.fresh()}",'))),
    ("net-bridge-name-option", lambda c: net_create(c, sub('"com.docker.network.bridge.enable_icc":"false"',
                                                           '"com.docker.network.bridge.name":"docker0"'))),
    ("net-icc-on", lambda c: net_create(c, sub('enable_icc":"false"', 'enable_icc":"true"'))),
    ("net-host-binding", lambda c: net_create(c, sub('"com.docker.network.bridge.enable_icc":"false"',
                                                     '"com.docker.network.bridge.enable_icc":"false","com.docker.network.bridge.host_binding_ipv4":"0.0.0.0"'))),
    ("net-ipam-metadata-subnet", lambda c: net_create(c, at_top('"IPAM":{"Config":[{"Subnet":"169.254.169.0/24"}]}'))),
    ("net-config-from", lambda c: net_create(c, at_top(f'"ConfigFrom":{{"Network":"{c.X}"}}'))),
    ("net-config-only", lambda c: net_create(c, at_top('"ConfigOnly":true'))),
    ("net-ingress", lambda c: net_create(c, at_top('"Ingress":true'))),
    ("net-attachable", lambda c: net_create(c, at_top('"Attachable":true'))),
    ("net-scope-swarm", lambda c: net_create(c, at_top('"Scope":"swarm"'))),
    ("net-ipv6", lambda c: net_create(c, at_top('"EnableIPv6":true'))),
    ("net-name-uescape", lambda c: net_create(c, lambda t: re.sub(r'"Name":"fta-', '"Name":"\\\\u0078x-', t))),
    # Volume create bodies.
    ("vol-driver-foreign", lambda c: vol_create(c, sub('"Driver":"local"', '"Driver":"evil"'))),
    ("vol-driveropts-bind", lambda c: vol_create(c, at_top('"DriverOpts":{"type":"none","o":"bind","device":"/"}'))),
    ("vol-driveropts-lower", lambda c: vol_create(c, at_top('"driveropts":{"type":"none","o":"bind","device":"/etc"}'))),
    # A cap (docs/security.md): the one driver option, bounded, and nothing beside it.
    ("vol-size-too-large", lambda c: vol_create(c, at_top('"DriverOpts":{"size":"8193m"}'))),
    ("vol-size-too-small", lambda c: vol_create(c, at_top('"DriverOpts":{"size":"15m"}'))),
    ("vol-size-zero", lambda c: vol_create(c, at_top('"DriverOpts":{"size":"0m"}'))),
    ("vol-size-gigabytes", lambda c: vol_create(c, at_top('"DriverOpts":{"size":"2g"}'))),
    ("vol-size-number", lambda c: vol_create(c, at_top('"DriverOpts":{"size":256}'))),
    ("vol-size-null", lambda c: vol_create(c, at_top('"DriverOpts":{"size":null}'))),
    ("vol-size-empty-opts", lambda c: vol_create(c, at_top('"DriverOpts":{}'))),
    ("vol-size-and-device", lambda c: vol_create(c, at_top('"DriverOpts":{"size":"256m","type":"none","o":"bind","device":"/"}'))),
    ("vol-size-in-o", lambda c: vol_create(c, at_top('"DriverOpts":{"type":"tmpfs","device":"tmpfs","o":"size=256m"}'))),
    ("vol-size-dup", lambda c: vol_create(c, at_top('"DriverOpts":{"size":"256m","size":"9999999m"}'))),
    ("vol-driver-dup", lambda c: vol_create(c, sub('"Driver":"local"', '"Driver":"local","Driver":"evil"'))),
    ("vol-name-foreign", lambda c: vol_create(c, lambda t: re.sub(r'"Name":"[^"]*"', f'"Name":"{c.X}v"', t))),
    ("vol-name-missing", lambda c: vol_create(c, lambda t: re.sub(r',"Name":"[^"]*"', '', t))),
    ("vol-name-dup", lambda c: vol_create(c, lambda t: t[:-1] + f',"Name":"{c.X}v"}}')),
    ("vol-name-in-labels", lambda c: vol_create(c, lambda t: re.sub(r',"Name":"([^"]*)"', '', t).replace(
        '"Labels":{', f'"Labels":{{"Name":"fta-bot-{c.fresh()}",'))),
    ("vol-cluster-spec", lambda c: vol_create(c, at_top('"ClusterVolumeSpec":{"Group":"x"}'))),
    ("vol-trailing-data", lambda c: vol_create(c, lambda t: t[:t.index(',"Name"')] + '}' + t[t.index(',"Name"'):])),
]

assert len(CASES) >= 60 and len({cid for cid, _ in CASES}) == len(CASES)


@pytest.fixture(scope="module")
def ctx(engine, image, run_id, cleanup):
    c = Ctx(run_id=run_id, image=image)
    # fta-shaped targets: a running "bot" on its own client network, with its volume.
    cleanup.networks += [c.TN, c.X]
    cleanup.volumes += [c.TV, c.X]
    cleanup.containers += [c.T, c.X]
    engine.call("POST", "/networks/create", network_body(f"{run_id}t"))
    engine.call("POST", "/volumes/create", volume_body(f"{run_id}t", f"{run_id}t"))
    engine.call("POST", f"/containers/create?name={c.T}", {
        "Image": image, "Entrypoint": ["/bin/sh", "-c"], "Cmd": ["exec sleep 3600"], "User": "1000:1000",
        "Labels": {"fta.managed": "true"}, "HostConfig": {"NetworkMode": c.TN, "CapDrop": ["ALL"]}})
    engine.call("POST", f"/containers/{c.T}/start")
    # Non-fta targets.
    engine.call("POST", "/networks/create", {"Name": c.X, "Driver": "bridge"})
    engine.call("POST", "/volumes/create", {"Name": c.X})
    created = engine.call("POST", f"/containers/create?name={c.X}", {
        "Image": image, "Cmd": ["sleep", "3600"], "HostConfig": {"NetworkMode": "none"}}).json()
    c.xid = created["Id"][:12]
    return c


def target_state(engine, c: Ctx) -> dict:
    """What a forwarded exec/update/rename/kill/pause/archive/connect would change."""
    def inspect(kind, name):
        return engine.call("GET", f"/{kind}/{name}", expect=(200, 404)).json()
    bot = inspect("containers", f"{c.T}/json")
    other = inspect("containers", f"{c.X}/json")
    return {
        "bot": (bot["Name"], bot["State"]["Status"], bot["State"]["Pid"], bot["ExecIDs"],
                bot["RestartCount"], bot["HostConfig"]["Memory"], bot["HostConfig"]["PidsLimit"],
                sorted(bot["NetworkSettings"]["Networks"])),
        "bot_changes": engine.call("GET", f"/containers/{c.T}/changes").json(),
        "other": (other["Name"], other["State"]["Status"], sorted(other["NetworkSettings"]["Networks"])),
        "net": sorted(inspect("networks", c.TN).get("Containers") or {}),
        "other_net": sorted(inspect("networks", c.X).get("Containers") or {}),
        "volumes": [inspect("volumes", c.TV)["Name"], inspect("volumes", c.X)["Name"]],
    }


@pytest.fixture(scope="module")
def log_offset(proxy_log):
    return proxy_log.stat().st_size if proxy_log else 0


@pytest.fixture(scope="module")
def before(engine, ctx, log_offset):
    """Engine state before the first case (taken directly on the engine)."""
    return engine.snapshot(), target_state(engine, ctx)


@pytest.mark.parametrize("case", [cid for cid, _ in CASES])
def test_proxy_denies(case, proxy_url, ctx, before):
    raw = dict(CASES)[case](ctx)
    resp = send_raw(proxy_url, raw, timeout=20, head_only=raw.startswith(b"HEAD "))
    assert resp.status in (403, 405), f"{case}: {resp.status} {resp.body[:300]!r}"
    if resp.status == 403 and not raw.startswith(b"HEAD "):
        assert json.loads(resp.body) == DENIED


def test_proxy_never_forwards_a_stalled_body(proxy_url, ctx, before):
    """A create body shorter than its Content-Length times out (408); nothing is forwarded."""
    raw = ctr_create(ctx, lambda t: t)
    head, _, body = raw.partition(b"\r\n\r\n")
    resp = send_raw(proxy_url, head + b"\r\n\r\n" + body[:len(body) // 2], timeout=30)
    assert resp.status in (400, 403, 408), resp.status


def test_proxy_matrix_left_the_engine_unchanged(engine, ctx, before):
    """The engine's lists (taken directly on the engine) are as before the matrix.

    The engine is shared with other suites, which may create or remove their own objects while
    the matrix runs. Anything the matrix could have caused carries this run's id (every name and
    label the cases use does), is named "evil", is one of the targets, or is the test image; any
    such difference fails. Differences that carry none of these are other suites' work and are
    reported, not failed. (Each case also got the proxy's own denial body, which HAProxy only
    sends for requests it did not forward.)
    """
    snapshot, targets = before
    after_snapshot, after_targets = engine.snapshot(), target_state(engine, ctx)
    foreign = []
    for kind in snapshot:
        changed = sorted(set(after_snapshot[kind]) ^ set(snapshot[kind]))
        ours = [e for e in changed if ctx.run_id in str(e) or "evil" in str(e)
                or (kind == "images" and ctx.image in str(e))]
        assert not ours, f"{kind} changed by the matrix: {ours}"
        foreign += [(kind, e) for e in changed if e not in ours]
    assert after_targets == targets
    if foreign:
        print(f"engine objects changed by other suites during the matrix (ignored): {foreign}")


def test_proxy_logs_every_denial_with_its_rule(proxy_log, log_offset):
    """Each case shows up in the proxy's log as a 403 naming the rule that denied it."""
    if proxy_log is None:
        pytest.skip("the proxy under test is not the one scripts/lib/proxy.sh runs (no log here)")
    with proxy_log.open("rb") as log:
        log.seek(log_offset)
        lines = [ln for ln in log.read().decode("utf-8", "replace").splitlines() if ln.startswith("fta-proxy ")]
    denials = [ln for ln in lines if " status=403 " in ln]
    assert len(denials) >= len(CASES), f"{len(denials)} denials logged for {len(CASES)} cases"
    assert all(re.search(r" deny=[a-z]+\.[a-z.-]+ ", ln) or " deny=method " in ln for ln in denials), \
        [ln for ln in denials if " deny=- " in ln][:5]
    assert not [ln for ln in lines if " deny=- " in ln and " status=403 " in ln]
