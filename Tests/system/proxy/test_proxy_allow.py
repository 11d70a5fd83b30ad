"""What fta legitimately does goes through the proxy, byte for byte as the Swift client sends it.

One bot's whole life through the proxy: network, volume, hardened container with a realistic
20-40 KiB Env (rendered config with escaped JSON, strategy source with newlines, quotes,
backslashes and non-ASCII), start, inspect, logs, stats, restart, stop, wait, list, delete.
"""

from __future__ import annotations

import json
import time

from fta_proxy_support import (API, compact_json, container_body, label_filter, network_body,
                               request, volume_body)


def test_proxy_allows_ping_and_version(proxy_url):
    assert request(proxy_url, "GET", f"{API}/_ping").body == b"OK"
    assert request(proxy_url, "HEAD", f"{API}/_ping").status == 200
    assert request(proxy_url, "GET", "/_ping").status == 200
    assert request(proxy_url, "GET", f"{API}/version").json()["ApiVersion"]


def test_proxy_allows_the_whole_bot_lifecycle(proxy_url, engine, image, run_id, cleanup):
    client, bot = f"{run_id}c", f"{run_id}b"
    net, vol, ctr = f"fta-client-{client}", f"fta-bot-{bot}", f"fta-bot-{bot}"
    cleanup.networks.append(net)
    cleanup.volumes.append(vol)
    cleanup.containers.append(ctr)

    def call(method, path, body=None, expect=200, **kw):
        resp = request(proxy_url, method, API + path, body, **kw)
        assert resp.status == expect, f"{method} {path}: {resp.status} {resp.body[:300]!r}"
        return resp

    # Network and volume, then the list calls fta makes (label-filtered).
    call("POST", "/networks/create", network_body(client), expect=201)
    assert call("GET", f"/networks/{net}").json()["Options"] == {
        "com.docker.network.bridge.enable_icc": "false"}
    assert net in [n["Name"] for n in call("GET", f"/networks?filters={label_filter()}").json()]
    call("POST", "/volumes/create", volume_body(bot, client), expect=201)
    assert call("GET", f"/volumes/{vol}").json()["Driver"] == "local"
    listed = call("GET", f"/volumes?filters={label_filter(client=client)}").json()["Volumes"]
    assert [v["Name"] for v in listed] == [vol]

    # The container, with the exact contract body and a realistic Env.
    body = compact_json(container_body(bot, client, image, env_kib=30))
    assert 20 * 1024 <= len(body.encode()) <= 48 * 1024, len(body.encode())
    assert "\\u" not in body.replace("\\\\", "")  # no JSON \u escapes, as the contract says
    call("POST", f"/containers/create?name={ctr}", body, expect=201)

    call("POST", f"/containers/{ctr}/start", expect=204)
    info = call("GET", f"/containers/{ctr}/json").json()
    assert info["State"]["Running"] is True
    host = info["HostConfig"]
    assert host["ReadonlyRootfs"] is True and host["CapDrop"] == ["ALL"]
    assert host["Privileged"] is False and host["NetworkMode"] == net
    assert info["Config"]["User"] == "1000:1000"
    assert any(e.startswith('FTA_CONFIG={"api_server"') for e in info["Config"]["Env"])

    # The stand-in serves the bot API: its start line shows up in the logs.
    deadline = time.time() + 20
    while time.time() < deadline:
        logs = call("GET", f"/containers/{ctr}/logs?stdout=1&stderr=1&tail=50&timestamps=1").body
        if b"freqtrade stand-in: trade" in logs:
            break
        time.sleep(0.5)
    assert b"freqtrade stand-in: trade --dry-run" in logs
    stats = call("GET", f"/containers/{ctr}/stats?stream=false").json()
    assert "memory_stats" in stats
    # What admission measures with (Sources/DockerEngine: stats): one sample at once.
    stats = call("GET", f"/containers/{ctr}/stats?stream=false&one-shot=true").json()
    assert stats["memory_stats"]["usage"] > 0

    listed = call("GET", f"/containers/json?all=1&filters={label_filter(client=client)}").json()
    assert [c["Names"] for c in listed] == [[f"/{ctr}"]]

    call("POST", f"/containers/{ctr}/restart?t=2", expect=204)
    call("POST", f"/containers/{ctr}/stop?t=2", expect=204)
    assert call("POST", f"/containers/{ctr}/wait").json()["StatusCode"] is not None
    assert call("GET", f"/containers/{ctr}/json").json()["State"]["Running"] is False

    call("DELETE", f"/containers/{ctr}?force=true", expect=204)
    call("DELETE", f"/volumes/{vol}", expect=204)
    call("DELETE", f"/networks/{net}", expect=204)
    assert request(engine.url, "GET", f"{API}/networks/{net}").status == 404


