#!/usr/bin/env bash
# Builds the disk image of the test VM: a 1 GiB "free-tier host" stand-in (issue 11).
#
# Usage: scripts/vm/build-image.sh            (prints the image directory on its last line)
#
# What is in the image: Debian 12 made by debootstrap, Debian's own kernel and initramfs,
# systemd as PID 1, openssh-server (root by key only, with a throwaway key pair made here), a
# serial console on ttyS0, systemd-networkd DHCP on the virtio NIC, and the Debian packages that
# install.sh's package step wants, pre-installed so that an install inside the VM needs no
# network. There is no Swift toolchain inside: the VM is what a fresh EC2 instance is.
#
# The image directory holds disk.qcow2 (ext4, written by `mkfs.ext4 -d`, so no loop device is
# needed), vmlinuz and initrd.img (copied out of the root for qemu's -kernel/-initrd),
# cmdline, the ssh key pair id_ed25519{,.pub}, known_hosts (the guest's host key, so ssh checks
# it strictly) and inputs (what it was built from). scripts/vm/vm.sh boots it.
#
# Nothing in the guest may talk to anything but the host: qemu's user network forwards any
# guest connection to the outside world, so the image carries an nftables table that drops
# every packet leaving its NIC unless it goes to the host (10.0.2.2) or is a DHCP request.
#
# Environment:
#   FTA_VM_DIR              cache directory (default /var/lib/fta-test/vm)
#   FTA_VM_DISK_SIZE        size of the sparse disk (default 8G)
#   FTA_DEBIAN_MIRROR       Debian mirror (default http://deb.debian.org/debian)
#   FTA_DEBIAN_SECURITY     Debian security mirror (default http://deb.debian.org/debian-security)
#   FTA_VM_REBUILD=1        rebuild even when an image from the same inputs exists
#
# Reruns are cheap: an image whose inputs (this script, the mirror, the disk size) are unchanged
# is reused as it is; the debootstrap root is cached separately, so a change below that step
# only redoes the package installation. Exit status 3 means a host tool is missing and could not
# be installed (the "missing component" of the system tests); any other failure is 1.
set -Eeuo pipefail

