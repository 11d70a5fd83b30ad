#!/usr/bin/env bash
# Runs the 1 GiB Debian 12 test VM (issue 11) that scripts/vm/build-image.sh builds.
#
# Usage: scripts/vm/vm.sh COMMAND [ARGS]
#   start              boot a VM on a fresh copy-on-write overlay of the image (builds or reuses
#                      the image first); returns once qemu runs, see wait-ready
#   wait-ready         wait (bounded) until ssh answers and systemd has finished booting;
#                      prints the boot time and the system state (running/degraded)
#   status             is it running; its ports, overlay and boot id
#   env                shell assignments: FTA_VM_SSH_PORT, FTA_VM_HTTP_PORT, FTA_VM_SSH_KEY, ...
#   ssh [CMD...]       run CMD in the guest as root (ssh's own rules: the words are joined and
#                      run by the guest's shell); stdin/stdout/stderr and the exit status pass
#                      through; without CMD and on a terminal, an interactive shell
#   copy-in SRC DST    copy a host file or directory to the path DST in the guest (DST is what
#                      SRC becomes; its parent is created; modes are kept)
#   load-image IMAGE.. docker save IMAGE from the host's test engine | docker load in the guest
#                      (no registry); starts the guest's Docker first if it is not running
#   tunnel PORT [GPORT] forward host loopback PORT to the guest's loopback GPORT (default 8081,
#                      nginx's loopback-only port) over ssh, in the foreground until killed: the
#                      way an operator reaches a loopback-only install (qemu's forward of the
#                      HTTP port lands on the guest's eth0 address, where nginx does not listen)
#   reboot             reboot the guest (same overlay) and wait until it is back
#   stop               shut down cleanly (ssh poweroff), kill after a timeout; drops the overlay
#   console-log        the serial console's log (kernel and systemd messages, login prompt)
#
# Environment:
#   FTA_VM_NAME          instance name, so that several VMs can run at once (default "default")
#   FTA_VM_DIR           cache directory shared with build-image.sh (default /var/lib/fta-test/vm)
#   FTA_VM_ACCEL         tcg (default) or kvm. This machine has /dev/kvm, but KVM guests hang at
#                        boot here, so TCG is the default; with kvm, wait-ready's timeout still holds
#   FTA_VM_CPU           qemu -cpu model (default: max under TCG; under KVM host without
#                        arch-capabilities, an MSR that nested KVM here refuses to set)
#   FTA_VM_MEMORY_MB     guest memory (default 1024: the free-tier host)
#   FTA_VM_CPUS          guest vCPUs (default 2)
#   FTA_VM_SSH_PORT      host loopback port forwarded to the guest's sshd (default: a free one)
#   FTA_VM_HTTP_PORT     host loopback port forwarded to the guest's nginx on 8081 (default: free)
#   FTA_VM_BOOT_TIMEOUT  seconds wait-ready and reboot wait (default 600; TCG is slow)
#   FTA_VM_STOP_TIMEOUT  seconds stop waits for a clean poweroff before killing (default 90)
#   FTA_VM_KEEP_DISK=1   start boots on the existing overlay, and stop keeps it
#   FTA_VM_IMAGES        Docker images (from DOCKER_HOST) the guest starts with: start attaches
#                        a second disk that build-docker-disk.sh made, mounted on /var/lib/docker
#                        (much faster than load-image under TCG)
#   DOCKER_HOST          the engine load-image and FTA_VM_IMAGES take images from (default: FTA_TEST_DOCKER_HOST, else
#                        the private test engine unix:///run/fta-test/docker.sock)
#
# The guest reaches the host's loopback as 10.0.2.2 (qemu's user network); nothing else leaves
# the guest (see build-image.sh's egress guard). Only host loopback ports are forwarded in.
# The serial console is also a unix socket, $STATE/serial.sock, logged in as root by itself:
# `socat -,raw,echo=0 UNIX-CONNECT:$STATE/serial.sock` is the way in when ssh is down.
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${FTA_VM_DIR:-/var/lib/fta-test/vm}
NAME=${FTA_VM_NAME:-default}
[[ $NAME =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "vm: FTA_VM_NAME may hold only letters, digits, . _ -" >&2; exit 2; }
STATE=$CACHE/run/$NAME
ACCEL=${FTA_VM_ACCEL:-tcg}
MEMORY_MB=${FTA_VM_MEMORY_MB:-1024}
CPUS=${FTA_VM_CPUS:-2}
BOOT_TIMEOUT=${FTA_VM_BOOT_TIMEOUT:-600}
STOP_TIMEOUT=${FTA_VM_STOP_TIMEOUT:-90}
KEEP_DISK=${FTA_VM_KEEP_DISK:-0}
GUEST_HTTP_PORT=8081

say() { echo "vm[$NAME]: $*" >&2; }
die() { say "error: $*"; exit 1; }

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
seconds_since() { # milliseconds timestamp -> "12.3"
    local ms=$(( $(now_ms) - $1 ))
    printf '%d.%d' $(( ms / 1000 )) $(( ms % 1000 / 100 ))
}

# The pid of this instance's qemu, if it runs: the pidfile alone could name a reused pid, so the
# process must also be a qemu started with this instance's state directory.
qemu_pid() {
    local pid
    pid=$(cat "$STATE/qemu.pid" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$STATE/overlay.qcow2" || return 1
    echo "$pid"
}
running() { qemu_pid >/dev/null; }
require_running() { running || die "not running (scripts/vm/vm.sh start)"; }

image_dir() { cat "$STATE/image" 2>/dev/null || die "no image recorded for this instance (start it first)"; }

port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
free_port() {
    local port
    for _ in $(seq 1 50); do
        port=$(( 20000 + RANDOM % 20000 ))
        if port_free "$port"; then echo "$port"; return 0; fi
    done
    die "no free loopback port found"
}

# ssh to the guest: the image's own key and host key, no user or system ssh configuration, no
# prompts, no banners or warnings on stderr, and keep-alives that tolerate a slow TCG guest.
ssh_options() {
    local image
    image=$(image_dir)
    SSH_OPTS=(-F /dev/null -i "$image/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes
        -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$image/known_hosts" -o HostKeyAlias=fta-vm
        -o LogLevel=ERROR -o ConnectTimeout=15 -o ServerAliveInterval=15 -o ServerAliveCountMax=8
        -o ControlMaster=no -o ControlPath=none -p "$(cat "$STATE/ssh.port")")
}
guest() { # guest [ssh options...] -- command words
    ssh_options
    local extra=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do extra+=("$1"); shift; done
    [ "${1:-}" = -- ] && shift
    ssh "${SSH_OPTS[@]}" "${extra[@]}" root@127.0.0.1 -- "$@"
}
ssh_answers() { guest -o ConnectTimeout=10 -- true </dev/null >/dev/null 2>&1; }
boot_id() { guest -- cat /proc/sys/kernel/random/boot_id </dev/null 2>/dev/null; }

# Waits until sshd answers, then until systemd has finished booting. $1: when the wait started
# (ms), for the figures printed.
wait_for_guest() {
    local since=$1 what=$2 deadline=$(( $(date +%s) + BOOT_TIMEOUT )) state
    until ssh_answers; do
        running || { say "qemu exited while waiting for $what; last console lines:"; tail -n 30 "$STATE/console.log" >&2; exit 1; }
        if [ "$(date +%s)" -ge "$deadline" ]; then
            say "no ssh within ${BOOT_TIMEOUT} s ($what); last console lines:"
            tail -n 30 "$STATE/console.log" >&2
            exit 1
        fi
        sleep 2
    done
    say "ssh answers $(seconds_since "$since") s after $what"
    # "degraded" (a failed unit) is still a booted system: report it, with the failed units.
    state=$(guest -- timeout "$BOOT_TIMEOUT" systemctl is-system-running --wait </dev/null 2>/dev/null || true)
    say "system ${state:-unknown} $(seconds_since "$since") s after $what"
    if [ "$state" != running ]; then
        guest -- systemctl --failed --no-legend --plain </dev/null >&2 2>/dev/null || true
    fi
    echo "${state:-unknown}" >"$STATE/system-state"
}

cmd_start() {
    if running; then say "already running (pid $(qemu_pid))"; return 0; fi
    local image ssh_port http_port accel_args
    image=$("$HERE/build-image.sh" | tail -n 1)
    [ -f "$image/disk.qcow2" ] || die "build-image.sh gave no image"
    mkdir -p "$STATE"
    chmod 0700 "$STATE"
    if [ "$KEEP_DISK" = 1 ] && [ -f "$STATE/overlay.qcow2" ] && [ "$(cat "$STATE/image" 2>/dev/null)" = "$image" ]; then
        say "booting on the kept overlay $STATE/overlay.qcow2"
    else
        rm -f "$STATE/overlay.qcow2"
        # Each start boots a pristine image: writes go to this overlay only.
        qemu-img create -q -f qcow2 -F qcow2 -b "$image/disk.qcow2" "$STATE/overlay.qcow2"
    fi
    echo "$image" >"$STATE/image"
    local docker_disk_args=() cmdline
    cmdline=$(cat "$image/cmdline")
    if [ -n "${FTA_VM_IMAGES:-}" ]; then
        local docker_disk images
        read -r -a images <<<"$FTA_VM_IMAGES"
        docker_disk=$("$HERE/build-docker-disk.sh" "${images[@]}" | tail -n 1)
        if ! { [ "$KEEP_DISK" = 1 ] && [ -f "$STATE/docker-overlay.qcow2" ]; }; then
            rm -f "$STATE/docker-overlay.qcow2"
            qemu-img create -q -f qcow2 -F qcow2 -b "$docker_disk/disk.qcow2" "$STATE/docker-overlay.qcow2"
        fi
        docker_disk_args=(-drive "file=$STATE/docker-overlay.qcow2,if=virtio,format=qcow2,discard=unmap")
        # The guest mounts it on /var/lib/docker only when told so (var-lib-docker.mount).
        cmdline+=" fta_vm.docker_disk"
    else
        rm -f "$STATE/docker-overlay.qcow2"
    fi
    ssh_port=${FTA_VM_SSH_PORT:-$(free_port)}
    http_port=${FTA_VM_HTTP_PORT:-$(free_port)}
    [ "$ssh_port" != "$http_port" ] || http_port=$(free_port)
    echo "$ssh_port" >"$STATE/ssh.port"
    echo "$http_port" >"$STATE/http.port"
    case $ACCEL in
        # multi-threaded TCG: one host thread per vCPU; -cpu max: every x86-64 feature TCG has
        # (wheels such as numpy want more than the qemu64 baseline).
        tcg) accel_args=(-accel "tcg,thread=multi" -cpu "${FTA_VM_CPU:-max}") ;;
        kvm) [ -w /dev/kvm ] || die "FTA_VM_ACCEL=kvm, but /dev/kvm is not usable"
             accel_args=(-accel kvm -cpu "${FTA_VM_CPU:-host,-arch-capabilities}") ;;
        *) die "FTA_VM_ACCEL must be tcg or kvm, not '$ACCEL'" ;;
    esac
    rm -f "$STATE/qemu.pid" "$STATE/serial.sock" "$STATE/monitor.sock" "$STATE/system-state"
    : >"$STATE/console.log"
    now_ms >"$STATE/started-ms"
    # -kernel/-initrd: the image's own Debian kernel, copied out of its /boot at build time.
    # The NIC is qemu's user network: no host privileges, and the host is 10.0.2.2 to the guest.
    qemu-system-x86_64 \
        -name "fta-vm-$NAME" \
        -machine pc "${accel_args[@]}" -smp "$CPUS" -m "$MEMORY_MB" \
        -kernel "$image/vmlinuz" -initrd "$image/initrd.img" -append "$cmdline" \
        -drive "file=$STATE/overlay.qcow2,if=virtio,format=qcow2,discard=unmap" \
        "${docker_disk_args[@]}" \
        -netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$ssh_port-:22,hostfwd=tcp:127.0.0.1:$http_port-:$GUEST_HTTP_PORT" \
        -device virtio-net-pci,netdev=net0 \
        -device virtio-rng-pci \
        -chardev "socket,id=serial0,path=$STATE/serial.sock,server=on,wait=off,logfile=$STATE/console.log" \
        -serial chardev:serial0 \
        -monitor "unix:$STATE/monitor.sock,server=on,wait=off" \
        -display none -daemonize -pidfile "$STATE/qemu.pid" \
        2>"$STATE/qemu.err" || { cat "$STATE/qemu.err" >&2; die "qemu did not start"; }
    say "started (pid $(qemu_pid), $ACCEL, ${MEMORY_MB} MiB, $CPUS vCPUs, ssh 127.0.0.1:$ssh_port, nginx 127.0.0.1:$http_port)"
}

