# shellcheck shell=bash
# Step 6 of install.sh: /etc/fta/fta.env, the service's configuration, and /etc/fta/install.conf,
# install.sh's own saved choices.
# Sourced by install.sh (never run on its own); docs/install.md describes what it does.

# ---------------------------------------------------------------------------------------------
# Step 6: /etc/fta/fta.env, the service's configuration, from .env.example: placeholders get
# fresh random secrets; on a re-run existing values are kept (secrets never change) and only
# missing keys are added. install.sh also saves its own choices in /etc/fta/install.conf.
# ---------------------------------------------------------------------------------------------

# The keys fta needs, with the values this installer gives them when .env.example lacks them.
builtin_env_defaults() {
    local mem_mb budget
    mem_mb=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 1024))
    # What bots may use in total: memory less ~700 MiB for the system, dockerd, nginx and the
    # portal; never below one small bot (256 MiB).
    budget=$((mem_mb - 700))
    ((budget >= 256)) || budget=256
    cat <<EOF
FTA_LISTEN=127.0.0.1
FTA_PORT=8080
FTA_DATABASE=$DATA_DIR/fta.sqlite
FTA_WEB_ROOT=$WEB_DIR
FTA_DOCKER_URL=unix://$PROXY_RUN_DIR/docker.sock
FTA_BOT_IMAGE=$DEFAULT_BOT_IMAGE
FTA_SECRET_KEY=change-me
FTA_PUBLIC_URL=http://127.0.0.1:8081
DOCKER_NETWORK=fta-control
FTA_MEMORY_BUDGET_MB=$budget
FTA_MAX_BOTS_PER_CLIENT=3
EOF
}

