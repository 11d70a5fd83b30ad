#!/usr/bin/env bash
# Builds a second disk for the test VM that already holds Docker images: the guest's
# /var/lib/docker, made on the host at native speed.
#
# Usage: scripts/vm/build-docker-disk.sh IMAGE...      (prints the disk's directory last)
#        FTA_VM_IMAGES="IMAGE..." scripts/vm/vm.sh start   (builds or reuses it, and attaches it)
#
# Why: `docker load` inside the TCG guest is slow (the real Freqtrade image, 739 MiB, took
# 15 min: ssh decryption, hashing and unpacking all run emulated). Here the images are saved
# from the host's test engine, loaded into a throwaway dockerd on the host (Debian's, the same
# docker.io as in the guest) with its own data-root, and that data-root becomes an ext4 disk
# (mkfs.ext4 -d, no loop device). The guest mounts the disk labelled fta-docker on
# /var/lib/docker (see build-image.sh), so its Docker starts with the images in place.
#
# Environment:
#   FTA_VM_DIR   cache directory (default /var/lib/fta-test/vm)
#   DOCKER_HOST  the engine the images come from (default: FTA_TEST_DOCKER_HOST, else the
#                private test engine unix:///run/fta-test/docker.sock)
#
# Reruns are cheap: a disk made from the same image ids by the same script is reused.
set -Eeuo pipefail

CACHE=${FTA_VM_DIR:-/var/lib/fta-test/vm}
DISK_SIZE=8G
export DOCKER_HOST=${DOCKER_HOST:-${FTA_TEST_DOCKER_HOST:-unix:///run/fta-test/docker.sock}}
WORK=""
DAEMON_PID=""

say() { echo "build-docker-disk: $*" >&2; }
die() { say "error: $*"; exit 1; }

# The throwaway dockerd goes first, then its mounts, then the work tree (without crossing file
# systems, so nothing is deleted through a mount that is left).
cleanup() {
    if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill "$DAEMON_PID" 2>/dev/null || true
        for _ in $(seq 1 30); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 1; done
    fi
    [ -n "$WORK" ] && [ -d "$WORK" ] || return 0
    awk -v w="$WORK/" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r \
        | while read -r mnt; do umount -l "$mnt" 2>/dev/null || true; done
    if awk -v w="$WORK/" 'index($2, w) == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
        say "warning: mounts remain under $WORK; leaving it in place"
        return 0
    fi
    rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

[ $# -ge 1 ] || die "usage: $0 IMAGE..."
[ "$(id -u)" -eq 0 ] || die "must run as root"
for tool in docker dockerd mkfs.ext4 qemu-img curl flock; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found"
done
ids=()
for image in "$@"; do
    id=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null) \
        || die "$image is not in the engine at $DOCKER_HOST"
    ids+=("$image=$id")
done
mkdir -p "$CACHE/docker-disks"
exec 9>"$CACHE/build-docker-disk.lock"
flock 9
key=$({ cat "${BASH_SOURCE[0]}"; printf '%s\n' "${ids[@]}"; dockerd --version; } | sha256sum | cut -c1-16)
DISK_DIR=$CACHE/docker-disks/$key
if [ -f "$DISK_DIR/disk.qcow2" ]; then
    say "reusing $DISK_DIR ($*)"
    echo "$DISK_DIR"
    exit 0
fi

started=$(date +%s)
WORK=$(mktemp -d /var/tmp/fta-vm-docker-disk.XXXXXX)
mkdir -p "$WORK/data" "$WORK/exec"
say "saving $* from $DOCKER_HOST"
docker save -o "$WORK/images.tar" "$@"

# No network of its own (no bridge, no iptables): it only ever loads images. In a network
# namespace of its own: a dockerd started with `--bridge none` deletes the link named docker0
# where it runs, which in the host's namespace is the test engine's bridge (every later
# container on the default bridge, `docker build` among them, then fails with "could not find
# bridge docker0").
echo '{}' >"$WORK/daemon.json"
say "loading into a throwaway dockerd (data-root $WORK/data, its own network namespace)"
unshare --net dockerd --host "unix://$WORK/docker.sock" --data-root "$WORK/data" --exec-root "$WORK/exec" \
    --pidfile "$WORK/docker.pid" --config-file "$WORK/daemon.json" --storage-driver overlay2 \
    --bridge none --iptables=false --ip6tables=false --ip-masq=false >"$WORK/dockerd.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 1 60); do
    curl -fsS --max-time 3 --unix-socket "$WORK/docker.sock" http://docker/_ping >/dev/null 2>&1 && break
    kill -0 "$DAEMON_PID" 2>/dev/null || { tail -n 20 "$WORK/dockerd.log" >&2; die "the throwaway dockerd exited"; }
    sleep 1
done
DOCKER_HOST=unix://$WORK/docker.sock docker load -q -i "$WORK/images.tar" >&2
for image in "$@"; do
    DOCKER_HOST=unix://$WORK/docker.sock docker image inspect "$image" >/dev/null \
        || die "$image is missing after docker load"
done
kill "$DAEMON_PID"
for _ in $(seq 1 30); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 1; done
! kill -0 "$DAEMON_PID" 2>/dev/null || die "the throwaway dockerd did not stop"
DAEMON_PID=""
# Leftovers of this daemon's life that the guest's dockerd must not inherit.
rm -rf "$WORK/data/network" "$WORK/data/tmp" "$WORK/data/runtimes"

mkdir -p "$WORK/out"
truncate -s "$DISK_SIZE" "$WORK/docker.raw"
mkfs.ext4 -q -F -L fta-docker -d "$WORK/data" "$WORK/docker.raw"
qemu-img convert -f raw -O qcow2 "$WORK/docker.raw" "$WORK/out/disk.qcow2"
# Running VMs boot on overlays of it: it must never change.
chmod 0444 "$WORK/out/disk.qcow2"
printf '%s\n' "${ids[@]}" >"$WORK/out/images"
rm -rf "$DISK_DIR"
mv "$WORK/out" "$DISK_DIR"
say "built $DISK_DIR ($(du -sh "$DISK_DIR/disk.qcow2" | cut -f1)) in $(( $(date +%s) - started )) s"
echo "$DISK_DIR"
