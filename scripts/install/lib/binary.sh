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
# Step 7: the fta binary (prebuilt, built here, or a verified release download) and web files.
# ---------------------------------------------------------------------------------------------
STAGED_BIN="" STAGED_WEB=""

stage_release() {
    local url=${FTA_RELEASE_URL:-} sum=${FTA_RELEASE_SHA256:-} archive dir
    [[ $sum =~ ^[0-9a-fA-F]{64}$ ]] || fail "FTA_RELEASE_URL needs FTA_RELEASE_SHA256 (64 hex characters) to verify the download"
    info "downloading $url"
    archive=$TMP_DIR/release.tar.gz
    curl -fsSL --proto '=https,file' --tlsv1.2 --retry 3 -o "$archive" "$url" || fail "download failed: $url"
    if [ "$(sha256sum "$archive" | awk '{ print $1 }')" != "${sum,,}" ]; then
        fail "SHA-256 of $url does not match FTA_RELEASE_SHA256: refusing to install it"
    fi
    info "SHA-256 verified"
    dir=$TMP_DIR/release
    mkdir -p "$dir"
    tar -xzf "$archive" -C "$dir" --no-same-owner --no-same-permissions
    STAGED_BIN=$(find "$dir" -maxdepth 3 -type f -name fta -path '*fta' | head -n1)
    [ -n "$STAGED_BIN" ] || fail "the release archive holds no fta binary"
    local web
    web=$(find "$dir" -maxdepth 4 -type d -name web | head -n1)
    if [ -n "$web" ]; then STAGED_WEB=$web; fi
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

step_7_binary() {
    step "Installing the fta binary and web files"
    local source
    if [ -n "$OPT_BINARY" ]; then source="prebuilt binary $OPT_BINARY"
    elif have swift && [ -f "$SCRIPT_DIR/Package.swift" ]; then source="build from this checkout (swift build -c release)"
    elif [ -n "${FTA_RELEASE_URL:-}" ]; then source="release archive $FTA_RELEASE_URL (SHA-256 checked)"
    elif [ -x "$FTA_BIN" ]; then source="keep"
    else fail "no fta binary: pass --binary PATH, install a Swift toolchain, or set FTA_RELEASE_URL and FTA_RELEASE_SHA256"; fi
    STAGED_WEB=$SCRIPT_DIR/web

    if [ "$source" = keep ]; then
        info "keeping the installed $FTA_BIN (no --binary, no Swift toolchain, no FTA_RELEASE_URL)"
    elif ((DRY_RUN)); then
        if [ -n "$OPT_BINARY" ] && [ -f "$FTA_BIN" ] && cmp -s "$OPT_BINARY" "$FTA_BIN"; then info "$FTA_BIN is already this binary"
        else changed "install $FTA_BIN from the $source"; fi
    else
        case $source in
            prebuilt*) STAGED_BIN=$OPT_BINARY ;;
            build*) stage_build ;;
            release*) stage_release ;;
        esac
        # A binary that cannot run here (wrong architecture, missing shared library) stops now.
        if ldd "$STAGED_BIN" 2>/dev/null | grep -q 'not found'; then
            fail "$STAGED_BIN needs shared libraries this system lacks: $(ldd "$STAGED_BIN" | grep 'not found' | awk '{ print $1 }' | tr '\n' ' ')"
        fi
        local help
        help=$("$STAGED_BIN" --help 2>&1) || fail "$STAGED_BIN does not run on this system (fta --help failed)"
        [[ $help == *serve* && $help == *migrate* ]] || fail "$STAGED_BIN does not look like fta (its --help names no serve/migrate commands)"
        put_file "$STAGED_BIN" "$FTA_BIN" 755 root root
        if ((FILE_CHANGED)); then RESTART_FTA=1; fi
    fi

    # Static files: replaced as a whole (a new tree beside the old, then swapped) when they differ.
    if [ ! -d "$STAGED_WEB" ] || [ -z "$(ls -A "$STAGED_WEB" 2>/dev/null)" ]; then
        warn "no web files in ${STAGED_WEB#"$SCRIPT_DIR"/}: the portal will serve its API only"
    elif [ -d "$WEB_DIR" ] && diff -rq "$STAGED_WEB" "$WEB_DIR" >/dev/null 2>&1; then
        :
    else
        changed "install web files into $WEB_DIR"
        if ! ((DRY_RUN)); then
            rm -rf "$WEB_DIR.new" "$WEB_DIR.old"
            cp -R "$STAGED_WEB" "$WEB_DIR.new"
            chown -R root:root "$WEB_DIR.new"
            chmod -R u=rwX,go=rX "$WEB_DIR.new"
            [ -d "$WEB_DIR" ] && mv "$WEB_DIR" "$WEB_DIR.old"
            mv "$WEB_DIR.new" "$WEB_DIR"
            rm -rf "$WEB_DIR.old"
        fi
    fi
}

