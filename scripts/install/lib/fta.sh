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
    # The image fta will run: fta.env's, else fta's own default (its configuration template).
    image=${BUILT_BOT_IMAGE:-$(read_kv "${DRY_ENV:-$ENV_FILE}" FTA_BOT_IMAGE)}
    image=${image:-${OPT_BOT_IMAGE:-$(template_value FTA_BOT_IMAGE)}}
    if [ -z "$image" ]; then
        warn "neither $ENV_FILE nor fta's configuration template names the bot image (FTA_BOT_IMAGE): set it with --bot-image TAG"
        return 0
    fi
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
# Step 10: the database schema, as user fta. fta owns its database: install.sh never reads it,
# it asks fta (`fta migrate` says what it did; `--check` only looks).
# ---------------------------------------------------------------------------------------------
as_fta() { "$LIBEXEC_DIR/fta-run" --user "$FTA_USER" --env-file "$ENV_FILE" --chdir "$DATA_DIR" -- "$@"; }

# fta can be asked about its state: the binary, its helper, its user and its configuration are in
# place and this is root (not so before the first install: a dry run then says what a real run does).
can_ask_fta() {
    [ "$(id -u)" -eq 0 ] && [ -x "$FTA_BIN" ] && [ -x "$LIBEXEC_DIR/fta-run" ] && [ -s "$ENV_FILE" ] &&
        id -u "$FTA_USER" >/dev/null 2>&1
}

# The database file named in fta.env (for messages only).
database_path() {
    local db
    db=$(read_kv "$ENV_FILE" FTA_DATABASE)
    printf '%s' "${db:-$DATA_DIR/fta.sqlite}"
}

step_10_migrate() {
    step "Migrating the database"
    local out err rc=0 line
    if ((DRY_RUN)); then
        # `fta migrate --check`: 0 "schema up to date"; 3 "no database" or "N migrations pending".
        if can_ask_fta; then
            out=$(as_fta "$FTA_BIN" migrate --check 2>/dev/null) || rc=$?
            line=$(tail -n 1 <<<"$out")
            if ((rc == 0)); then info "$(database_path): $line"; return 0; fi
            if ((rc == 3)); then changed "run 'fta migrate' as user $FTA_USER ($line)"; return 0; fi
        fi
        changed "run 'fta migrate' as user $FTA_USER (only applies migrations that are missing)"
        return 0
    fi
    err=$(new_tmp)
    # Migrations to apply to an existing database: an online backup first (FTA_BACKUP_DIR), so
    # that the schema change can be undone with fta restore. (An upgrade took one in step 7.)
    if [ -f "$(database_path)" ] && [ -z "$UPGRADE_BACKUP" ]; then
        out=$(as_fta "$FTA_BIN" migrate --check 2>/dev/null) || rc=$?
    fi
    if ((rc == 3)) && [[ $out == *pending* ]]; then
        changed "back up the database before migrating it ($(tail -n 1 <<<"$out"))"
        as_fta "$FTA_BIN" backup --scheduled >>"$INSTALL_LOG" 2>&1 || fail "the backup before migrating failed (see $INSTALL_LOG); nothing was migrated"
    fi
    out=$(as_fta "$FTA_BIN" migrate 2>"$err") || {
        cat "$err" >>"$INSTALL_LOG"
        # An upgrade's new fta that cannot migrate is rolled back like one that is not healthy.
        if ((UPGRADE)); then rollback_upgrade "fta migrate failed: $(tail -n 1 "$err")" "$err"; fi
        fail "fta migrate failed: $(tail -n 3 "$err")"
    }
    cat "$err" >>"$INSTALL_LOG"
    printf '%s\n' "$out" >>"$INSTALL_LOG"
    # Its one line says whether anything changed: a new database, new migrations, or neither.
    line=$(tail -n 1 <<<"$out")
    if [[ $line =~ ^database\ created,\ [0-9]+\ migrations?\ applied$ ]]; then changed "created the database $(database_path) ($line)"
    elif [[ $line =~ ^[0-9]+\ migrations?\ applied$ ]]; then changed "applied new migrations to $(database_path) ($line)"
    elif [ "$line" = "schema up to date" ]; then info "$(database_path): schema up to date"
    elif ((UPGRADE)); then
        printf '%s\n' "$out" >>"$err"
        rollback_upgrade "fta migrate answered '$line', not 'schema up to date' or 'N migrations applied'" "$err"
    else fail "fta migrate answered '$line', not 'schema up to date', 'N migrations applied' or 'database created, N migrations applied': $FTA_BIN is not the fta this install.sh belongs to"; fi
}