cmd_wait_ready() {
    require_running
    wait_for_guest "$(cat "$STATE/started-ms")" "start"
    say "kernel $(guest -- uname -r </dev/null), $(guest -- "awk '/MemTotal/ { printf \"%d MiB\", \$2 / 1024 }' /proc/meminfo" </dev/null), $(guest -- nproc </dev/null) vCPUs"
}

cmd_status() {
    if ! running; then echo "vm[$NAME]: stopped"; return 3; fi
    echo "vm[$NAME]: running (pid $(qemu_pid), ssh 127.0.0.1:$(cat "$STATE/ssh.port"), nginx 127.0.0.1:$(cat "$STATE/http.port"), overlay $STATE/overlay.qcow2)"
    if ssh_answers; then echo "vm[$NAME]: ssh up, boot id $(boot_id), system $(guest -- systemctl is-system-running </dev/null 2>/dev/null || true)"
    else echo "vm[$NAME]: ssh not answering (yet)"; fi
}

cmd_env() {
    require_running
    printf 'FTA_VM_NAME=%q\nFTA_VM_STATE=%q\nFTA_VM_SSH_PORT=%s\nFTA_VM_HTTP_PORT=%s\nFTA_VM_SSH_KEY=%q\nFTA_VM_KNOWN_HOSTS=%q\n' \
        "$NAME" "$STATE" "$(cat "$STATE/ssh.port")" "$(cat "$STATE/http.port")" \
        "$(image_dir)/id_ed25519" "$(image_dir)/known_hosts"
}

