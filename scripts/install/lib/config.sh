# shellcheck shell=bash
# Step 6 of install.sh: /etc/fta/fta.env, the service's configuration, and /etc/fta/install.conf,
# install.sh's own saved choices.
# Sourced by install.sh (never run on its own); docs/install.md describes what it does.

# ---------------------------------------------------------------------------------------------
# Step 6: /etc/fta/fta.env, the service's configuration. fta owns its settings and their
# defaults: the file starts from fta's own template (`fta config example`, the same text as
# .env.example), and install.sh adds only what is a choice of this install: its paths, fresh
# random secrets for the placeholders, the public URL, the port, the proxy's socket and the ids
# the Compose file needs. Everything else keeps the template's value or stays unset, so that fta's
# defaults apply (an empty FTA_MEMORY_BUDGET_MB: fta computes the budget from the host's memory).
# On a re-run existing values are kept (secrets never change) and only missing keys are added.
# install.sh also saves its own choices in /etc/fta/install.conf.
# ---------------------------------------------------------------------------------------------

# The keys of this install's layout, added when the file lacks them (FTA_SECRET_KEY empty: a
# placeholder, which becomes a fresh random secret below).
install_layout_env() {
    cat <<EOF
FTA_DATABASE=$DATA_DIR/fta.sqlite
FTA_WEB_ROOT=$WEB_DIR
FTA_DOCKER_URL=unix://$PROXY_RUN_DIR/docker.sock
FTA_BOT_STORE=$BOT_STORE
FTA_SECRET_KEY=
EOF
}

# The binary this run installs, when it is known before step 7: --binary, or the release's.
binary_to_install() {
    if [ -n "$OPT_BINARY" ]; then printf '%s' "$OPT_BINARY"
    elif ((FROM_RELEASE)); then printf '%s' "$RELEASE_BINARY"; fi
}

# template_from_binary BIN OUT: `BIN config example` into OUT; fails when BIN gives none (an
# older fta, or not fta at all: the timeout keeps whatever --binary names from hanging the run).
template_from_binary() {
    local bin=$1 out=$2
    if [ -z "$bin" ] || [ ! -f "$bin" ] || [ ! -x "$bin" ]; then return 1; fi
    timeout 20 "$bin" config example </dev/null >"$out" 2>/dev/null && grep -qE '^[A-Za-z_][A-Za-z0-9_]*=' "$out"
}

# env_template OUT: fta's description of its own configuration, the one that belongs to the fta
# this run installs: `fta config example` of --binary or of the release's binary (a release
# archive needs no .env.example); else the checkout's .env.example (the text of the binary built
# from it); else `fta config example` of the installed binary. Sets ENV_TEMPLATE_SOURCE; returns
# 1 when there is none.
ENV_TEMPLATE_SOURCE=""
env_template() {
    local out=$1 bin
    ENV_TEMPLATE_SOURCE=""
    bin=$(binary_to_install)
    if template_from_binary "$bin" "$out"; then ENV_TEMPLATE_SOURCE="$bin config example"; return 0; fi
    if [ -f "$ENV_EXAMPLE" ]; then
        cat "$ENV_EXAMPLE" >"$out"
        ENV_TEMPLATE_SOURCE=$ENV_EXAMPLE
        return 0
    fi
    if template_from_binary "$FTA_BIN" "$out"; then ENV_TEMPLATE_SOURCE="$FTA_BIN config example"; return 0; fi
    : >"$out"
    return 1
}

# template_value KEY: KEY's value in fta's configuration template (fta's default for it).
template_value() {
    local template
    template=$(new_tmp)
    env_template "$template" || true
    read_kv "$template" "$1"
}