def test_proxy_allows_a_create_that_expects_100_continue(proxy_url, run_id, cleanup):
    """libcurl may send `Expect: 100-continue` with a body; the proxy still inspects it."""
    client = f"{run_id}e"
    cleanup.networks.append(f"fta-client-{client}")
    resp = request(proxy_url, "POST", f"{API}/networks/create", network_body(client),
                   headers={"Expect": "100-continue"})
    assert resp.status == 201, resp.body
    assert request(proxy_url, "DELETE", f"{API}/networks/fta-client-{client}").status == 204


def test_proxy_allows_the_largest_contract_body(proxy_url, image, run_id, cleanup):
    """A create body of exactly the proxy's limit, 96 KiB (a bot's is at most 48 KiB by
    docs/contracts.md; a lab job's is larger), is inspected whole and forwarded."""
    client, bot = f"{run_id}l", f"{run_id}l"
    cleanup.networks.append(f"fta-client-{client}")
    cleanup.volumes.append(f"fta-bot-{bot}")
    cleanup.containers.append(f"fta-bot-{bot}")
    assert request(proxy_url, "POST", f"{API}/networks/create", network_body(client)).status == 201
    body = container_body(bot, client, image, env_kib=40)
    text = compact_json(body)
    body["Env"].append("PAD=" + "x" * (96 * 1024 - 7 - len(text.encode())))
    text = compact_json(body)
    assert len(text.encode()) == 96 * 1024
    resp = request(proxy_url, "POST", f"{API}/containers/create?name=fta-bot-{bot}", text)
    assert resp.status == 201, resp.body
    assert request(proxy_url, "DELETE", f"{API}/containers/fta-bot-{bot}?force=true").status == 204


def test_proxy_allows_a_bot_whose_cold_pages_may_swap(proxy_url, image, run_id, cleanup):
    """FTA_BOT_SWAP: the hardened body with MemorySwap above Memory (docs/density.md) passes,
    and the engine applies both limits."""
    client, bot = f"{run_id}w", f"{run_id}w"
    cleanup.networks.append(f"fta-client-{client}")
    cleanup.volumes.append(f"fta-bot-{bot}")
    cleanup.containers.append(f"fta-bot-{bot}")
    assert request(proxy_url, "POST", f"{API}/networks/create", network_body(client)).status == 201
    body = container_body(bot, client, image)
    body["HostConfig"]["Memory"], body["HostConfig"]["MemorySwap"] = 160 << 20, 480 << 20
    resp = request(proxy_url, "POST", f"{API}/containers/create?name=fta-bot-{bot}", compact_json(body))
    assert resp.status == 201, resp.body
    host = request(proxy_url, "GET", f"{API}/containers/fta-bot-{bot}/json").json()["HostConfig"]
    assert (host["Memory"], host["MemorySwap"]) == (160 << 20, 480 << 20)
    assert request(proxy_url, "DELETE", f"{API}/containers/fta-bot-{bot}?force=true").status == 204


def test_proxy_passes_a_bot_volume_with_its_cap(proxy_url, run_id, cleanup):
    """FTA_BOT_DISK_MB: the volume body with its one driver option, `size`, reaches the engine,
    formatted either way. An engine whose volumes have no project quotas (this sandbox's kernel
    has none) answers with its own error, never the proxy's; on the VM it makes the volume
    (Tests/system/vm)."""
    for n, text_of in enumerate((compact_json, lambda b: json.dumps(b, indent=2))):
        bot = f"{run_id}q{n}"
        cleanup.volumes.append(f"fta-bot-{bot}")
        body = dict(volume_body(bot, f"{run_id}q"), DriverOpts={"size": "256m"})
        resp = request(proxy_url, "POST", f"{API}/volumes/create", text_of(body))
        assert b"denied by fta socket proxy" not in resp.body, resp.body
        if resp.status == 201:
            assert request(proxy_url, "GET", f"{API}/volumes/fta-bot-{bot}").json()["Options"] == {"size": "256m"}
        else:
            assert resp.status == 400 and b"no quota support" in resp.body, (resp.status, resp.body)
