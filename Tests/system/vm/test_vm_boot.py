"""The test VM is the 1 GiB free-tier host it stands for (issue 11).

It boots Debian 12 under systemd with 1 GiB and 2 vCPUs and no Swift toolchain, reaches the
host's loopback (10.0.2.2) and nothing else, runs a container from an image it was given
without a registry, survives a reboot on the same disk, and stops.
The tests run in file order on one VM: the reboot and stop tests come last.
"""

from __future__ import annotations

import http.server
import secrets
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


def test_egress_guard_drops_everything_but_the_host(vm, loopback_server):
    # qemu's user network maps every address of its 10.0.2.0/24 but the DNS one to the host's
    # loopback, so 10.0.2.99 would reach the same server as 10.0.2.2: without the guard this
    # request succeeds. The attempt never leaves the machine either way.
    port = loopback_server.server_address[1]
    drops = "nft list chain inet fta_vm_egress output | awk '/counter/ && /drop/ { print $5 }'"
    before = int(vm.out(drops))
    attempt = vm.ssh(f"curl -fsS --max-time 10 http://10.0.2.99:{port}/", timeout=60, check=False)
    assert attempt.returncode != 0, "the guest reached 10.0.2.99: the egress guard let it through"
    assert loopback_server.token not in attempt.stdout
    assert int(vm.out(drops)) > before, "the egress guard's drop counter did not move"


def test_preloaded_image_runs_in_the_guest(vm):
    # The image disk is mounted before Docker starts, so the guest's Docker has the image
    # without a registry and without a slow `docker load` under TCG.
    assert vm.out("findmnt -n -o SOURCE /var/lib/docker") == "/dev/vdb"
    vm.timed("docker-start", "ssh", "systemctl start docker", timeout=300)
    image = vm.images[0]
    reply = vm.out(f"docker run --rm --network none --entrypoint /bin/sh {image} -c 'echo ran-in-vm'",
                   timeout=300)
    assert reply == "ran-in-vm"


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