cmd_ssh() {
    require_running
    if [ $# -eq 0 ] && [ -t 0 ]; then guest -t --; return; fi
    guest -- "$@"
}

cmd_copy_in() {
    [ $# -eq 2 ] || die "usage: copy-in SRC DST"
    require_running
    local src=$1 dst=$2 qdst qparent qname
    [ -e "$src" ] || die "$src does not exist"
    case $dst in /*) ;; *) die "DST must be an absolute path in the guest" ;; esac
    dst=${dst%/}
    printf -v qdst '%q' "$dst"
    printf -v qparent '%q' "$(dirname "$dst")"
    printf -v qname '%q' "$(basename "$src")"
    # tar keeps modes and handles trees; the guest side replaces nothing but DST itself.
    if [ -d "$src" ]; then
        tar -C "$src" -cf - . | guest -- "mkdir -p $qdst && tar -C $qdst --no-same-owner -xf -"
    else
        tar -C "$(dirname "$src")" -cf - "$(basename "$src")" \
            | guest -- "set -e; mkdir -p $qparent; t=\$(mktemp -d $qparent/.copy-in.XXXXXX); tar -C \"\$t\" --no-same-owner -xf -; mv -f -T \"\$t\"/$qname $qdst; rmdir \"\$t\""
    fi
}

cmd_load_image() {
    [ $# -ge 1 ] || die "usage: load-image IMAGE..."
    require_running
    export DOCKER_HOST=${DOCKER_HOST:-${FTA_TEST_DOCKER_HOST:-unix:///run/fta-test/docker.sock}}
    guest -- "systemctl is-active --quiet docker || systemctl start docker" </dev/null \
        || die "the guest's Docker did not start"
    local image since size
    for image in "$@"; do
        docker image inspect "$image" >/dev/null 2>&1 || die "$image is not in the engine at $DOCKER_HOST"
        size=$(docker image inspect --format '{{.Size}}' "$image")
        since=$(now_ms)
        docker save "$image" | guest -- "docker load --quiet" >&2 \
            || die "docker save $image | docker load in the guest failed"
        say "loaded $image ($(( size / 1048576 )) MiB) in $(seconds_since "$since") s"
    done
}

cmd_tunnel() {
    if [ $# -lt 1 ] || [ $# -gt 2 ]; then die "usage: tunnel PORT [GUEST_PORT]"; fi
    require_running
    local port=$1 guest_port=${2:-$GUEST_HTTP_PORT}
    [[ $port =~ ^[0-9]+$ && $guest_port =~ ^[0-9]+$ ]] || die "ports are numbers"
    ssh_options
    exec ssh "${SSH_OPTS[@]}" -N -o ExitOnForwardFailure=yes -L "127.0.0.1:$port:127.0.0.1:$guest_port" root@127.0.0.1
}

cmd_reboot() {
    require_running
    local before after since
    before=$(boot_id) || die "ssh does not answer; cannot reboot cleanly"
    since=$(now_ms)
    # The connection drops as the guest goes down: its exit status says nothing.
    guest -- "systemctl reboot" </dev/null >/dev/null 2>&1 || true
    local deadline=$(( $(date +%s) + BOOT_TIMEOUT ))
    # The old boot's sshd may answer for a moment: wait for a new boot id.
    while :; do
        running || die "qemu exited during the reboot"
        after=$(boot_id || true)
        if [ -n "$after" ] && [ "$after" != "$before" ]; then break; fi
        [ "$(date +%s)" -lt "$deadline" ] || die "the guest did not come back within ${BOOT_TIMEOUT} s"
        sleep 2
    done
    wait_for_guest "$since" "reboot"
}

cmd_stop() {
    local pid
    if pid=$(qemu_pid); then
        local since deadline
        since=$(now_ms)
        # A guest whose sshd answers is shut down by systemd; one that never booted (or hangs)
        # has nothing to shut down cleanly and is killed after a short grace.
        if ssh_answers; then
            guest -o ConnectTimeout=10 -- "systemctl poweroff" </dev/null >/dev/null 2>&1 || true
            deadline=$(( $(date +%s) + STOP_TIMEOUT ))
        else
            say "ssh does not answer; no clean shutdown possible"
            deadline=$(( $(date +%s) + 3 ))
        fi
        while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 1; done
        if kill -0 "$pid" 2>/dev/null; then
            say "not powered off; killing qemu"
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 1 10); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
            kill -9 "$pid" 2>/dev/null || true
        else
            say "powered off in $(seconds_since "$since") s"
        fi
    else
        say "not running"
    fi
    rm -f "$STATE/qemu.pid" "$STATE/serial.sock" "$STATE/monitor.sock"
    if [ "$KEEP_DISK" != 1 ] && [ -d "$STATE" ]; then
        rm -f "$STATE/overlay.qcow2" "$STATE/docker-overlay.qcow2" "$STATE/image"
    fi
}

cmd_console_log() {
    [ -f "$STATE/console.log" ] || die "no console log (never started)"
    cat "$STATE/console.log"
}

command=${1:-}
[ $# -gt 0 ] && shift
case $command in
    start) cmd_start ;;
    wait-ready) cmd_wait_ready ;;
    status) cmd_status ;;
    env) cmd_env ;;
    ssh) cmd_ssh "$@" ;;
    copy-in) cmd_copy_in "$@" ;;
    load-image) cmd_load_image "$@" ;;
    tunnel) cmd_tunnel "$@" ;;
    reboot) cmd_reboot ;;
    stop) cmd_stop ;;
    console-log) cmd_console_log ;;
    *) sed -n '3,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
