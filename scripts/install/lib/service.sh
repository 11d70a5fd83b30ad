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
    for _ in $(seq 1 "$HEALTH_TIMEOUT"); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$FTA_PORT_VALUE/api/v1/health" 2>/dev/null || true)
        if [ "$code" = 200 ] || [ "$code" = 503 ]; then info "the portal answers on 127.0.0.1:$FTA_PORT_VALUE"; return 0; fi
        sleep 1
    done
    fail "the portal does not answer on 127.0.0.1:$FTA_PORT_VALUE/api/v1/health within $HEALTH_TIMEOUT s (see $(portal_log_hint))"
}
portal_log_hint() { if ((HAVE_SYSTEMD)); then echo 'journalctl -u fta'; else echo "$LOG_DIR/fta.log"; fi; }

# ---------------------------------------------------------------------------------------------
# After an upgrade: the new portal's health, and the rollback when it is not healthy.
# ---------------------------------------------------------------------------------------------
# portal_healthy SECONDS: polls GET /api/v1/health on the portal's loopback port, once a second
# for at most SECONDS, until it answers 200 with status "ok" or "degraded" (degraded: Docker or
# the disk needs attention, the portal itself is up). HEALTH_SEEN says what it saw last.
HEALTH_SEEN=""
portal_healthy() {
    local limit=$1 started=$SECONDS url="http://127.0.0.1:$FTA_PORT_VALUE/api/v1/health" answer code body status rc
    while true; do
        rc=0
        answer=$(curl -sS -w '\n%{http_code}' --max-time 3 "$url" 2>&1) || rc=$?
        code=${answer##*$'\n'} body=${answer%$'\n'*}
        if ((rc == 0)) && [ "$code" = 200 ]; then
            status=$(jq -r '.status // empty' <<<"$body" 2>/dev/null || true)
            if [ "$status" = ok ] || [ "$status" = degraded ]; then
                HEALTH_SEEN="200, status $status, after $((SECONDS - started)) s"
                return 0
            fi
        fi
        case $rc in
            0) HEALTH_SEEN="HTTP $code: $(head -c 200 <<<"$body" | tr '\n' ' ')" ;;
            7) HEALTH_SEEN="nothing listens on 127.0.0.1:$FTA_PORT_VALUE (connection refused)" ;;
            28) HEALTH_SEEN="no answer within 3 s" ;;
            *) HEALTH_SEEN="curl failed ($rc): $(head -n 1 <<<"$body")" ;;
        esac
        ((SECONDS - started < limit)) || return 1
        sleep 1
    done
}

# stop_portal / start_portal: the fta service alone (never the proxy, Docker or a bot), for the
# rollback; they report failure instead of ending the run (rollback_upgrade says what state it
# left). Bots are containers of the engine, not processes of the service: stopping it leaves them
# running (systemd kills only the unit's own processes).
stop_portal() {
    if ((HAVE_SYSTEMD)); then systemctl stop fta >>"$INSTALL_LOG" 2>&1; return; fi
    local pid
    pid=$(cat "$RUN_DIR/fta.pid" 2>/dev/null) || return 0
    supervised_stop "$RUN_DIR/fta.pid"
    ! process_alive "$pid"
}
start_portal() {
    if ((HAVE_SYSTEMD)); then systemctl start fta >>"$INSTALL_LOG" 2>&1; return; fi
    ensure_run_dir "$RUN_DIR"
    setsid "$LIBEXEC_DIR/fta-supervise" --name fta --pidfile "$RUN_DIR/fta.pid" --log "$LOG_DIR/fta.log" -- \
        "$LIBEXEC_DIR/fta-run" --user "$FTA_USER" --env-file "$ENV_FILE" --chdir "$DATA_DIR" -- "$FTA_BIN" serve \
        </dev/null >/dev/null 2>&1 9>&- &
    for _ in $(seq 1 10); do supervised_running "$RUN_DIR/fta.pid" && return 0; sleep 0.5; done
    return 1
}

