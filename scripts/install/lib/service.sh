# shellcheck shell=bash
# Step 11 of install.sh: the fta service (a hardened systemd unit, or fta-supervise without
# systemd), and the supervised processes the host-mode proxy uses too.
# Sourced by install.sh (never run on its own); docs/install.md describes what it does.

# ---------------------------------------------------------------------------------------------
# Step 11: the fta service: a hardened systemd unit, or (no systemd) fta-supervise.
# ---------------------------------------------------------------------------------------------
# The sandbox of every fta process systemd runs (the portal, the daily backup): no privilege,
# a read-only system, writes to the data directory only. (The backups go there by default; a
# FTA_BACKUP_DIR elsewhere must be added to the backup unit's ReadWritePaths.)
fta_sandbox() {
    cat <<EOF
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
EOF
}

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
$(fta_sandbox)
# Swift's libdispatch gives the worker threads of its higher quality-of-service classes a nice
# value below 0 (strace of fta serve: setpriority -2 and -4). Without privilege the kernel
# refuses (EACCES), and libdispatch logs "Failed to set thread priority for worker thread" to
# syslog for every new worker: a steady trickle into the journal. RLIMIT_NICE 24 (-4) allows
# exactly those values and nothing higher; no realtime (RestrictRealtime above).
LimitNICE=-4

[Install]
WantedBy=multi-user.target
EOF
}

# The daily scheduled backup (`fta backup --scheduled`: FTA_BACKUP_DIR, FTA_BACKUP_KEEP, optional
# encryption and hook; docs/operations.md), as the fta user with the portal's configuration and
# its sandbox (LimitNICE as for the portal: the same Swift runtime). Persistent: a host that was
# off at the hour catches up at boot.
backup_unit() {
    cat <<EOF
# Installed by fta's install.sh; re-run it rather than editing this file.
[Unit]
Description=fta scheduled backup (fta backup --scheduled)
After=fta.service
[Service]
Type=oneshot
User=$FTA_USER
Group=$FTA_USER
EnvironmentFile=$ENV_FILE
ExecStart=$FTA_BIN backup --scheduled
WorkingDirectory=$DATA_DIR
UMask=0077
Nice=10
IOSchedulingClass=idle
$(fta_sandbox)
LimitNICE=-4
EOF
}

backup_timer() {
    cat <<EOF
# Installed by fta's install.sh; re-run it rather than editing this file.
[Unit]
Description=fta daily scheduled backup
[Timer]
OnCalendar=daily
RandomizedDelaySec=30min
Persistent=true
[Install]
WantedBy=timers.target
EOF
}

install_backup_timer() {
    if ! ((HAVE_SYSTEMD)); then
        info "no systemd: no daily backup timer; run fta-admin backup --scheduled from cron"
        return 0
    fi
    local tmp changed_units=0
    tmp=$(new_tmp)
    backup_unit >"$tmp"
    put_file "$tmp" /etc/systemd/system/fta-backup.service 644 root root
    ((FILE_CHANGED)) && changed_units=1
    backup_timer >"$tmp"
    put_file "$tmp" /etc/systemd/system/fta-backup.timer 644 root root
    ((FILE_CHANGED)) && changed_units=1
    if ((changed_units)); then run systemctl daemon-reload; fi
    if ! systemctl is-enabled --quiet fta-backup.timer 2>/dev/null || ! systemctl is-active --quiet fta-backup.timer 2>/dev/null; then
        changed "enable the daily backup (fta-backup.timer)"
        run systemctl enable --now fta-backup.timer
        # The first one now, so that a fresh host has a backup (and doctor a date) from day one.
        if ! ((DRY_RUN)) && ! systemctl start fta-backup.service >>"$INSTALL_LOG" 2>&1; then
            warn "the first scheduled backup failed: journalctl -u fta-backup"
        fi
    fi
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
    # Before the portal, which starts the bots (scripts/install/lib/firewall.sh).
    install_firewall
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
    install_backup_timer
}

