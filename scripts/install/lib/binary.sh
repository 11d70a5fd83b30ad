# shellcheck shell=bash
# Step 7 of install.sh: the fta binary (prebuilt, from the release archive, or built here) and the
# web files.
# Sourced by install.sh (never run on its own); docs/install.md describes what it does.

# sudo resets PATH, which drops toolchains installed outside the system directories (Swift's
# official tarballs live in /opt/swift or /usr/share/swift): look there too.
for swift_dir in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
    if ! have swift && [ -x "$swift_dir/swift" ]; then PATH=$swift_dir:$PATH; fi
done
unset swift_dir
# ---------------------------------------------------------------------------------------------
# Step 7: the fta binary (prebuilt, from a release archive, or built here) and web files.
# ---------------------------------------------------------------------------------------------
STAGED_BIN="" STAGED_WEB=""

# ---------------------------------------------------------------------------------------------
# A release archive (scripts/release.sh) named by --release FILE or FTA_RELEASE_URL: verified,
# unpacked into a private temporary directory, and installed by its own install.sh, so that the
# binary, the web files, the proxy's policy and the installer all come from the same release.
# Nothing on the system changes before the archive's SHA-256 and every file in it are verified.
# ---------------------------------------------------------------------------------------------
release_requested() { [ -n "$OPT_RELEASE" ] || [ -n "${FTA_RELEASE_URL:-}" ]; }

# Stops before anything changed: a release that is not what it claims is never used.
refuse_release() {
    printf 'install.sh: %s\nNothing was changed.\n' "$*" >&2
    exit 1
}

