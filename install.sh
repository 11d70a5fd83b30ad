#!/usr/bin/env bash
# install.sh: turns a fresh server into a running fta appliance, in one command.
#
#   git clone <this repository> fta && cd fta && sudo ./install.sh
#
# Supported: Debian 12, Ubuntu 22.04 and 24.04, Amazon Linux 2023; x86_64 and aarch64.
# What it does, step by step, is in docs/install.md and in the comments of the step functions
# below (step_1_... to step_14_...). Every step checks before it changes anything, so re-running
# is safe and reports "unchanged" for what is already right. `./install.sh --help` lists flags.
#
# Layout of this file: constants, output helpers, dry-run-aware change helpers, option parsing,
# the fourteen install steps, the uninstall steps, main. It can be sourced (bash) to call single
# functions from tests; main only runs when it is executed.
set -Eeuo pipefail
umask 022

# ---------------------------------------------------------------------------------------------
# Constants: where things go. Names and paths other components rely on are in docs/install.md.
# ---------------------------------------------------------------------------------------------
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR
ENV_EXAMPLE=$SCRIPT_DIR/.env.example
readonly TOTAL_STEPS=14
readonly FTA_USER=fta
readonly PROXY_USER=fta-proxy
readonly ETC_DIR=/etc/fta
readonly ENV_FILE=$ETC_DIR/fta.env
readonly STATE_FILE=$ETC_DIR/install.conf
readonly TLS_DIR=$ETC_DIR/tls
readonly DATA_DIR=/var/lib/fta
readonly LOG_DIR=/var/log/fta
readonly RUN_DIR=/run/fta
readonly PROXY_RUN_DIR=/run/fta-proxy
readonly SHARE_DIR=/usr/local/share/fta
readonly WEB_DIR=$SHARE_DIR/web
readonly COMPOSE_DIR=$SHARE_DIR/compose
readonly LIBEXEC_DIR=/usr/local/lib/fta
readonly FTA_BIN=/usr/local/bin/fta
readonly FTA_ADMIN_BIN=/usr/local/sbin/fta-admin
readonly ACME_ROOT=/var/lib/fta-acme
readonly NGINX_SITE=/etc/nginx/conf.d/fta.conf
readonly DOCKER_DAEMON_JSON=/etc/docker/daemon.json
readonly DEFAULT_BOT_IMAGE=freqtradeorg/freqtrade:2026.9
readonly DEFAULT_ADDRESS_POOL=10.200.0.0/14
readonly MIN_DISK_GIB=3
# Below this much RAM (MiB) a swap file tops memory up to about 2 GiB: a 1 GiB EC2 instance runs
# dockerd, nginx, the portal and a bot only with swap behind them. 2 GiB instances report a
# little less than 2048 MiB, hence 1800.
readonly SWAP_BELOW_MB=1800
readonly SWAP_TARGET_MB=2048
readonly SWAPFILE=/swapfile
# Keys whose values are secrets: never printed, never overwritten once set.
readonly SECRET_KEY_RE='(SECRET|PASSWORD|TOKEN|_KEY$)'
# What counts as a placeholder in .env.example (replaced with 32 random bytes, hex).
readonly PLACEHOLDER_RE='^(|<[^>]*>|[Cc][Hh][Aa][Nn][Gg][Ee][-_]?[Mm][Ee].*|.*[Cc][Hh][Aa][Nn][Gg][Ee][-_]?[Mm][Ee]|[Rr][Ee][Pp][Ll][Aa][Cc][Ee][-_ ][Mm][Ee].*|0{64})$'

# ---------------------------------------------------------------------------------------------
# Settings (flags > environment > saved choices in /etc/fta/install.conf > defaults)
# ---------------------------------------------------------------------------------------------
DRY_RUN=0
NON_INTERACTIVE=0
UNINSTALL=0
PURGE=0
STRICT=0
NO_SWAP=0
OFFLINE=0
RENDER_NGINX_DIR=""
OPT_BINARY=${FTA_BINARY:-}
OPT_ADMIN_USER=""
OPT_DOMAIN=""
OPT_EMAIL=""
OPT_LOOPBACK=0
OPT_NGINX_PORT=""
OPT_PORT=""
OPT_TLS_CERT=""
OPT_TLS_KEY=""
OPT_BOT_IMAGE=""
OPT_BUILD_BOT_IMAGE=0
OPT_PROXY_MODE=""
OPT_ADDRESS_POOL=""
OPT_DOCKER_HOST=${FTA_INSTALL_DOCKER_HOST:-}

# Resolved by resolve_settings.
NGINX_MODE="" DOMAIN="" EMAIL="" NGINX_PORT="" FTA_PORT_VALUE="" TLS_CERT="" TLS_KEY=""
ADMIN_USER="" PROXY_MODE="" ADDRESS_POOL="" PUBLIC_URL="" DOCKER_URL=""
OS_ID="" OS_VERSION="" PKG="" ARCH=""
HAVE_SYSTEMD=0
DOCKER_SOCK=/var/run/docker.sock
EXTERNAL_DOCKER=0
COMPOSE_CMD=()
# Variables compose/docker-compose.yml interpolates, added to fta.env in compose mode.
declare -A COMPOSE_ENV=()

# Run-time bookkeeping.
STEP_NO=0
STEP_NAME="start"
STEP_CHANGES=0
STEP_SILENT=0
# Changes made (or planned, in a dry run) by the whole run: 0 on a re-run that found all in place.
RUN_CHANGES=0
FILE_CHANGED=0
RESTART_FTA=0
TMP_DIR=""
INSTALL_LOG=/dev/null
ADMIN_PASSWORD_TO_PRINT=""
DOCTOR_STATUS=""
PROBLEMS=()
WARNINGS=()

# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------
say()  { printf '%s\n' "$*"; }
info() { printf '      %s\n' "$*"; }
warn() { printf '      WARNING: %s\n' "$*" >&2; WARNINGS+=("$*"); }

# A change (or, in a dry run, a change that would be made) within the current step.
changed() {
    STEP_CHANGES=$((STEP_CHANGES + 1))
    RUN_CHANGES=$((RUN_CHANGES + 1))
    if ((DRY_RUN)); then info "would: $*"; else info "$*"; fi
}

# Closes the previous step (saying "unchanged" when it changed nothing) and opens the next.
step() {
    step_done
    STEP_NO=$((STEP_NO + 1))
    STEP_NAME=$1
    STEP_CHANGES=0
    STEP_SILENT=0
    printf '[%d/%d] %s...\n' "$STEP_NO" "$TOTAL" "$STEP_NAME"
}
NOTHING_DONE="unchanged" # what a step that changed nothing says
step_done() {
    if ((STEP_NO > 0)) && ((STEP_CHANGES == 0)) && ! ((STEP_SILENT)); then info "$NOTHING_DONE"; fi
    STEP_SILENT=1 # so that a second call says nothing
}
# A step that only checks (preflight, doctor) prints its own verdict instead of "unchanged".
check_only_step() { STEP_SILENT=1; }
TOTAL=$TOTAL_STEPS

# A failure that the script detected itself.
fail() {
    trap - ERR
    printf '\ninstall.sh: step [%d/%d] "%s" failed: %s\n' "$STEP_NO" "$TOTAL" "$STEP_NAME" "$*" >&2
    fail_footer
    exit 1
}
# Any command that fails unexpectedly (set -e) lands here, through the ERR trap.
on_error() {
    local rc=$1 line=$2 cmd=$3
    # Inside $(...) the trap fires too (errtrace); leave the report to the main shell.
    if ((BASH_SUBSHELL > 0)); then exit "$rc"; fi
    trap - ERR
    cmd=${cmd%%$'\n'*}
    ((${#cmd} <= 100)) || cmd="${cmd:0:100}..."
    printf '\ninstall.sh: step [%d/%d] "%s" failed: command exited with status %d (line %d): %s\n' \
        "$STEP_NO" "$TOTAL" "$STEP_NAME" "$rc" "$line" "$cmd" >&2
    fail_footer
    exit "$rc"
}
fail_footer() {
    if [ -s "$INSTALL_LOG" ]; then
        printf 'Last lines of %s:\n' "$INSTALL_LOG" >&2
        tail -n 15 "$INSTALL_LOG" | sed 's/^/    /' >&2 || true
    fi
    printf 'Nothing after this step was done. Fix the cause and run install.sh again: re-running is safe.\n' >&2
}

# ---------------------------------------------------------------------------------------------
# Changes, dry-run aware. Nothing below changes the system except through these (and the step
# functions only call them when a check found something to change).
# ---------------------------------------------------------------------------------------------
quote_cmd() { local out; printf -v out '%q ' "$@"; printf '%s' "${out% }"; }

# run CMD...: runs a command; not in a dry run (where the `changed` line before it is the plan).
run() {
    ((DRY_RUN)) && return 0
    "$@"
}

# run_logged CMD...: like run, with the (noisy) output going to the install log.
run_logged() {
    ((DRY_RUN)) && return 0
    printf '\n$ %s\n' "$(quote_cmd "$@")" >>"$INSTALL_LOG"
    "$@" >>"$INSTALL_LOG" 2>&1
}

# put_file SRC DEST MODE OWNER GROUP [LABEL]: installs SRC's content at DEST (atomically, via a
# temporary file beside it) when content, mode or owner differ. Sets FILE_CHANGED=1 when it
# changed something (or would), 0 when DEST was already right.
put_file() {
    local src=$1 dest=$2 mode=$3 owner=$4 group=$5 label=${6:-$2}
    FILE_CHANGED=0
    if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
        if [ "$(stat -c '%a %U %G' "$dest")" = "$mode $owner $group" ]; then return 0; fi
        FILE_CHANGED=1
        changed "fix owner/mode of $label ($owner:$group $mode)"
        run chown "$owner:$group" "$dest"
        run chmod "$mode" "$dest"
        return 0
    fi
    FILE_CHANGED=1
    if [ -e "$dest" ]; then changed "update $label"; else changed "create $label"; fi
    ((DRY_RUN)) && return 0
    local tmp
    tmp=$(mktemp "$(dirname "$dest")/.fta-tmp.XXXXXX")
    cat "$src" >"$tmp"
    chown "$owner:$group" "$tmp"
    chmod "$mode" "$tmp"
    mv -f "$tmp" "$dest"
}

# ensure_dir PATH MODE OWNER GROUP
ensure_dir() {
    local path=$1 mode=$2 owner=$3 group=$4
    if [ -d "$path" ]; then
        if [ "$(stat -c '%a %U %G' "$path")" != "$mode $owner $group" ]; then
            changed "set $path to $owner:$group $mode"
            run chown "$owner:$group" "$path"
            run chmod "$mode" "$path"
        fi
        return 0
    fi
    changed "create $path ($owner:$group $mode)"
    run install -d -m "$mode" -o "$owner" -g "$group" "$path"
}

# Quietly creates a runtime directory (pidfiles, sockets) that a reboot removes anyway.
ensure_run_dir() {
    ((DRY_RUN)) && return 0
    install -d -m "${2:-0755}" -o "${3:-root}" -g "${4:-root}" "$1"
}

new_tmp() { mktemp "$TMP_DIR/XXXXXX"; }
random_hex() { openssl rand -hex 32 2>/dev/null || od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }
random_password() {
    # 24 characters from [A-Za-z0-9]: about 142 bits; no characters a shell or a form mangles.
    local pw=""
    while [ "${#pw}" -lt 24 ]; do
        pw+=$(head -c 64 /dev/urandom | tr -dc 'A-Za-z0-9')
    done
    printf '%s' "${pw:0:24}"
}
have() { command -v "$1" >/dev/null 2>&1; }
# sudo resets PATH, which drops toolchains installed outside the system directories (Swift's
# official tarballs live in /opt/swift or /usr/share/swift): look there too.
for swift_dir in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
    if ! have swift && [ -x "$swift_dir/swift" ]; then PATH=$swift_dir:$PATH; fi
done
unset swift_dir
# process_alive PID: running, and not a zombie waiting for a (container's) PID 1 to reap it.
process_alive() {
    local state
    kill -0 "$1" 2>/dev/null || return 1
    state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ "$state" != Z ]
}

# ---------------------------------------------------------------------------------------------
# Help and options
# ---------------------------------------------------------------------------------------------
usage() {
    cat <<'EOF'
Usage: sudo ./install.sh [options]

Installs (or updates, or repairs) the fta appliance on this server. Re-running is safe.

Portal publishing (nginx):
  (default)                 nginx listens on 127.0.0.1 only; reach it through an SSH or SSM tunnel
  --nginx-port PORT         loopback port nginx listens on (default 8081)
  --domain DOMAIN           public HTTPS on DOMAIN (ports 80 and 443) with a certbot certificate
  --email EMAIL             e-mail for the Let's Encrypt account (required with --domain)
  --tls-cert FILE --tls-key FILE
                            use this certificate instead of certbot (with --domain)
  --loopback                go back to loopback-only after a --domain install
  --port PORT               port of the portal itself on 127.0.0.1 (FTA_PORT, default 8080)

Binary and images:
  --binary PATH             install this prebuilt fta binary (also: env FTA_BINARY); otherwise it
                            is built with `swift build` when Swift is present, or downloaded from
                            env FTA_RELEASE_URL and checked against env FTA_RELEASE_SHA256
  --bot-image TAG           Freqtrade image the bots run (FTA_BOT_IMAGE)
  --build-bot-image         build the Freqtrade image without a registry
                            (scripts/build-freqtrade-image.sh) and use it
  --proxy-mode MODE         auto (default), compose (proxy container) or host (distribution haproxy)
  --address-pool CIDR       Docker default address pool, split in /24s (default 10.200.0.0/14)
  --docker-host unix:///PATH
                            use this already running Docker engine; leave dockerd and
                            /etc/docker/daemon.json alone (also: env FTA_INSTALL_DOCKER_HOST)

First admin:
  --admin-user NAME         username of the first admin (default admin); the password comes from
                            env FTA_ADMIN_PASSWORD, else a one-time password is generated and printed

Other:
  --dry-run                 print the plan (what would change) and change nothing
  --non-interactive, -y     never ask (unattended installs, CI)
  --no-swap                 do not add a swap file on small machines
  --offline                 never pull images (no registry here): host-mode proxy, and see
                            --build-bot-image / --bot-image for the bots' image
  --strict                  exit with status 3 when `fta doctor` reports a failure
  --render-nginx DIR        only render the nginx site (same flags) into DIR/fta.conf and exit
  --uninstall               stop and remove services, containers, networks and volumes labelled
                            fta.managed=true, the nginx site and installed files; keeps
                            /etc/fta and /var/lib/fta
  --purge                   with --uninstall: also delete /etc/fta, /var/lib/fta, logs and users
  --help, -h                this text

Details: docs/install.md
EOF
}

parse_args() {
    local arg val
    while [ $# -gt 0 ]; do
        arg=$1
        val=""
        # --flag=value form
        if [[ $arg == --*=* ]]; then val=${arg#*=}; arg=${arg%%=*}; set -- "$arg" "$val" "${@:2}"; fi
        case $arg in
            -h | --help) usage; exit 0 ;;
            --dry-run) DRY_RUN=1 ;;
            -y | --non-interactive) NON_INTERACTIVE=1 ;;
            --uninstall) UNINSTALL=1 ;;
            --purge) PURGE=1 ;;
            --strict) STRICT=1 ;;
            --no-swap) NO_SWAP=1 ;;
            --offline) OFFLINE=1 ;;
            --loopback) OPT_LOOPBACK=1 ;;
            --build-bot-image) OPT_BUILD_BOT_IMAGE=1 ;;
            --binary | --admin-user | --domain | --email | --nginx-port | --port | --tls-cert | \
                --tls-key | --bot-image | --proxy-mode | --address-pool | --docker-host | --render-nginx)
                [ $# -ge 2 ] || usage_error "$arg needs a value"
                val=$2
                shift
                case $arg in
                    --binary) OPT_BINARY=$val ;;
                    --admin-user) OPT_ADMIN_USER=$val ;;
                    --domain) OPT_DOMAIN=$val ;;
                    --email) OPT_EMAIL=$val ;;
                    --nginx-port) OPT_NGINX_PORT=$val ;;
                    --port) OPT_PORT=$val ;;
                    --tls-cert) OPT_TLS_CERT=$val ;;
                    --tls-key) OPT_TLS_KEY=$val ;;
                    --bot-image) OPT_BOT_IMAGE=$val ;;
                    --proxy-mode) OPT_PROXY_MODE=$val ;;
                    --address-pool) OPT_ADDRESS_POOL=$val ;;
                    --docker-host) OPT_DOCKER_HOST=$val ;;
                    --render-nginx) RENDER_NGINX_DIR=$val ;;
                esac
                ;;
            *) usage_error "unknown option: $arg" ;;
        esac
        shift
    done
    if ((PURGE)) && ! ((UNINSTALL)); then usage_error "--purge only goes with --uninstall"; fi
    if ((OPT_LOOPBACK)) && [ -n "$OPT_DOMAIN" ]; then usage_error "--loopback and --domain exclude each other"; fi
    if { [ -n "$OPT_TLS_CERT" ] && [ -z "$OPT_TLS_KEY" ]; } || { [ -z "$OPT_TLS_CERT" ] && [ -n "$OPT_TLS_KEY" ]; }; then
        usage_error "--tls-cert and --tls-key go together"
    fi
}
usage_error() { printf 'install.sh: %s (see --help)\n' "$1" >&2; exit 2; }

