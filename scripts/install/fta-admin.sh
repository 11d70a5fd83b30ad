#!/usr/bin/env bash
# fta-admin: the fta CLI as the service runs it (user fta, configuration from /etc/fta/fta.env).
# install.sh installs it as /usr/local/sbin/fta-admin. Examples:
#   sudo fta-admin doctor
#   sudo fta-admin client create acme --name "Acme Ltd"
#   sudo fta-admin backup /var/lib/fta/backup.sqlite     (fta can only write where user fta may)
#   sudo fta-admin firewall check|apply|show             (the bots' firewall: docs/firewall.md)
#   sudo fta-admin rotate-key                            (a new FTA_SECRET_KEY: docs/security.md, "Rotate")
# `doctor` alone runs as root (still with only the env file's environment): its host checks run
# `nginx -t`, read the root-only /etc/fta/fta.env and look at the Docker socket's owner. It only
# reads; SQLite hands any file it creates beside the database to the database's owner (fta).
# To fta's own checks it adds `bots.firewall`: iptables is root's to read, and fta never runs as
# root otherwise. `firewall` runs fta-firewall (as root; no fta process involved).
set -euo pipefail

FTA_RUN=/usr/local/lib/fta/fta-run
FIREWALL=/usr/local/lib/fta/fta-firewall

# fta as root, with only the env file's environment (doctor's host checks).
fta_as_root() { "$FTA_RUN" --user root --env-file /etc/fta/fta.env --chdir /var/lib/fta -- /usr/local/bin/fta "$@"; }

# The firewall finding as doctor shows it: FIREWALL_STATUS, FIREWALL_DETAIL, FIREWALL_FIX.
readonly IMDS_ADVICE="On EC2, also require IMDSv2 with a hop limit of 1 (aws ec2 modify-instance-metadata-options --instance-id ID --http-tokens required --http-put-response-hop-limit 1): a container is one hop further than the host, so no token ever reaches it even where a rule is missing (docs/firewall.md)."
firewall_finding() {
    local out rc=0
    if [ ! -x "$FIREWALL" ]; then
        FIREWALL_STATUS=fail FIREWALL_DETAIL="$FIREWALL is missing: the bots' firewall is not installed"
        FIREWALL_FIX="run install.sh again. $IMDS_ADVICE"
        return
    fi
    out=$("$FIREWALL" check 2>&1) || rc=$?
    FIREWALL_DETAIL=${out//$'\n'/; }
    case $rc in
        0) FIREWALL_STATUS=pass FIREWALL_FIX="" ;;
        3) FIREWALL_STATUS=warn
           FIREWALL_FIX="bots can reach this host's ports and private addresses; install fta on an engine of its own (install.sh without --docker-host), or filter the bots' bridges yourself. $IMDS_ADVICE" ;;
        *) FIREWALL_STATUS=fail
           FIREWALL_FIX="sudo fta-admin firewall apply (or run install.sh again), then sudo fta-admin doctor. $IMDS_ADVICE" ;;
    esac
}

# fta doctor (as root), with the firewall's finding added in the same form: the JSON's checks
# array, or a line before the counts. Fails when either finds a failure.
doctor() {
    local out rc=0 json=0 arg summary="" line
    for arg in "$@"; do [ "$arg" = --json ] && json=1; done
    out=$(fta_as_root doctor "$@") || rc=$?
    firewall_finding
    if ((json)); then
        if ! jq -e '.checks | type == "array"' >/dev/null 2>&1 <<<"$out"; then printf '%s\n' "$out"; exit "$((rc ? rc : 1))"; fi
        jq --arg status "$FIREWALL_STATUS" --arg detail "$FIREWALL_DETAIL" --arg fix "$FIREWALL_FIX" \
            '.checks += [{name: "bots.firewall", status: $status, detail: $detail, fix: $fix}]' <<<"$out"
    else
        local re='^([0-9]+) passed, ([0-9]+) warnings, ([0-9]+) failed$'
        while IFS= read -r line; do
            if [[ $line =~ $re ]]; then summary=$line; else printf '%s\n' "$line"; fi
        done <<<"$out"
        printf '[%s] bots.firewall: %s\n' "${FIREWALL_STATUS^^}" "$FIREWALL_DETAIL"
        [ -z "$FIREWALL_FIX" ] || printf '       fix: %s\n' "$FIREWALL_FIX"
        if [[ $summary =~ $re ]]; then
            local pass=${BASH_REMATCH[1]} warns=${BASH_REMATCH[2]} fails=${BASH_REMATCH[3]}
            case $FIREWALL_STATUS in pass) pass=$((pass + 1)) ;; warn) warns=$((warns + 1)) ;; *) fails=$((fails + 1)) ;; esac
            echo "$pass passed, $warns warnings, $fails failed"
        fi
    fi
    if ((rc != 0)); then exit "$rc"; fi
    if [ "$FIREWALL_STATUS" = fail ]; then exit 1; fi
}

