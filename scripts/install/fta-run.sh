#!/usr/bin/env bash
# fta-run: runs one command as an unprivileged service user, with the environment of an env file
# and nothing of the caller's environment. install.sh installs it as /usr/local/lib/fta/fta-run
# and uses it for `fta migrate`, `fta admin create` and `fta doctor`; fta-supervise uses it to
# start `fta serve` (and the offline socket proxy) where systemd is not PID 1; fta-admin wraps it.
#
# Usage: fta-run --user USER [--group GROUP] [--env-file FILE] [--umask MASK] [--chdir DIR]
#                -- COMMAND [ARG...]
#
# GROUP (default: USER's primary group) becomes the primary group; USER's supplementary groups
# from /etc/group are kept. USER root is the one exception: the command keeps root's privileges
# and only gets the clean environment (fta-admin uses it for `fta doctor`, whose host checks run
# `nginx -t` and read root-only files).
# The env file is read the way systemd's EnvironmentFile= and `docker compose --env-file` read
# the simple files fta uses: KEY=VALUE lines, `#` comments, an optional `export `, and one pair
# of matching quotes around the value stripped. It is parsed, never sourced: nothing in it runs.
set -euo pipefail

usage() { echo "usage: fta-run --user USER [--group GROUP] [--env-file FILE] [--umask MASK] [--chdir DIR] -- COMMAND [ARG...]" >&2; exit 2; }

user="" group="" env_file="" mask=0077 chdir=/
while [ $# -gt 0 ]; do
    case $1 in
        --user) user=${2:?}; shift 2 ;;
        --group) group=${2:?}; shift 2 ;;
        --env-file) env_file=${2:?}; shift 2 ;;
        --umask) mask=${2:?}; shift 2 ;;
        --chdir) chdir=${2:?}; shift 2 ;;
        --) shift; break ;;
        *) usage ;;
    esac
done
if [ -z "$user" ] || [ $# -eq 0 ]; then usage; fi
if [ "$(id -u)" -ne 0 ]; then echo "fta-run: must run as root (it switches to $user)" >&2; exit 1; fi

home=$(getent passwd "$user" | cut -d: -f6) || { echo "fta-run: no such user: $user" >&2; exit 1; }
[ -n "$group" ] || group=$(id -gn "$user")

# The command's environment. It is built in this shell's own environment and handed over by
# exec, never as arguments: `env -i KEY=VALUE ... cmd` would put every value of the env file,
# FTA_SECRET_KEY included, in /proc/PID/cmdline, which any local user can read (issue 15).
# First the values are read (nothing is exported yet), then the caller's environment goes.
env_names=(PATH HOME USER LOGNAME LANG)
env_values=("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "${home:-/}" "$user" "$user" C.UTF-8)
if [ -n "$env_file" ]; then
    # Where the values came from: `fta doctor` checks that file's mode and contents.
    env_names+=(FTA_ENV_FILE)
    env_values+=("$env_file")
    line_re='^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$'
    while IFS= read -r line || [ -n "$line" ]; do
        [[ $line =~ $line_re ]] || continue
        key=${BASH_REMATCH[2]} value=${BASH_REMATCH[3]}
        value=${value%$'\r'}
        if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
        env_names+=("$key")
        env_values+=("$value")
    done <"$env_file"
fi
# Resolved now, with the caller's PATH: the env file's PATH only applies to the command itself.
env_bin=$(command -v env)
if [ "$(id -u "$user")" -eq 0 ]; then
    launch=()
elif setpriv=$(command -v setpriv); then
    # No capabilities, not even in the bounding set, and no way to regain any (no_new_privs).
    launch=("$setpriv" --reuid="$user" --regid="$group" --init-groups --no-new-privs --inh-caps=-all --bounding-set=-all --)
else
    launch=("$(command -v runuser)" -u "$user" -g "$group" --)
fi

umask "$mask"
cd "$chdir"
# Nothing of the caller's environment: every exported variable and function goes (a readonly one,
# which bash cannot unset, at least stops being exported).
while IFS= read -r name; do
    unset -v "$name" 2>/dev/null || export -n "${name:?}"
done < <(compgen -e)
while read -r _ _ name; do unset -f "$name"; done < <(declare -Fx)
for i in "${!env_names[@]}"; do
    export "${env_names[$i]}=${env_values[$i]}" ||
        { echo "fta-run: cannot pass ${env_names[$i]} from $env_file (a variable bash reserves)" >&2; exit 1; }
done
# `env -u SHLVL` (names only, no values): bash exports a SHLVL of its own to what it execs.
exec "$env_bin" -u SHLVL -- "${launch[@]}" "$@"