# read_kv FILE KEY: prints the value of KEY in an env-style file (empty when absent).
read_kv() {
    local file=$1 key=$2 line re
    [ -r "$file" ] || return 0
    re="^[[:space:]]*(export[[:space:]]+)?${key}=(.*)$"
    while IFS= read -r line || [ -n "$line" ]; do
        if [[ $line =~ $re ]]; then
            local v=${BASH_REMATCH[2]}
            v=${v%$'\r'}
            if [[ $v =~ ^\"(.*)\"$ || $v =~ ^\'(.*)\'$ ]]; then v=${BASH_REMATCH[1]}; fi
            printf '%s' "$v"
        fi
    done <"$file"
}

is_port() { [[ $1 =~ ^[0-9]{1,5}$ ]] && (($1 >= 1 && $1 <= 65535)); }
is_domain() { [[ $1 =~ ^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$ ]] && ((${#1} <= 253)); }
is_email() { [[ $1 =~ ^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$ ]]; }
is_cidr() { [[ $1 =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])$ ]]; }

# Combines flags, environment, the choices saved by an earlier run and defaults.
resolve_settings() {
    local saved_mode saved_domain
    saved_mode=$(read_kv "$STATE_FILE" NGINX_MODE)
    saved_domain=$(read_kv "$STATE_FILE" DOMAIN)

    if [ -n "$OPT_DOMAIN" ]; then
        NGINX_MODE=tls DOMAIN=${OPT_DOMAIN,,}
    elif ((OPT_LOOPBACK)); then
        NGINX_MODE=loopback DOMAIN=""
    elif [ "$saved_mode" = tls ] && [ -n "$saved_domain" ]; then
        NGINX_MODE=tls DOMAIN=$saved_domain
    else
        NGINX_MODE=loopback DOMAIN=""
    fi
    EMAIL=${OPT_EMAIL:-$(read_kv "$STATE_FILE" EMAIL)}
    NGINX_PORT=${OPT_NGINX_PORT:-$(read_kv "$STATE_FILE" NGINX_PORT)}
    NGINX_PORT=${NGINX_PORT:-8081}
    FTA_PORT_VALUE=${OPT_PORT:-${FTA_PORT:-$(read_kv "$ENV_FILE" FTA_PORT)}}
    FTA_PORT_VALUE=${FTA_PORT_VALUE:-8080}
    if [ -n "$OPT_TLS_CERT" ]; then
        TLS_CERT=$OPT_TLS_CERT TLS_KEY=$OPT_TLS_KEY
    elif [ -n "$OPT_DOMAIN" ]; then
        TLS_CERT="" TLS_KEY=""
    else
        TLS_CERT=$(read_kv "$STATE_FILE" TLS_CERT) TLS_KEY=$(read_kv "$STATE_FILE" TLS_KEY)
    fi
    ADMIN_USER=${OPT_ADMIN_USER:-$(read_kv "$STATE_FILE" ADMIN_USER)}
    ADMIN_USER=${ADMIN_USER:-admin}
    PROXY_MODE=${OPT_PROXY_MODE:-$(read_kv "$STATE_FILE" PROXY_MODE)}
    PROXY_MODE=${PROXY_MODE:-auto}
    ADDRESS_POOL=${OPT_ADDRESS_POOL:-$(read_kv "$STATE_FILE" ADDRESS_POOL)}
    ADDRESS_POOL=${ADDRESS_POOL:-$DEFAULT_ADDRESS_POOL}
    # What an earlier run disabled (so that --uninstall can put it back).
    DISABLED_DEFAULT_SITE=$(read_kv "$STATE_FILE" DISABLED_DEFAULT_SITE)

    is_port "$NGINX_PORT" || usage_error "--nginx-port: not a port: $NGINX_PORT"
    is_port "$FTA_PORT_VALUE" || usage_error "--port: not a port: $FTA_PORT_VALUE"
    [ "$NGINX_PORT" != "$FTA_PORT_VALUE" ] || usage_error "nginx and the portal cannot share port $NGINX_PORT"
    is_cidr "$ADDRESS_POOL" || usage_error "--address-pool: not an IPv4 CIDR: $ADDRESS_POOL"
    case $PROXY_MODE in auto | compose | host) ;; *) usage_error "--proxy-mode: auto, compose or host" ;; esac
    if [[ ! $ADMIN_USER =~ ^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$ ]]; then usage_error "--admin-user: letters, digits, . _ @ - only"; fi
    if [ "$NGINX_MODE" = tls ]; then
        is_domain "$DOMAIN" || usage_error "--domain: not a host name: $DOMAIN"
        if [ -z "$TLS_CERT" ] && ! is_email "$EMAIL"; then
            usage_error "--domain needs --email (for Let's Encrypt), or --tls-cert and --tls-key"
        fi
        if [ -z "$TLS_CERT" ]; then
            TLS_CERT=/etc/letsencrypt/live/$DOMAIN/fullchain.pem
            TLS_KEY=/etc/letsencrypt/live/$DOMAIN/privkey.pem
            TLS_SOURCE=certbot
        else
            TLS_SOURCE=operator
        fi
        PUBLIC_URL=https://$DOMAIN
    else
        TLS_CERT="" TLS_KEY="" TLS_SOURCE=""
        PUBLIC_URL=http://127.0.0.1:$NGINX_PORT
    fi
    # --docker-host sticks: re-runs and --uninstall talk to the same engine.
    OPT_DOCKER_HOST=${OPT_DOCKER_HOST:-$(read_kv "$STATE_FILE" DOCKER_HOST)}
    if [ -n "$OPT_DOCKER_HOST" ]; then
        [[ $OPT_DOCKER_HOST == unix:///* ]] || usage_error "--docker-host: only unix:///path engines are supported"
        DOCKER_SOCK=${OPT_DOCKER_HOST#unix://}
        EXTERNAL_DOCKER=1
    fi
    export DOCKER_HOST=unix://$DOCKER_SOCK
}
TLS_SOURCE=""
DISABLED_DEFAULT_SITE=""

detect_platform() {
    if [ -r /etc/os-release ]; then
        OS_ID=$(read_kv /etc/os-release ID)
        OS_VERSION=$(read_kv /etc/os-release VERSION_ID)
    fi
    ARCH=$(uname -m)
    if have apt-get; then PKG=apt; elif have dnf; then PKG=dnf; fi
    # systemd manages services only when it is PID 1 (not in containers or on CI machines).
    if [ -d /run/systemd/system ] && [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then HAVE_SYSTEMD=1; fi
}

# ---------------------------------------------------------------------------------------------
# nginx site rendering (also used by --render-nginx and the tests)
# ---------------------------------------------------------------------------------------------

# render_nginx_site OUT: writes the site for the resolved settings to OUT. Test-only overrides:
# FTA_NGINX_HTTP_PORT / FTA_NGINX_HTTPS_PORT (80/443), FTA_NGINX_FALLBACK_CERT/_KEY, FTA_ACME_ROOT.
render_nginx_site() {
    local out=$1 ipv6=0 http_port https_port https_suffix server_names
    [ -r /proc/net/if_inet6 ] && ipv6=1
    http_port=${FTA_NGINX_HTTP_PORT:-80}
    https_port=${FTA_NGINX_HTTPS_PORT:-443}
    if ! is_port "$http_port" || ! is_port "$https_port"; then fail "FTA_NGINX_HTTP_PORT/FTA_NGINX_HTTPS_PORT must be ports"; fi
    https_suffix=""
    [ "$https_port" = 443 ] || https_suffix=":$https_port"
    # The names a browser uses through a tunnel; anything else meets the default server's 444.
    server_names="127.0.0.1 localhost"
    awk -v mode="$NGINX_MODE" -v ipv6="$ipv6" \
        -v fta_port="$FTA_PORT_VALUE" -v nginx_port="$NGINX_PORT" -v listen=127.0.0.1 \
        -v server_names="$server_names" -v domain="$DOMAIN" \
        -v tls_cert="${RENDER_TLS_CERT:-$TLS_CERT}" -v tls_key="${RENDER_TLS_KEY:-$TLS_KEY}" \
        -v fallback_cert="${FTA_NGINX_FALLBACK_CERT:-$TLS_DIR/fallback.crt}" \
        -v fallback_key="${FTA_NGINX_FALLBACK_KEY:-$TLS_DIR/fallback.key}" \
        -v acme_root="${FTA_ACME_ROOT:-$ACME_ROOT}" \
        -v http_port="$http_port" -v https_port="$https_port" -v https_suffix="$https_suffix" '
        BEGIN { depth = 0; keep[0] = 1
                on["loopback"] = (mode == "loopback"); on["tls"] = (mode == "tls"); on["ipv6"] = (ipv6 == 1)
                v["FTA_PORT"] = fta_port; v["NGINX_PORT"] = nginx_port; v["LISTEN"] = listen
                v["SERVER_NAMES"] = server_names; v["DOMAIN"] = domain
                v["TLS_CERT"] = tls_cert; v["TLS_KEY"] = tls_key
                v["FALLBACK_CERT"] = fallback_cert; v["FALLBACK_KEY"] = fallback_key
                v["ACME_ROOT"] = acme_root; v["HTTP_PORT"] = http_port; v["HTTPS_PORT"] = https_port
                v["HTTPS_SUFFIX"] = https_suffix }
        /^#@if / { if (!($2 in on)) { print "unknown template condition: " $2 > "/dev/stderr"; exit 3 }
                   depth++; keep[depth] = keep[depth - 1] && on[$2]; next }
        /^#@end/ { if (depth == 0) { print "unbalanced #@end" > "/dev/stderr"; exit 3 }
                   depth--; next }
        !keep[depth] { next }
        { line = $0
          for (k in v) { gsub("@" k "@", v[k], line) }
          print line }
        END { if (depth != 0) { print "unbalanced #@if" > "/dev/stderr"; exit 3 } }
    ' "$SCRIPT_DIR/nginx/fta.conf.template" >"$out"
    local left
    left=$(grep -v '^[[:space:]]*#' "$out" | grep -oE '@[A-Z_]+@' | head -n1 || true)
    [ -z "$left" ] || fail "nginx template: unreplaced placeholder $left"
}

# ---------------------------------------------------------------------------------------------
# Step 1: preflight. Only reads; collects every problem before stopping, so one run lists them all.
# ---------------------------------------------------------------------------------------------
problem() { PROBLEMS+=("$*"); info "PROBLEM: $*"; }

# port_holders PORT: prints "address process" for each TCP listener on PORT.
port_holders() {
    local port=$1
    if have ss; then
        ss -Hltnp "sport = :$port" 2>/dev/null | awk '{ proc = "?"; if (match($0, /users:\(\("[^"]+"/)) proc = substr($0, RSTART + 9, RLENGTH - 10); print $4, proc }'
    elif (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "127.0.0.1:$port ?"
    fi
}

# need_port ADDRESS PORT ALLOWED...: a problem when something other than ALLOWED listens there.
need_port() {
    local addr=$1 port=$2 holders line laddr proc ok
    shift 2
    holders=$(port_holders "$port")
    [ -n "$holders" ] || return 0
    while read -r laddr proc; do
        laddr=${laddr%:*}
        laddr=${laddr#[}; laddr=${laddr%]}
        case $laddr in
            "$addr" | 0.0.0.0 | '*' | '::' | "::ffff:$addr") ;;
            ::1) [ "$addr" = 127.0.0.1 ] || [ "$addr" = '*' ] || continue ;;
            *) [ "$addr" = '*' ] || continue ;;
        esac
        ok=0
        for allowed in "$@"; do
            if [ "$proc" = "$allowed" ]; then ok=1; fi
        done
        ((ok)) || problem "port $port ($addr) is already in use by ${proc/#\?/another program}; free it or choose another port"
    done <<<"$holders"
}

step_1_preflight() {
    step "Checking this server"
    local disk_kib mem_kib
    if [ "$(id -u)" -ne 0 ]; then
        if ((DRY_RUN)); then warn "not running as root: this dry run may miss things that only root can see"
        else problem "run as root: sudo ./install.sh"; fi
    fi
    case "$OS_ID $OS_VERSION" in
        "debian 12" | "ubuntu 22.04" | "ubuntu 24.04" | "amzn 2023") info "system: $OS_ID $OS_VERSION ($ARCH)" ;;
        *) problem "unsupported system '${OS_ID:-unknown} ${OS_VERSION:-}' (supported: Debian 12, Ubuntu 22.04/24.04, Amazon Linux 2023)" ;;
    esac
    case $ARCH in x86_64 | aarch64) ;; *) problem "unsupported architecture $ARCH (supported: x86_64, aarch64)" ;; esac
    [ -n "$PKG" ] || problem "neither apt-get nor dnf found"
    if ((HAVE_SYSTEMD)); then info "services: systemd"
    else info "services: systemd is not PID 1 here (container or CI): fta will run its own supervisor"; fi

    # Docker images and volumes live under /var/lib; 3 GiB holds the Freqtrade image and some bots.
    disk_kib=$(df -Pk /var/lib | awk 'NR == 2 { print $4 }')
    if ((disk_kib < MIN_DISK_GIB * 1024 * 1024)); then
        problem "only $((disk_kib / 1024)) MiB free under /var/lib; at least $MIN_DISK_GIB GiB are needed"
    else info "disk: $((disk_kib / 1024 / 1024)) GiB free under /var/lib"; fi
    mem_kib=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
    info "memory: $((mem_kib / 1024)) MiB"

    need_port 127.0.0.1 "$FTA_PORT_VALUE" fta
    if [ "$NGINX_MODE" = tls ]; then
        need_port '*' 80 nginx
        need_port '*' 443 nginx
    else
        need_port 127.0.0.1 "$NGINX_PORT" nginx
    fi
    if [ -n "$OPT_BINARY" ] && [ ! -f "$OPT_BINARY" ]; then problem "--binary: no such file: $OPT_BINARY"; fi
    if [ -n "$TLS_CERT" ] && [ "$TLS_SOURCE" = operator ]; then
        [ -r "$TLS_CERT" ] || problem "--tls-cert: cannot read $TLS_CERT"
        [ -r "$TLS_KEY" ] || problem "--tls-key: cannot read $TLS_KEY"
    fi
    [ -r "$SCRIPT_DIR/nginx/fta.conf.template" ] || problem "nginx/fta.conf.template missing: run install.sh from a complete checkout"

    if ((${#PROBLEMS[@]})); then
        ((DRY_RUN)) || fail "${#PROBLEMS[@]} problem(s) found (listed above)"
        info "(dry run: a real run would stop here with ${#PROBLEMS[@]} problem(s); the plan goes on)"
    else
        info "ok"
    fi
    check_only_step
}

# ---------------------------------------------------------------------------------------------
# Step 2: swap. A 1 GiB instance gets a swap file that brings RAM + swap to about 2 GiB.
# ---------------------------------------------------------------------------------------------
in_container() {
    [ -f /.dockerenv ] || [ -f /run/.containerenv ] && return 0
    if have systemd-detect-virt && systemd-detect-virt --container >/dev/null 2>&1; then return 0; fi
    tr '\0' '\n' </proc/1/environ 2>/dev/null | grep -q '^container='
}

step_2_swap() {
    step "Checking memory and swap"
    local mem_mb swap_mb size_mb
    mem_mb=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 1024))
    swap_mb=$(($(awk '/^SwapTotal:/ { print $2 }' /proc/meminfo) / 1024))
    if ((NO_SWAP)); then info "skipped (--no-swap)"; return 0; fi
    if ((mem_mb >= SWAP_BELOW_MB)); then
        info "$mem_mb MiB of memory: no swap file needed"; return 0
    fi
    if swapon --show=NAME --noheadings 2>/dev/null | grep -qx "$SWAPFILE"; then
        info "$SWAPFILE is active ($swap_mb MiB swap)"; return 0
    fi
    if ((mem_mb + swap_mb >= SWAP_TARGET_MB - 64)); then
        info "$mem_mb MiB of memory and $swap_mb MiB of swap: enough"; return 0
    fi
    if in_container; then
        warn "only $mem_mb MiB of memory, but this is a container: swap cannot be added here (the host decides)"
        return 0
    fi
    # Round up to 256 MiB; never less than 512 MiB.
    size_mb=$(((SWAP_TARGET_MB - mem_mb - swap_mb + 255) / 256 * 256))
    ((size_mb >= 512)) || size_mb=512
    changed "add a ${size_mb} MiB swap file $SWAPFILE (only $mem_mb MiB of memory; Docker, nginx, the portal and a bot need about 2 GiB)"
    ((DRY_RUN)) && return 0
    if [ ! -f "$SWAPFILE" ]; then
        fallocate -l "${size_mb}M" "$SWAPFILE" 2>/dev/null || dd if=/dev/zero of="$SWAPFILE" bs=1M count="$size_mb" status=none
        chmod 600 "$SWAPFILE"
        mkswap "$SWAPFILE" >>"$INSTALL_LOG"
    fi
    if ! swapon "$SWAPFILE" 2>>"$INSTALL_LOG"; then
        rm -f "$SWAPFILE"
        warn "swapon $SWAPFILE was refused (a container or a file system without swap support); going on without swap"
        return 0
    fi
    if ! grep -qE "^${SWAPFILE}[[:space:]]" /etc/fstab; then
        printf '%s none swap sw 0 0\n' "$SWAPFILE" >>/etc/fstab
        info "added $SWAPFILE to /etc/fstab"
    fi
}

