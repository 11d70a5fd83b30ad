# shellcheck shell=bash
# install.sh's settings: the constants (where things go), the flags and --help, and how flags,
# environment and the choices saved by an earlier run combine into the settings of this run.
# Sourced by install.sh (never run on its own); docs/install.md describes what it does.

# ---------------------------------------------------------------------------------------------
# Constants: where things go. Names and paths other components rely on are in docs/install.md.
# ---------------------------------------------------------------------------------------------
# SCRIPT_DIR (set by install.sh): the checkout or unpacked release install.sh runs from.
ENV_EXAMPLE=$SCRIPT_DIR/.env.example
# An unpacked release archive (scripts/release.sh) holds the built binary and SHA256SUMS, which
# install.sh checks before it uses anything from the archive; a checkout holds neither.
readonly RELEASE_BINARY=$SCRIPT_DIR/bin/fta
readonly RELEASE_SUMS=$SCRIPT_DIR/SHA256SUMS
FROM_RELEASE=0
if [ -f "$RELEASE_SUMS" ] && [ -f "$RELEASE_BINARY" ]; then FROM_RELEASE=1; fi
readonly FROM_RELEASE
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
# An upgrade keeps the version it replaces here (binary, web files, VERSION, and upgrade.conf
# naming the backup taken before it): what an automatic rollback, or one by hand, puts back
# (docs/install.md, "Upgrade and rollback"). Under LIBEXEC_DIR, so --uninstall removes it.
readonly PREVIOUS_DIR=$LIBEXEC_DIR/previous
readonly FTA_BIN=/usr/local/bin/fta
readonly FTA_ADMIN_BIN=/usr/local/sbin/fta-admin
readonly ACME_ROOT=/var/lib/fta-acme
readonly NGINX_SITE=/etc/nginx/conf.d/fta.conf
readonly DOCKER_DAEMON_JSON=/etc/docker/daemon.json
readonly DEFAULT_ADDRESS_POOL=10.200.0.0/14
readonly MIN_DISK_GIB=3
# Exit statuses besides 1 (a step failed), 2 (bad flags) and 3 (--strict and doctor failed):
# an upgrade whose portal was not healthy, rolled back to the previous version (which runs, and is
# healthy), and one whose rollback failed too (the report says in what state the server is).
readonly EXIT_ROLLED_BACK=4
readonly EXIT_ROLLBACK_FAILED=5
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
OPT_RELEASE=""
OPT_ADMIN_USER=""
OPT_ADMIN_PASSWORD_FILE=""
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
OPT_BOT_STORE_MB=""
OPT_DOCKER_HOST=${FTA_INSTALL_DOCKER_HOST:-}
# How long the portal may take to answer its health check after a (re)start, in seconds.
HEALTH_TIMEOUT=${FTA_INSTALL_HEALTH_TIMEOUT:-60}

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
ADMIN_PASSWORD_FILE_WRITTEN=""
DOCTOR_STATUS=""
# An upgrade (step 7 found an installed fta and a different binary or VERSION to install): the
# versions it goes from and to, and the backup taken before it (empty when there was no database).
UPGRADE=0
UPGRADE_FROM=""
UPGRADE_TO=""
UPGRADE_BACKUP=""
UPGRADE_HEALTH=""
PROBLEMS=()
WARNINGS=()

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
  --release FILE            install this release archive (scripts/release.sh; no toolchain needed),
                            checked against FILE.sha256 beside it or env FTA_RELEASE_SHA256; or
                            download one: env FTA_RELEASE_URL (https) with FTA_RELEASE_SHA256.
                            Run from an unpacked archive, install.sh installs the archive's binary.
  --binary PATH             install this prebuilt fta binary (also: env FTA_BINARY); otherwise it
                            comes from the release archive, or is built with `swift build` when
                            this is a checkout and Swift is present
  --bot-image TAG           Freqtrade image the bots run (FTA_BOT_IMAGE)
  --build-bot-image         build the Freqtrade image without a registry
                            (scripts/build-freqtrade-image.sh) and use it
  --proxy-mode MODE         auto (default), compose (proxy container) or host (distribution haproxy)
  --address-pool CIDR       Docker default address pool, split in /24s (default 10.200.0.0/14)
  --bot-store-mb N          size of the bots' volume store, an XFS image with a cap per bot volume
                            (default 2048, less on a small disk; docs/security.md)
  --docker-host unix:///PATH
                            use this already running Docker engine; leave dockerd and
                            /etc/docker/daemon.json alone (also: env FTA_INSTALL_DOCKER_HOST)