# A URL fit to print: without a user:password@ part or a query (a presigned URL's signature).
redacted_url() {
    local url=${1%%\?*}
    if [[ $url =~ ^([a-z]+://)[^/@]*@(.*)$ ]]; then url=${BASH_REMATCH[1]}${BASH_REMATCH[2]}; fi
    printf '%s' "$url"
}

# The expected SHA-256 of a local archive: FTA_RELEASE_SHA256, else the FILE.sha256 beside it.
release_expected_sum() {
    local file=$1 sum=${FTA_RELEASE_SHA256:-}
    if [ -z "$sum" ] && [ -f "$file.sha256" ]; then sum=$(awk 'NR == 1 { print $1 }' "$file.sha256"); fi
    printf '%s' "${sum,,}"
}

# run_release ARGS...: verifies the archive, then runs its install.sh with ARGS (this run's
# arguments without --release) and exits with its status.
run_release() {
    local archive source sum actual dir top count
    if [ -n "$OPT_RELEASE" ]; then
        archive=$OPT_RELEASE source=$OPT_RELEASE
        [ -f "$archive" ] || refuse_release "--release: no such file: $archive"
        sum=$(release_expected_sum "$archive")
        [[ $sum =~ ^[0-9a-f]{64}$ ]] ||
            refuse_release "--release $archive: no SHA-256 to check it against (put $(basename "$archive").sha256 from scripts/release.sh beside it, or set FTA_RELEASE_SHA256)"
    else
        local url=$FTA_RELEASE_URL
        source=$(redacted_url "$url") sum=${FTA_RELEASE_SHA256:-}
        sum=${sum,,}
        [[ $sum =~ ^[0-9a-f]{64}$ ]] || refuse_release "FTA_RELEASE_URL needs FTA_RELEASE_SHA256 (64 hex characters) to verify the download"
        [[ $url == https://* || $url == file://* ]] || refuse_release "FTA_RELEASE_URL must be an https:// (or file://) URL: $source"
        archive=$TMP_DIR/release.tar.gz
        say "Downloading $source"
        # The URL goes to curl in a config on stdin, not as an argument: a presigned URL's query or
        # a user:password@ part is a credential, and any local user can read /proc/PID/cmdline.
        url=${url//\\/\\\\}
        printf 'url = "%s"\n' "${url//\"/\\\"}" |
            curl -fsSL --proto '=https,file' --tlsv1.2 --retry 3 -o "$archive" --config - ||
            refuse_release "download failed: $source"
    fi
    actual=$(sha256sum "$archive" | awk '{ print $1 }')
    [ "$actual" = "$sum" ] || refuse_release "the SHA-256 of $source is $actual, not the expected $sum: refusing to install it"

    dir=$(mktemp -d "$TMP_DIR/release.XXXXXX")
    tar -xzf "$archive" -C "$dir" --no-same-owner --no-same-permissions 2>/dev/null ||
        refuse_release "$source is not a readable .tar.gz"
    # One top directory, fta-<version>-linux-<arch>, holding the release.
    top=$(find "$dir" -mindepth 1 -maxdepth 1)
    if [ "$(wc -l <<<"$top")" != 1 ] || [ ! -d "$top" ] || [ ! -f "$top/SHA256SUMS" ] || [ ! -f "$top/install.sh" ]; then
        refuse_release "$source is not an fta release archive (one directory with install.sh and SHA256SUMS)"
    fi
    local problems
    problems=$(verify_release_tree "$top") ||
        refuse_release "the files in $source do not match its SHA256SUMS:"$'\n'"  - ${problems//$'\n'/$'\n'  - }"
    count=$(wc -l <"$top/SHA256SUMS")
    say "Release $(basename "$top") from $source: SHA-256 verified, and its $count files against its SHA256SUMS."
    # The archive's own install.sh does the install; the URL must not send it back here.
    local rc=0
    env -u FTA_RELEASE_URL -u FTA_RELEASE_SHA256 bash "$top/install.sh" "$@" || rc=$?
    exit "$rc"
}

stage_build() {
    local owner swift scratch=$SCRIPT_DIR/.build-install
    swift=$(command -v swift)
    owner=$(stat -c %U "$SCRIPT_DIR")
    info "building fta with $swift (release, static Swift runtime; this takes a while on a small machine)"
    local cmd=("$swift" build -c release --product fta --static-swift-stdlib --package-path "$SCRIPT_DIR" --scratch-path "$scratch")
    # Build as the owner of the checkout, so that no root-owned files are left in it.
    if [ "$owner" != root ] && id -u "$owner" >/dev/null 2>&1; then cmd=(runuser -u "$owner" -- "${cmd[@]}"); fi
    run_logged "${cmd[@]}" || fail "swift build failed (see $INSTALL_LOG); or pass --binary PATH, or set FTA_RELEASE_URL"
    STAGED_BIN=$scratch/release/fta
}

# What `fta --version` and GET /api/v1/system report: the release's VERSION, or for a checkout
# `git describe`; installed beside the web files, where the binary looks for it (FTAVersion).
# staged_version prints it (nothing when there is none, or it is not a version).
staged_version() {
    local version=""
    if [ -f "$SCRIPT_DIR/VERSION" ]; then version=$(head -n 1 "$SCRIPT_DIR/VERSION")
    elif have git && [ -d "$SCRIPT_DIR/.git" ]; then version=$(git -C "$SCRIPT_DIR" describe --tags --always --dirty 2>/dev/null || true); fi
    if [[ $version =~ ^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$ ]]; then printf '%s' "$version"; fi
}
installed_version() { if [ -f "$SHARE_DIR/VERSION" ]; then head -n 1 "$SHARE_DIR/VERSION"; fi; }

install_version_file() {
    local version tmp
    version=$(staged_version)
    [ -n "$version" ] || return 0
    tmp=$(new_tmp)
    printf '%s\n' "$version" >"$tmp"
    run install -d -m 0755 "$SHARE_DIR"
    put_file "$tmp" "$SHARE_DIR/VERSION" 644 root root
    if ((FILE_CHANGED)); then RESTART_FTA=1; fi
}

# ---------------------------------------------------------------------------------------------
# Upgrades: an fta is installed, and the binary or the VERSION to install differs from it. Before
# anything of fta changes, the database is backed up (online, by the installed fta) and the
# installed version is kept in PREVIOUS_DIR; step 11 checks the new portal's health and, if it is
# not healthy, puts both back by itself (service.sh: rollback_upgrade).
# ---------------------------------------------------------------------------------------------
# version_label BINARY VERSION: how the report names a version: its VERSION and its binary's
# SHA-256 (12 digits), so that two builds of one VERSION (a checkout's `dev`) differ.
version_label() {
    local sum
    sum=$(sha256sum "$1" 2>/dev/null | cut -c 1-12) || true
    printf '%s (binary sha256 %s)' "${2:-unversioned}" "${sum:-unknown}"
}

# is_upgrade BINARY: an fta is installed and BINARY (empty: the one a build makes) or the VERSION
# to install differ from it. A first install, and a re-run with the same ones, are no upgrade.
is_upgrade() {
    local staged=$1
    [ -x "$FTA_BIN" ] || return 1
    if [ -z "$staged" ] || ! cmp -s "$staged" "$FTA_BIN"; then return 0; fi
    local version
    version=$(staged_version)
    [ -n "$version" ] && [ "$version" != "$(installed_version)" ]
}

# prepare_upgrade BINARY: the backup (by the installed fta, before it is replaced) and the copy of
# the installed version (binary, web files, VERSION) that a rollback puts back; upgrade.conf
# beside them says from which version to which, and where the backup is.
prepare_upgrade() {
    local staged=$1
    UPGRADE=1
    RESTART_FTA=1
    UPGRADE_FROM=$(version_label "$FTA_BIN" "$(installed_version)")
    UPGRADE_TO=$(version_label "$staged" "$(staged_version)")
    info "upgrade from $UPGRADE_FROM to $UPGRADE_TO"
    # The bots' containers now, to show afterwards that the upgrade left them running.
    BOTS_BEFORE=$(bot_snapshot) || BOTS_BEFORE="?"
    backup_before_upgrade
    changed "kept the installed version in $PREVIOUS_DIR (binary, web files, VERSION): what a rollback puts back"
    rm -rf "$PREVIOUS_DIR.new"
    install -d -m 0755 "$PREVIOUS_DIR.new"
    cp -p "$FTA_BIN" "$PREVIOUS_DIR.new/fta"
    if [ -d "$WEB_DIR" ]; then cp -Rp "$WEB_DIR" "$PREVIOUS_DIR.new/web"; fi
    if [ -f "$SHARE_DIR/VERSION" ]; then cp -p "$SHARE_DIR/VERSION" "$PREVIOUS_DIR.new/VERSION"; fi
    {
        echo "# Written by install.sh before an upgrade; docs/install.md, \"Upgrade and rollback\"."
        echo "UPGRADE_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "FROM=\"$UPGRADE_FROM\""
        echo "TO=\"$UPGRADE_TO\""
        echo "BACKUP=$UPGRADE_BACKUP"
    } >"$PREVIOUS_DIR.new/upgrade.conf"
    rm -rf "$PREVIOUS_DIR"
    mv "$PREVIOUS_DIR.new" "$PREVIOUS_DIR"
}

# The plan of an upgrade, in a dry run: what prepare_upgrade, step 10 and step 11 will do.
plan_upgrade() {
    local staged=$1
    UPGRADE=1
    RESTART_FTA=1
    UPGRADE_FROM=$(version_label "$FTA_BIN" "$(installed_version)")
    if [ -n "$staged" ]; then UPGRADE_TO=$(version_label "$staged" "$(staged_version)")
    else UPGRADE_TO="$(staged_version) (the binary this checkout builds)"; fi
    info "upgrade from $UPGRADE_FROM to $UPGRADE_TO$([ -n "$staged" ] || echo ', if the build differs from the installed binary')"
    changed "back up the database online first, with the installed fta (fta backup --scheduled, as user $FTA_USER): an unhealthy upgrade is rolled back to it"
    changed "keep the installed version in $PREVIOUS_DIR (binary, web files, VERSION)"
}

step_7_binary() {
    step "Installing the fta binary and web files"
    local source
    # An unpacked release brings its binary (verified against SHA256SUMS when install.sh started):
    # no toolchain, no build.
    if [ -n "$OPT_BINARY" ]; then source="prebuilt binary $OPT_BINARY" STAGED_BIN=$OPT_BINARY
    elif ((FROM_RELEASE)); then source="release's binary $RELEASE_BINARY (verified against SHA256SUMS)" STAGED_BIN=$RELEASE_BINARY
    elif have swift && [ -f "$SCRIPT_DIR/Package.swift" ]; then source="build from this checkout (swift build -c release)"
    elif [ -x "$FTA_BIN" ]; then source="keep"
    else fail "no fta binary: install from a release archive (--release FILE, or FTA_RELEASE_URL and FTA_RELEASE_SHA256), pass --binary PATH, or install a Swift toolchain"; fi
    STAGED_WEB=$SCRIPT_DIR/web

    if [ "$source" = keep ]; then
        info "keeping the installed $FTA_BIN (no --binary, no release archive, no Swift toolchain)"
        # Only the VERSION can make this an upgrade.
        if is_upgrade "$FTA_BIN"; then
            if ((DRY_RUN)); then plan_upgrade "$FTA_BIN"; else prepare_upgrade "$FTA_BIN"; fi
        fi
    elif ((DRY_RUN)); then
        if is_upgrade "$STAGED_BIN"; then plan_upgrade "$STAGED_BIN"; fi
        if [ -n "$STAGED_BIN" ] && [ -f "$FTA_BIN" ] && cmp -s "$STAGED_BIN" "$FTA_BIN"; then info "$FTA_BIN is already this binary"
        else changed "install $FTA_BIN from the $source"; fi
    else
        if [[ $source == build* ]]; then stage_build; fi
        # A binary that cannot run here (wrong architecture, missing shared library) stops now.
        # (A binary built on a newer system names the symbol versions it lacks: `GLIBC_2.35' not found.)
        if ldd "$STAGED_BIN" 2>&1 | grep -q 'not found'; then
            fail "$STAGED_BIN needs shared libraries (or versions of them) this system lacks: $(ldd "$STAGED_BIN" 2>&1 | grep 'not found' | sed 's/^[[:space:]]*//; s/ (required by .*//' | sort -u | head -n 4 | tr '\n' ';')"
        fi
        local help
        help=$("$STAGED_BIN" --help 2>&1) || fail "$STAGED_BIN does not run on this system (fta --help failed)"
        [[ $help == *serve* && $help == *migrate* ]] || fail "$STAGED_BIN does not look like fta (its --help names no serve/migrate commands)"
        # Checked first, replaced after: an upgrade keeps what it replaces (and backs up) before.
        if is_upgrade "$STAGED_BIN"; then prepare_upgrade "$STAGED_BIN"; fi
        put_file "$STAGED_BIN" "$FTA_BIN" 755 root root
        if ((FILE_CHANGED)); then RESTART_FTA=1; fi
    fi
    install_version_file

    # Static files: replaced as a whole (a new tree beside the old, then swapped) when they differ.
    if [ ! -d "$STAGED_WEB" ] || [ -z "$(ls -A "$STAGED_WEB" 2>/dev/null)" ]; then
        warn "no web files in ${STAGED_WEB#"$SCRIPT_DIR"/}: the portal will serve its API only"
    elif [ -d "$WEB_DIR" ] && diff -rq "$STAGED_WEB" "$WEB_DIR" >/dev/null 2>&1; then
        :
    else
        changed "install web files into $WEB_DIR"
        if ! ((DRY_RUN)); then replace_tree "$STAGED_WEB" "$WEB_DIR"; fi
    fi
}

# replace_tree SRC DEST: DEST becomes a root-owned, world-readable copy of SRC (a new tree beside
# the old, then swapped). Also how a rollback puts the previous web files back.
# One chain, so that a failure is the function's status also where set -e does not apply.
replace_tree() {
    local src=$1 dest=$2
    rm -rf "$dest.new" "$dest.old" &&
        cp -R "$src" "$dest.new" &&
        chown -R root:root "$dest.new" &&
        chmod -R u=rwX,go=rX "$dest.new" &&
        { [ ! -d "$dest" ] || mv "$dest" "$dest.old"; } &&
        mv "$dest.new" "$dest" &&
        rm -rf "$dest.old"
}