readonly ENV_FILE=/etc/fta/fta.env

# The env file without FTA_SECRET_KEY_PREVIOUS, and with FTA_SECRET_KEY set to $1 when given
# (the old key then kept as FTA_SECRET_KEY_PREVIOUS), replaced in one rename. Values are written
# by the shell's own printf: a key never becomes a command's argument (/proc/PID/cmdline).
rewrite_env_keys() {
    local new=${1:-} line tmp
    tmp=$(mktemp "$ENV_FILE.XXXXXX")
    chmod 600 "$tmp"
    while IFS= read -r line || [ -n "$line" ]; do
        case $line in
            FTA_SECRET_KEY_PREVIOUS=*) ;;
            FTA_SECRET_KEY=*)
                if [ -n "$new" ]; then
                    printf 'FTA_SECRET_KEY=%s\n' "$new"
                    printf 'FTA_SECRET_KEY_PREVIOUS=%s\n' "${line#FTA_SECRET_KEY=}"
                else
                    printf '%s\n' "$line"
                fi ;;
            *) printf '%s\n' "$line" ;;
        esac
    done <"$ENV_FILE" >"$tmp"
    sync "$tmp"
    mv "$tmp" "$ENV_FILE"
}

# The portal reads its key at start: restart it (systemd), or say so.
restart_portal() {
    if [ -d /run/systemd/system ] && systemctl is-active --quiet fta 2>/dev/null; then
        systemctl restart fta
    else
        echo "  restart the portal now so that it reads the new key (no systemd here: run install.sh again)"
    fi
}

# rotate-key: a new FTA_SECRET_KEY, every bot's secrets re-sealed under it, the old key gone.
# Each step can be run again: run the command again after any failure or crash.
rotate_key() {
    [ "$(id -u)" -eq 0 ] || { echo "fta-admin rotate-key: run it as root (sudo)" >&2; exit 1; }
    local line pending=0 new
    while IFS= read -r line; do
        case $line in FTA_SECRET_KEY_PREVIOUS=?*) pending=1 ;; esac
    done <"$ENV_FILE"
    if ((pending)); then
        echo "1/3 a rotation is under way (FTA_SECRET_KEY_PREVIOUS is set): finishing it"
    else
        new=$(openssl rand -hex 32)
        [[ $new =~ ^[0-9a-f]{64}$ ]] || { echo "fta-admin rotate-key: openssl rand failed; nothing changed" >&2; exit 1; }
        rewrite_env_keys "$new"
        echo "1/3 new FTA_SECRET_KEY in $ENV_FILE; the old one kept as FTA_SECRET_KEY_PREVIOUS until the end"
    fi
    restart_portal
    echo "2/3 re-sealing every bot's secrets under the new key"
    "$FTA_RUN" --user fta --env-file "$ENV_FILE" --chdir /var/lib/fta -- /usr/local/bin/fta rotate-key
    "$FTA_RUN" --user fta --env-file "$ENV_FILE" --chdir /var/lib/fta -- /usr/local/bin/fta rotate-key --check
    rewrite_env_keys
    echo "3/3 the old key is gone from $ENV_FILE"
    restart_portal
    echo "done. Backups taken before now still need the old key for their bots' secrets (docs/security.md)."
}

main() {
    case ${1:-} in
        doctor) shift; doctor "$@" ;;
        rotate-key) shift; rotate_key "$@" ;;
        firewall) shift; exec "$FIREWALL" "$@" ;;
        *) exec "$FTA_RUN" --user fta --env-file /etc/fta/fta.env --chdir /var/lib/fta -- /usr/local/bin/fta "$@" ;;
    esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main "$@"; fi
