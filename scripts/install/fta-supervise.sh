#!/usr/bin/env bash
# fta-supervise: keeps one long-running command alive where systemd is not PID 1 (containers, CI
# machines). install.sh installs it as /usr/local/lib/fta/fta-supervise and starts `fta serve`
# (and, offline, the socket proxy) under it; with systemd the same commands run as units instead.
#
# Usage: fta-supervise --name NAME --pidfile FILE --log FILE -- COMMAND [ARG...]
#
# Like Restart=on-failure: a command that exits 0 is not restarted; one that fails is restarted
# after a delay that doubles (up to 30 s) while it keeps failing within 30 s of its start.
# SIGTERM/SIGINT stop the command (SIGTERM, then SIGKILL after 20 s) and then the supervisor.
# The pidfile holds the supervisor's pid; the log (stdout and stderr of the command, and the
# supervisor's own lines) is rotated to LOG.1 when it passes LOG_LIMIT (10 MiB), at a restart and
# once a minute while the command runs: a portal that runs for months must not fill the disk.
set -uo pipefail

usage() { echo "usage: fta-supervise --name NAME --pidfile FILE --log FILE -- COMMAND [ARG...]" >&2; exit 2; }

name="" pidfile="" log=""
while [ $# -gt 0 ]; do
    case $1 in
        --name) name=${2:?}; shift 2 ;;
        --pidfile) pidfile=${2:?}; shift 2 ;;
        --log) log=${2:?}; shift 2 ;;
        --) shift; break ;;
        *) usage ;;
    esac
done
if [ -z "$name" ] || [ -z "$pidfile" ] || [ -z "$log" ] || [ $# -eq 0 ]; then usage; fi

note() { printf '%s fta-supervise[%s]: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$name" "$*" >>"$log"; }

LOG_LIMIT=${FTA_SUPERVISE_LOG_LIMIT:-10485760}
# While the command runs its stdout stays open on the log, in append mode: copy, then truncate,
# and it goes on writing at the start of the emptied file (a line written between the two is the
# only one that can be lost; fta's own lines are short and rare).
rotate_running_log() {
    if [ -f "$log" ] && [ "$(stat -c %s "$log")" -gt "$LOG_LIMIT" ]; then
        cp -f "$log" "$log.1" && : >"$log"
    fi
}
rotator=0

child=0
stop() {
    trap - TERM INT
    if [ "$rotator" -gt 0 ]; then kill "$rotator" 2>/dev/null; fi
    if [ "$child" -gt 0 ] && kill -0 "$child" 2>/dev/null; then
        note "stopping (pid $child)"
        kill -TERM "$child" 2>/dev/null
        for _ in $(seq 1 20); do kill -0 "$child" 2>/dev/null || break; sleep 1; done
        kill -KILL "$child" 2>/dev/null
        wait "$child" 2>/dev/null
    fi
    rm -f "$pidfile"
    note "stopped"
    exit 0
}
trap stop TERM INT

mkdir -p "$(dirname "$pidfile")" "$(dirname "$log")"
echo $$ >"$pidfile"
(
    # Its own sleep goes with it when the supervisor stops it.
    trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
    trap - INT
    while :; do
        sleep "${FTA_SUPERVISE_LOG_CHECK_SECONDS:-60}" &
        sleeper=$!
        wait "$sleeper"
        rotate_running_log
    done
) &
rotator=$!
delay=1
while true; do
    if [ -f "$log" ] && [ "$(stat -c %s "$log")" -gt "$LOG_LIMIT" ]; then mv -f "$log" "$log.1"; fi
    started=$(date +%s)
    "$@" </dev/null >>"$log" 2>&1 &
    child=$!
    note "started (pid $child)"
    wait "$child"
    rc=$?
    child=0
    if [ "$rc" -eq 0 ]; then
        note "exited cleanly; not restarting"
        kill "$rotator" 2>/dev/null
        rm -f "$pidfile"
        exit 0
    fi
    if [ $(( $(date +%s) - started )) -gt 30 ]; then delay=1; else delay=$(( delay * 2 > 30 ? 30 : delay * 2 )); fi
    note "exited with status $rc; restarting in $delay s"
    sleep "$delay" &
    wait $!
done
