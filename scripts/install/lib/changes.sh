# shellcheck shell=bash
# install.sh's change helpers, dry-run aware: the step functions change the system only through
# these (and only when a check found something to change), so that --dry-run changes nothing.
# Sourced by install.sh (never run on its own); docs/install.md describes what it does.

# ---------------------------------------------------------------------------------------------
# Changes, dry-run aware. Nothing below changes the system except through these (and the step
# functions only call them when a check found something to change).
# ---------------------------------------------------------------------------------------------
quote_cmd() { local out; printf -v out '%q ' "$@"; printf '%s' "${out% }"; }

# run CMD...: runs a command; not in a dry run (where the `changed` line before it is the plan).
run() {
    ((DRY_RUN)) && return 0
    "$@"
}

# run_logged CMD...: like run, with the (noisy) output going to the install log.
run_logged() {
    ((DRY_RUN)) && return 0
    printf '\n$ %s\n' "$(quote_cmd "$@")" >>"$INSTALL_LOG"
    "$@" >>"$INSTALL_LOG" 2>&1
}

# put_file SRC DEST MODE OWNER GROUP [LABEL]: installs SRC's content at DEST (atomically, via a
# temporary file beside it) when content, mode or owner differ. Sets FILE_CHANGED=1 when it
# changed something (or would), 0 when DEST was already right.
put_file() {
    local src=$1 dest=$2 mode=$3 owner=$4 group=$5 label=${6:-$2}
    FILE_CHANGED=0
    if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
        if [ "$(stat -c '%a %U %G' "$dest")" = "$mode $owner $group" ]; then return 0; fi
        FILE_CHANGED=1
        changed "fix owner/mode of $label ($owner:$group $mode)"
        run chown "$owner:$group" "$dest"
        run chmod "$mode" "$dest"
        return 0
    fi
    FILE_CHANGED=1
    if [ -e "$dest" ]; then changed "update $label"; else changed "create $label"; fi
    ((DRY_RUN)) && return 0
    local tmp
    tmp=$(mktemp "$(dirname "$dest")/.fta-tmp.XXXXXX")
    cat "$src" >"$tmp"
    chown "$owner:$group" "$tmp"
    chmod "$mode" "$tmp"
    mv -f "$tmp" "$dest"
}

# ensure_dir PATH MODE OWNER GROUP
ensure_dir() {
    local path=$1 mode=$2 owner=$3 group=$4
    if [ -d "$path" ]; then
        if [ "$(stat -c '%a %U %G' "$path")" != "$mode $owner $group" ]; then
            changed "set $path to $owner:$group $mode"
            run chown "$owner:$group" "$path"
            run chmod "$mode" "$path"
        fi
        return 0
    fi
    changed "create $path ($owner:$group $mode)"
    run install -d -m "$mode" -o "$owner" -g "$group" "$path"
}

# Quietly creates a runtime directory (pidfiles, sockets) that a reboot removes anyway.
ensure_run_dir() {
    ((DRY_RUN)) && return 0
    install -d -m "${2:-0755}" -o "${3:-root}" -g "${4:-root}" "$1"
}

new_tmp() { mktemp "$TMP_DIR/XXXXXX"; }
random_hex() { openssl rand -hex 32 2>/dev/null || od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }
random_password() {
    # 24 characters from [A-Za-z0-9]: about 142 bits; no characters a shell or a form mangles.
    local pw=""
    while [ "${#pw}" -lt 24 ]; do
        pw+=$(head -c 64 /dev/urandom | tr -dc 'A-Za-z0-9')
    done
    printf '%s' "${pw:0:24}"
}
have() { command -v "$1" >/dev/null 2>&1; }
# process_alive PID: running, and not a zombie waiting for a (container's) PID 1 to reap it.
process_alive() {
    local state
    kill -0 "$1" 2>/dev/null || return 1
    state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ "$state" != Z ]
}

# copy_tree SRC DEST: DEST becomes a copy of SRC (root-owned, world-readable) when they differ.
COPY_CHANGED=0
copy_tree() {
    local src=$1 dest=$2
    COPY_CHANGED=0
    if [ -d "$dest" ] && diff -rq "$src" "$dest" >/dev/null 2>&1; then return 0; fi
    COPY_CHANGED=1
    changed "copy ${src#"$SCRIPT_DIR"/}/ to $dest"
    ((DRY_RUN)) && return 0
    rm -rf "$dest.new"
    cp -R "$src" "$dest.new"
    chown -R root:root "$dest.new"
    chmod -R u=rwX,go=rX "$dest.new"
    rm -rf "$dest"
    mv "$dest.new" "$dest"
}

