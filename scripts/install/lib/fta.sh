# shellcheck shell=bash
# What fta itself owns, asked of fta: step 9 (the bots' image), step 10 (the database schema),
# step 13 (the first admin) and step 14 (fta doctor).
# Sourced by install.sh (never run on its own); docs/install.md describes what it does.

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
