#!/usr/bin/env bash
# A real `fta serve` for the system tests (browser, API fuzzing, end to end).
#
# Usage: scripts/lib/portal.sh start|stop|env [NAME]
#
# `start` runs the debug build of fta on a loopback port with its own database under
# $FTA_TEST_RUN_DIR/portal-NAME, talking to the test engine through the test proxy, and creates
# an admin with a random password. `env` prints the variables the tests read:
# FTA_TEST_PORTAL_URL, FTA_TEST_ADMIN_USER, FTA_TEST_ADMIN_PASSWORD.
# The bot image and the exchange override come from FTA_BOT_IMAGE and FTA_EXCHANGE_OVERRIDE
# when set (the end-to-end test points bots at its market simulator that way). The memory budget
# is 4096 MiB unless FTA_MEMORY_BUDGET_MB is set; set and empty, it is measured (bench-density).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NAME=${2:-main}
RUN_DIR=${FTA_TEST_RUN_DIR:-/run/fta-test}
DIR=$RUN_DIR/portal-$NAME
PORT_FILE=$DIR/port
PIDFILE=$DIR/fta.pid
BINARY=${FTA_TEST_BINARY:-$ROOT/.build/debug/fta}

start() {
    if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        echo "portal: $NAME already running on port $(cat "$PORT_FILE")"
        return 0
    fi
    [ -x "$BINARY" ] || { echo "portal: $BINARY is missing; run swift build first" >&2; return 1; }
    rm -rf "$DIR"
    install -d -m 0700 "$DIR"
    # A free loopback port, chosen by the kernel.
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    echo "$port" >"$PORT_FILE"
    password=$(openssl rand -base64 24 | tr -d '/+=' | cut -c1-24)
    printf '%s' "$password" >"$DIR/admin-password"
    chmod 600 "$DIR/admin-password"
    {
        echo "FTA_PORT=$port"
        echo "FTA_DATABASE=$DIR/fta.sqlite"
        echo "FTA_WEB_ROOT=$ROOT/web"
        echo "FTA_DOCKER_URL=${FTA_TEST_DOCKER_URL:-$("$ROOT/scripts/lib/proxy.sh" url)}"
        echo "FTA_SECRET_KEY=$(openssl rand -hex 32)"
        echo "FTA_PUBLIC_URL=http://127.0.0.1:$port"
        echo "FTA_BOT_IMAGE=${FTA_BOT_IMAGE:-${FTA_TEST_IMAGE:-fta-test/busybox:latest}}"
        echo "FTA_EXCHANGE_OVERRIDE=${FTA_EXCHANGE_OVERRIDE:-}"
        echo "FTA_ALLOW_TEST_STRATEGIES=true"
        echo "FTA_MEMORY_BUDGET_MB=${FTA_MEMORY_BUDGET_MB-4096}"
        echo "FTA_BOT_SWAP=${FTA_BOT_SWAP:-auto}"
        echo "FTA_RECONCILE_SECONDS=${FTA_RECONCILE_SECONDS:-5}"
        echo "FTA_LOGIN_LOCKOUT_SECONDS=${FTA_LOGIN_LOCKOUT_SECONDS:-3}"
        echo "FTA_LOGIN_MAX_FAILURES=${FTA_LOGIN_MAX_FAILURES:-50}"
    } >"$DIR/env"
    chmod 600 "$DIR/env"
    # The env file holds raw values (the tests read it line by line); sourcing it would strip the
    # double quotes out of the override's JSON, so that one value is passed on as given.
    override=${FTA_EXCHANGE_OVERRIDE:-}
    set -a
    # shellcheck disable=SC1091
    . "$DIR/env"
    FTA_EXCHANGE_OVERRIDE=$override
    set +a
    "$BINARY" migrate >/dev/null
    printf '%s' "$password" | "$BINARY" admin create --username admin --password-stdin >/dev/null
    nohup "$BINARY" serve >"$DIR/fta.log" 2>&1 &
    echo $! >"$PIDFILE"
    for _ in $(seq 1 50); do
        if curl -fsS --max-time 2 "http://127.0.0.1:$port/api/v1/health" >/dev/null 2>&1; then
            echo "portal: $NAME ready at http://127.0.0.1:$port (log $DIR/fta.log)"
            return 0
        fi
        sleep 0.2
    done
    echo "portal: $NAME did not answer; log:" >&2
    tail -n 30 "$DIR/fta.log" >&2
    return 1
}

stop() {
    if [ -f "$PIDFILE" ]; then
        pid=$(cat "$PIDFILE")
        kill "$pid" 2>/dev/null || true
        # A graceful shutdown takes well under a second; past 15 s something is stuck.
        for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            echo "portal: $NAME ignored SIGTERM for 15 s; killing it" >&2
            kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$PIDFILE"
        echo "portal: $NAME stopped"
    fi
}

print_env() {
    echo "FTA_TEST_PORTAL_URL=http://127.0.0.1:$(cat "$PORT_FILE")"
    echo "FTA_TEST_ADMIN_USER=admin"
    echo "FTA_TEST_ADMIN_PASSWORD=$(cat "$DIR/admin-password")"
    echo "FTA_TEST_PORTAL_DIR=$DIR"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    env) print_env ;;
    *) echo "usage: $0 start|stop|env [NAME]" >&2; exit 2 ;;
esac