# ---------------------------------------------------------------------------------------------
# Step 3: packages, from the distribution only: Docker, a Compose tool, nginx, HAProxy (the
# socket proxy's offline fallback), and the tools this script and fta use.
# ---------------------------------------------------------------------------------------------
pkg_installed() {
    case $PKG in
        apt) [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ] ;;
        dnf) rpm -q "$1" >/dev/null 2>&1 ;;
    esac
}
apt_candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }' | grep -vx '(none)' | head -n1; }

detect_compose() {
    COMPOSE_CMD=()
    if docker compose version >/dev/null 2>&1; then COMPOSE_CMD=(docker compose)
    elif have docker-compose; then COMPOSE_CMD=(docker-compose); fi
}

step_3_packages() {
    step "Installing Docker, nginx and tools from the distribution's packages"
    local wanted=() missing=() p compose_pkg=""
    case $PKG in
        apt)
            wanted=(ca-certificates curl jq sqlite3 openssl nginx haproxy iproute2 util-linux)
            have dockerd || wanted+=(docker.io)
            ;;
        dnf)
            # curl-minimal (preinstalled) provides curl; the curl package would conflict with it.
            wanted=(ca-certificates jq sqlite openssl nginx haproxy iproute util-linux)
            have curl || wanted+=(curl)
            have dockerd || wanted+=(docker)
            ;;
        *) fail "no supported package manager" ;;
    esac
    if [ "$NGINX_MODE" = tls ] && [ "$TLS_SOURCE" = certbot ]; then wanted+=(certbot); fi
    # scripts/build-freqtrade-image.sh builds a Debian root with debootstrap (Debian/Ubuntu only).
    if ((OPT_BUILD_BOT_IMAGE)); then wanted+=(debootstrap); fi
    for p in "${wanted[@]}"; do pkg_installed "$p" || missing+=("$p"); done
    detect_compose

    if [ "$PKG" = apt ]; then
        if ((${#missing[@]})) || ((${#COMPOSE_CMD[@]} == 0)); then
            if ((DRY_RUN)); then changed "run apt-get update"; else
                info "apt-get update..."
                run_logged env DEBIAN_FRONTEND=noninteractive apt-get update
            fi
        fi
        # Compose v2 where the distribution has it (Ubuntu: docker-compose-v2), else Compose v1
        # (Debian 12: docker-compose 1.29). Both run the same compose file.
        if ((${#COMPOSE_CMD[@]} == 0)); then
            for p in docker-compose-v2 docker-compose-plugin docker-compose; do
                if [ -n "$(apt_candidate "$p")" ]; then compose_pkg=$p; break; fi
            done
            if [ -n "$compose_pkg" ]; then missing+=("$compose_pkg")
            elif ((DRY_RUN)); then missing+=("docker-compose(-v2)")
            else warn "no Compose package in this distribution: the socket proxy will run under the distribution's haproxy"; fi
        fi
        if ((${#missing[@]})); then
            changed "install ${missing[*]}"
            if ! ((DRY_RUN)); then
                info "(this can take a few minutes)"
                run_logged env DEBIAN_FRONTEND=noninteractive apt-get install -y -o Dpkg::Options::=--force-confold "${missing[@]}"
            fi
        fi
    else
        if ((${#missing[@]})); then
            changed "install ${missing[*]}"
            if ! ((DRY_RUN)); then
                info "(this can take a few minutes)"
                run_logged dnf install -y "${missing[@]}" || {
                    if [[ " ${missing[*]} " == *" certbot "* ]]; then
                        fail "dnf could not install ${missing[*]} (see $INSTALL_LOG). If certbot is the one missing from this distribution, re-run with --tls-cert FILE --tls-key FILE instead of --email"
                    fi
                    fail "dnf could not install ${missing[*]} (see $INSTALL_LOG)"
                }
            fi
        fi
        # Amazon Linux 2023 packages no Compose tool; the proxy then runs under haproxy (step 8).
    fi
    detect_compose
    if ! ((DRY_RUN)); then
        for p in docker nginx haproxy jq openssl sqlite3 curl; do have "$p" || fail "$p is still missing after the package installation"; done
        info "docker $(docker --version 2>/dev/null | awk '{ print $3 }' | tr -d ,), nginx $(nginx -v 2>&1 | sed 's|.*/||'), compose: ${COMPOSE_CMD[*]:-none}"
    fi
}

# ---------------------------------------------------------------------------------------------
# Step 4: Docker. /etc/docker/daemon.json gets log rotation, address pools for many client
# networks, live-restore and no-new-privileges, merged into whatever is there; then dockerd runs.
# ---------------------------------------------------------------------------------------------
docker_ping() { curl -fsS --max-time 3 --unix-socket "$DOCKER_SOCK" http://docker/_ping >/dev/null 2>&1; }

# The jq program that merges fta's settings into an existing daemon.json without clobbering
# anything the operator set: only keys that are absent are added, except live-restore and
# no-new-privileges, which fta needs on (a daemon restart must not kill the bots; a bot must
# never gain privileges).
# shellcheck disable=SC2016 # $pool is jq's, not the shell's
readonly DAEMON_JSON_MERGE='
  (if has("log-driver") then . else . + {"log-driver": "json-file"} end)
  | (if .["log-driver"] == "json-file"
       then .["log-opts"] = ({"max-size": "10m", "max-file": "3"} + (.["log-opts"] // {}))
       else . end)
  | (if has("default-address-pools") then .
       else . + {"default-address-pools": [{"base": $pool, "size": 24}]} end)
  | .["live-restore"] = true
  | .["no-new-privileges"] = true'

# How many networks the configured pools hold (a /14 split in /24s: 1024).
readonly DAEMON_JSON_POOL_CAPACITY='[.["default-address-pools"][]? | pow(2; (.size - (.base | split("/")[1] | tonumber)))] | add // 0'

start_own_dockerd() {
    changed "start dockerd in the background (no systemd here; pidfile $RUN_DIR/dockerd.pid, log $LOG_DIR/dockerd.log)"
    ((DRY_RUN)) && return 0
    ensure_run_dir "$RUN_DIR"
    install -d -m 0750 "$LOG_DIR"
    # 9>&-: long-lived children must not keep install.sh's lock (fd 9) held after it exits.
    setsid nohup dockerd --pidfile "$RUN_DIR/dockerd.pid" >>"$LOG_DIR/dockerd.log" 2>&1 </dev/null 9>&- &
    wait_for_docker
}
wait_for_docker() {
    local _
    for _ in $(seq 1 60); do docker_ping && return 0; sleep 1; done
    fail "dockerd did not answer on $DOCKER_SOCK within 60 s (see ${LOG_DIR}/dockerd.log or journalctl -u docker)"
}
stop_own_dockerd() {
    local pid
    pid=$(cat "$RUN_DIR/dockerd.pid" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 30); do process_alive "$pid" || return 0; sleep 1; done
}

step_4_docker() {
    step "Configuring and starting Docker"
    local current desired tmp capacity daemon_changed=0
    if ((EXTERNAL_DOCKER)); then
        info "using the Docker engine at $DOCKER_HOST (--docker-host): dockerd and $DOCKER_DAEMON_JSON are left alone"
        if ! ((DRY_RUN)); then docker_ping || fail "no Docker engine answers at $DOCKER_HOST"; fi
        return 0
    fi
    if ! have jq; then
        changed "merge log rotation, address pools ($ADDRESS_POOL in /24s), live-restore and no-new-privileges into $DOCKER_DAEMON_JSON (jq is installed in step 3)"
    else
        current='{}'
        if [ -s "$DOCKER_DAEMON_JSON" ]; then
            current=$(jq -S . "$DOCKER_DAEMON_JSON") || fail "$DOCKER_DAEMON_JSON is not valid JSON; fix or remove it and re-run"
        fi
        desired=$(jq -S --arg pool "$ADDRESS_POOL" "$DAEMON_JSON_MERGE" <<<"$current")
        capacity=$(jq "$DAEMON_JSON_POOL_CAPACITY" <<<"$desired")
        if ((capacity < 250)); then
            warn "$DOCKER_DAEMON_JSON keeps its own default-address-pools, with room for only $capacity networks (fta needs one per client; 250 or more recommended)"
        fi
        if [ "$current" != "$desired" ] || [ ! -s "$DOCKER_DAEMON_JSON" ]; then
            tmp=$(new_tmp)
            printf '%s\n' "$desired" >"$tmp"
            # (grep -c reads all of the help text: with -q, dockerd could die of SIGPIPE under pipefail.)
            if ! ((DRY_RUN)) && [ "$(dockerd --help 2>&1 | grep -c -- '--validate')" != 0 ]; then
                dockerd --validate --config-file "$tmp" >>"$INSTALL_LOG" 2>&1 || fail "dockerd rejects the merged daemon.json (see $INSTALL_LOG)"
            fi
            run install -d -m 0755 /etc/docker
            put_file "$tmp" "$DOCKER_DAEMON_JSON" 644 root root
            daemon_changed=$FILE_CHANGED
        fi
    fi

    if ((HAVE_SYSTEMD)); then
        if ! systemctl is-enabled --quiet docker 2>/dev/null || ! systemctl is-active --quiet docker 2>/dev/null; then
            changed "enable and start docker.service"
            run systemctl enable --now docker
        elif ((daemon_changed)); then
            changed "restart docker.service (live-restore keeps running containers)"
            run systemctl restart docker
        fi
        ((DRY_RUN)) || wait_for_docker
    elif docker_ping; then
        if ((daemon_changed)); then
            if [ -f "$RUN_DIR/dockerd.pid" ] && kill -0 "$(cat "$RUN_DIR/dockerd.pid")" 2>/dev/null; then
                changed "restart the dockerd this script started, to apply $DOCKER_DAEMON_JSON"
                if ! ((DRY_RUN)); then stop_own_dockerd; start_own_dockerd; fi
            else
                warn "a dockerd that this script did not start answers on $DOCKER_SOCK: restart it yourself to apply $DOCKER_DAEMON_JSON"
            fi
        fi
    else
        start_own_dockerd
    fi
    if ! ((DRY_RUN)); then
        info "Docker engine $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?') answers on $DOCKER_SOCK"
    fi
}

# pull_image IMAGE MAX_SECONDS: docker pull, giving up after 60 s when no registry answers at all
# (an offline machine can otherwise hang for minutes) and after MAX_SECONDS in any case.
PULL_SILENCE_SECONDS=60
pull_image() {
    local image=$1 max=$2 out pid waited=0
    if ((OFFLINE)); then return 1; fi
    out=$(new_tmp)
    docker pull "$image" >"$out" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        if ((waited >= max)) || { ((waited >= PULL_SILENCE_SECONDS)) && ! grep -q 'Pulling from\|Pulling fs layer\|Downloading\|Already exists' "$out"; }; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
            cat "$out" >>"$INSTALL_LOG"
            echo "(gave up after $waited s)" >>"$INSTALL_LOG"
            return 1
        fi
        sleep 2
        waited=$((waited + 2))
    done
    cat "$out" >>"$INSTALL_LOG"
    wait "$pid"
}

# ---------------------------------------------------------------------------------------------
# Step 5: the fta user (no login, NOT in the docker group: the portal reaches Docker only
# through the socket proxy) and fta's directories; the small helper scripts.
# ---------------------------------------------------------------------------------------------
nologin_shell() { local s; for s in /usr/sbin/nologin /sbin/nologin; do [ -x "$s" ] && { echo "$s"; return; }; done; echo /bin/false; }

ensure_system_user() {
    local user=$1 home=$2 comment=$3
    if id -u "$user" >/dev/null 2>&1; then return 0; fi
    changed "create system user $user (no login shell)"
    run useradd --system --user-group --home-dir "$home" --no-create-home --shell "$(nologin_shell)" --comment "$comment" "$user"
}

install_helpers() {
    local name
    for name in fta-run fta-supervise; do
        put_file "$SCRIPT_DIR/scripts/install/$name.sh" "$LIBEXEC_DIR/$name" 755 root root
    done
    put_file "$SCRIPT_DIR/scripts/install/fta-admin.sh" "$FTA_ADMIN_BIN" 755 root root
}

step_5_user() {
    step "Creating the fta user and directories"
    ensure_system_user "$FTA_USER" "$DATA_DIR" "fta portal"
    if id -nG "$FTA_USER" 2>/dev/null | tr ' ' '\n' | grep -qx docker; then
        changed "remove $FTA_USER from the docker group (the portal must reach Docker only through the socket proxy)"
        run gpasswd -d "$FTA_USER" docker
    fi
    if ! id -u "$FTA_USER" >/dev/null 2>&1; then
        # Dry run on a fresh machine: the user does not exist, so neither can the checks below.
        changed "create $ETC_DIR (root:$FTA_USER 750), $DATA_DIR ($FTA_USER:$FTA_USER 700), $LOG_DIR (root:$FTA_USER 750)"
    else
        ensure_dir "$ETC_DIR" 750 root "$FTA_USER"
        ensure_dir "$DATA_DIR" 700 "$FTA_USER" "$FTA_USER"
        ensure_dir "$LOG_DIR" 750 root "$FTA_USER"
    fi
    ensure_dir "$SHARE_DIR" 755 root root
    ensure_dir "$LIBEXEC_DIR" 755 root root
    install_helpers
}

# ---------------------------------------------------------------------------------------------
# Step 6: /etc/fta/fta.env, the service's configuration, from .env.example: placeholders get
# fresh random secrets; on a re-run existing values are kept (secrets never change) and only
# missing keys are added. install.sh also saves its own choices in /etc/fta/install.conf.
# ---------------------------------------------------------------------------------------------

# The keys fta needs, with the values this installer gives them when .env.example lacks them.
builtin_env_defaults() {
    local mem_mb budget
    mem_mb=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 1024))
    # What bots may use in total: memory less ~700 MiB for the system, dockerd, nginx and the
    # portal; never below one small bot (256 MiB).
    budget=$((mem_mb - 700))
    ((budget >= 256)) || budget=256
    cat <<EOF
FTA_LISTEN=127.0.0.1
FTA_PORT=8080
FTA_DATABASE=$DATA_DIR/fta.sqlite
FTA_WEB_ROOT=$WEB_DIR
FTA_DOCKER_URL=unix://$PROXY_RUN_DIR/docker.sock
FTA_BOT_IMAGE=$DEFAULT_BOT_IMAGE
FTA_SECRET_KEY=change-me
FTA_PUBLIC_URL=http://127.0.0.1:8081
DOCKER_NETWORK=fta-control
FTA_MEMORY_BUDGET_MB=$budget
FTA_MAX_BOTS_PER_CLIENT=3
EOF
}

# render_env_file OUT [EXISTING]: computes the desired fta.env from the existing one (default
# $ENV_FILE), .env.example and the built-in keys.
render_env_file() {
    local out=$1 existing=${2:-$ENV_FILE} template line key value re='^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$'
    local -A forced=() seen=()
    # Values this run decides, whatever the file says: derived from flags and from the mode.
    forced[FTA_PUBLIC_URL]=$PUBLIC_URL
    forced[FTA_PORT]=$FTA_PORT_VALUE
    [ -n "$DOCKER_URL" ] && forced[FTA_DOCKER_URL]=$DOCKER_URL
    [ -n "$OPT_BOT_IMAGE" ] && forced[FTA_BOT_IMAGE]=$OPT_BOT_IMAGE
    [ -n "${BUILT_BOT_IMAGE:-}" ] && forced[FTA_BOT_IMAGE]=$BUILT_BOT_IMAGE
    local k
    for k in "${!COMPOSE_ENV[@]}"; do
        # FTA_PROXY_UID is the operator's to change (another image); the rest follow the system.
        if [ "$k" = FTA_PROXY_UID ] && [ -n "$(read_kv "$existing" "$k")" ]; then continue; fi
        forced[$k]=${COMPOSE_ENV[$k]}
    done

    # The base: the existing file (re-run) or .env.example (first run), then the built-in keys.
    template=$(new_tmp)
    if [ -s "$existing" ]; then cat "$existing" >"$template"
    elif [ -f "$ENV_EXAMPLE" ]; then cat "$ENV_EXAMPLE" >"$template"
    else printf '# fta configuration (no .env.example in the checkout: built-in defaults)\n' >"$template"; fi
    if [ -s "$existing" ] && [ -f "$ENV_EXAMPLE" ]; then
        # Keys added to .env.example since the first install.
        while IFS= read -r line; do
            [[ $line =~ $re ]] || continue
            grep -qE "^[[:space:]]*(export[[:space:]]+)?${BASH_REMATCH[2]}=" "$template" || printf '%s\n' "$line" >>"$template"
        done <"$ENV_EXAMPLE"
    fi
    while IFS= read -r line; do
        [[ $line =~ $re ]] || continue
        grep -qE "^[[:space:]]*(export[[:space:]]+)?${BASH_REMATCH[2]}=" "$template" || printf '%s\n' "$line" >>"$template"
    done < <(builtin_env_defaults; for k in "${!forced[@]}"; do printf '%s=%s\n' "$k" "${forced[$k]}"; done | sort)

    : >"$out"
    while IFS= read -r line || [ -n "$line" ]; do
        if [[ ! $line =~ $re ]]; then printf '%s\n' "$line" >>"$out"; continue; fi
        key=${BASH_REMATCH[2]} value=${BASH_REMATCH[3]}
        if [ -n "${seen[$key]:-}" ]; then continue; fi
        seen[$key]=1
        local bare=$value
        if [[ $bare =~ ^\"(.*)\"$ || $bare =~ ^\'(.*)\'$ ]]; then bare=${BASH_REMATCH[1]}; fi
        if [ -n "${forced[$key]:-}" ]; then
            value=${forced[$key]}
        elif [[ $key =~ $SECRET_KEY_RE ]] && [[ $bare =~ $PLACEHOLDER_RE ]]; then
            value=$(random_hex)
        fi
        printf '%s=%s\n' "$key" "$value" >>"$out"
    done <"$template"
}

# Lists, without values for secrets, what differs between two env files.
describe_env_changes() {
    local old=$1 new=$2 key re='^([A-Za-z_][A-Za-z0-9_]*)='
    while IFS= read -r line; do
        [[ $line =~ $re ]] || continue
        key=${BASH_REMATCH[1]}
        if ! grep -q "^$key=" "$old" 2>/dev/null; then
            if [[ $key =~ $SECRET_KEY_RE ]]; then changed "$ENV_FILE: add $key (fresh random secret)"
            else changed "$ENV_FILE: add $line"; fi
        elif ! grep -qxF "$line" "$old"; then
            if [[ $key =~ $SECRET_KEY_RE ]]; then changed "$ENV_FILE: replace the placeholder of $key with a fresh random secret"
            else changed "$ENV_FILE: set $line"; fi
        fi
    done <"$new"
}

write_state_file() {
    local tmp
    tmp=$(new_tmp)
    {
        echo "# Choices of the last install.sh run (re-runs reuse them; flags override). No secrets here."
        echo "NGINX_MODE=$NGINX_MODE"
        echo "DOMAIN=$DOMAIN"
        echo "EMAIL=$EMAIL"
        echo "NGINX_PORT=$NGINX_PORT"
        if [ "$TLS_SOURCE" = operator ]; then echo "TLS_CERT=$TLS_CERT"; echo "TLS_KEY=$TLS_KEY"; fi
        echo "ADMIN_USER=$ADMIN_USER"
        echo "PROXY_MODE=$PROXY_MODE"
        echo "ADDRESS_POOL=$ADDRESS_POOL"
        if ((EXTERNAL_DOCKER)); then echo "DOCKER_HOST=unix://$DOCKER_SOCK"; fi
        if [ -n "$DISABLED_DEFAULT_SITE" ]; then echo "DISABLED_DEFAULT_SITE=$DISABLED_DEFAULT_SITE"; fi
    } >"$tmp"
    put_file "$tmp" "$STATE_FILE" 644 root root
}

DRY_ENV="" # in a dry run: the file the first write_env_file would have written
write_env_file() {
    local tmp
    tmp=$(new_tmp)
    if ((DRY_RUN)) && [ -n "$DRY_ENV" ]; then
        render_env_file "$tmp" "$DRY_ENV"
        describe_env_changes "$DRY_ENV" "$tmp"
        DRY_ENV=$tmp
        return 0
    fi
    render_env_file "$tmp"
    describe_env_changes "$ENV_FILE" "$tmp"
    # Root-only: systemd (EnvironmentFile=) and fta-run read it as root and hand the values to
    # the fta process; the fta user itself never needs to read the file.
    put_file "$tmp" "$ENV_FILE" 600 root root
    if ((DRY_RUN)); then DRY_ENV=$tmp; fi
    if ((FILE_CHANGED)); then RESTART_FTA=1; fi
}

step_6_config() {
    step "Writing the configuration ($ENV_FILE)"
    [ -f "$ENV_EXAMPLE" ] || warn ".env.example is missing from the checkout: using built-in defaults"
    # The socket proxy's address is settled in step 8; keep what the file has until then.
    DOCKER_URL=$(read_kv "$ENV_FILE" FTA_DOCKER_URL)
    compose_env_values
    write_env_file
    write_state_file
}

# ---------------------------------------------------------------------------------------------
# Step 7: the fta binary (prebuilt, built here, or a verified release download) and web files.
# ---------------------------------------------------------------------------------------------
STAGED_BIN="" STAGED_WEB=""

stage_release() {
    local url=${FTA_RELEASE_URL:-} sum=${FTA_RELEASE_SHA256:-} archive dir
    [[ $sum =~ ^[0-9a-fA-F]{64}$ ]] || fail "FTA_RELEASE_URL needs FTA_RELEASE_SHA256 (64 hex characters) to verify the download"
    info "downloading $url"
    archive=$TMP_DIR/release.tar.gz
    curl -fsSL --proto '=https,file' --tlsv1.2 --retry 3 -o "$archive" "$url" || fail "download failed: $url"
    if [ "$(sha256sum "$archive" | awk '{ print $1 }')" != "${sum,,}" ]; then
        fail "SHA-256 of $url does not match FTA_RELEASE_SHA256: refusing to install it"
    fi
    info "SHA-256 verified"
    dir=$TMP_DIR/release
    mkdir -p "$dir"
    tar -xzf "$archive" -C "$dir" --no-same-owner --no-same-permissions
    STAGED_BIN=$(find "$dir" -maxdepth 3 -type f -name fta -path '*fta' | head -n1)
    [ -n "$STAGED_BIN" ] || fail "the release archive holds no fta binary"
    local web
    web=$(find "$dir" -maxdepth 4 -type d -name web | head -n1)
    if [ -n "$web" ]; then STAGED_WEB=$web; fi
}

stage_build() {
    local owner swift scratch=$SCRIPT_DIR/.build-install
    swift=$(command -v swift)
    owner=$(stat -c %U "$SCRIPT_DIR")
    info "building fta with $swift (release, static Swift runtime; this takes a while on a small machine)"
    local cmd=("$swift" build -c release --product fta --static-swift-stdlib --package-path "$SCRIPT_DIR" --scratch-path "$scratch")
    # Build as the owner of the checkout, so that no root-owned files are left in it.
    if [ "$owner" != root ] && id -u "$owner" >/dev/null 2>&1; then cmd=(runuser -u "$owner" -- "${cmd[@]}"); fi
    run_logged "${cmd[@]}" || fail "swift build failed (see $INSTALL_LOG); or pass --binary PATH, or set FTA_RELEASE_URL"
    STAGED_BIN=$scratch/release/fta
}

step_7_binary() {
    step "Installing the fta binary and web files"
    local source
    if [ -n "$OPT_BINARY" ]; then source="prebuilt binary $OPT_BINARY"
    elif have swift && [ -f "$SCRIPT_DIR/Package.swift" ]; then source="build from this checkout (swift build -c release)"
    elif [ -n "${FTA_RELEASE_URL:-}" ]; then source="release archive $FTA_RELEASE_URL (SHA-256 checked)"
    elif [ -x "$FTA_BIN" ]; then source="keep"
    else fail "no fta binary: pass --binary PATH, install a Swift toolchain, or set FTA_RELEASE_URL and FTA_RELEASE_SHA256"; fi
    STAGED_WEB=$SCRIPT_DIR/web

    if [ "$source" = keep ]; then
        info "keeping the installed $FTA_BIN (no --binary, no Swift toolchain, no FTA_RELEASE_URL)"
    elif ((DRY_RUN)); then
        if [ -n "$OPT_BINARY" ] && [ -f "$FTA_BIN" ] && cmp -s "$OPT_BINARY" "$FTA_BIN"; then info "$FTA_BIN is already this binary"
        else changed "install $FTA_BIN from the $source"; fi
    else
        case $source in
            prebuilt*) STAGED_BIN=$OPT_BINARY ;;
            build*) stage_build ;;
            release*) stage_release ;;
        esac
        # A binary that cannot run here (wrong architecture, missing shared library) stops now.
        if ldd "$STAGED_BIN" 2>/dev/null | grep -q 'not found'; then
            fail "$STAGED_BIN needs shared libraries this system lacks: $(ldd "$STAGED_BIN" | grep 'not found' | awk '{ print $1 }' | tr '\n' ' ')"
        fi
        local help
        help=$("$STAGED_BIN" --help 2>&1) || fail "$STAGED_BIN does not run on this system (fta --help failed)"
        [[ $help == *serve* && $help == *migrate* ]] || fail "$STAGED_BIN does not look like fta (its --help names no serve/migrate commands)"
        put_file "$STAGED_BIN" "$FTA_BIN" 755 root root
        if ((FILE_CHANGED)); then RESTART_FTA=1; fi
    fi

    # Static files: replaced as a whole (a new tree beside the old, then swapped) when they differ.
    if [ ! -d "$STAGED_WEB" ] || [ -z "$(ls -A "$STAGED_WEB" 2>/dev/null)" ]; then
        warn "no web files in ${STAGED_WEB#"$SCRIPT_DIR"/}: the portal will serve its API only"
    elif [ -d "$WEB_DIR" ] && diff -rq "$STAGED_WEB" "$WEB_DIR" >/dev/null 2>&1; then
        :
    else
        changed "install web files into $WEB_DIR"
        if ! ((DRY_RUN)); then
            rm -rf "$WEB_DIR.new" "$WEB_DIR.old"
            cp -R "$STAGED_WEB" "$WEB_DIR.new"
            chown -R root:root "$WEB_DIR.new"
            chmod -R u=rwX,go=rX "$WEB_DIR.new"
            [ -d "$WEB_DIR" ] && mv "$WEB_DIR" "$WEB_DIR.old"
            mv "$WEB_DIR.new" "$WEB_DIR"
            rm -rf "$WEB_DIR.old"
        fi
    fi
}

# ---------------------------------------------------------------------------------------------
# Step 8: the Docker socket proxy (HAProxy, compose/). It is the only way fta reaches Docker.
# With a Compose tool and the pinned HAProxy image (present or pullable) it runs as the compose
# project; otherwise (offline, or no Compose package, as on Amazon Linux) the very same
# compose/haproxy/haproxy.cfg runs under the distribution's haproxy ("host mode"). Either way it
# runs as a dedicated uid whose primary group is fta's group, plus the engine socket's group, and
# serves the portal on a unix socket, /run/fta-proxy/docker.sock (mode 660 from haproxy.cfg, in a
# 0750 directory): only the fta user can reach it.
# ---------------------------------------------------------------------------------------------
readonly PROXY_ENV_FILE=$ETC_DIR/proxy.env
readonly PROXY_SOCKET=$PROXY_RUN_DIR/docker.sock
readonly PROXY_CFG=$COMPOSE_DIR/haproxy/haproxy.cfg
# The uid of the haproxy user in the official image (compose/docker-compose.yml).
readonly PROXY_CONTAINER_UID=99

# The proxy image named in compose/docker-compose.yml, with its ${VAR:-default} resolved.
proxy_image() {
    local image re='^\$\{([A-Za-z_][A-Za-z0-9_]*):?-([^}]*)\}$'
    [ -f "$SCRIPT_DIR/compose/docker-compose.yml" ] || return 0
    image=$(awk '/^[[:space:]]*image:/ { gsub(/["'\'']/, "", $2); print $2; exit }' "$SCRIPT_DIR/compose/docker-compose.yml")
    if [[ $image =~ $re ]]; then
        local from_env
        from_env=$(read_kv "$ENV_FILE" "${BASH_REMATCH[1]}")
        image=${from_env:-${BASH_REMATCH[2]}}
    fi
    printf '%s' "$image"
}

step_8_proxy() {
    step "Starting the Docker socket proxy"
    [ -f "$SCRIPT_DIR/compose/haproxy/haproxy.cfg" ] || fail "compose/haproxy/haproxy.cfg missing: run install.sh from a complete checkout"
    local mode=$PROXY_MODE image
    image=$(proxy_image)
    if [ "$mode" = auto ]; then
        mode=host
        if ((${#COMPOSE_CMD[@]} == 0)); then
            info "no Compose tool: the proxy runs under the distribution's haproxy (same haproxy.cfg)"
        elif [ -z "$image" ]; then
            info "compose/docker-compose.yml names no image: the proxy runs under the distribution's haproxy"
        elif docker image inspect "$image" >/dev/null 2>&1; then
            mode=compose
        elif ((OFFLINE)); then
            info "--offline: the proxy runs under the distribution's haproxy (same haproxy.cfg)"
        elif ((DRY_RUN)); then
            info "a real run tries 'docker pull $image'; when that fails (offline) the proxy runs under the distribution's haproxy"
        elif pull_image "$image" 600; then
            info "pulled $image"
            mode=compose
        else
            info "cannot pull $image (no registry reachable?): the proxy runs under the distribution's haproxy with the same compose/haproxy/haproxy.cfg"
        fi
    fi
    copy_tree "$SCRIPT_DIR/compose" "$COMPOSE_DIR"
    if [ "$mode" = compose ]; then proxy_compose "$image"; else proxy_host; fi
    # fta reaches Docker only through the proxy.
    DOCKER_URL=unix://$PROXY_SOCKET
    write_env_file
    ((DRY_RUN)) || wait_for_proxy
}

# The values compose/docker-compose.yml interpolates from fta.env (.env.example has
# placeholders): this system's ids and paths. Set in both modes, so that the file stays right for
# `docker compose --env-file /etc/fta/fta.env` whichever mode runs now.
compose_env_values() {
    COMPOSE_ENV=([FTA_DOCKER_SOCKET]=$DOCKER_SOCK [FTA_PROXY_SOCKET_DIR]=$PROXY_RUN_DIR
        [FTA_PROXY_UID]=$PROXY_CONTAINER_UID)
    if id -u "$FTA_USER" >/dev/null 2>&1; then COMPOSE_ENV[FTA_GID]=$(id -g "$FTA_USER"); fi
    if [ -S "$DOCKER_SOCK" ]; then COMPOSE_ENV[DOCKER_GID]=$(stat -c %g "$DOCKER_SOCK"); fi
}

# The host-mode proxy user: primary group fta (so that its socket is group-owned by fta, as in
# the container), supplementary group = the engine socket's group. fta itself stays out of it.
ensure_proxy_user() {
    local sock_group
    if ! id -u "$PROXY_USER" >/dev/null 2>&1; then
        changed "create system user $PROXY_USER (group $FTA_USER; runs the socket proxy in host mode)"
        run useradd --system --gid "$FTA_USER" --no-user-group --home-dir /nonexistent --no-create-home \
            --shell "$(nologin_shell)" --comment "fta Docker socket proxy" "$PROXY_USER"
    fi
    sock_group=$(stat -c %G "$DOCKER_SOCK" 2>/dev/null || echo docker)
    if ! id -nG "$PROXY_USER" 2>/dev/null | tr ' ' '\n' | grep -qx "$sock_group"; then
        changed "add $PROXY_USER to group $sock_group (the group of $DOCKER_SOCK)"
        run usermod -aG "$sock_group" "$PROXY_USER"
        PROXY_RESTART=1
    fi
}
PROXY_RESTART=0

proxy_compose() {
    local image=$1 tmp
    info "socket proxy: compose project fta, image $image"
    stop_host_proxy
    if ((COPY_CHANGED)); then PROXY_RESTART=1; fi
    # The socket directory: /run is a tmpfs, so systemd-tmpfiles recreates it at boot (before
    # docker.service starts the container again: restart unless-stopped).
    if ((HAVE_SYSTEMD)); then
        tmp=$(new_tmp)
        printf 'd %s 0750 %s %s -\n' "$PROXY_RUN_DIR" "$PROXY_CONTAINER_UID" "$FTA_USER" >"$tmp"
        put_file "$tmp" /etc/tmpfiles.d/fta-proxy.conf 644 root root
    fi
    ensure_run_dir "$PROXY_RUN_DIR" 0750 "$PROXY_CONTAINER_UID" "$FTA_USER"
    if ! compose_project_running; then changed "start the compose project fta ($(quote_cmd "${COMPOSE_CMD[@]}") up -d)"
    elif ((PROXY_RESTART)); then changed "recreate the proxy container (configuration changed)"; fi
    local force=()
    if ((PROXY_RESTART)); then force=(--force-recreate); fi
    run_logged "${COMPOSE_CMD[@]}" -p fta -f "$COMPOSE_DIR/docker-compose.yml" --env-file "$ENV_FILE" up -d "${force[@]}"
}

# copy_tree SRC DEST: DEST becomes a copy of SRC (root-owned, world-readable) when they differ.
COPY_CHANGED=0
copy_tree() {
    local src=$1 dest=$2
    COPY_CHANGED=0
    if [ -d "$dest" ] && diff -rq "$src" "$dest" >/dev/null 2>&1; then return 0; fi
    COPY_CHANGED=1
    changed "copy ${src#"$SCRIPT_DIR"/}/ to $dest"
    ((DRY_RUN)) && return 0
    rm -rf "$dest.new"
    cp -R "$src" "$dest.new"
    chown -R root:root "$dest.new"
    chmod -R u=rwX,go=rX "$dest.new"
    rm -rf "$dest"
    mv "$dest.new" "$dest"
}

proxy_unit() {
    local haproxy=$1 sock_group=$2
    cat <<EOF
# Installed by fta's install.sh (socket proxy, host mode); re-run it rather than editing this file.
[Unit]
Description=fta Docker socket proxy (distribution HAProxy, same haproxy.cfg as the container)
After=docker.service
Wants=docker.service

[Service]
Type=simple
User=$PROXY_USER
Group=$FTA_USER
# The engine socket's group: the proxy is the only fta process that may talk to the engine.
SupplementaryGroups=$sock_group
EnvironmentFile=$PROXY_ENV_FILE
RuntimeDirectory=fta-proxy
RuntimeDirectoryMode=0750
ExecStartPre=$haproxy -c -q -f $PROXY_CFG
ExecStart=$haproxy -db -f $PROXY_CFG
Restart=on-failure
RestartSec=2
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
CapabilityBoundingSet=
AmbientCapabilities=
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
LockPersonality=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes

[Install]
WantedBy=multi-user.target
EOF
}

# The proxy under the distribution's haproxy, with the parameters haproxy.cfg documents.
proxy_host() {
    local haproxy sock_group tmp
    haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)
    info "socket proxy: $haproxy as user $PROXY_USER, compose/haproxy/haproxy.cfg, on $PROXY_SOCKET"
    stop_compose_proxy
    if ((COPY_CHANGED)); then PROXY_RESTART=1; fi
    ensure_proxy_user
    sock_group=$(stat -c %G "$DOCKER_SOCK" 2>/dev/null || echo docker)
    tmp=$(new_tmp)
    {
        echo "# Parameters of compose/haproxy/haproxy.cfg in host mode (written by install.sh)."
        echo "FTA_PROXY_BIND=unix@$PROXY_SOCKET"
        # A unix socket, not the default 127.0.0.1:2376: on the host a fixed TCP port could be
        # taken, and nothing but an operator with root looks at it.
        echo "FTA_PROXY_HEALTH_BIND=unix@$PROXY_RUN_DIR/health.sock"
        echo "DOCKER_SOCKET=$DOCKER_SOCK"
    } >"$tmp"
    put_file "$tmp" "$PROXY_ENV_FILE" 644 root root
    if ((FILE_CHANGED)); then PROXY_RESTART=1; fi
    if ! ((DRY_RUN)); then
        env FTA_PROXY_BIND="unix@$PROXY_SOCKET" FTA_PROXY_HEALTH_BIND="unix@$PROXY_RUN_DIR/health.sock" \
            DOCKER_SOCKET="$DOCKER_SOCK" "$haproxy" -c -q -f "$PROXY_CFG" >>"$INSTALL_LOG" 2>&1 ||
            fail "haproxy -c rejects $PROXY_CFG (see $INSTALL_LOG)"
    fi

    if ((HAVE_SYSTEMD)); then
        tmp=$(new_tmp)
        proxy_unit "$haproxy" "$sock_group" >"$tmp"
        put_file "$tmp" /etc/systemd/system/fta-proxy.service 644 root root
        if ((FILE_CHANGED)); then run systemctl daemon-reload; PROXY_RESTART=1; fi
        if ! systemctl is-enabled --quiet fta-proxy 2>/dev/null; then changed "enable fta-proxy.service"; run systemctl enable fta-proxy; fi
        if ! systemctl is-active --quiet fta-proxy 2>/dev/null; then changed "start fta-proxy.service"; run systemctl start fta-proxy
        elif ((PROXY_RESTART)); then changed "restart fta-proxy.service"; run systemctl restart fta-proxy; fi
    else
        # What RuntimeDirectory= does under systemd.
        ensure_run_dir "$PROXY_RUN_DIR" 0750 "$PROXY_USER" "$FTA_USER"
        supervised_start fta-proxy "$RUN_DIR/proxy.pid" "$LOG_DIR/proxy.log" "$PROXY_RESTART" \
            "$LIBEXEC_DIR/fta-run" --user "$PROXY_USER" --group "$FTA_USER" --env-file "$PROXY_ENV_FILE" \
            --umask 0007 --chdir "$PROXY_RUN_DIR" -- "$haproxy" -db -f "$PROXY_CFG"
    fi
}

wait_for_proxy() {
    local _
    for _ in $(seq 1 30); do
        if curl -fsS --max-time 3 --unix-socket "$PROXY_SOCKET" http://docker/v1.41/_ping >/dev/null 2>&1; then
            info "the proxy answers on $PROXY_SOCKET and reaches the engine"
            return 0
        fi
        sleep 1
    done
    fail "the socket proxy does not answer /_ping on $PROXY_SOCKET within 30 s (see $( ((HAVE_SYSTEMD)) && echo 'journalctl -u fta-proxy' || echo "$LOG_DIR/proxy.log"); docker logs fta-socket-proxy-1)"
}

compose_project_running() {
    ((${#COMPOSE_CMD[@]})) && docker_ping &&
        [ -n "$(docker ps -q --filter label=com.docker.compose.project=fta 2>/dev/null)" ]
}
stop_compose_proxy() {
    compose_project_running || return 0
    changed "stop the compose project fta (the proxy container)"
    run_logged "${COMPOSE_CMD[@]}" -p fta -f "$COMPOSE_DIR/docker-compose.yml" --env-file "$ENV_FILE" down
}
stop_host_proxy() {
    if ((HAVE_SYSTEMD)) && [ -f /etc/systemd/system/fta-proxy.service ]; then
        changed "stop, disable and remove fta-proxy.service"
        run systemctl disable --now fta-proxy
        run rm -f /etc/systemd/system/fta-proxy.service
        run systemctl daemon-reload
    elif supervised_running "$RUN_DIR/proxy.pid"; then
        changed "stop the supervised haproxy (pid $(cat "$RUN_DIR/proxy.pid"))"
        ((DRY_RUN)) || supervised_stop "$RUN_DIR/proxy.pid"
    fi
}
uninstall_proxy() {
    detect_compose
    stop_host_proxy
    if [ -f "$COMPOSE_DIR/docker-compose.yml" ]; then stop_compose_proxy; fi
    if [ -f /etc/tmpfiles.d/fta-proxy.conf ]; then changed "remove /etc/tmpfiles.d/fta-proxy.conf"; run rm -f /etc/tmpfiles.d/fta-proxy.conf; fi
}

# ---------------------------------------------------------------------------------------------
# Step 9: the Freqtrade image the bots run (pinned). Offline, say how to get one anyway.
# ---------------------------------------------------------------------------------------------
BUILT_BOT_IMAGE=""
step_9_bot_image() {
    step "Getting the Freqtrade bot image"
    local image
    if ((OPT_BUILD_BOT_IMAGE)); then
        changed "build a Freqtrade image without a registry: scripts/build-freqtrade-image.sh (several minutes)"
        if ! ((DRY_RUN)); then
            BUILT_BOT_IMAGE=$("$SCRIPT_DIR/scripts/build-freqtrade-image.sh" 2>>"$INSTALL_LOG" | tail -n1) ||
                fail "scripts/build-freqtrade-image.sh failed (see $INSTALL_LOG)"
            info "built $BUILT_BOT_IMAGE"
            write_env_file
        fi
    fi
    image=${BUILT_BOT_IMAGE:-$(read_kv "$ENV_FILE" FTA_BOT_IMAGE)}
    image=${image:-${OPT_BOT_IMAGE:-$DEFAULT_BOT_IMAGE}}
    if ((DRY_RUN)); then
        if docker image inspect "$image" >/dev/null 2>&1; then info "$image is present"
        elif ((OFFLINE)); then info "--offline: $image is missing and will not be pulled; bots cannot start until it exists"
        else changed "docker pull $image (about 1 GB; a few minutes)"; fi
        return 0
    fi
    if docker image inspect "$image" >/dev/null 2>&1; then info "$image is present"; return 0; fi
    local OFFLINE_REASON=""
    # Only a pull that succeeds changes anything; a failed one is retried by the next run.
    if ((OFFLINE)); then OFFLINE_REASON="--offline: "; else info "pull $image (about 1 GB; a few minutes)"; fi
    if pull_image "$image" 1800; then changed "pulled $image"; return 0; fi
    warn "${OFFLINE_REASON}could not pull $image: no container registry is reachable from here (or the tag does not exist).
        The portal works, but bots cannot start until the image exists. Either:
          - make a registry reachable and re-run install.sh, or
          - build the image here from PyPI: sudo ./install.sh --build-bot-image
            (runs scripts/build-freqtrade-image.sh, tags fta-local/freqtrade:<version> and sets FTA_BOT_IMAGE), or
          - load an image (docker load -i freqtrade.tar) and re-run with --bot-image TAG"
}

# ---------------------------------------------------------------------------------------------
# Step 10: the database schema, as user fta.
# ---------------------------------------------------------------------------------------------
as_fta() { "$LIBEXEC_DIR/fta-run" --user "$FTA_USER" --env-file "$ENV_FILE" --chdir "$DATA_DIR" -- "$@"; }

step_10_migrate() {
    step "Migrating the database"
    if ((DRY_RUN)); then changed "run 'fta migrate' as user $FTA_USER (only applies migrations that are missing)"; return 0; fi
    local out before
    before=$(schema_digest)
    out=$(as_fta "$FTA_BIN" migrate 2>&1) || { printf '%s\n' "$out" >>"$INSTALL_LOG"; fail "fta migrate failed: $(tail -n 3 <<<"$out")"; }
    printf '%s\n' "$out" >>"$INSTALL_LOG"
    # A change only when the schema is not what it was (a new database, or new migrations).
    if [ "$(schema_digest)" != "$before" ]; then
        if [ "$before" = none ]; then changed "created the database $(database_path)"
        else changed "applied new migrations to $(database_path)"; fi
    else
        info "$(database_path): schema up to date"
    fi
}

database_path() {
    local db
    db=$(read_kv "$ENV_FILE" FTA_DATABASE)
    printf '%s' "${db:-$DATA_DIR/fta.sqlite}"
}
# A digest of the database schema ("none" without a database), read-only.
schema_digest() {
    local db
    db=$(database_path)
    [ -f "$db" ] || { echo none; return 0; }
    sqlite3 -readonly "$db" .schema 2>/dev/null | sha256sum | awk '{ print $1 }'
}

# ---------------------------------------------------------------------------------------------
# Step 11: the fta service: a hardened systemd unit, or (no systemd) fta-supervise.
# ---------------------------------------------------------------------------------------------
fta_unit() {
    cat <<EOF
# Installed by fta's install.sh; re-run it rather than editing this file.
[Unit]
Description=fta portal (Freqtrade bots as a service)
After=network-online.target docker.service fta-proxy.service
Wants=network-online.target

[Service]
Type=simple
User=$FTA_USER
Group=$FTA_USER
EnvironmentFile=$ENV_FILE
ExecStart=$FTA_BIN serve
WorkingDirectory=$DATA_DIR
Restart=on-failure
RestartSec=2
UMask=0077
# The portal needs no privilege at all: it listens on a loopback port above 1024, writes only its
# SQLite file, and reaches Docker through the proxy's socket.
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ReadWritePaths=$DATA_DIR
CapabilityBoundingSet=
AmbientCapabilities=
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
SystemCallArchitectures=native

[Install]
WantedBy=multi-user.target
EOF
}

# supervised_start NAME PIDFILE LOG RESTART CMD...: (re)starts CMD under fta-supervise.
supervised_running() { local pid; pid=$(cat "$1" 2>/dev/null) && process_alive "$pid"; }
supervised_stop() {
    local pidfile=$1 pid
    pid=$(cat "$pidfile" 2>/dev/null) || return 0
    kill -TERM "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
    for _ in $(seq 1 30); do process_alive "$pid" || break; sleep 1; done
    rm -f "$pidfile"
}
supervised_start() {
    local name=$1 pidfile=$2 log=$3 restart=$4
    shift 4
    if supervised_running "$pidfile"; then
        ((restart)) || return 0
        changed "restart $name (supervisor pid $(cat "$pidfile"))"
        ((DRY_RUN)) || supervised_stop "$pidfile"
    else
        changed "start $name in the background under fta-supervise (no systemd here: pidfile $pidfile, log $log; it does not come back after a reboot, re-run install.sh then)"
    fi
    ((DRY_RUN)) && return 0
    ensure_run_dir "$(dirname "$pidfile")"
    setsid "$LIBEXEC_DIR/fta-supervise" --name "$name" --pidfile "$pidfile" --log "$log" -- "$@" </dev/null >/dev/null 2>&1 9>&- &
    for _ in $(seq 1 10); do supervised_running "$pidfile" && return 0; sleep 0.5; done
    fail "fta-supervise for $name did not start"
}

wait_for_portal() {
    local _ code
    for _ in $(seq 1 60); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$FTA_PORT_VALUE/api/v1/health" 2>/dev/null || true)
        if [ "$code" = 200 ] || [ "$code" = 503 ]; then info "the portal answers on 127.0.0.1:$FTA_PORT_VALUE"; return 0; fi
        sleep 1
    done
    fail "the portal does not answer on 127.0.0.1:$FTA_PORT_VALUE/api/v1/health within 60 s (see $( ((HAVE_SYSTEMD)) && echo 'journalctl -u fta' || echo "$LOG_DIR/fta.log"))"
}

step_11_service() {
    step "Starting the fta service"
    if ((HAVE_SYSTEMD)); then
        local tmp
        tmp=$(new_tmp)
        fta_unit >"$tmp"
        put_file "$tmp" /etc/systemd/system/fta.service 644 root root
        if ((FILE_CHANGED)); then run systemctl daemon-reload; RESTART_FTA=1; fi
        if ! systemctl is-enabled --quiet fta 2>/dev/null; then changed "enable fta.service"; run systemctl enable fta; fi
        if ! systemctl is-active --quiet fta 2>/dev/null; then changed "start fta.service"; run systemctl start fta
        elif ((RESTART_FTA)); then changed "restart fta.service (binary, configuration or unit changed)"; run systemctl restart fta; fi
    else
        supervised_start fta "$RUN_DIR/fta.pid" "$LOG_DIR/fta.log" "$RESTART_FTA" \
            "$LIBEXEC_DIR/fta-run" --user "$FTA_USER" --env-file "$ENV_FILE" --chdir "$DATA_DIR" -- "$FTA_BIN" serve
    fi
    ((DRY_RUN)) || wait_for_portal
}

# ---------------------------------------------------------------------------------------------
# Step 12: nginx publishes the portal (loopback by default; public HTTPS with --domain).
# ---------------------------------------------------------------------------------------------
# Amazon Linux's nginx.conf carries its own `server { listen 80; ... }` inside http { }. This
# comments such top-level server blocks out (prefix "#fta# ", undone by --uninstall), leaving
# every other line as it is.
comment_out_server_blocks() {
    local file=$1 out=$2
    awk '
        function code(s) { sub(/#.*/, "", s); return s }
        {
            c = code($0)
            if (!inside && depth == 1 && top == "http" && c ~ /^[ \t]*server[ \t]*(\{|$)/) { inside = 1 }
            if (depth == 0 && match(c, /^[ \t]*[a-z_]+/)) { word = substr(c, RSTART, RLENGTH); gsub(/[ \t]/, "", word); if (c ~ /\{/) top = word }
            opens = gsub(/\{/, "{", c); closes = gsub(/\}/, "}", c)
            depth += opens - closes
            if (inside) { print "#fta# " $0; if (depth == 1) inside = 0; next }
            print
        }' "$file" >"$out"
}

disable_distro_default_site() {
    # Debian/Ubuntu: the "Welcome to nginx" site listens on port 80 as default_server.
    if [ -L /etc/nginx/sites-enabled/default ]; then
        changed "disable nginx's stock default site (sites-enabled/default; restored by --uninstall)"
        run rm -f /etc/nginx/sites-enabled/default
        DISABLED_DEFAULT_SITE=debian
    fi
    # Amazon Linux: the stock server block lives in nginx.conf itself.
    if [ -f /etc/nginx/nginx.conf ] && [ ! -d /etc/nginx/sites-enabled ]; then
        local tmp
        tmp=$(new_tmp)
        comment_out_server_blocks /etc/nginx/nginx.conf "$tmp"
        if ! cmp -s /etc/nginx/nginx.conf "$tmp"; then
            changed "comment out the stock server block in /etc/nginx/nginx.conf (lines prefixed '#fta# '; restored by --uninstall)"
            put_file "$tmp" /etc/nginx/nginx.conf 644 root root >/dev/null
            DISABLED_DEFAULT_SITE=rpm
        fi
    fi
    if [ -n "$DISABLED_DEFAULT_SITE" ]; then write_state_file >/dev/null; fi
}

ensure_fallback_cert() {
    [ -s "$TLS_DIR/fallback.crt" ] && [ -s "$TLS_DIR/fallback.key" ] && return 0
    changed "create a self-signed fallback certificate in $TLS_DIR (for unknown names on port 443)"
    ((DRY_RUN)) && return 0
    install -d -m 0700 -o root -g root "$TLS_DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=invalid \
        -keyout "$TLS_DIR/fallback.key" -out "$TLS_DIR/fallback.crt" >>"$INSTALL_LOG" 2>&1
    chmod 600 "$TLS_DIR/fallback.key"
}

nginx_running() { [ -s /run/nginx.pid ] && process_alive "$(cat /run/nginx.pid)"; }
# Present while an nginx that install.sh started (no systemd) runs; --uninstall stops that one.
readonly NGINX_STARTED_MARK=$RUN_DIR/nginx.started
stop_nginx() {
    local pid _
    pid=$(cat /run/nginx.pid 2>/dev/null) || return 0
    nginx -s quit 2>/dev/null || kill -QUIT "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 50); do process_alive "$pid" || return 0; sleep 0.2; done
    kill -TERM "$pid" 2>/dev/null || true
}

# Installs a rendered site; on `nginx -t` failure the previous site comes back and the step fails.
install_nginx_site() {
    local rendered=$1 backup
    backup=$(new_tmp)
    [ -f "$NGINX_SITE" ] && cat "$NGINX_SITE" >"$backup"
    put_file "$rendered" "$NGINX_SITE" 644 root root
    NGINX_SITE_CHANGED=$FILE_CHANGED
    ((DRY_RUN)) && return 0
    if ! nginx -t >>"$INSTALL_LOG" 2>&1; then
        if [ -s "$backup" ]; then cat "$backup" >"$NGINX_SITE"; else rm -f "$NGINX_SITE"; fi
        fail "nginx -t rejects the configuration: $(nginx -t 2>&1 | grep -m1 emerg || true)"
    fi
}
NGINX_SITE_CHANGED=0

reload_nginx() {
    local changed_now=$1
    if ((HAVE_SYSTEMD)); then
        systemctl is-enabled --quiet nginx 2>/dev/null || { changed "enable nginx.service"; run systemctl enable nginx; }
        if ! systemctl is-active --quiet nginx 2>/dev/null; then changed "start nginx"; run systemctl start nginx
        elif ((changed_now)); then changed "reload nginx"; run systemctl reload nginx; fi
    elif nginx_running; then
        if ((changed_now)); then changed "reload nginx"; run nginx -s reload; fi
    else
        changed "start nginx (no systemd here: started directly; it does not come back after a reboot)"
        if ! ((DRY_RUN)); then
            nginx 9>&-
            ensure_run_dir "$RUN_DIR"
            : >"$NGINX_STARTED_MARK"
        fi
    fi
}

obtain_certificate() {
    # certbot's webroot method: nginx (already serving the challenge path on port 80) hands out
    # the files certbot writes; the renewal (certbot's own timer) reloads nginx via the hook.
    changed "obtain a Let's Encrypt certificate for $DOMAIN with certbot (webroot $ACME_ROOT)"
    ((DRY_RUN)) && return 0
    install -d -m 0755 "$ACME_ROOT"
    if certbot certonly --webroot -w "$ACME_ROOT" -d "$DOMAIN" --email "$EMAIL" --agree-tos \
        --non-interactive --keep-until-expiring --deploy-hook "nginx -s reload" >>"$INSTALL_LOG" 2>&1; then
        info "certificate obtained"
        return 0
    fi
    warn "certbot could not get a certificate for $DOMAIN (see $INSTALL_LOG). Check that $DOMAIN points to this
        server and that ports 80 and 443 are open (security group), then re-run install.sh. Until then
        the portal is served with a self-signed certificate."
    return 1
}

step_12_nginx() {
    step "Publishing the portal with nginx"
    local rendered have_cert=1
    disable_distro_default_site
    if [ "$NGINX_MODE" = tls ]; then
        ensure_fallback_cert
        run install -d -m 0755 "$ACME_ROOT"
        if [ ! -s "$TLS_CERT" ]; then have_cert=0; fi
    fi
    rendered=$(new_tmp)
    if ((have_cert)); then
        render_nginx_site "$rendered"
    else
        # First the site with the fallback certificate (so that port 80 serves the challenge),
        # then the real certificate.
        RENDER_TLS_CERT=$TLS_DIR/fallback.crt RENDER_TLS_KEY=$TLS_DIR/fallback.key render_nginx_site "$rendered"
    fi
    install_nginx_site "$rendered"
    reload_nginx "$NGINX_SITE_CHANGED"
    if ! ((have_cert)) && [ "$TLS_SOURCE" = certbot ]; then
        if obtain_certificate && ! ((DRY_RUN)); then
            render_nginx_site "$rendered"
            install_nginx_site "$rendered"
            reload_nginx 1
        fi
    fi
    ((DRY_RUN)) || check_published_portal
}

# The portal through nginx, as a browser would reach it.
check_published_portal() {
    local code="" _ url=http://127.0.0.1:$NGINX_PORT/api/v1/health curl_args=()
    if [ "$NGINX_MODE" = tls ]; then
        url=https://$DOMAIN/api/v1/health
        curl_args=(--insecure --resolve "$DOMAIN:443:127.0.0.1")
    fi
    for _ in $(seq 1 10); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "${curl_args[@]}" "$url" || true)
        if [ "$code" = 200 ] || [ "$code" = 503 ]; then info "nginx serves the portal: $url answers $code"; return 0; fi
        sleep 1
    done
    warn "nginx does not serve the portal yet: $url answered ${code:-nothing}"
}

# ---------------------------------------------------------------------------------------------
# Step 13: the first admin. The generated password is the only secret this script ever prints.
# ---------------------------------------------------------------------------------------------
admin_count() {
    local db
    db=$(database_path)
    [ -f "$db" ] || { echo 0; return 0; }
    sqlite3 -readonly "$db" "SELECT COUNT(*) FROM users WHERE role = 'admin';" 2>/dev/null || echo "?"
}

step_13_admin() {
    step "Creating the first admin"
    if ((DRY_RUN)); then
        local n
        n=$(admin_count)
        if [ "$n" != "?" ] && ((n > 0)); then info "an admin already exists: nothing to do, no password printed"
        elif [ -n "${FTA_ADMIN_PASSWORD:-}" ]; then changed "create admin '$ADMIN_USER' with the password from FTA_ADMIN_PASSWORD"
        else changed "create admin '$ADMIN_USER' with a generated one-time password (printed once at the end)"; fi
        return 0
    fi
    local count password out
    count=$(admin_count)
    if [ "$count" != "?" ] && ((count > 0)); then
        info "an admin already exists ($count): nothing to do, no password printed"
        return 0
    fi
    if [ -n "${FTA_ADMIN_PASSWORD:-}" ]; then password=$FTA_ADMIN_PASSWORD
    else password=$(random_password); ADMIN_PASSWORD_TO_PRINT=$password; fi
    # The password travels on stdin only: never in argv (visible in ps) or in the log.
    if ! out=$(printf '%s' "$password" | as_fta "$FTA_BIN" admin create --username "$ADMIN_USER" --password-stdin 2>&1); then
        ADMIN_PASSWORD_TO_PRINT=""
        fail "fta admin create failed: $(tail -n 3 <<<"$out")"
    fi
    changed "created admin '$ADMIN_USER'"
}

# ---------------------------------------------------------------------------------------------
# Step 14: fta doctor, fta's own end-to-end check.
# ---------------------------------------------------------------------------------------------
step_14_doctor() {
    step "Running fta doctor"
    if ((DRY_RUN)); then changed "run 'fta doctor' and print its summary"; return 0; fi
    check_only_step
    local out rc=0
    # Exactly what the operator runs (sudo fta-admin doctor): as root, because its host checks
    # run `nginx -t` and read root-only files (fta.env); the rest of fta-admin runs as user fta.
    out=$("$FTA_ADMIN_BIN" doctor 2>&1) || rc=$?
    printf '%s\n' "$out" | sed 's/^/      /'
    if ((rc == 0)); then DOCTOR_STATUS=pass
    else DOCTOR_STATUS=fail; warn "fta doctor reports a failure (above); fix it and run: sudo fta-admin doctor"; fi
}

print_summary() {
    step_done
    echo
    if ((DRY_RUN)); then
        say "Dry run: nothing was changed. Lines starting with 'would' are what a real run does."
        if ((${#PROBLEMS[@]})); then say "A real run would stop at step 1 with these problems:"; printf '  - %s\n' "${PROBLEMS[@]}"; fi
        return 0
    fi
    # What a re-run is judged by: "0 changes" means every step found everything in place.
    if ((RUN_CHANGES == 0)); then say "fta is installed (0 changes: everything was already in place)."
    else say "fta is installed ($RUN_CHANGES changes)."; fi
    if [ "$NGINX_MODE" = tls ]; then
        say "  Portal:    $PUBLIC_URL"
    else
        say "  Portal:    $PUBLIC_URL  (loopback only; from your computer open a tunnel first:"
        say "             ssh -L $NGINX_PORT:127.0.0.1:$NGINX_PORT <user>@<this server>   then browse to $PUBLIC_URL)"
    fi
    say "  Admin:     $ADMIN_USER"
    if [ -n "$ADMIN_PASSWORD_TO_PRINT" ]; then
        say "  Password:  $ADMIN_PASSWORD_TO_PRINT"
        say "             (shown only this once; change it after signing in)"
    fi
    say "  Manage:    sudo fta-admin doctor | client create ID --name NAME | backup FILE"
    if ((HAVE_SYSTEMD)); then say "  Services:  systemctl status fta nginx docker"
    else say "  Services:  supervised in the background (no systemd); logs in $LOG_DIR; re-run install.sh after a reboot"; fi
    if ((${#WARNINGS[@]})); then
        say "Warnings:"
        printf '  - %s\n' "${WARNINGS[@]}"
    fi
}

# ---------------------------------------------------------------------------------------------
# Uninstall
# ---------------------------------------------------------------------------------------------
uninstall_confirm_purge() {
    ((PURGE)) || return 0
    ((DRY_RUN)) && return 0
    ((NON_INTERACTIVE)) && return 0
    if [ ! -t 0 ]; then
        fail "--purge deletes the database and every secret: confirm with --non-interactive when there is no terminal"
    fi
    printf '--purge deletes %s (the database), %s (secrets) and %s. Type "purge" to go on: ' "$DATA_DIR" "$ETC_DIR" "$LOG_DIR"
    local answer
    read -r answer
    [ "$answer" = purge ] || fail "not confirmed; nothing was deleted"
}

# The label filters (one a line) of the Docker objects --uninstall removes. On fta's own engine:
# everything labelled fta.managed=true. On an engine shared with others (--docker-host: a test
# engine, another fta): only the objects of the clients in this installation's database, so that
# the others keep their bots.
managed_filters() {
    if ! ((EXTERNAL_DOCKER)); then echo "label=fta.managed=true"; return 0; fi
    local db id
    db=$(database_path)
    [ -f "$db" ] || return 0
    while read -r id; do
        if [[ $id =~ ^[a-z0-9][a-z0-9-]{0,30}$ ]]; then echo "label=fta.client=$id"; fi
    done < <(sqlite3 -readonly "$db" 'SELECT id FROM clients;' 2>/dev/null || true)
}

uninstall() {
    TOTAL=6
    NOTHING_DONE="nothing to do"
    if ((DRY_RUN)); then say "Dry run: the uninstall plan for this server (nothing is changed)."; fi
    uninstall_confirm_purge
    local disabled_site
    disabled_site=$(read_kv "$STATE_FILE" DISABLED_DEFAULT_SITE)

    step "Stopping the fta service"
    if ((HAVE_SYSTEMD)); then
        if [ -f /etc/systemd/system/fta.service ]; then
            changed "stop, disable and remove fta.service"
            run systemctl disable --now fta
            run rm -f /etc/systemd/system/fta.service
            run systemctl daemon-reload
        fi
    elif supervised_running "$RUN_DIR/fta.pid"; then
        changed "stop fta (supervisor pid $(cat "$RUN_DIR/fta.pid"))"
        ((DRY_RUN)) || supervised_stop "$RUN_DIR/fta.pid"
    fi

    step "Stopping the Docker socket proxy"
    uninstall_proxy

    step "Removing fta's containers, networks and volumes (label fta.managed=true)"
    # After the proxy: the compose project's own network is gone by now.
    if ! docker_ping; then
        warn "no Docker engine answers on $DOCKER_SOCK: containers, networks and volumes labelled fta.managed=true are left as they are"
    else
        local filter ids
        if ((EXTERNAL_DOCKER)); then
            info "the engine at $DOCKER_HOST is shared (--docker-host): only the objects of this installation's clients go"
        fi
        while read -r filter; do
            [ -n "$filter" ] || continue
            ids=$(docker ps -aq --filter "$filter")
            if [ -n "$ids" ]; then changed "remove containers: $(docker ps -a --filter "$filter" --format '{{.Names}}' | tr '\n' ' ')"
                # shellcheck disable=SC2086 # word splitting of the id list is wanted
                run_logged docker rm -f $ids; fi
            ids=$(docker network ls -q --filter "$filter")
            if [ -n "$ids" ]; then changed "remove networks: $(docker network ls --filter "$filter" --format '{{.Name}}' | tr '\n' ' ')"
                # shellcheck disable=SC2086
                run_logged docker network rm $ids; fi
            ids=$(docker volume ls -q --filter "$filter")
            if [ -n "$ids" ]; then changed "remove volumes (the bots' trade data): $(tr '\n' ' ' <<<"$ids")"
                # shellcheck disable=SC2086
                run_logged docker volume rm $ids; fi
        done < <(managed_filters)
    fi

    step "Removing the nginx site"
    if [ -f "$NGINX_SITE" ]; then changed "remove $NGINX_SITE"; run rm -f "$NGINX_SITE"; fi
    if [ "$disabled_site" = debian ] && [ -f /etc/nginx/sites-available/default ] && [ ! -e /etc/nginx/sites-enabled/default ]; then
        changed "re-enable nginx's stock default site"
        run ln -s /etc/nginx/sites-available/default /etc/nginx/sites-enabled/default
    fi
    if [ "$disabled_site" = rpm ] && grep -q '^#fta# ' /etc/nginx/nginx.conf 2>/dev/null; then
        changed "restore the stock server block in /etc/nginx/nginx.conf"
        run sed -i 's/^#fta# //' /etc/nginx/nginx.conf
    fi
    if ! ((HAVE_SYSTEMD)) && [ -f "$NGINX_STARTED_MARK" ] && nginx_running; then
        # Without systemd install.sh started nginx itself: stop it again rather than leave it
        # serving the stock default site on port 80.
        changed "stop nginx (install.sh started it: no systemd here)"
        if ! ((DRY_RUN)); then stop_nginx; rm -f "$NGINX_STARTED_MARK"; fi
    elif ((STEP_CHANGES)) && ! ((DRY_RUN)) && have nginx; then
        if ! nginx -t >>"$INSTALL_LOG" 2>&1; then warn "nginx -t fails now (see $INSTALL_LOG); nginx was not reloaded"
        elif ((HAVE_SYSTEMD)); then systemctl reload nginx 2>/dev/null || true
        elif nginx_running; then nginx -s reload; fi
    fi

    step "Removing installed files"
    local f
    for f in "$FTA_BIN" "$FTA_ADMIN_BIN" /etc/systemd/system/fta-proxy.service; do
        if [ -e "$f" ]; then changed "remove $f"; run rm -f "$f"; fi
    done
    for f in "$SHARE_DIR" "$LIBEXEC_DIR"; do
        if [ -e "$f" ]; then changed "remove $f/"; run rm -rf "$f"; fi
    done

    step "Deleting data (--purge only)"
    if ! ((PURGE)); then
        info "kept: $DATA_DIR (database), $ETC_DIR (configuration and secrets), $LOG_DIR, user $FTA_USER"
        info "(a later install.sh picks them up again; --uninstall --purge deletes them)"
        check_only_step
    else
        for f in "$DATA_DIR" "$ETC_DIR" "$LOG_DIR" "$ACME_ROOT" "$RUN_DIR" "$PROXY_RUN_DIR"; do
            if [ -e "$f" ]; then changed "delete $f"; run rm -rf "$f"; fi
        done
        for f in "$PROXY_USER" "$FTA_USER"; do # fta-proxy's primary group is fta's
            if id -u "$f" >/dev/null 2>&1; then changed "delete user $f"; run userdel "$f"; fi
        done
    fi
    step_done
    echo
    if ((DRY_RUN)); then say "Dry run: nothing was changed."; return 0; fi
    say "fta is uninstalled. Left in place: Docker, nginx and the other packages, $DOCKER_DAEMON_JSON,"
    say "the swap file, the Docker images (docker image ls), Let's Encrypt certificates (certbot delete)."
}

# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------
cleanup() { if [ -n "$TMP_DIR" ]; then rm -rf "$TMP_DIR"; fi; }

main() {
    parse_args "$@"
    detect_platform
    resolve_settings
    TMP_DIR=$(mktemp -d)
    trap cleanup EXIT

    if [ -n "$RENDER_NGINX_DIR" ]; then
        mkdir -p "$RENDER_NGINX_DIR"
        render_nginx_site "$RENDER_NGINX_DIR/fta.conf"
        echo "$RENDER_NGINX_DIR/fta.conf"
        return 0
    fi

    trap 'on_error $? $LINENO "$BASH_COMMAND"' ERR
    if ! ((DRY_RUN)); then
        [ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root: sudo ./install.sh" >&2; exit 1; }
        # One install at a time.
        exec 9>/run/fta-install.lock
        flock -n 9 || { echo "install.sh: another install.sh is running" >&2; exit 1; }
        install -d -m 0750 "$LOG_DIR"
        INSTALL_LOG=$LOG_DIR/install.log
        printf '\n==== install.sh %s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$INSTALL_LOG"
    fi

    if ((UNINSTALL)); then uninstall; return 0; fi

    if ((DRY_RUN)); then say "Dry run: the plan for this server (nothing is changed)."; fi
    step_1_preflight
    step_2_swap
    step_3_packages
    step_4_docker
    step_5_user
    step_6_config
    step_7_binary
    step_8_proxy
    step_9_bot_image
    step_10_migrate
    step_11_service
    step_12_nginx
    step_13_admin
    step_14_doctor
    print_summary
    if ((STRICT)) && [ "$DOCTOR_STATUS" = fail ]; then exit 3; fi
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main "$@"; fi
