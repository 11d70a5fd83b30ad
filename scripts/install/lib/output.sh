# shellcheck shell=bash
# install.sh's output: numbered steps, `changed` lines (or `would:` in a dry run), warnings, the
# failure report (a failing step is named, with the end of the install log) and the final summary.
# Sourced by install.sh (never run on its own); docs/install.md describes what it does.

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

# What an upgrade's rollback (service.sh: rollback_upgrade) did and left, for the operator and
# the install log: why the upgrade failed, the failed version's log, the state of the binary, the
# database, the portal and the bots, where the backup and the previous version are; when the
# rollback failed too, the commands that finish it by hand.
ROLLBACK_WHY="" ROLLBACK_PROBLEM="" ROLLBACK_FAILED_LOG="" ROLLBACK_BINARY="" ROLLBACK_DATABASE=""
ROLLBACK_RESTORED="" ROLLBACK_ASIDE="" ROLLBACK_PORTAL=""
rollback_report() {
    if [ -z "$ROLLBACK_PROBLEM" ]; then
        printf '\ninstall.sh: step [%d/%d] "%s" failed: the upgrade to %s failed (%s). It was rolled back to %s automatically.\n' \
            "$STEP_NO" "$TOTAL" "$STEP_NAME" "$UPGRADE_TO" "$ROLLBACK_WHY" "$UPGRADE_FROM"
    else
        printf '\ninstall.sh: step [%d/%d] "%s" failed: the upgrade to %s failed (%s), and the automatic rollback to %s failed too: %s.\n' \
            "$STEP_NO" "$TOTAL" "$STEP_NAME" "$UPGRADE_TO" "$ROLLBACK_WHY" "$UPGRADE_FROM" "$ROLLBACK_PROBLEM"
    fi
    if [ -n "$ROLLBACK_FAILED_LOG" ]; then
        printf "  Failed log:  %s (the portal's log since the upgrade restarted it, or what fta migrate said); its end:\n" "$ROLLBACK_FAILED_LOG"
        tail -n 8 "$ROLLBACK_FAILED_LOG" 2>/dev/null | cut -c 1-300 | sed 's/^/               | /'
    fi
    printf '  Binary:      %s, in %s\n' "$ROLLBACK_BINARY" "$FTA_BIN"
    printf '  Database:    %s\n' "$ROLLBACK_DATABASE"
    if [ -n "$UPGRADE_BACKUP" ]; then printf '  Backup:      %s (taken before the upgrade%s)\n' "$UPGRADE_BACKUP" "${ROLLBACK_RESTORED:+; restored}"; fi
    if [ -n "$ROLLBACK_ASIDE" ]; then printf '  Kept aside:  %s (the database as the failed version left it)\n' "$ROLLBACK_ASIDE"; fi
    printf '  Portal:      %s\n' "$ROLLBACK_PORTAL"
    printf '  Bots:        %s (install.sh never stops a bot)\n' "$(bots_verdict)"
    printf '  Previous:    %s (what a rollback puts back; its upgrade.conf names the backup)\n' "$PREVIOUS_DIR"
    if [ -z "$ROLLBACK_PROBLEM" ]; then
        printf 'Steps %d to %d were not run. Fix the new version, then run install.sh again (re-running is safe).\n' "$((STEP_NO + 1))" "$TOTAL"
        printf 'install.sh: exit status %d: the upgrade failed and was rolled back.\n' "$EXIT_ROLLED_BACK"
    else
        printf 'Finish the rollback by hand (docs/install.md, "Upgrade and rollback"):\n'
        manual_rollback_commands | sed 's/^/    /'
        printf 'install.sh: exit status %d: the upgrade failed, and so did the rollback.\n' "$EXIT_ROLLBACK_FAILED"
    fi
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
    if ((UPGRADE)); then
        say "  Upgraded:  from $UPGRADE_FROM to $UPGRADE_TO"
        say "             $UPGRADE_HEALTH"
        if [ -n "$UPGRADE_BACKUP" ]; then say "             backup taken before it: $UPGRADE_BACKUP"; fi
        say "             the previous version is kept in $PREVIOUS_DIR (docs/install.md, \"Upgrade and rollback\")"
    fi
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
    if [ -n "$ADMIN_PASSWORD_FILE_WRITTEN" ]; then
        say "  Password:  in $ADMIN_PASSWORD_FILE_WRITTEN (root only: sudo cat $ADMIN_PASSWORD_FILE_WRITTEN)"
        say "             (change it after signing in, then delete the file)"
    fi
    say "  Manage:    sudo fta-admin doctor | client create ID --name NAME | backup FILE"
    if ((HAVE_SYSTEMD)); then say "  Services:  systemctl status fta nginx docker"
    else say "  Services:  supervised in the background (no systemd); logs in $LOG_DIR; re-run install.sh after a reboot"; fi
    if ((${#WARNINGS[@]})); then
        say "Warnings:"
        printf '  - %s\n' "${WARNINGS[@]}"
    fi
}

