#!/usr/bin/env bash
# install.sh: turns a fresh server into a running fta appliance, in one command.
#
#   git clone <this repository> fta && cd fta && sudo ./install.sh
#   (or, with no Swift toolchain: tar -xzf fta-<version>-linux-x86_64.tar.gz, made by
#   scripts/release.sh, and run its install.sh; or ./install.sh --release FILE)
#
# Written for Debian 12, Ubuntu 22.04 and 24.04 and Amazon Linux 2023; tested on Debian 12
# (x86_64). Which systems the release binary runs on: docs/install.md.
# What it does, step by step, is in docs/install.md and in the comments of the step functions
# (step_1_... to step_14_...). Every step checks before it changes anything, so re-running is
# safe and reports "unchanged" for what is already right. `./install.sh --help` lists flags.
#
# This file is the entry point and main; the work lives in scripts/install/lib/, one file per
# concern: settings.sh (constants, flags), output.sh (steps, failures, summary), changes.sh
# (dry-run-aware change helpers), host.sh (steps 1-5), config.sh (6), binary.sh (7), proxy.sh
# (8), fta.sh (9, 10, 13, 14: what fta owns), service.sh (11), firewall.sh (the bots' firewall,
# in 11), nginx.sh (12) and uninstall.sh.
# It can be sourced (bash) to call single functions from tests; main only runs when executed.
# shellcheck source-path=SCRIPTDIR
set -Eeuo pipefail
umask 022

# Where this file really is (a symlink to it, or `bash /path/install.sh`, still finds its
# library), whether that is a checkout or an unpacked release archive.
SCRIPT_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
readonly SCRIPT_DIR

# verify_release_tree DIR: prints what is wrong and fails unless every file of the unpacked
# release archive in DIR is listed in its SHA256SUMS with the right SHA-256: nothing missing,
# changed, added, or a symbolic link (which could point anywhere). Here and not in the library:
# it checks the library before install.sh sources any of it.
verify_release_tree() {
    local dir=$1 line path failed=0
    local -A listed=()
    local re='^[0-9a-f]{64}  ([A-Za-z0-9._+@-][A-Za-z0-9._+@/-]*)$'
    while IFS= read -r line || [ -n "$line" ]; do
        if [[ ! $line =~ $re ]] || [[ /${BASH_REMATCH[1]}/ == */../* ]]; then
            echo "SHA256SUMS: not a sha256sum line for a file inside the release: ${line:0:120}"
            return 1
        fi
        listed[${BASH_REMATCH[1]}]=1
    done <"$dir/SHA256SUMS"
    if ((${#listed[@]} == 0)); then echo "SHA256SUMS lists no file"; return 1; fi
    while IFS= read -r -d '' path; do
        if [ -L "$dir/$path" ]; then echo "$path: a symbolic link"; failed=1
        elif [ -z "${listed[$path]:-}" ]; then echo "$path: not in SHA256SUMS"; failed=1; fi
    done < <(cd "$dir" && find . ! -type d ! -path ./SHA256SUMS -printf '%P\0')
    # --quiet: only the files that fail ("FILE: FAILED", "FILE: FAILED open or read").
    (cd "$dir" && sha256sum --check --quiet --strict SHA256SUMS 2>/dev/null) || failed=1
    return "$failed"
}
# Run from an unpacked release archive (it holds SHA256SUMS; a checkout does not): nothing of it is
# used, not even the library below, unless all of it is what the release shipped.
if [ -f "$SCRIPT_DIR/SHA256SUMS" ] && ! release_problems=$(verify_release_tree "$SCRIPT_DIR"); then
    printf 'install.sh: the release in %s does not match its SHA256SUMS:\n  - %s\nNothing was changed: unpack the archive again (after checking its SHA-256).\n' \
        "$SCRIPT_DIR" "${release_problems//$'\n'/$'\n'  - }" >&2
    exit 1
fi

# shellcheck source=scripts/install/lib/settings.sh
source "$SCRIPT_DIR/scripts/install/lib/settings.sh"
# shellcheck source=scripts/install/lib/output.sh
source "$SCRIPT_DIR/scripts/install/lib/output.sh"
# shellcheck source=scripts/install/lib/changes.sh
source "$SCRIPT_DIR/scripts/install/lib/changes.sh"
# shellcheck source=scripts/install/lib/host.sh
source "$SCRIPT_DIR/scripts/install/lib/host.sh"
source "$SCRIPT_DIR/scripts/install/lib/storage.sh"
# shellcheck source=scripts/install/lib/config.sh
source "$SCRIPT_DIR/scripts/install/lib/config.sh"
# shellcheck source=scripts/install/lib/binary.sh
source "$SCRIPT_DIR/scripts/install/lib/binary.sh"
# shellcheck source=scripts/install/lib/proxy.sh
source "$SCRIPT_DIR/scripts/install/lib/proxy.sh"
# shellcheck source=scripts/install/lib/service.sh
source "$SCRIPT_DIR/scripts/install/lib/service.sh"
# shellcheck source=scripts/install/lib/firewall.sh
source "$SCRIPT_DIR/scripts/install/lib/firewall.sh"
# shellcheck source=scripts/install/lib/nginx.sh
source "$SCRIPT_DIR/scripts/install/lib/nginx.sh"
# shellcheck source=scripts/install/lib/fta.sh
source "$SCRIPT_DIR/scripts/install/lib/fta.sh"
# shellcheck source=scripts/install/lib/uninstall.sh
source "$SCRIPT_DIR/scripts/install/lib/uninstall.sh"

# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------
cleanup() { if [ -n "$TMP_DIR" ]; then rm -rf "$TMP_DIR"; fi; }

main() {
    parse_args "$@"
    detect_platform
    resolve_settings
    TMP_DIR=$(mktemp -d)
    trap cleanup EXIT

    # A release archive to install (--release FILE, FTA_RELEASE_URL): verified, then installed by
    # its own install.sh, with these arguments but --release.
    if release_requested; then
        local args=() skip=0 arg
        for arg in "$@"; do
            if ((skip)); then skip=0; continue; fi
            case $arg in --release) skip=1 ;; --release=*) ;; *) args+=("$arg") ;; esac
        done
        run_release "${args[@]}"
    fi

    if [ -n "$RENDER_NGINX_DIR" ]; then
        mkdir -p "$RENDER_NGINX_DIR"
        render_nginx_site "$RENDER_NGINX_DIR/fta.conf"
        echo "$RENDER_NGINX_DIR/fta.conf"
        return 0
    fi

    trap 'on_error $? $LINENO "$BASH_COMMAND"' ERR
    if ! ((DRY_RUN)); then
        [ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root: sudo ./install.sh" >&2; exit 1; }
        # One install at a time.
        exec 9>/run/fta-install.lock
        flock -n 9 || { echo "install.sh: another install.sh is running" >&2; exit 1; }
        install -d -m 0750 "$LOG_DIR"
        INSTALL_LOG=$LOG_DIR/install.log
        printf '\n==== install.sh %s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$INSTALL_LOG"
    fi

    if ((UNINSTALL)); then uninstall; return 0; fi

    if ((DRY_RUN)); then say "Dry run: the plan for this server (nothing is changed)."; fi
    step_1_preflight
    step_2_swap
    step_3_packages
    step_4_docker
    step_5_user
    step_6_config
    step_7_binary
    step_8_proxy
    step_9_bot_image
    step_10_migrate
    step_11_service
    step_12_nginx
    step_13_admin
    step_14_doctor
    print_summary
    if ((STRICT)) && [ "$DOCTOR_STATUS" = fail ]; then exit 3; fi
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main "$@"; fi
