#!/usr/bin/env bash
# Private Docker engine for the tests.
#
# Usage: scripts/lib/engine.sh start|stop|status
#
# `start` reuses an engine that already answers on $FTA_TEST_DOCKER_SOCK; otherwise it starts
# Debian's dockerd with its own socket, data-root, exec-root and pidfile (no systemd is needed),
# waits for /_ping and records that it owns it, so that `stop` only ever stops what `start`
# started. The engine's data-root is kept between runs so locally built images are reused.
set -euo pipefail

SOCK_DIR=${FTA_TEST_RUN_DIR:-/run/fta-test}
SOCK=${FTA_TEST_DOCKER_SOCK:-$SOCK_DIR/docker.sock}
DATA_ROOT=${FTA_TEST_DOCKER_DATA:-/var/lib/fta-test-docker}
PIDFILE=$SOCK_DIR/docker.pid
OWNED=$SOCK_DIR/engine.owned
LOG=$SOCK_DIR/dockerd.log

ping_engine() {
    curl -fsS --max-time 3 --unix-socket "$SOCK" http://docker/_ping >/dev/null 2>&1
}

start() {
    mkdir -p "$SOCK_DIR"
    if ping_engine; then
        echo "engine: reusing the Docker engine at $SOCK"
        return 0
    fi
    # A stale pidfile from a killed run makes dockerd refuse to start.
    if [ -f "$PIDFILE" ] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then rm -f "$PIDFILE"; fi
    mkdir -p "$DATA_ROOT" "$SOCK_DIR/exec"
    echo "engine: starting a private dockerd at $SOCK (data-root $DATA_ROOT, log $LOG)"
    # Its own (empty) daemon config: a host's /etc/docker/daemon.json (install.sh writes one)
    # must not change the test engine, and would conflict with the flags below.
    echo '{}' >"$SOCK_DIR/daemon.json"
    # --bip and address pools: keep the test engine's bridges out of the ranges a host engine
    # (if any) uses, and give room for many per-client networks.
    nohup dockerd \
        --host "unix://$SOCK" \
        --data-root "$DATA_ROOT" \
        --exec-root "$SOCK_DIR/exec" \
        --pidfile "$PIDFILE" \
        --config-file "$SOCK_DIR/daemon.json" \
        --bip 10.213.0.1/24 \
        --default-address-pool base=10.214.0.0/16,size=24 \
        --log-driver json-file \
        >"$LOG" 2>&1 &
    for _ in $(seq 1 60); do
        if ping_engine; then
            touch "$OWNED"
            echo "engine: ready"
            return 0
        fi
        sleep 1
    done
    echo "engine: dockerd did not answer /_ping within 60 s; last log lines:" >&2
    tail -n 20 "$LOG" >&2 || true
    return 1
}

stop() {
    if [ ! -f "$OWNED" ]; then
        echo "engine: not started by these scripts; leaving it alone"
        return 0
    fi
    if [ -f "$PIDFILE" ]; then
        pid=$(cat "$PIDFILE")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    fi
    rm -f "$OWNED"
    echo "engine: stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) if ping_engine; then echo "engine: up at $SOCK"; else echo "engine: down"; exit 1; fi ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
