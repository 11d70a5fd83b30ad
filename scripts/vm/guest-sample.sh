#!/bin/sh
# One sample of a guest's memory, for scripts/bench-vm-density: run inside the test VM as root
# (the guest has no Python). Usage: guest-sample.sh [--clear-refs] CONTAINER...
#
# Prints `key value` lines, values in KiB unless named otherwise:
#   host.<meminfo field>          MemTotal, MemAvailable, SwapTotal, SwapFree, ...
#   vmstat.pswpin / vmstat.pswpout pages swapped in / out since boot
#   zram.<field>                  orig_data_size, compr_data_size, mem_used_total (bytes) when zram is on
#   plane.<comm>                  PSS of every dockerd, containerd, containerd-shim(-runc-v2), haproxy, nginx, fta
#   bot.<name>.status / .restarts / .oom / .pid / .memory / .memory_swap (bytes, the limits)
#   bot.<name>.cg.current / .swap / .anon / .file / .inactive_file   (bytes, cgroup v2)
#   bot.<name>.pss / .anon_pss / .swap_pss / .referenced           (smaps_rollup of its processes)
# --clear-refs first reports, then clears every bot process's referenced bits, so that the next
# sample's `referenced` is what the bot touched in between.
set -u
clear=0
if [ "${1:-}" = --clear-refs ]; then clear=1; shift; fi

awk '/^(MemTotal|MemAvailable|MemFree|SwapTotal|SwapFree|Cached|AnonPages|Shmem):/ { sub(":", "", $1); print "host." $1, $2 }' /proc/meminfo
awk '$1 == "pswpin" || $1 == "pswpout" { print "vmstat." $1, $2 }' /proc/vmstat
if [ -r /sys/block/zram0/mm_stat ]; then
    # orig_data_size compr_data_size mem_used_total ...
    awk '{ print "zram.orig_data_size", $1; print "zram.compr_data_size", $2; print "zram.mem_used_total", $3 }' /sys/block/zram0/mm_stat
fi

# smaps_rollup of a list of pids: PSS, anonymous, swap (PSS), referenced, in KiB.
rollup() {
    for p in "$@"; do cat "/proc/$p/smaps_rollup" 2>/dev/null; done |
        awk '$1 == "Pss:" { pss += $2 } $1 == "Anonymous:" { anon += $2 } $1 == "SwapPss:" { swap += $2 }
             $1 == "Referenced:" { ref += $2 } END { printf "%d %d %d %d\n", pss, anon, swap, ref }'
}

for d in /proc/[0-9]*; do
    comm=$(cat "$d/comm" 2>/dev/null) || continue
    case $comm in
        dockerd | containerd | containerd-shim* | haproxy | nginx | fta)
            pss=$(awk '$1 == "Pss:" { print $2 }' "$d/smaps_rollup" 2>/dev/null)
            [ -n "$pss" ] && echo "plane.$comm $pss" ;;
    esac
done | awk '{ sum[$1] += $2 } END { for (k in sum) print k, sum[k] }'

[ $# -gt 0 ] || exit 0
docker inspect --format '{{.Name}} {{.State.Status}} {{.RestartCount}} {{.State.OOMKilled}} {{.State.Pid}} {{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}' "$@" 2>/dev/null |
while read -r name status restarts oom pid memory memory_swap; do
    name=${name#/}
    echo "bot.$name.status $status"
    echo "bot.$name.restarts $restarts"
    echo "bot.$name.oom $oom"
    echo "bot.$name.pid $pid"
    echo "bot.$name.memory $memory"
    echo "bot.$name.memory_swap $memory_swap"
    [ "$pid" -gt 0 ] 2>/dev/null || continue
    cg=/sys/fs/cgroup$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
    [ -r "$cg/memory.current" ] || continue
    echo "bot.$name.cg.current $(cat "$cg/memory.current")"
    echo "bot.$name.cg.swap $(cat "$cg/memory.swap.current" 2>/dev/null || echo 0)"
    awk -v n="bot.$name.cg." '$1 == "anon" || $1 == "file" || $1 == "inactive_file" { print n $1, $2 }' "$cg/memory.stat"
    pids=$(cat "$cg/cgroup.procs")
    # shellcheck disable=SC2086,SC2046  # one pid per word; four numbers
    set -- $(rollup $pids)
    echo "bot.$name.pss $1"
    echo "bot.$name.anon_pss $2"
    echo "bot.$name.swap_pss $3"
    echo "bot.$name.referenced $4"
    if [ "$clear" = 1 ]; then
        for p in $pids; do echo 1 >"/proc/$p/clear_refs" 2>/dev/null; done
    fi
done
