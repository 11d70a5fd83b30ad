# shellcheck shell=bash
# Steps 1 to 5 of install.sh, the host: preflight checks, swap, the distribution's packages,
# Docker, and the fta user with its directories and helpers.
# Sourced by install.sh (never run on its own); docs/install.md describes what it does.

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
    # A re-run over an installed fta (an upgrade) finds the image, the swap file and the bots'
    # store in place: it needs room for a backup of the database, the previous version kept aside
    # and the new one. (The first VM upgrade test stopped here: 2.8 GiB free after the install.)
    local need_kib=$((MIN_DISK_GIB * 1024 * 1024)) db_kib=0
    if [ -x "$FTA_BIN" ]; then
        db_kib=$(du -kc "$DATA_DIR"/fta.sqlite* 2>/dev/null | awk 'END { print $1 + 0 }')
        need_kib=$((512 * 1024 + 2 * db_kib))
    fi
    disk_kib=$(df -Pk /var/lib | awk 'NR == 2 { print $4 }')
    if ((disk_kib < need_kib)); then
        problem "only $((disk_kib / 1024)) MiB free under /var/lib; at least $((need_kib / 1024)) MiB are needed"
    else info "disk: $((disk_kib / 1024)) MiB free under /var/lib"; fi
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
            # libsqlite3-0 and libcurl4 (with curl): the shared libraries the fta binary links.
            # libjs-chart.js: the portal's charts, served by fta from the package's files.
            wanted=(ca-certificates curl libsqlite3-0 jq openssl nginx haproxy iproute2 util-linux xfsprogs libjs-chart.js)
            have dockerd || wanted+=(docker.io)
            ;;
        dnf)
            # curl-minimal (preinstalled) provides curl; the curl package would conflict with it.
            # sqlite-libs and libcurl (curl-minimal's): the shared libraries the fta binary links.
            # Amazon Linux has no Chart.js package: the portal then shows its tables without charts.
            wanted=(ca-certificates jq sqlite-libs openssl nginx haproxy iproute util-linux xfsprogs)
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
        for p in docker nginx haproxy jq openssl curl; do have "$p" || fail "$p is still missing after the package installation"; done
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

    # Bots' volumes on their own capped filesystem, before dockerd opens its volumes directory.
    setup_bot_store

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

