# shellcheck shell=bash
# install.sh --uninstall [--purge]: the six uninstall steps.
# Sourced by install.sh (never run on its own); docs/install.md describes what it does.

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
# engine, another fta): only the objects of this installation's clients, as fta lists them
# (`fta client list`), so that the others keep their bots.
managed_filters() {
    if ! ((EXTERNAL_DOCKER)); then echo "label=fta.managed=true"; return 0; fi
    local out ids id rc=0
    can_ask_fta || return 0
    # No database (never installed, or purged): no clients, and asking creates none.
    out=$(as_fta "$FTA_BIN" migrate --check 2>/dev/null) || rc=$?
    if ((rc == 3)) && [ "$(tail -n 1 <<<"$out")" = "no database" ]; then return 0; fi
    if ! ids=$(as_fta "$FTA_BIN" client list 2>>"$INSTALL_LOG"); then
        warn "fta client list failed (see $INSTALL_LOG): no client's containers, networks or volumes are removed from the shared engine"
        return 0
    fi
    while read -r id; do
        if [[ $id =~ ^[a-z0-9][a-z0-9-]{0,30}$ ]]; then echo "label=fta.client=$id"; fi
    done <<<"$ids"
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
        if [ -f /etc/systemd/system/fta-backup.timer ]; then
            changed "stop, disable and remove the daily backup (fta-backup.timer)"
            run systemctl disable --now fta-backup.timer
            run rm -f /etc/systemd/system/fta-backup.timer /etc/systemd/system/fta-backup.service
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
    uninstall_firewall
    local f
    for f in "$FTA_BIN" "$FTA_ADMIN_BIN" /etc/systemd/system/fta-proxy.service; do
        if [ -e "$f" ]; then changed "remove $f"; run rm -f "$f"; fi
    done
    # LIBEXEC_DIR holds the helpers and the previous version an upgrade kept (PREVIOUS_DIR): a
    # rollback target for a binary that is gone too.
    for f in "$SHARE_DIR" "$LIBEXEC_DIR"; do
        if [ -e "$f" ]; then changed "remove $f/"; run rm -rf "$f"; fi
    done

    step "Deleting data (--purge only)"
    if ! ((PURGE)); then
        info "kept: $DATA_DIR (database and its backups), $ETC_DIR (configuration and secrets), $LOG_DIR, user $FTA_USER"
        info "(a later install.sh picks them up again; --uninstall --purge deletes them)"
        check_only_step
    else
        if [ -e "$BOT_STORE_IMAGE" ] || grep -qF "$BOT_STORE" /etc/fstab 2>/dev/null; then
            changed "delete the bots' volume store $BOT_STORE_IMAGE (Docker restarts on its own volumes directory)"
            ((DRY_RUN)) || remove_bot_store
        fi
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