# render_env_file OUT [EXISTING]: computes the desired fta.env from the existing one (default
# $ENV_FILE), fta's template and this install's choices.
render_env_file() {
    local out=$1 existing=${2:-$ENV_FILE} base template line key value re='^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$'
    local -A forced=() seen=() present=() optional=()
    # Values this run decides, whatever the file says: derived from flags and from the mode.
    forced[FTA_PUBLIC_URL]=$PUBLIC_URL
    forced[FTA_PORT]=$FTA_PORT_VALUE
    [ -n "$DOCKER_URL" ] && forced[FTA_DOCKER_URL]=$DOCKER_URL
    [ -n "$OPT_BOT_IMAGE" ] && forced[FTA_BOT_IMAGE]=$OPT_BOT_IMAGE
    # An engine install.sh does not own keeps its own volumes directory: no store, no caps.
    if ((EXTERNAL_DOCKER)); then forced[FTA_BOT_DISK_MB]=off; fi
    [ -n "${BUILT_BOT_IMAGE:-}" ] && forced[FTA_BOT_IMAGE]=$BUILT_BOT_IMAGE
    local k
    for k in "${!COMPOSE_ENV[@]}"; do
        # FTA_PROXY_UID is the operator's to change (another image); the rest follow the system.
        if [ "$k" = FTA_PROXY_UID ] && [ -n "$(read_kv "$existing" "$k")" ]; then continue; fi
        forced[$k]=${COMPOSE_ENV[$k]}
    done

    # The base: the existing file (re-run) or the template (first run); then the template's keys
    # the file lacks (added to fta since the first install), then this install's own keys.
    base=$(new_tmp)
    template=$(new_tmp)
    env_template "$template" || true
    if [ -s "$existing" ]; then cat "$existing" >"$base"
    elif [ -s "$template" ]; then cat "$template" >"$base"
    else
        printf '%s\n' "# fta configuration, written by install.sh: this install's paths and secrets. fta's own" \
            "# defaults apply to every setting not named here (\`fta config example\` lists them all)." >"$base"
    fi
    while IFS= read -r line || [ -n "$line" ]; do
        [[ $line =~ $re ]] && present[${BASH_REMATCH[2]}]=1
    done <"$base"
    # Secrets the example leaves empty (not a placeholder) are optional and the operator's to
    # give, like the alert relay's password: empty stays empty, nothing is generated for them.
    # (This install's own keys, FTA_SECRET_KEY among them, are never optional.)
    while IFS= read -r line || [ -n "$line" ]; do
        [[ $line =~ $re ]] && [ -z "${BASH_REMATCH[3]}" ] && optional[${BASH_REMATCH[2]}]=1
    done <"$template"
    while IFS= read -r line; do
        [[ $line =~ $re ]] && unset "optional[${BASH_REMATCH[2]}]"
    done < <(install_layout_env)
    while IFS= read -r line; do
        [[ $line =~ $re ]] || continue
        if [ -z "${present[${BASH_REMATCH[2]}]:-}" ]; then
            printf '%s\n' "$line" >>"$base"
            present[${BASH_REMATCH[2]}]=1
        fi
    done < <(cat "$template"; install_layout_env; for k in "${!forced[@]}"; do printf '%s=%s\n' "$k" "${forced[$k]}"; done | sort)

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
        elif [[ $key =~ $SECRET_KEY_RE ]] && [[ $bare =~ $PLACEHOLDER_RE ]] && ! { [ -z "$bare" ] && [ -n "${optional[$key]:-}" ]; }; then
            value=$(random_hex)
        fi
        printf '%s=%s\n' "$key" "$value" >>"$out"
    done <"$base"
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
            if [[ $line == "$key=" ]]; then changed "$ENV_FILE: add $key (empty: yours to set when needed)"
            elif [[ $key =~ $SECRET_KEY_RE ]]; then changed "$ENV_FILE: add $key (fresh random secret)"
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
    # The socket proxy's address is settled in step 8; keep what the file has until then.
    DOCKER_URL=$(read_kv "$ENV_FILE" FTA_DOCKER_URL)
    compose_env_values
    write_env_file
    if [ -n "$ENV_TEMPLATE_SOURCE" ]; then info "settings and their defaults from $ENV_TEMPLATE_SOURCE"
    elif [ ! -s "$ENV_FILE" ]; then
        warn "no configuration template (no fta binary answers 'fta config example', and no .env.example): $ENV_FILE gets only this install's paths and secrets; fta's defaults apply to the rest"
    fi
    write_state_file
}