SUITE=bookworm
CACHE=${FTA_VM_DIR:-/var/lib/fta-test/vm}
DISK_SIZE=${FTA_VM_DISK_SIZE:-8G}
MIRROR=${FTA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${FTA_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
LOG=$CACHE/build-image.log

# debootstrap's own resolver is simple: it gets only what the system needs to boot and be
# reached; everything else goes in with apt inside the root, which resolves properly.
BOOTSTRAP_PACKAGES=systemd-sysv,udev,kmod,dbus,libpam-systemd
# The system: kernel, initramfs, ssh, the egress guard, and the tools a person uses on a host.
# zstd: initramfs-tools compresses with it when present (smaller and faster to unpack than gzip).
SYSTEM_PACKAGES=(linux-image-amd64 initramfs-tools zstd openssh-server nftables procps less
    e2fsprogs)
# What install.sh's package step installs on Debian 12 (ca-certificates curl jq sqlite3 openssl
# nginx haproxy iproute2 util-linux xfsprogs libjs-chart.js, docker.io, and docker-compose as
# Debian 12's Compose tool),
# with iptables for Docker and apparmor, which docker.io recommends and a Debian kernel enables
# (without apparmor_parser Docker cannot load its default profile). systemd-zram-generator is
# bookworm's zram tool: inert until a config file asks for a device, so it changes nothing here
# but lets install.sh set up zram without the network.
FTA_PACKAGES=(ca-certificates curl jq sqlite3 openssl nginx haproxy iproute2 util-linux
    docker.io docker-compose iptables apparmor systemd-zram-generator xfsprogs libjs-chart.js)
# Enabled by their packages, but on a fresh host they are not running before install.sh runs;
# install.sh enables and starts what it needs.
DISABLED_UNITS=(docker.service docker.socket containerd.service nginx.service haproxy.service)
# Timers that would reach for the internet (and are pointless in a throwaway VM), and e2scrub's
# units (they check LVM snapshots, of which there are none; e2scrub_reap took 23 s of a TCG boot).
MASKED_UNITS=(apt-daily.timer apt-daily-upgrade.timer e2scrub_reap.service e2scrub_all.timer)
# net.ifnames=0: the NIC is eth0, a name the egress guard can match on.
CMDLINE="root=/dev/vda rw console=ttyS0,115200n8 net.ifnames=0 panic=10"

STEPS=7
STEP=0
STEP_NAME="start"
STEP_START=0
BUILD_START=$(date +%s%N)
WORK=""
LOG_STARTED=0

say() { echo "build-image: $*" >&2; }

elapsed() { # nanosecond timestamp -> "12.3 s"
    local ms=$(( ($(date +%s%N) - $1) / 1000000 ))
    printf '%d.%d s' $(( ms / 1000 )) $(( ms % 1000 / 100 ))
}

step() {
    if [ "$STEP" -gt 0 ]; then say "      done in $(elapsed "$STEP_START")"; fi
    STEP=$(( STEP + 1 ))
    STEP_NAME=$1
    STEP_START=$(date +%s%N)
    say "[$STEP/$STEPS] $STEP_NAME"
}

show_log_tail() {
    if [ "$LOG_STARTED" = 1 ] && [ -s "$LOG" ]; then
        say "last lines of $LOG:"
        tail -n 15 "$LOG" >&2 || true
    fi
}

fail() {
    say "error: step $STEP/$STEPS ($STEP_NAME) failed: $*"
    show_log_tail
    exit 1
}

missing_tool() {
    say "error: $*"
    exit 3
}

on_error() {
    local rc=$1 line=$2
    trap - ERR
    say "error: step $STEP/$STEPS ($STEP_NAME) failed (exit $rc at line $line)"
    show_log_tail
    exit "$rc"
}
trap 'on_error $? $LINENO' ERR

# Never leaves a mount behind, and never deletes through one: the work tree is only removed
# once nothing is mounted below it, and then without crossing file systems.
cleanup() {
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

sha256() { sha256sum | cut -d' ' -f1; }

# Runs a command inside the root with a clean environment (the host's variables name host paths).
in_root() {
    local envs=(HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin) name
    for name in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
        if [ -n "${!name:-}" ]; then envs+=("$name=${!name}"); fi
    done
    env -i "${envs[@]}" chroot "$ROOT" "$@"
}

# The kernel's postinst scripts and update-initramfs want /proc, /sys and /dev in the root.
mount_root() {
    mount -t proc proc "$ROOT/proc"
    mount -t sysfs sysfs "$ROOT/sys"
    mount --bind /dev "$ROOT/dev"
    mount -t devpts devpts "$ROOT/dev/pts"
}
umount_root() { umount "$ROOT/dev/pts" "$ROOT/dev" "$ROOT/sys" "$ROOT/proc"; }

# Installs the packages into $ROOT with apt (inside the root, from the Debian mirror) and records
# the kernel version in /etc/fta-vm-kernel-version.
install_packages() {
    local kernel_version
    printf '%s\n' "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" \
        "deb $SECURITY_MIRROR $SUITE-security main" >"$ROOT/etc/apt/sources.list"
    # Packages' postinst scripts must not start daemons inside the build root.
    printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
    chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
    cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
    mount_root
    in_root apt-get update >>"$LOG" 2>&1 || fail "apt-get update in the root failed; see $LOG"
    in_root apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confold \
        "${SYSTEM_PACKAGES[@]}" "${FTA_PACKAGES[@]}" >>"$LOG" 2>&1 \
        || fail "apt-get install in the root failed; see $LOG"
    in_root apt-get clean
    umount_root
    rm -f "$ROOT/usr/sbin/policy-rc.d"
    # shellcheck disable=SC2016 # ${Depends} is dpkg-query's field, not a shell variable
    kernel_version=$(in_root dpkg-query -W -f='${Depends}' linux-image-amd64 | sed 's/^linux-image-\([^ ,]*\).*/\1/')
    [ -f "$ROOT/boot/vmlinuz-$kernel_version" ] || fail "no kernel $kernel_version in /boot of the root"
    echo "$kernel_version" >"$ROOT/etc/fta-vm-kernel-version"
}

# A small initramfs, made for this VM: only the modules that find and mount the root disk
# (virtio PCI, virtio block, ext4 and its checksum), instead of Debian's MODULES=most (about
# 750 modules, which TCG takes some 15 s to unpack and probe). RESUME=none: there is no
# hibernation image to look for.
make_initramfs() {
    local initramfs_files
    mkdir -p "$ROOT/etc/initramfs-tools/conf.d"
    printf '%s\n' MODULES=list RESUME=none >"$ROOT/etc/initramfs-tools/conf.d/fta-vm.conf"
    printf '%s\n' '# The test VM boots from a virtio disk with ext4 (scripts/vm/build-image.sh).' \
        virtio_pci virtio_blk ext4 crc32c_generic >"$ROOT/etc/initramfs-tools/modules"
    mount_root
    in_root update-initramfs -u -k "$kernel_version" >>"$LOG" 2>&1 || fail "update-initramfs failed; see $LOG"
    # (captured first: grep -q would stop reading early and fail the pipeline under pipefail)
    initramfs_files=$(in_root lsinitramfs "/boot/initrd.img-$kernel_version")
    umount_root
    grep -q '/virtio_blk\.ko' <<<"$initramfs_files" \
        || fail "the initramfs has no virtio_blk module: the VM could not find its disk"
    say "      initramfs: $(grep -c '\.ko' <<<"$initramfs_files") modules, $(du -h "$ROOT/boot/initrd.img-$kernel_version" | cut -f1)"
}

# ---------------------------------------------------------------------------------------------
step "preflight: host tools, inputs"
[ "$(id -u)" -eq 0 ] || missing_tool "must run as root (debootstrap, chroot and mounts need it)"
# Host tool -> the Debian package that brings it. vm.sh needs qemu; the build needs the rest.
declare -A HOST_TOOLS=([debootstrap]=debootstrap [qemu-system-x86_64]=qemu-system-x86
    [qemu-img]=qemu-utils [mkfs.ext4]=e2fsprogs [ssh-keygen]=openssh-client [ssh]=openssh-client
    [flock]=util-linux)
need=()
for tool in "${!HOST_TOOLS[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || need+=("${HOST_TOOLS[$tool]}")
done
mkdir -p "$CACHE"
# The log of the last real build stays until the next one starts (a reuse only appends).
LOG_STARTED=1
if ((${#need[@]})); then
    command -v apt-get >/dev/null 2>&1 || missing_tool "missing ${need[*]} and no apt-get to install them"
    mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
    say "      installing ${need[*]} from Debian"
    { DEBIAN_FRONTEND=noninteractive apt-get update \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"; } >>"$LOG" 2>&1 \
        || missing_tool "apt-get could not install ${need[*]}; see $LOG"
fi
# One build at a time per cache: parallel runs wait here and then reuse the image.
exec 9>"$CACHE/build-image.lock"
flock 9
INPUTS=$({ cat "${BASH_SOURCE[0]}"; printf '%s\n' "$SUITE" "$MIRROR" "$SECURITY_MIRROR" "$DISK_SIZE"; } | sha256)
IMAGE=$CACHE/images/${INPUTS:0:16}
say "      debian $SUITE from $MIRROR, disk $DISK_SIZE, inputs sha256:$INPUTS"

# ---------------------------------------------------------------------------------------------
step "reuse check"
if [ "${FTA_VM_REBUILD:-0}" != 1 ] && [ "$(cat "$IMAGE/inputs" 2>/dev/null)" = "$INPUTS" ]; then
    say "      $IMAGE already built from these inputs; reusing it"
    say "      total $(elapsed "$BUILD_START")"
    echo "$IMAGE"
    exit 0
fi
say "      no image from these inputs; building $IMAGE"
: >"$LOG"
WORK=$(mktemp -d /var/tmp/fta-vm-image.XXXXXX)
ROOT=$WORK/root
mkdir "$ROOT"

# ---------------------------------------------------------------------------------------------
step "base root: debootstrap $SUITE minbase + $BOOTSTRAP_PACKAGES"
arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
[ "$arch" = amd64 ] || fail "the VM is x86_64 (qemu-system-x86_64); this host is $arch"
base_key=$(printf '%s\n' "$SUITE" minbase "$BOOTSTRAP_PACKAGES" "$MIRROR" | sha256 | cut -c1-16)
BASE_TAR=$CACHE/debootstrap-$SUITE-$base_key.tar
if [ -s "$BASE_TAR" ]; then
    say "      from cache $BASE_TAR"
else
    say "      debootstrap from $MIRROR (a few minutes; log $LOG)"
    debootstrap --variant=minbase --include="$BOOTSTRAP_PACKAGES" "$SUITE" "$ROOT" "$MIRROR" >>"$LOG" 2>&1 \
        || fail "debootstrap $SUITE from $MIRROR failed; see $LOG"
    rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*
    tar --numeric-owner -C "$ROOT" -cf "$BASE_TAR.partial" .
    mv "$BASE_TAR.partial" "$BASE_TAR"
    rm -rf --one-file-system "$ROOT"
    mkdir "$ROOT"
    say "      cached as $BASE_TAR"
fi
tar --numeric-owner -C "$ROOT" -xpf "$BASE_TAR"

# ---------------------------------------------------------------------------------------------
step "packages: ${SYSTEM_PACKAGES[*]} ${FTA_PACKAGES[*]}"
# The installed root is cached too (keyed by the base and everything this step puts in), so
# that a change in the configuration below only redoes the configuration and the disk.
packages_key=$(printf '%s\n' "$base_key" "${SYSTEM_PACKAGES[@]}" "${FTA_PACKAGES[@]}" "$SECURITY_MIRROR" \
    "$(sed -n '/^install_packages()/,/^}/p' "${BASH_SOURCE[0]}")" | sha256 | cut -c1-16)
PACKAGES_TAR=$CACHE/packages-$SUITE-$packages_key.tar
if [ -s "$PACKAGES_TAR" ]; then
    say "      from cache $PACKAGES_TAR"
    rm -rf --one-file-system "$ROOT"
    mkdir "$ROOT"
    tar --numeric-owner -C "$ROOT" -xpf "$PACKAGES_TAR"
else
    install_packages
    tar --numeric-owner -C "$ROOT" -cf "$PACKAGES_TAR.partial" .
    mv "$PACKAGES_TAR.partial" "$PACKAGES_TAR"
    # Only the newest installed root is worth keeping (each is about a gigabyte).
    for old in "$CACHE"/packages-*.tar; do [ "$old" = "$PACKAGES_TAR" ] || rm -f "$old"; done
fi
kernel_version=$(cat "$ROOT/etc/fta-vm-kernel-version")
# shellcheck disable=SC2016 # ${Version} is dpkg-query's field
say "      kernel $kernel_version, docker.io $(in_root dpkg-query -W -f='${Version}' docker.io)"

# ---------------------------------------------------------------------------------------------
step "system configuration: initramfs, disk, network, egress guard, ssh, console"
make_initramfs
cat >"$ROOT/etc/fstab" <<'EOF'
# The whole disk is one ext4 file system (no partition table), see scripts/vm/build-image.sh.
/dev/vda  /  ext4  errors=remount-ro  0  1
EOF
# Docker's data-root with images already loaded, when vm.sh attaches one (build-docker-disk.sh)
# and says so on the kernel command line. Not an fstab line: a "nofail" device timeout short
# enough not to hold up Docker without the disk is too short for udev under TCG, which then
# leaves the disk unmounted; with the condition, a boot without the disk skips the mount at
# once, and a boot with it waits for it like for any local file system.
cat >"$ROOT/etc/systemd/system/var-lib-docker.mount" <<'EOF'
[Unit]
Description=Docker's data-root from the test VM's image disk
ConditionKernelCommandLine=fta_vm.docker_disk
Before=local-fs.target

[Mount]
What=/dev/disk/by-label/fta-docker
Where=/var/lib/docker
Type=ext4

[Install]
WantedBy=local-fs.target
EOF
in_root systemctl enable var-lib-docker.mount >>"$LOG" 2>&1
# Docker must not start on the root disk's empty /var/lib/docker while the image disk is on its
# way (ordering only: without the disk, Docker starts as usual).
mkdir -p "$ROOT/etc/systemd/system/docker.service.d"
cat >"$ROOT/etc/systemd/system/docker.service.d/fta-vm.conf" <<'EOF'
[Unit]
After=var-lib-docker.mount
EOF
echo fta-vm >"$ROOT/etc/hostname"
cat >"$ROOT/etc/hosts" <<'EOF'
127.0.0.1 localhost
127.0.1.1 fta-vm
::1 localhost ip6-localhost ip6-loopback
EOF
# A machine id of its own: an empty one would make systemd treat every boot of a fresh overlay as
# a first boot and apply the presets, which re-enables the units disabled below.
od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$ROOT/etc/machine-id"
echo >>"$ROOT/etc/machine-id"

# DHCP from qemu's user network, IPv4 only. No DNS server is taken: nothing in the VM needs a
# name resolved, and slirp's resolver would query the outside world for it.
cat >"$ROOT/etc/systemd/network/10-uplink.network" <<'EOF'
[Match]
Name=eth0

[Network]
DHCP=ipv4
LinkLocalAddressing=no
IPv6AcceptRA=no

[DHCPv4]
UseDNS=no
UseNTP=no
UseDomains=no
EOF
echo '# No DNS in the test VM: see /etc/systemd/network/10-uplink.network' >"$ROOT/etc/resolv.conf"
in_root systemctl enable systemd-networkd.service >>"$LOG" 2>&1
# Do not wait for every link, only for the uplink (the Docker bridges never come "online").
mkdir -p "$ROOT/etc/systemd/system/systemd-networkd-wait-online.service.d"
cat >"$ROOT/etc/systemd/system/systemd-networkd-wait-online.service.d/fta-vm.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=/lib/systemd/systemd-networkd-wait-online --interface=eth0 --timeout=60
EOF

# The egress guard. Its own table, loaded by its own unit: Debian's nftables.service would
# `flush ruleset` and take Docker's rules with it. Forwarded packets are guarded too, so that
# containers in the VM reach the host's loopback services (10.0.2.2) and nothing else.
mkdir -p "$ROOT/etc/fta-vm"
cat >"$ROOT/etc/fta-vm/egress.nft" <<'EOF'
# Only the host (qemu's 10.0.2.2, which is the host's loopback) and DHCP leave eth0.
table inet fta_vm_egress
delete table inet fta_vm_egress
table inet fta_vm_egress {
    chain output {
        type filter hook output priority 0; policy accept;
        oifname "eth0" ip daddr 10.0.2.2 accept
        oifname "eth0" udp sport 68 udp dport 67 accept
        oifname "eth0" counter drop
    }
    chain forward {
        type filter hook forward priority 0; policy accept;
        oifname "eth0" ip daddr 10.0.2.2 accept
        oifname "eth0" counter drop
    }
}
EOF
cat >"$ROOT/etc/systemd/system/fta-vm-egress.service" <<'EOF'
[Unit]
Description=Test VM egress guard: only the host (10.0.2.2) is reachable
DefaultDependencies=no
Before=network-pre.target
Wants=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/nft -f /etc/fta-vm/egress.nft

[Install]
WantedBy=sysinit.target
EOF
in_root systemctl enable fta-vm-egress.service >>"$LOG" 2>&1

# ssh: root by key only, with a throwaway key pair made for this image; the guest's host key
# goes into known_hosts so that the host side checks it strictly.
mkdir -p "$ROOT/root/.ssh" "$WORK/out"
chmod 0700 "$ROOT/root/.ssh"
ssh-keygen -q -t ed25519 -N '' -C fta-test-vm -f "$WORK/out/id_ed25519"
cp "$WORK/out/id_ed25519.pub" "$ROOT/root/.ssh/authorized_keys"
chmod 0600 "$ROOT/root/.ssh/authorized_keys"
rm -f "$ROOT"/etc/ssh/ssh_host_*
ssh-keygen -q -t ed25519 -N '' -C fta-vm -f "$ROOT/etc/ssh/ssh_host_ed25519_key"
echo "fta-vm $(cut -d' ' -f1,2 "$ROOT/etc/ssh/ssh_host_ed25519_key.pub")" >"$WORK/out/known_hosts"
cat >"$ROOT/etc/ssh/sshd_config.d/fta-vm.conf" <<'EOF'
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
HostKey /etc/ssh/ssh_host_ed25519_key
UseDNS no
EOF
in_root passwd -l root >>"$LOG" 2>&1
# The serial console is the fallback when ssh is down: it logs in root by itself. It is reached
# only through vm.sh's unix socket (root-only), never over a network.
mkdir -p "$ROOT/etc/systemd/system/serial-getty@ttyS0.service.d"
cat >"$ROOT/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 %I $TERM
EOF

# Debian's systemd-zram-generator ships a config that makes a zram swap of half the memory on
# every boot. A fresh host has no swap: the package stays (install.sh can configure zram
# without the network), its device does not.
cat >"$ROOT/etc/systemd/zram-generator.conf" <<'EOF'
# No zram device by default in the test VM (scripts/vm/build-image.sh): a fresh host has no
# swap. Add a [zram0] section (see zram-generator.conf(5)) to have one.
EOF

for unit in "${DISABLED_UNITS[@]}"; do in_root systemctl disable "$unit" >>"$LOG" 2>&1 || true; done
in_root systemctl mask "${MASKED_UNITS[@]}" >>"$LOG" 2>&1
# Nothing of the host's build stays inside.
rm -rf "$ROOT"/tmp/* "$ROOT"/var/tmp/* "$ROOT"/var/log/apt/* "$ROOT"/root/.bash_history
find "$ROOT/var/log" -type f -name '*.log' -exec truncate -s 0 {} +
if compgen -G "$ROOT/opt/swift*" >/dev/null || [ -n "$(find "$ROOT/usr" -name 'swift*' -type f -perm -u+x -print -quit)" ]; then
    fail "a Swift binary ended up in the image"
fi

# ---------------------------------------------------------------------------------------------
step "disk: $DISK_SIZE sparse ext4 from the root, as qcow2"
cp "$ROOT/boot/vmlinuz-$kernel_version" "$WORK/out/vmlinuz"
cp "$ROOT/boot/initrd.img-$kernel_version" "$WORK/out/initrd.img"
echo "$CMDLINE" >"$WORK/out/cmdline"
echo "$kernel_version" >"$WORK/out/kernel-version"
truncate -s "$DISK_SIZE" "$WORK/disk.raw"
mkfs.ext4 -q -F -L fta-vm-root -d "$ROOT" "$WORK/disk.raw" >>"$LOG" 2>&1 \
    || fail "mkfs.ext4 -d failed; see $LOG"
qemu-img convert -f raw -O qcow2 "$WORK/disk.raw" "$WORK/out/disk.qcow2" >>"$LOG" 2>&1
rm -f "$WORK/disk.raw"
# Running VMs boot on overlays whose backing file is the image's disk: it must never change.
chmod 0444 "$WORK/out/disk.qcow2"

# ---------------------------------------------------------------------------------------------
step "publish $IMAGE"
mkdir -p "$CACHE/images"
rm -rf "$IMAGE"
echo "$INPUTS" >"$WORK/out/inputs"
mv "$WORK/out" "$IMAGE"
# Older images go, unless a VM that runs on one of them still needs its disk.
for old in "$CACHE"/images/*; do
    [ "$old" = "$IMAGE" ] && continue
    if cat "$CACHE"/run/*/image 2>/dev/null | grep -qxF "$old"; then continue; fi
    rm -rf "$old"
done
say "      $(du -h --apparent-size "$IMAGE/disk.qcow2" | cut -f1) qcow2 ($(du -sh "$IMAGE/disk.qcow2" | cut -f1) on disk)"
say "      total $(elapsed "$BUILD_START")"
echo "$IMAGE"
