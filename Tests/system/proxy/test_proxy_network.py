"""A bot cannot reach the socket proxy.

A busybox container on an fta-client-* network (created like fta creates it) probes the proxy's
address from inside: for a unix-socket proxy, the usual proxy ports on the bridge gateway and on
every host address (and the socket path must not exist in the container); for a loopback TCP
proxy, its port on 127.0.0.1 (the container's own loopback), the gateway and every host address.
A listener the test opens on the host's wildcard address is the positive control: the same probe
must reach it, otherwise "unreachable" would prove nothing.
"""

from __future__ import annotations

import http.server
import subprocess
import threading
import urllib.parse

from fta_proxy_support import network_body

PROBE = r'''
# TCP-level probe: busybox nc reports "can't connect" (refused, unreachable) or "timed out";
# anything else means the connection was accepted. (The timeout applet bounds an accepted
# connection that stays idle; busybox wget -T would crash in Debian's busybox-static 1.35.)
probe() {
    out=$(timeout 4 nc -w 2 "$1" "$2" </dev/null 2>&1)
    case "$out" in
        *"can't connect"*|*"timed out"*) echo "CLOSED $1:$2" ;;
        *) echo "OPEN $1:$2 $out" ;;
    esac
}
'''


def host_ipv4_addresses() -> list[str]:
    out = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True, check=True).stdout
    addrs = [line.split()[3].split("/")[0] for line in out.splitlines()]
    return [a for a in addrs if not a.startswith("127.")]


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"OK")

    def log_message(self, *args):
        pass


def test_proxy_is_unreachable_from_a_bot_network(engine, image, proxy_url, run_id, cleanup):
    client = f"{run_id}n"
    net = f"fta-client-{client}"
    cleanup.networks.append(net)
    engine.call("POST", "/networks/create", network_body(client))
    gateway = engine.get(f"/networks/{net}")["IPAM"]["Config"][0]["Gateway"]

    control = http.server.ThreadingHTTPServer(("0.0.0.0", 0), _Ok)
    threading.Thread(target=control.serve_forever, daemon=True).start()
    control_port = control.server_address[1]

    parsed = urllib.parse.urlsplit(proxy_url)
    hosts = [gateway] + [a for a in host_ipv4_addresses() if a != gateway]
    if parsed.scheme == "unix":
        # Nothing listens on the network at all; probe where a proxy usually would.
        ports = [2375, 2376, 23750]
        targets = [(h, p) for h in hosts for p in ports]
        socket_check = f'if [ -e "{parsed.path}" ]; then echo "SOCKET visible"; else echo "SOCKET absent"; fi'
    else:
        port = parsed.port
        targets = [("127.0.0.1", port)] + [(h, port) for h in hosts]
        socket_check = "echo 'SOCKET absent'"

    script = PROBE + "\n".join([f"probe {gateway} {control_port}"] + [f"probe {h} {p}" for h, p in targets]
                               + [socket_check])
    try:
        code, out = engine.run(f"fta-bot-{run_id}n", image, script, network=net, timeout=180)
    finally:
        control.shutdown()
    lines = out.splitlines()
    assert code == 0, out
    assert any(ln.startswith(f"OPEN {gateway}:{control_port}") for ln in lines), f"positive control failed, probe proves nothing:\n{out}"
    opened = [ln for ln in lines if ln.startswith("OPEN") and f":{control_port}" not in ln]
    assert not opened, f"the proxy's address is reachable from a bot network:\n{out}"
    assert len([ln for ln in lines if ln.startswith("CLOSED")]) == len(targets), out
    assert "SOCKET absent" in lines
