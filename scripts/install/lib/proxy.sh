# shellcheck shell=bash
# Step 8 of install.sh: the Docker socket proxy, in compose or host mode, and its removal.
# Sourced by install.sh (never run on its own); docs/install.md describes what it does.

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

