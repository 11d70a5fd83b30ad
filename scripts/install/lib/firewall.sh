# shellcheck shell=bash
# The bots' firewall, set up in step 11 before the portal (which starts the bots) and removed by
# --uninstall: the helper scripts/install/fta-firewall.sh (installed as
# /usr/local/lib/fta/fta-firewall), its configuration /etc/fta/firewall.conf, and under systemd
# fta-firewall.service, which applies the rules after every start of Docker and before every start
# of fta (so that a changed FTA_EXCHANGE_OVERRIDE is allowed by `systemctl restart fta`).
# Without systemd install.sh applies them itself (dockerd keeps them across its restarts; after a
# reboot, re-run install.sh as for the other services). docs/firewall.md says what is filtered.
# Sourced by install.sh (never run on its own).

FIREWALL_SRC=$SCRIPT_DIR/scripts/install/fta-firewall.sh
FIREWALL_BIN=$LIBEXEC_DIR/fta-firewall
FIREWALL_CONF=$ETC_DIR/firewall.conf
FIREWALL_UNIT=/etc/systemd/system/fta-firewall.service
# fta's env file, whose FTA_EXCHANGE_OVERRIDE the rules let through (tests point it elsewhere).
FIREWALL_ENV_FILE=$ENV_FILE
# Every user-defined bridge of fta's own engine: fta's client networks (fta-client-<id>) get
# Docker's generated names br-<id>, and the engine is the appliance's.
readonly FIREWALL_BRIDGES="br-+"

# The configuration fta-firewall reads. On an engine that is not install.sh's (--docker-host),
# which bridges are fta's is not known, and other users' containers share the host: off.
firewall_conf() {
    local allow=$1
    echo "# The bots' firewall (fta-firewall), written by install.sh: re-run it rather than editing this file."
    echo "# What the rules filter, and FTA_BOT_EGRESS_ALLOW's syntax: docs/firewall.md."
    if ((EXTERNAL_DOCKER)); then
        echo "FTA_FIREWALL=off"
        echo "FTA_FIREWALL_OFF_REASON=the Docker engine at $DOCKER_HOST is shared (--docker-host): fta cannot tell its bridges from the others'"
    else
        echo "FTA_FIREWALL=on"
    fi
    echo "FTA_BOT_BRIDGES=$FIREWALL_BRIDGES"
    echo "FTA_BOT_EGRESS_ALLOW=$allow"
    echo "FTA_ENV_FILE=$FIREWALL_ENV_FILE"
    echo "DOCKER_HOST=$DOCKER_HOST"
}

firewall_unit() {
    cat <<EOF
# Installed by fta's install.sh; re-run it rather than editing this file.
[Unit]
Description=fta: the bots' firewall (no host, no private or metadata address)
# Docker creates the chain DOCKER-USER that the egress rules hang from; a restart of Docker
# (PartOf) applies them again, and so does a restart of fta, which may follow a change of the
# exchange override in fta.env.
After=docker.service
Before=fta.service
PartOf=docker.service fta.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=$FIREWALL_BIN --config $FIREWALL_CONF apply
ExecReload=$FIREWALL_BIN --config $FIREWALL_CONF apply
NoNewPrivileges=yes
ProtectHome=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target docker.service fta.service
EOF
}

# firewall_check [CONF] [BIN]: whether the rules are in place (fta-firewall check; 0, 1 or 3).
firewall_check() { bash "${2:-$FIREWALL_SRC}" --config "${1:-$FIREWALL_CONF}" check 2>&1; }

# Part of step 11. The allow-list: env FTA_BOT_EGRESS_ALLOW (set, even empty, it replaces the
# saved one), else what an earlier run saved in firewall.conf.
install_firewall() {
    local allow tmp out rc=0
    if [ -n "${FTA_BOT_EGRESS_ALLOW+set}" ]; then allow=$FTA_BOT_EGRESS_ALLOW
    else allow=$(read_kv "$FIREWALL_CONF" FTA_BOT_EGRESS_ALLOW); fi
    if [[ $allow =~ [^A-Za-z0-9.:/,\ -] ]]; then fail "FTA_BOT_EGRESS_ALLOW: only addresses, ranges, names and ports (ADDRESS[/BITS][:PORT] or NAME[:PORT], comma-separated)"; fi
    out=$(bash "$FIREWALL_SRC" validate "$allow" 2>&1) || fail "FTA_BOT_EGRESS_ALLOW: $out"
    # A name that does not resolve here opens nothing (said, not fatal: DNS may come later).
    [ -z "$out" ] || warn "FTA_BOT_EGRESS_ALLOW: ${out//$'\n'/; }"
    tmp=$(new_tmp)
    firewall_conf "$allow" >"$tmp"
    put_file "$FIREWALL_SRC" "$FIREWALL_BIN" 755 root root
    put_file "$tmp" "$FIREWALL_CONF" 644 root root
    if ((EXTERNAL_DOCKER)); then
        info "bots' firewall: off (the engine is shared: --docker-host); see docs/firewall.md"
        return 0
    fi
    have iptables || ((DRY_RUN)) || fail "iptables is missing (Docker needs it too): install the iptables package"
    if ((HAVE_SYSTEMD)); then
        local unit
        unit=$(new_tmp)
        firewall_unit >"$unit"
        put_file "$unit" "$FIREWALL_UNIT" 644 root root
        if ((FILE_CHANGED)); then run systemctl daemon-reload; fi
        if ! systemctl is-enabled --quiet fta-firewall 2>/dev/null; then changed "enable fta-firewall.service"; run systemctl enable fta-firewall; fi
    fi
    # In a dry run the configuration is only rendered: check what it would be against the rules now.
    if ((DRY_RUN)); then out=$(firewall_check "$tmp") || rc=$?
    else out=$(firewall_check "$FIREWALL_CONF" "$FIREWALL_BIN") || rc=$?; fi
    if ((HAVE_SYSTEMD)) && ! systemctl is-active --quiet fta-firewall 2>/dev/null; then
        changed "start fta-firewall.service (applies the bots' firewall)"
        run systemctl start fta-firewall
    elif ((rc != 0)); then
        changed "apply the bots' firewall ($(head -n 1 <<<"$out"))"
        if ((HAVE_SYSTEMD)); then run systemctl restart fta-firewall
        else run_logged "$FIREWALL_BIN" --config "$FIREWALL_CONF" apply; fi
    fi
    ((DRY_RUN)) && return 0
    if out=$(firewall_check "$FIREWALL_CONF" "$FIREWALL_BIN"); then info "bots' firewall: $out"
    else warn "the bots' firewall is not in place: ${out//$'\n'/; } (see docs/firewall.md; sudo fta-admin firewall apply)"; fi
}

# Part of --uninstall: the unit, then the rules (with this release's helper: the installed one goes
# with /usr/local/lib/fta).
uninstall_firewall() {
    if ((HAVE_SYSTEMD)) && [ -f "$FIREWALL_UNIT" ]; then
        changed "stop, disable and remove fta-firewall.service"
        run systemctl disable --now fta-firewall
        run rm -f "$FIREWALL_UNIT"
        run systemctl daemon-reload
    fi
    if [ "$(id -u)" -ne 0 ]; then
        ((DRY_RUN)) && changed "remove the bots' firewall rules (chains FTA-BOTS-*), if any"
        return 0
    fi
    if bash "$FIREWALL_SRC" present; then
        changed "remove the bots' firewall rules (chains FTA-BOTS-*)"
        run_logged bash "$FIREWALL_SRC" remove
    fi
}
