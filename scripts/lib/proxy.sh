#!/usr/bin/env bash
# The fta socket proxy in front of the private test engine.
#
# Usage: scripts/lib/proxy.sh start|stop|status|url
#
# `start` runs Debian's haproxy with the SAME policy file Compose uses
# (compose/haproxy/haproxy.cfg), so the tests prove the policy that ships, not a copy. It listens
# on a unix socket under $FTA_TEST_RUN_DIR/proxy/ by default (like production, see
# compose/docker-compose.yml); set FTA_TEST_PROXY_BIND=127.0.0.1:23750 to test the loopback TCP
# variant. haproxy runs in the background as the unprivileged `haproxy` user (plus the group
# that owns the engine socket, so it can connect), with no capabilities and no-new-privs; its
# pid and log live under $FTA_TEST_RUN_DIR. `start` waits until /_ping answers through the proxy
# and is idempotent. `stop` stops only a proxy that `start` started (pidfile + owner marker).
# `url` prints what the portal should use as its Docker URL (FTA_TEST_DOCKER_URL).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CFG=$ROOT/compose/haproxy/haproxy.cfg

RUN_DIR=${FTA_TEST_RUN_DIR:-/run/fta-test}
ENGINE_SOCK=${FTA_TEST_DOCKER_SOCK:-$RUN_DIR/docker.sock}
PROXY_DIR=$RUN_DIR/proxy
BIND=${FTA_TEST_PROXY_BIND:-unix@$PROXY_DIR/docker.sock}
# The health listener is a unix socket here: on the host a fixed TCP port could collide with
# something else, and in the test run nobody but this script looks at it.
HEALTH_BIND=unix@$PROXY_DIR/health.sock
# The portal-facing socket when the bind is a unix socket (empty for TCP).
case "$BIND" in unix@*) SOCK_PATH=${BIND#unix@} ;; *) SOCK_PATH= ;; esac
PIDFILE=$RUN_DIR/proxy.pid
OWNED=$RUN_DIR/proxy.owned
LOG=$RUN_DIR/proxy.log
RUN_AS=${FTA_TEST_PROXY_USER:-haproxy}

# The portal-facing URL for a bind address. Only unix sockets and loopback TCP are accepted:
# the proxy must never listen where a bot network or another host can reach it.
url_for_bind() {
    case "$1" in
        unix@/*) echo "unix://${1#unix@}" ;;
        127.0.0.1:[0-9]*) echo "http://$1" ;;
        ipv4@127.0.0.1:[0-9]*) echo "http://${1#ipv4@}" ;;
        *) echo "proxy: FTA_TEST_PROXY_BIND must be unix@/path or 127.0.0.1:PORT, not '$1'" >&2
           return 1 ;;
    esac
}

ping_proxy() {
    case "$BIND" in
        unix@*) curl -fsS --max-time 3 --unix-socket "$SOCK_PATH" http://docker/_ping ;;
        *) curl -fsS --max-time 3 "$(url_for_bind "$BIND")/_ping" ;;
    esac >/dev/null 2>&1
}

running() {
    [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

start() {
    url_for_bind "$BIND" >/dev/null
    command -v haproxy >/dev/null || { echo "proxy: haproxy is not installed (apt-get install haproxy)" >&2; return 1; }
    "$HERE/engine.sh" start >/dev/null
    if running && ping_proxy; then
        echo "proxy: reusing the proxy at $(url_for_bind "$BIND")"
        return 0
    fi
    # A pidfile from a killed run would point at nothing (or at someone else's process).
    rm -f "$PIDFILE"
    export FTA_PROXY_BIND=$BIND FTA_PROXY_HEALTH_BIND=$HEALTH_BIND DOCKER_SOCKET=$ENGINE_SOCK
    haproxy -c -q -f "$CFG"

    # Drop privileges when the haproxy user exists (Debian's package creates it). The socket
    # directory belongs to that user so haproxy can create its sockets there; 0750 keeps other
    # local users out (root, which runs the tests, is not affected by modes).
    local launcher=() dirs=("$PROXY_DIR")
    [ -n "$SOCK_PATH" ] && dirs+=("$(dirname "$SOCK_PATH")")
    if id -u "$RUN_AS" >/dev/null 2>&1; then
        install -d -m 0750 -o "$RUN_AS" -g "$(id -g "$RUN_AS")" "${dirs[@]}"
        launcher=(setpriv --reuid="$RUN_AS" --regid="$(id -g "$RUN_AS")"
                  --groups="$(stat -c %g "$ENGINE_SOCK")"
                  --inh-caps=-all --bounding-set=-all --no-new-privs)
    else
        echo "proxy: user $RUN_AS not found; running haproxy as $(id -un)" >&2
        install -d -m 0750 "${dirs[@]}"
    fi
    rm -f "${SOCK_PATH:-/nonexistent}" "$PROXY_DIR/health.sock"

    echo "proxy: starting haproxy ($CFG) at $(url_for_bind "$BIND"), log $LOG"
    # -db: stay in the foreground of this background job, so $! is haproxy itself (setpriv and
    # nohup exec it) and its stdout log goes to $LOG.
    # A fresh log per start (the previous one is kept as .1): some sandboxed file systems do not
    # honour O_APPEND for a long-running writer, which would then overwrite the old lines.
    if [ -f "$LOG" ]; then mv -f "$LOG" "$LOG.1"; fi
    nohup "${launcher[@]}" haproxy -db -f "$CFG" >"$LOG" 2>&1 &
    echo $! >"$PIDFILE"
    touch "$OWNED"
    for _ in $(seq 1 50); do
        if ping_proxy; then
            echo "proxy: ready"
            return 0
        fi
        running || break
        sleep 0.2
    done
    echo "proxy: no answer to /_ping through the proxy; last log lines:" >&2
    tail -n 20 "$LOG" >&2 || true
    return 1
}

stop() {
    if [ ! -f "$OWNED" ]; then
        echo "proxy: not started by this script; leaving it alone"
        return 0
    fi
    if running; then
        pid=$(cat "$PIDFILE")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$PIDFILE" "$OWNED" "${SOCK_PATH:-/nonexistent}" "$PROXY_DIR/health.sock"
    echo "proxy: stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) if running && ping_proxy; then echo "proxy: up at $(url_for_bind "$BIND")"; else echo "proxy: down"; exit 1; fi ;;
    url) url_for_bind "$BIND" ;;
    *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
