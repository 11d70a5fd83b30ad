#!/usr/bin/env bash
# Private Docker engine for the tests.
#
# Usage: scripts/lib/engine.sh start|stop|restart|status
#
# `start` reuses an engine that already answers on $FTA_TEST_DOCKER_SOCK; otherwise it starts
# Debian's dockerd with its own socket, data-root, exec-root and pidfile (no systemd is needed),
# waits for /_ping and records that it owns it, so that `stop` only ever stops what `start`
# started. The engine's data-root is kept between runs so locally built images are reused.
# `restart` stops and starts it under running containers, which live-restore keeps running (the
# engine-restart fault test); `stop` stops them with the engine, so nothing outlives a test run.
set -euo pipefail

SOCK_DIR=${FTA_TEST_RUN_DIR:-/run/fta-test}
SOCK=${FTA_TEST_DOCKER_SOCK:-$SOCK_DIR/docker.sock}
DATA_ROOT=${FTA_TEST_DOCKER_DATA:-/var/lib/fta-test-docker}
PIDFILE=$SOCK_DIR/docker.pid
OWNED=$SOCK_DIR/engine.owned
LOG=$SOCK_DIR/dockerd.log
# live-restore, as install.sh sets it on a real host (scripts/install/lib/host.sh): containers keep
# running while dockerd restarts. Tests/system/operations/test_engine_restart.py proves it here.
DAEMON_CONFIG='{"live-restore": true}'

ping_engine() {
    curl -fsS --max-time 3 --unix-socket "$SOCK" http://docker/_ping >/dev/null 2>&1
}

start() {
    mkdir -p "$SOCK_DIR"
    if ping_engine; then
        echo "engine: reusing the Docker engine at $SOCK"
        # One these scripts started with an older config gets this one: dockerd reloads
        # live-restore on SIGHUP, so the running bots are not disturbed.
        if [ -f "$OWNED" ] && [ -f "$PIDFILE" ] && [ "$(cat "$SOCK_DIR/daemon.json" 2>/dev/null)" != "$DAEMON_CONFIG" ]; then
            echo "$DAEMON_CONFIG" >"$SOCK_DIR/daemon.json"
            kill -HUP "$(cat "$PIDFILE")"
        fi
        return 0
    fi
    # A stale pidfile from a killed run makes dockerd refuse to start.
    if [ -f "$PIDFILE" ] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then rm -f "$PIDFILE"; fi
    mkdir -p "$DATA_ROOT" "$SOCK_DIR/exec"
    echo "engine: starting a private dockerd at $SOCK (data-root $DATA_ROOT, log $LOG)"
    # Its own daemon config: a host's /etc/docker/daemon.json (install.sh writes one) must not
    # change the test engine, and would conflict with the flags below.
    echo "$DAEMON_CONFIG" >"$SOCK_DIR/daemon.json"
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

# stop [keep]: with `keep`, the containers stay running (live-restore).
stop() {
    if [ ! -f "$OWNED" ]; then
        echo "engine: not started by these scripts; leaving it alone"
        return 0
    fi
    if [ -f "$PIDFILE" ]; then
        pid=$(cat "$PIDFILE")
        if [ "${1:-}" != keep ] && kill -0 "$pid" 2>/dev/null; then
            # live-restore off first (a reload, see start), so that the engine stops its
            # containers as it shuts down instead of leaving them running without it.
            echo '{"live-restore": false}' >"$SOCK_DIR/daemon.json"
            kill -HUP "$pid"
            for _ in $(seq 1 25); do
                curl -fsS --max-time 3 --unix-socket "$SOCK" http://docker/info 2>/dev/null | grep -q '"LiveRestoreEnabled":false' && break
                sleep 0.2
            done
        fi
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    fi
    rm -f "$OWNED"
    echo "engine: stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    restart) stop keep && start ;;
    status) if ping_engine; then echo "engine: up at $SOCK"; else echo "engine: down"; exit 1; fi ;;
    *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