# ---------------------------------------------------------------------------------------------
# An upgrade's backup and, when its portal is not healthy, the restore of it (step 7 and 11).
# ---------------------------------------------------------------------------------------------
# backup_before_upgrade: an online backup by the installed fta (the portal may go on serving), in
# FTA_BACKUP_DIR like the daily ones (encrypted when they are); fta names the file it wrote, and
# UPGRADE_BACKUP records it for the rollback. Without a database there is nothing to back up.
backup_before_upgrade() {
    local out err line re='^backup written to (/[^ ]+) \('
    UPGRADE_BACKUP=""
    if [ ! -f "$(database_path)" ]; then info "no database yet: nothing to back up"; return 0; fi
    err=$(new_tmp)
    out=$(as_fta "$FTA_BIN" backup --scheduled 2>"$err") || {
        # The file is written even when FTA_BACKUP_HOOK (the copy off the host) fails after it.
        cat "$err" >>"$INSTALL_LOG"
        [[ $out =~ $re ]] || fail "the installed fta could not back up the database before the upgrade: $(tail -n 3 "$err"); nothing of fta was changed (if the installed $FTA_BIN is itself what is broken: remove it and run install.sh again, which then installs the new one as a first install, without a backup or rollback)"
        warn "fta backup --scheduled failed after writing the backup (its hook?): $(tail -n 1 "$err")"
    }
    printf '%s\n' "$out" >>"$INSTALL_LOG"
    while IFS= read -r line; do
        if [[ $line =~ $re ]]; then UPGRADE_BACKUP=${BASH_REMATCH[1]}; fi
    done <<<"$out"
    [ -n "$UPGRADE_BACKUP" ] || fail "fta backup --scheduled did not say which file it wrote ('$(head -n 1 <<<"$out")'); nothing of fta was changed"
    changed "backed up the database before the upgrade (online, with the installed fta): $UPGRADE_BACKUP"
}

# restore_upgrade_backup: the database as it was before the upgrade, restored by the previous fta
# (back in FTA_BIN by then) with its own command; fta keeps the database it replaces aside
# (fta.sqlite.before-restore-<time>) and says so. Prints fta's answer; the portal must be stopped.
restore_upgrade_backup() {
    as_fta "$FTA_BIN" restore "$UPGRADE_BACKUP" 2>&1
}

# ---------------------------------------------------------------------------------------------
# Step 13: the first admin. The generated password is the only secret this script ever prints.
# ---------------------------------------------------------------------------------------------
step_13_admin() {
    step "Creating the first admin"
    local rc=0 password out err answer pw_tmp=""
    if ((DRY_RUN)); then
        # `fta admin exists`: 0 when an admin exists, 3 when none (or no database yet).
        if can_ask_fta; then as_fta "$FTA_BIN" admin exists >/dev/null 2>&1 || rc=$?; else rc=3; fi
        if ((rc == 0)); then info "an admin already exists: nothing to do, no password printed"
        elif [ -n "${FTA_ADMIN_PASSWORD:-}" ]; then changed "create admin '$ADMIN_USER' with the password from FTA_ADMIN_PASSWORD"
        elif [ -n "$OPT_ADMIN_PASSWORD_FILE" ]; then changed "create admin '$ADMIN_USER' with a generated one-time password, written to $OPT_ADMIN_PASSWORD_FILE (root only)"
        else changed "create admin '$ADMIN_USER' with a generated one-time password (printed once at the end)"; fi
        return 0
    fi
    if [ -n "${FTA_ADMIN_PASSWORD:-}" ]; then password=$FTA_ADMIN_PASSWORD; else password=$(random_password); fi
    # --admin-password-file: the generated password is in a private file (mktemp: 0600) beside PATH
    # before the admin exists, so that a directory it cannot write to stops the step while no
    # admin with a lost password exists yet; once fta created the admin, the file is renamed to PATH.
    if [ -n "$OPT_ADMIN_PASSWORD_FILE" ] && [ -z "${FTA_ADMIN_PASSWORD:-}" ]; then
        pw_tmp=$(mktemp "$(dirname "$OPT_ADMIN_PASSWORD_FILE")/.fta-admin-password.XXXXXX") ||
            fail "--admin-password-file: cannot write a file in $(dirname "$OPT_ADMIN_PASSWORD_FILE")"
        printf '%s\n' "$password" >"$pw_tmp"
    fi
    err=$(new_tmp)
    # fta decides whether an admin exists and creates this one in one step (--if-none): it answers
    # "exists" (nothing created, stdin not read) or "created". The password travels on stdin only:
    # never in argv (visible in /proc to every local user) or in the log. When fta does not read
    # it, the write into the closed pipe must not fail the step (hence no SIGPIPE, `|| true`).
    if ! out=$( { trap '' PIPE; printf '%s' "$password" || true; } 2>/dev/null |
        as_fta "$FTA_BIN" admin create --username "$ADMIN_USER" --password-stdin --if-none 2>"$err"); then
        cat "$err" >>"$INSTALL_LOG"
        [ -z "$pw_tmp" ] || rm -f "$pw_tmp"
        fail "fta admin create failed: $(tail -n 3 "$err")"
    fi
    cat "$err" >>"$INSTALL_LOG"
    answer=$(tail -n 1 <<<"$out")
    case $answer in
        exists)
            [ -z "$pw_tmp" ] || rm -f "$pw_tmp"
            info "an admin already exists: nothing to do, no password printed"
            ;;
        created)
            changed "created admin '$ADMIN_USER'"
            if [ -n "$pw_tmp" ]; then
                mv -f "$pw_tmp" "$OPT_ADMIN_PASSWORD_FILE"
                ADMIN_PASSWORD_FILE_WRITTEN=$OPT_ADMIN_PASSWORD_FILE
            elif [ -z "${FTA_ADMIN_PASSWORD:-}" ]; then
                ADMIN_PASSWORD_TO_PRINT=$password
            fi
            ;;
        *)
            [ -z "$pw_tmp" ] || rm -f "$pw_tmp"
            fail "fta admin create --if-none answered '$answer', not 'exists' or 'created': $FTA_BIN is not the fta this install.sh belongs to"
            ;;
    esac
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