First admin:
  --admin-user NAME         username of the first admin (default admin); the password comes from
                            env FTA_ADMIN_PASSWORD, else a one-time password is generated and printed
  --admin-password-file PATH
                            put the generated password in PATH (root only, 0600) instead, and print
                            only PATH (cloud-init and other logged, unattended installs)

Other:
  --dry-run                 print the plan (what would change) and change nothing
  --non-interactive, -y     never ask (unattended installs, CI)
  --no-swap                 do not add a swap file on small machines
  --offline                 never pull images (no registry here): host-mode proxy, and see
                            --build-bot-image / --bot-image for the bots' image
  --strict                  exit with status 3 when `fta doctor` reports a failure
  --health-timeout SECONDS  how long the portal may take to become healthy after a restart
                            (default 60; env FTA_INSTALL_HEALTH_TIMEOUT). An upgrade whose portal
                            is not healthy by then is rolled back by itself: exit status 4
                            (5 if the rollback failed too); docs/install.md
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
            --binary | --admin-user | --admin-password-file | --domain | --email | --nginx-port | --port | --tls-cert | \
                --tls-key | --bot-image | --proxy-mode | --address-pool | --bot-store-mb | --docker-host | --render-nginx | --release | --health-timeout)
                [ $# -ge 2 ] || usage_error "$arg needs a value"
                val=$2
                shift
                case $arg in
                    --binary) OPT_BINARY=$val ;;
                    --admin-user) OPT_ADMIN_USER=$val ;;
                    --admin-password-file) OPT_ADMIN_PASSWORD_FILE=$val ;;
                    --domain) OPT_DOMAIN=$val ;;
                    --email) OPT_EMAIL=$val ;;
                    --nginx-port) OPT_NGINX_PORT=$val ;;
                    --port) OPT_PORT=$val ;;
                    --tls-cert) OPT_TLS_CERT=$val ;;
                    --tls-key) OPT_TLS_KEY=$val ;;
                    --bot-image) OPT_BOT_IMAGE=$val ;;
                    --proxy-mode) OPT_PROXY_MODE=$val ;;
                    --address-pool) OPT_ADDRESS_POOL=$val ;;
                    --bot-store-mb) OPT_BOT_STORE_MB=$val ;;
                    --docker-host) OPT_DOCKER_HOST=$val ;;
                    --render-nginx) RENDER_NGINX_DIR=$val ;;
                    --release) OPT_RELEASE=$val ;;
                    --health-timeout) HEALTH_TIMEOUT=$val ;;
                esac
                ;;
            *) usage_error "unknown option: $arg" ;;
        esac
        shift
    done
    if ((PURGE)) && ! ((UNINSTALL)); then usage_error "--purge only goes with --uninstall"; fi
    if [[ ! $HEALTH_TIMEOUT =~ ^[1-9][0-9]{0,3}$ ]]; then usage_error "--health-timeout: a number of seconds, 1 to 9999: $HEALTH_TIMEOUT"; fi
    if [ -n "$OPT_RELEASE" ] && [ -n "${FTA_RELEASE_URL:-}" ]; then usage_error "--release and FTA_RELEASE_URL exclude each other"; fi
    if [ -n "$OPT_BINARY" ] && { [ -n "$OPT_RELEASE" ] || [ -n "${FTA_RELEASE_URL:-}" ]; }; then
        usage_error "--binary (FTA_BINARY) and a release archive (--release, FTA_RELEASE_URL) exclude each other"
    fi
    if [ -n "$OPT_ADMIN_PASSWORD_FILE" ] && { [[ $OPT_ADMIN_PASSWORD_FILE != /* ]] || [ ! -d "$(dirname "$OPT_ADMIN_PASSWORD_FILE")" ]; }; then
        usage_error "--admin-password-file: an absolute path in an existing directory, not $OPT_ADMIN_PASSWORD_FILE"
    fi
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
    if [ -n "$OPT_BOT_STORE_MB" ] && { [[ ! $OPT_BOT_STORE_MB =~ ^[1-9][0-9]{2,6}$ ]] || ((OPT_BOT_STORE_MB < 512)); }; then
        usage_error "--bot-store-mb: a number of MiB, at least 512: $OPT_BOT_STORE_MB"
    fi
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

