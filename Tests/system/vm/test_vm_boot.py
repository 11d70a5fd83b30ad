"""The test VM is the 1 GiB free-tier host it stands for (issue 11).

It boots Debian 12 under systemd with 1 GiB and 2 vCPUs and no Swift toolchain, reaches the
host's loopback (10.0.2.2) and drops what goes elsewhere, runs a container from an image it was given
without a registry, survives a reboot on the same disk, and stops.
The tests run in file order on one VM: the reboot and stop tests come last.
"""

from __future__ import annotations

import http.server
import secrets
import shlex
import threading

import pytest

from fta_vm_support import BOOT_TIMEOUT_S


class TokenHandler(http.server.BaseHTTPRequestHandler):
    """Answers every GET with the server's token, so a reply proves which server answered."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        body = self.server.token.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback_server():
    """A server on the host's loopback only, with a random token."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TokenHandler)
    server.token = secrets.token_hex(16)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_pid1_is_systemd(vm):
    assert vm.out("cat /proc/1/comm") == "systemd"
    assert vm.out("readlink -f /proc/1/exe") == "/usr/lib/systemd/systemd"
    assert vm.out("systemctl is-system-running") == "running"


def test_memory_is_one_gibibyte(vm):
    mem_total_kib = int(vm.out("awk '/^MemTotal:/ { print $2 }' /proc/meminfo"))
    assert 900 <= mem_total_kib / 1024 <= 1024, f"MemTotal {mem_total_kib} kB"


def test_two_vcpus(vm):
    assert vm.out("nproc") == "2"


def test_no_swift_toolchain(vm):
    # Both the non-interactive PATH (what vm.sh ssh gets) and a login shell's.
    for shell in ("sh -c", "bash -lc"):
        found = vm.ssh(f"{shell} 'IFS=:; for d in $PATH; do ls -d \"$d\"/swift* 2>/dev/null; done; true'").stdout
        assert found.strip() == "", f"swift binaries in the guest's PATH ({shell}): {found}"
    assert vm.ssh("command -v swift swiftc", check=False).returncode != 0
    assert vm.ssh("test -e /opt/swift", check=False).returncode != 0


def test_guest_reaches_the_host_loopback_as_10_0_2_2(vm, loopback_server):
    port = loopback_server.server_address[1]
    reply = vm.ssh(f"curl -fsS --max-time 30 http://10.0.2.2:{port}/", timeout=60)
    assert reply.stdout == loopback_server.token


# The guard is proven with packets of an IP protocol that qemu's user network does not carry
# (253, reserved for experiments): slirp only relays TCP, UDP and ICMP and silently drops the
# rest, so even a broken guard could not send such a probe anywhere. The probes target
# 10.0.2.99, an address of the VM's own virtual network.
RAW_PROBE = ("python3 -c \"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 253); "
             "s.sendto(b'fta-probe', ('{address}', 0))\"")


def drop_count(vm, chain: str) -> int:
    return int(vm.out(f"nft list chain inet fta_vm_egress {chain} | awk '/counter/ && /drop/ {{ print $5 }}'"))


def test_egress_guard_drops_the_guests_packets_to_anything_but_the_host(vm):
    before = drop_count(vm, "output")
    vm.ssh(RAW_PROBE.format(address="10.0.2.2"))
    assert drop_count(vm, "output") == before, "a packet to the host (10.0.2.2) was dropped"
    # A locally sent packet that the output hook drops fails its sendto() with EPERM.
    probe = vm.ssh(RAW_PROBE.format(address="10.0.2.99"), check=False)
    assert "PermissionError" in probe.stderr, probe.stdout + probe.stderr
    assert drop_count(vm, "output") == before + 1, "the packet to 10.0.2.99 was not dropped"


def test_egress_guard_drops_forwarded_packets_to_anything_but_the_host(vm):
    # A network namespace routed through the guest stands for a container: its packets leave
    # eth0 through the forward hook, as the bots' do.
    setup = " && ".join([
        "ip netns add fta-probe",
        "ip link add fta-probe0 type veth peer name fta-probe1",
        "ip link set fta-probe1 netns fta-probe",
        "ip addr add 192.168.253.1/30 dev fta-probe0",
        "ip link set fta-probe0 up",
        "ip -n fta-probe addr add 192.168.253.2/30 dev fta-probe1",
        "ip -n fta-probe link set fta-probe1 up",
        "ip -n fta-probe route add default via 192.168.253.1",
        "sysctl -qw net.ipv4.ip_forward=1",
    ])
    vm.ssh(setup)
    try:
        before = drop_count(vm, "forward")
        vm.ssh("ip netns exec fta-probe " + RAW_PROBE.format(address="10.0.2.99"))
        assert drop_count(vm, "forward") == before + 1, "the forwarded packet to 10.0.2.99 was not dropped"
    finally:
        vm.ssh("ip netns del fta-probe; ip link del fta-probe0", check=False)


def test_container_from_the_image_disk_reaches_the_host(vm, loopback_server):
    # The image disk is mounted before Docker starts, so the guest's Docker has the image
    # without a registry and without a slow `docker load` under TCG.
    assert vm.out("findmnt -n -o SOURCE /var/lib/docker") == "/dev/vdb"
    vm.timed("docker-start", "ssh", "systemctl start docker", timeout=300)
    # A container on Docker's bridge, as the bots are, reaches a server on the host's loopback
    # (the market simulator's place) through 10.0.2.2. (busybox nc, not wget: the static
    # busybox's wget crashes resolving even an IP address without the image's NSS libraries.)
    port = loopback_server.server_address[1]
    script = f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 20 10.0.2.2 {port}"
    reply = vm.out(f"docker run --rm --entrypoint /bin/sh {vm.images[0]} -c {shlex.quote(script)}",
                   timeout=300)
    assert loopback_server.token in reply, reply


def test_reboot_brings_ssh_back_on_the_same_disk(vm):
    marker = secrets.token_hex(8)
    vm.ssh(f"echo {marker} > /root/reboot-marker && sync")
    boot_before = vm.out("cat /proc/sys/kernel/random/boot_id")
    vm.timed("reboot", "reboot", timeout=BOOT_TIMEOUT_S * 2 + 60)
    assert vm.out("cat /proc/sys/kernel/random/boot_id") != boot_before
    assert vm.out("cat /root/reboot-marker") == marker
    assert vm.out("systemctl is-system-running") == "running"
    # Docker's data-root (the image disk) is back too.
    assert vm.out("findmnt -n -o SOURCE /var/lib/docker") == "/dev/vdb"


def test_stop_powers_the_vm_off(vm):
    vm.timed("stop", "stop", timeout=180)
    status = vm.script("status", timeout=30, check=False)
    assert status.returncode == 3, status.stdout + status.stderr
    assert "stopped" in status.stdout