# Where the portal's log stands before the upgrade's restart, so that the failed version's own
# lines can be kept apart (mark_portal_log, then save_failed_log FILE).
LOG_MARK=""
LOG_MARK_TIME=0
mark_portal_log() {
    LOG_MARK_TIME=$(date +%s)
    LOG_MARK=$(stat -c %s "$LOG_DIR/fta.log" 2>/dev/null || echo 0)
}
save_failed_log() {
    local file=$1
    (
        umask 077
        if ((HAVE_SYSTEMD)); then
            journalctl -u fta --since "@$LOG_MARK_TIME" --no-pager -o short-iso >"$file" 2>&1
        elif [ -f "$LOG_DIR/fta.log" ] && (($(stat -c %s "$LOG_DIR/fta.log") >= LOG_MARK)); then
            tail -c +"$((LOG_MARK + 1))" "$LOG_DIR/fta.log" >"$file"
        else
            cat "$LOG_DIR/fta.log" >"$file" 2>/dev/null # rotated meanwhile: all of the new one
        fi
    ) || true
}

# The bots' containers: "ID STARTED-AT NAME" of each running container of this installation
# (managed_filters: on an engine shared with others, only this installation's clients'), taken
# before an upgrade (bot_snapshot); afterwards, whether each still runs, never restarted.
BOTS_BEFORE=""
bot_snapshot() {
    local filter ids
    while read -r filter; do
        [ -n "$filter" ] || continue
        ids=$(docker ps -q --filter "$filter" --filter status=running 2>/dev/null) || return 1
        [ -n "$ids" ] || continue
        # shellcheck disable=SC2086 # word splitting of the id list is wanted
        docker inspect --format '{{.Id}} {{.State.StartedAt}} {{.Name}}' $ids 2>/dev/null || return 1
    done < <(managed_filters)
}
bots_verdict() {
    local id started name now lost=() count=0 last=""
    if [ "$BOTS_BEFORE" = "?" ]; then echo "the bots' containers could not be listed before the upgrade (docker ps failed)"; return 0; fi
    [ -n "$BOTS_BEFORE" ] || { echo "no bot container of this installation was running before the upgrade"; return 0; }
    while read -r id started name; do
        count=$((count + 1)) last=${name#/}
        now=$(docker inspect --format '{{.State.Running}} {{.State.StartedAt}}' "$id" 2>/dev/null) || now="gone"
        if [ "$now" != "true $started" ]; then lost+=("${name#/} ($now)"); fi
    done <<<"$BOTS_BEFORE"
    if ((${#lost[@]})); then echo "of the $count bot containers running before the upgrade, these no longer run as they did: ${lost[*]}"
    elif ((count == 1)); then echo "the bot container running before the upgrade ($last) still runs, never restarted"
    else echo "all $count bot containers running before the upgrade still run, none restarted"; fi
}

# put_back_previous: the previous binary (atomically, byte for byte), web files and VERSION.
put_back_previous() {
    local tmp
    [ -x "$PREVIOUS_DIR/fta" ] || return 1
    tmp=$(mktemp "$(dirname "$FTA_BIN")/.fta-tmp.XXXXXX") || return 1
    { cat "$PREVIOUS_DIR/fta" >"$tmp" && chown root:root "$tmp" && chmod 755 "$tmp" && mv -f "$tmp" "$FTA_BIN"; } || { rm -f "$tmp"; return 1; }
    if [ -d "$PREVIOUS_DIR/web" ]; then replace_tree "$PREVIOUS_DIR/web" "$WEB_DIR" || return 1; fi
    if [ -f "$PREVIOUS_DIR/VERSION" ]; then cp "$PREVIOUS_DIR/VERSION" "$SHARE_DIR/VERSION"
    else rm -f "$SHARE_DIR/VERSION"; fi
}

# The rollback by hand, from whatever state: each command is safe to run again.
manual_rollback_commands() {
    if ((HAVE_SYSTEMD)); then echo "sudo systemctl stop fta"
    else echo "if [ -f $RUN_DIR/fta.pid ]; then sudo kill \$(cat $RUN_DIR/fta.pid); while [ -f $RUN_DIR/fta.pid ]; do sleep 1; done; fi"; fi
    echo "sudo install -m 0755 $PREVIOUS_DIR/fta $FTA_BIN"
    if [ -d "$PREVIOUS_DIR/web" ]; then echo "sudo rm -rf $WEB_DIR && sudo cp -R $PREVIOUS_DIR/web $WEB_DIR"; fi
    if [ -f "$PREVIOUS_DIR/VERSION" ]; then echo "sudo cp $PREVIOUS_DIR/VERSION $SHARE_DIR/VERSION"
    else echo "sudo rm -f $SHARE_DIR/VERSION"; fi
    if [ -n "$UPGRADE_BACKUP" ]; then
        echo "sudo fta-admin restore $UPGRADE_BACKUP      # the backup taken before the upgrade (or another in $(dirname "$UPGRADE_BACKUP"))"
    fi
    if ((HAVE_SYSTEMD)); then echo "sudo systemctl start fta"
    else echo "sudo setsid $LIBEXEC_DIR/fta-supervise --name fta --pidfile $RUN_DIR/fta.pid --log $LOG_DIR/fta.log -- $LIBEXEC_DIR/fta-run --user $FTA_USER --env-file $ENV_FILE --chdir $DATA_DIR -- $FTA_BIN serve </dev/null >/dev/null 2>&1 &"; fi
    echo "curl -s http://127.0.0.1:$FTA_PORT_VALUE/api/v1/health; sudo fta-admin doctor"
}

# rollback_upgrade WHY [OUTPUT]: the upgrade failed (WHY: its portal is not healthy, or fta
# migrate failed, whose OUTPUT is then the failed version's log). Stop the portal, put the
# previous version back (binary, web files, VERSION from PREVIOUS_DIR), restore the backup taken
# before the upgrade with fta's own restore, start it and check its health; then report (on
# stderr and in the install log) and exit: 4 when the previous version runs healthy again, 5 with
# the state of the server and the commands to finish by hand when not. Every action is tried and
# its result looked at here, so that no failure ends the run half-way without a report.
rollback_upgrade() {
    local why=$1 output=${2:-} stamp failed_log restored="" aside="" out problem=""
    local binary_state="the failed version, $UPGRADE_TO" database_state="as the failed version left it" portal_state="the failed version runs"
    trap - ERR
    set +e
    # Before step 11 (fta migrate failed) the portal still runs the previous binary.
    if [ -z "$LOG_MARK" ]; then portal_state="the previous version runs (the upgrade had not restarted it yet), on the failed version's database"; fi
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    failed_log=$LOG_DIR/upgrade-failed-$stamp.log
    info "the upgrade failed ($why): rolling back to $UPGRADE_FROM"
    printf '\n---- the upgrade to %s failed (%s); rolling back to %s\n' "$UPGRADE_TO" "$why" "$UPGRADE_FROM" >>"$INSTALL_LOG"

    if stop_portal; then portal_state="stopped"
    else problem="the portal did not stop, so the database could not be restored"; fi
    if [ -n "$output" ]; then (umask 077; cat "$output" >"$failed_log")
    elif [ -n "$LOG_MARK" ]; then save_failed_log "$failed_log"
    else failed_log=""; fi

    if [ -z "$problem" ]; then
        if put_back_previous; then binary_state="the previous version, $UPGRADE_FROM"
        else problem="putting the previous binary, web files or VERSION back from $PREVIOUS_DIR failed"; fi
    fi
    if [ -z "$problem" ] && [ -n "$UPGRADE_BACKUP" ]; then
        if out=$(restore_upgrade_backup); then
            database_state="restored from the backup taken before the upgrade"
            restored=$UPGRADE_BACKUP
            aside=$(sed -n 's/^the previous database is kept at //p' <<<"$out")
        else
            problem="fta restore $UPGRADE_BACKUP failed: $(tail -n 1 <<<"$out")"
        fi
        printf '%s\n' "$out" >>"$INSTALL_LOG"
    elif [ -z "$problem" ]; then
        database_state="unchanged (there was none before the upgrade, so no backup)"
    fi
    if [ -z "$problem" ]; then
        if ! start_portal; then problem="the previous portal did not start (see $(portal_log_hint))"; portal_state="stopped"
        elif portal_healthy "$HEALTH_TIMEOUT"; then portal_state="the previous version runs and is healthy ($HEALTH_SEEN)"
        else problem="the previous portal is not healthy either after $HEALTH_TIMEOUT s ($HEALTH_SEEN)"; portal_state="the previous version runs, not healthy"; fi
    fi

    ROLLBACK_WHY=$why ROLLBACK_PROBLEM=$problem ROLLBACK_FAILED_LOG=$failed_log ROLLBACK_BINARY=$binary_state
    ROLLBACK_DATABASE=$database_state ROLLBACK_RESTORED=$restored ROLLBACK_ASIDE=$aside ROLLBACK_PORTAL=$portal_state
    rollback_report 2>&1 | tee -a "$INSTALL_LOG" >&2
    if [ -z "$problem" ]; then exit "$EXIT_ROLLED_BACK"; fi
    exit "$EXIT_ROLLBACK_FAILED"
}

step_11_service() {
    step "Starting the fta service"
    # Before the portal, which starts the bots (scripts/install/lib/firewall.sh).
    install_firewall
    if ((UPGRADE)) && ! ((DRY_RUN)); then mark_portal_log; fi
    if ((HAVE_SYSTEMD)); then
        local tmp
        tmp=$(new_tmp)
        fta_unit >"$tmp"
        put_file "$tmp" /etc/systemd/system/fta.service 644 root root
        if ((FILE_CHANGED)); then run systemctl daemon-reload; RESTART_FTA=1; fi
        if ! systemctl is-enabled --quiet fta 2>/dev/null; then changed "enable fta.service"; run systemctl enable fta; fi
        # In an upgrade a start that fails is judged, and rolled back, by the health check below.
        if ! systemctl is-active --quiet fta 2>/dev/null; then changed "start fta.service"; run systemctl start fta || ((UPGRADE))
        elif ((RESTART_FTA)); then changed "restart fta.service (binary, configuration or unit changed)"; run systemctl restart fta || ((UPGRADE)); fi
    else
        supervised_start fta "$RUN_DIR/fta.pid" "$LOG_DIR/fta.log" "$RESTART_FTA" \
            "$LIBEXEC_DIR/fta-run" --user "$FTA_USER" --env-file "$ENV_FILE" --chdir "$DATA_DIR" -- "$FTA_BIN" serve
    fi
    if ((UPGRADE)); then
        if ((DRY_RUN)); then
            changed "check the upgraded portal's health (GET http://127.0.0.1:$FTA_PORT_VALUE/api/v1/health: 200 ok or degraded, within $HEALTH_TIMEOUT s)"
            changed "if it is not healthy: stop it, put the previous version back from $PREVIOUS_DIR, restore the backup (fta restore), start it, check it again, and exit $EXIT_ROLLED_BACK (bots are never stopped)"
        elif portal_healthy "$HEALTH_TIMEOUT"; then
            UPGRADE_HEALTH="the health check passed ($HEALTH_SEEN); $(bots_verdict)"
            info "upgraded from $UPGRADE_FROM to $UPGRADE_TO: $UPGRADE_HEALTH"
            printf '\n---- upgraded from %s to %s: %s\n' "$UPGRADE_FROM" "$UPGRADE_TO" "$UPGRADE_HEALTH" >>"$INSTALL_LOG"
        else
            rollback_upgrade "its portal failed the health check: GET http://127.0.0.1:$FTA_PORT_VALUE/api/v1/health for $HEALTH_TIMEOUT s: $HEALTH_SEEN"
        fi
    elif ! ((DRY_RUN)); then
        wait_for_portal
    fi
    install_backup_timer
}