# render_env_file OUT [EXISTING]: computes the desired fta.env from the existing one (default
# $ENV_FILE), .env.example and the built-in keys.
render_env_file() {
    local out=$1 existing=${2:-$ENV_FILE} template line key value re='^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$'
    local -A forced=() seen=()
    # Values this run decides, whatever the file says: derived from flags and from the mode.
    forced[FTA_PUBLIC_URL]=$PUBLIC_URL
    forced[FTA_PORT]=$FTA_PORT_VALUE
    [ -n "$DOCKER_URL" ] && forced[FTA_DOCKER_URL]=$DOCKER_URL
    [ -n "$OPT_BOT_IMAGE" ] && forced[FTA_BOT_IMAGE]=$OPT_BOT_IMAGE
    [ -n "${BUILT_BOT_IMAGE:-}" ] && forced[FTA_BOT_IMAGE]=$BUILT_BOT_IMAGE
    local k
    for k in "${!COMPOSE_ENV[@]}"; do
        # FTA_PROXY_UID is the operator's to change (another image); the rest follow the system.
        if [ "$k" = FTA_PROXY_UID ] && [ -n "$(read_kv "$existing" "$k")" ]; then continue; fi
        forced[$k]=${COMPOSE_ENV[$k]}
    done

    # The base: the existing file (re-run) or .env.example (first run), then the built-in keys.
    template=$(new_tmp)
    if [ -s "$existing" ]; then cat "$existing" >"$template"
    elif [ -f "$ENV_EXAMPLE" ]; then cat "$ENV_EXAMPLE" >"$template"
    else printf '# fta configuration (no .env.example in the checkout: built-in defaults)\n' >"$template"; fi
    if [ -s "$existing" ] && [ -f "$ENV_EXAMPLE" ]; then
        # Keys added to .env.example since the first install.
        while IFS= read -r line; do
            [[ $line =~ $re ]] || continue
            grep -qE "^[[:space:]]*(export[[:space:]]+)?${BASH_REMATCH[2]}=" "$template" || printf '%s\n' "$line" >>"$template"
        done <"$ENV_EXAMPLE"
    fi
    while IFS= read -r line; do
        [[ $line =~ $re ]] || continue
        grep -qE "^[[:space:]]*(export[[:space:]]+)?${BASH_REMATCH[2]}=" "$template" || printf '%s\n' "$line" >>"$template"
    done < <(builtin_env_defaults; for k in "${!forced[@]}"; do printf '%s=%s\n' "$k" "${forced[$k]}"; done | sort)

    : >"$out"
    while IFS= read -r line || [ -n "$line" ]; do
        if [[ ! $line =~ $re ]]; then printf '%s\n' "$line" >>"$out"; continue; fi
        key=${BASH_REMATCH[2]} value=${BASH_REMATCH[3]}
        if [ -n "${seen[$key]:-}" ]; then continue; fi
        seen[$key]=1
        local bare=$value
        if [[ $bare =~ ^\"(.*)\"$ || $bare =~ ^\'(.*)\'$ ]]; then bare=${BASH_REMATCH[1]}; fi
        if [ -n "${forced[$key]:-}" ]; then
            value=${forced[$key]}
        elif [[ $key =~ $SECRET_KEY_RE ]] && [[ $bare =~ $PLACEHOLDER_RE ]]; then
            value=$(random_hex)
        fi
        printf '%s=%s\n' "$key" "$value" >>"$out"
    done <"$template"
}

# Lists, without values for secrets, what differs between two env files. Both are read by the
# shell itself: a line of the file (a secret's value) must never be a command's argument, which
# any local user could read in /proc/PID/cmdline.
describe_env_changes() {
    local old=$1 new=$2 line key re='^([A-Za-z_][A-Za-z0-9_]*)='
    local -A old_lines=() old_keys=()
    if [ -r "$old" ]; then
        while IFS= read -r line || [ -n "$line" ]; do
            [ -n "$line" ] && old_lines[$line]=1
            [[ $line =~ $re ]] && old_keys[${BASH_REMATCH[1]}]=1
        done <"$old"
    fi
    while IFS= read -r line; do
        [[ $line =~ $re ]] || continue
        key=${BASH_REMATCH[1]}
        if [ -z "${old_keys[$key]:-}" ]; then
            if [[ $key =~ $SECRET_KEY_RE ]]; then changed "$ENV_FILE: add $key (fresh random secret)"
            else changed "$ENV_FILE: add $line"; fi
        elif [ -z "${old_lines[$line]:-}" ]; then
            if [[ $key =~ $SECRET_KEY_RE ]]; then changed "$ENV_FILE: replace the placeholder of $key with a fresh random secret"
            else changed "$ENV_FILE: set $line"; fi
        fi
    done <"$new"
}

write_state_file() {
    local tmp
    tmp=$(new_tmp)
    {
        echo "# Choices of the last install.sh run (re-runs reuse them; flags override). No secrets here."
        echo "NGINX_MODE=$NGINX_MODE"
        echo "DOMAIN=$DOMAIN"
        echo "EMAIL=$EMAIL"
        echo "NGINX_PORT=$NGINX_PORT"
        if [ "$TLS_SOURCE" = operator ]; then echo "TLS_CERT=$TLS_CERT"; echo "TLS_KEY=$TLS_KEY"; fi
        echo "ADMIN_USER=$ADMIN_USER"
        echo "PROXY_MODE=$PROXY_MODE"
        echo "ADDRESS_POOL=$ADDRESS_POOL"
        if ((EXTERNAL_DOCKER)); then echo "DOCKER_HOST=unix://$DOCKER_SOCK"; fi
        if [ -n "$DISABLED_DEFAULT_SITE" ]; then echo "DISABLED_DEFAULT_SITE=$DISABLED_DEFAULT_SITE"; fi
    } >"$tmp"
    put_file "$tmp" "$STATE_FILE" 644 root root
}

DRY_ENV="" # in a dry run: the file the first write_env_file would have written
write_env_file() {
    local tmp
    tmp=$(new_tmp)
    if ((DRY_RUN)) && [ -n "$DRY_ENV" ]; then
        render_env_file "$tmp" "$DRY_ENV"
        describe_env_changes "$DRY_ENV" "$tmp"
        DRY_ENV=$tmp
        return 0
    fi
    render_env_file "$tmp"
    describe_env_changes "$ENV_FILE" "$tmp"
    # Root-only: systemd (EnvironmentFile=) and fta-run read it as root and hand the values to
    # the fta process; the fta user itself never needs to read the file.
    put_file "$tmp" "$ENV_FILE" 600 root root
    if ((DRY_RUN)); then DRY_ENV=$tmp; fi
    if ((FILE_CHANGED)); then RESTART_FTA=1; fi
}

step_6_config() {
    step "Writing the configuration ($ENV_FILE)"
    [ -f "$ENV_EXAMPLE" ] || warn ".env.example is missing from the checkout: using built-in defaults"
    # The socket proxy's address is settled in step 8; keep what the file has until then.
    DOCKER_URL=$(read_kv "$ENV_FILE" FTA_DOCKER_URL)
    compose_env_values
    write_env_file
    write_state_file
}

