#!/usr/bin/env bash
# Builds a Freqtrade image without any container registry, for tests and air-gapped installs.
#
# Usage: scripts/build-freqtrade-image.sh [TAG]        (default TAG fta-local/freqtrade:<version>)
#        FTA_BOT_IMAGE=$(scripts/build-freqtrade-image.sh)
#
# A minimal Debian root (debootstrap, variant minbase, with python3 + venv) gets Debian's security
# updates, the pinned Freqtrade from PyPI in /opt/freqtrade-venv (without the venv's own pip and
# setuptools, which Freqtrade never uses at run time), a user ftuser (uid/gid 1000) and
# /freqtrade/user_data, and is imported with `docker import`. The result has the properties fta
# relies on in the official freqtradeorg/freqtrade image: user 1000, workdir /freqtrade, `freqtrade`, `python3` and
# /bin/sh on PATH, entrypoint `freqtrade`, FT_APP_ENV=docker.
#
# Environment:
#   FTA_FREQTRADE_VERSION   Freqtrade version from PyPI (default 2026.9; pinned exactly)
#   FTA_DEBIAN_SUITE        Debian suite of the root (default bookworm: Python 3.11, Freqtrade's minimum)
#   FTA_DEBIAN_MIRROR       Debian mirror for debootstrap (default http://deb.debian.org/debian)
#   FTA_DEBIAN_SECURITY_MIRROR  Debian security archive (default http://deb.debian.org/debian-security)
#   FTA_IMAGE_CACHE         cache directory for the base root tarball and the log (default /var/cache/fta)
#   FTA_BUILD_CA_BUNDLE     CA bundle pip uses inside the build root (default: the host's bundle, so
#                           that a TLS-inspecting proxy the host trusts is trusted; never put in the image)
#   DOCKER_HOST             the engine to import into (the docker CLI's own variable); when it is
#                           unset and FTA_TEST_DOCKER_HOST is set (scripts/test), that engine is used
#
# Reruns are cheap: an image with the same tag whose label fta.inputs equals the sha256 of this
# script, the version, the suite and the date of the security suite's last change is reused as it
# is (seconds); otherwise the cached base root (debootstrap is the slow part) is reused, brought up
# to date from the security suite, and only the Freqtrade layer is rebuilt (about 3 minutes).
# So a rerun after Debian published a security update rebuilds the image with it
# (Tests/system/security checks that no security update is pending in the image). When the
# security suite cannot be read (offline), an existing image is reused as it is, with a warning.
# Progress goes to stderr; stdout carries only the tag, printed last.
set -Eeuo pipefail

VERSION=${FTA_FREQTRADE_VERSION:-2026.9}
SUITE=${FTA_DEBIAN_SUITE:-bookworm}
MIRROR=${FTA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${FTA_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
CACHE=${FTA_IMAGE_CACHE:-/var/cache/fta}
TAG=${1:-fta-local/freqtrade:$VERSION}
VENV=/opt/freqtrade-venv
IMAGE_PATH=$VENV/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# python3-venv brings ensurepip's wheels; ca-certificates for bots that talk to a real exchange.
BASE_PACKAGES=python3,python3-venv,ca-certificates
LOG=$CACHE/build-freqtrade-image.log
STEPS=8

if [ -z "${DOCKER_HOST:-}" ] && [ -n "${FTA_TEST_DOCKER_HOST:-}" ]; then
    export DOCKER_HOST=$FTA_TEST_DOCKER_HOST
fi

STEP=0
STEP_NAME="start"
STEP_START=0
BUILD_START=$(date +%s%N)
WORK=""
LOG_STARTED=0

say() { echo "build-freqtrade-image: $*" >&2; }

elapsed() { # nanosecond timestamp -> "12.3 s"
    local ms=$(( ($(date +%s%N) - $1) / 1000000 ))
    printf '%d.%d s' $(( ms / 1000 )) $(( ms % 1000 / 100 ))
}

step() {
    if [ "$STEP" -gt 0 ]; then say "      done in $(elapsed "$STEP_START")"; fi
    STEP=$(( STEP + 1 ))
    STEP_NAME=$1
    STEP_START=$(date +%s%N)
    say "[$STEP/$STEPS] $STEP_NAME"
}

show_log_tail() {
    if [ "$LOG_STARTED" = 1 ] && [ -s "$LOG" ]; then
        say "last lines of $LOG:"
        tail -n 15 "$LOG" >&2 || true
    fi
}

fail() {
    say "error: step $STEP/$STEPS ($STEP_NAME) failed: $*"
    show_log_tail
    exit 1
}

on_error() {
    local rc=$1 line=$2
    trap - ERR
    say "error: step $STEP/$STEPS ($STEP_NAME) failed (exit $rc at line $line)"
    show_log_tail
    exit "$rc"
}
trap 'on_error $? $LINENO' ERR

# Never leaves a mount behind, and never deletes through one: the root is only removed once
# nothing is mounted below it, and then without crossing file systems.
cleanup() {
    [ -n "$WORK" ] && [ -d "$WORK" ] || return 0
    awk -v w="$WORK/" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r \
        | while read -r mnt; do umount -l "$mnt" 2>/dev/null || true; done
    if awk -v w="$WORK/" 'index($2, w) == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
        say "warning: mounts remain under $WORK; leaving it in place"
        return 0
    fi
    rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

sha256() { sha256sum | cut -d' ' -f1; }

# ---------------------------------------------------------------------------------------------
step "preflight: tools, engine, inputs"
[ "$(id -u)" -eq 0 ] || fail "must run as root (debootstrap and chroot need it)"
for tool in docker debootstrap chroot tar sha256sum flock wget; do
    command -v "$tool" >/dev/null 2>&1 || fail "'$tool' not found (apt-get install debootstrap docker.io)"
done
mkdir -p "$CACHE"
# One build at a time per cache: parallel test runs wait here and then reuse the image.
exec 9>"$CACHE/build-freqtrade-image.lock"
flock 9
: >"$LOG"
LOG_STARTED=1
engine=$(docker version --format '{{.Server.Version}}' 2>>"$LOG") \
    || fail "no Docker engine answers at ${DOCKER_HOST:-the default socket} (set DOCKER_HOST)"
# The security suite's Release date changes with every security update it publishes: as an input,
# it makes a rerun rebuild an image that would miss one.
security_date=$(wget -q -O- "$SECURITY_MIRROR/dists/$SUITE-security/InRelease" 2>>"$LOG" | sed -n 's/^Date: //p' | head -n 1) || true
if [ -z "$security_date" ]; then
    if docker image inspect "$TAG" >/dev/null 2>&1; then
        say "      warning: cannot read $SECURITY_MIRROR/dists/$SUITE-security/InRelease; reusing $TAG as it is (it may miss security updates)"
        echo "$TAG"
        exit 0
    fi
    fail "cannot read $SECURITY_MIRROR/dists/$SUITE-security/InRelease (set FTA_DEBIAN_SECURITY_MIRROR)"
fi
INPUTS=$({ cat "${BASH_SOURCE[0]}"; echo "freqtrade==$VERSION"; echo "suite=$SUITE"; echo "security=$security_date"; } | sha256)
say "      freqtrade==$VERSION, debian $SUITE (security suite of $security_date), engine $engine at ${DOCKER_HOST:-default socket}"
say "      inputs sha256:$INPUTS"

current_inputs() {
    docker image inspect --format '{{ index .Config.Labels "fta.inputs" }}' "$TAG" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
step "reuse check for $TAG"
if [ "$(current_inputs)" = "$INPUTS" ]; then
    say "      $TAG already built from these inputs; reusing it"
    say "      total $(elapsed "$BUILD_START")"
    echo "$TAG"
    exit 0
fi
OLD_ID=$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)
say "      no image with these inputs; building"

WORK=$(mktemp -d /var/tmp/fta-freqtrade-image.XXXXXX)
ROOT=$WORK/root
mkdir "$ROOT"

# ---------------------------------------------------------------------------------------------
step "base root: debian $SUITE minbase + $BASE_PACKAGES"
arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
base_key=$(printf '%s\n' "$SUITE" minbase "$BASE_PACKAGES" "$MIRROR" "$arch" | sha256 | cut -c1-16)
BASE_TAR=$CACHE/debian-$SUITE-minbase-$base_key.tar
if [ -s "$BASE_TAR" ]; then
    say "      from cache $BASE_TAR"
else
    say "      debootstrap from $MIRROR (a few minutes; log $LOG)"
    debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$ROOT" "$MIRROR" >>"$LOG" 2>&1 \
        || fail "debootstrap $SUITE from $MIRROR failed; see $LOG"
    rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*
    tar --numeric-owner -C "$ROOT" -cf "$BASE_TAR.partial" .
    mv "$BASE_TAR.partial" "$BASE_TAR"
    rm -rf --one-file-system "$ROOT"
    mkdir "$ROOT"
    say "      cached as $BASE_TAR"
fi
tar --numeric-owner -C "$ROOT" -xpf "$BASE_TAR"
[ -x "$ROOT/usr/bin/python3" ] || fail "the base root has no /usr/bin/python3"

# DNS for apt and pip lives in the build root only while they run; maintainer scripts need /proc.
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
mount -t proc proc "$ROOT/proc"
# The CA bundle for pip lives in the build root only while pip runs.
ca=${FTA_BUILD_CA_BUNDLE:-${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}}
pip_cert=()
if [ -s "$ca" ]; then
    cp "$ca" "$ROOT/tmp/fta-build-ca.pem"
    pip_cert=(--cert /tmp/fta-build-ca.pem)
fi
in_root() {
    # A clean environment: the host's PIP_* settings name host paths that do not exist in the root;
    # only proxy and index settings are passed on. Through the environment of a subshell, never as
    # arguments (`env -i NAME=VALUE`): a proxy or index URL can carry a password, and any local
    # user can read a process's arguments in /proc/PID/cmdline.
    local envs=(HOME=/root LANG=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin) name chroot_bin
    for name in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY \
        PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_DEFAULT_TIMEOUT; do
        if [ -n "${!name:-}" ]; then envs+=("$name=${!name}"); fi
    done
    chroot_bin=$(command -v chroot)
    (
        while IFS= read -r name; do unset -v "$name" 2>/dev/null || export -n "${name:?}"; done < <(compgen -e)
        for name in "${envs[@]}"; do export "${name?}"; done
        exec "$chroot_bin" "$ROOT" "$@"
    )
}

# ---------------------------------------------------------------------------------------------
step "debian security updates from $SUITE-security"
# debootstrap knows the main suite only: without the security suite, the image kept every package
# as the last point release had it (OpenSSL, Python, expat, zlib... with fixes pending).
echo "deb $SECURITY_MIRROR $SUITE-security main" >"$ROOT/etc/apt/sources.list.d/security.list"
in_root apt-get update >>"$LOG" 2>&1 || fail "apt-get update in the root failed (is $SECURITY_MIRROR reachable?); see $LOG"
in_root env DEBIAN_FRONTEND=noninteractive apt-get -y -o Dpkg::Options::=--force-confold upgrade >>"$LOG" 2>&1 \
    || fail "apt-get upgrade in the root failed; see $LOG"
say "      $(grep -c '^Unpacking ' "$LOG" || true) packages upgraded"
in_root apt-get clean

# ---------------------------------------------------------------------------------------------
step "pip install freqtrade==$VERSION into $VENV"
in_root python3 -m venv "$VENV" >>"$LOG" 2>&1 || fail "python3 -m venv failed in the root; see $LOG"
in_root "$VENV/bin/pip" install --no-cache-dir --disable-pip-version-check --progress-bar off \
    "${pip_cert[@]}" "freqtrade==$VERSION" >>"$LOG" 2>&1 \
    || fail "pip install freqtrade==$VERSION failed (is PyPI reachable? does the version exist?); see $LOG"
got=$(in_root "$VENV/bin/freqtrade" --version 2>>"$LOG" \
    | sed -n 's/^Freqtrade Version:[[:space:]]*freqtrade[[:space:]]*//p' || true)
[ "$got" = "$VERSION" ] || fail "freqtrade in the root reports version '${got:-?}', expected $VERSION"
say "      $(in_root "$VENV/bin/pip" list --disable-pip-version-check 2>/dev/null \
    | awk '$1 == "ccxt" || $1 == "pandas" || $1 == "numpy" || $1 == "TA-Lib" { printf "%s %s  ", $1, $2 }')"
# The venv's installer is Debian's ensurepip copy (pip 23.0.1, setuptools 66.1.1, with published
# advisories); a bot never installs anything, so the image ships neither.
in_root "$VENV/bin/python" -m pip uninstall --yes --disable-pip-version-check pip setuptools >>"$LOG" 2>&1 \
    || fail "removing pip and setuptools from $VENV failed; see $LOG"
umount "$ROOT/proc"
rm -f "$ROOT/tmp/fta-build-ca.pem"
: >"$ROOT/etc/resolv.conf"

# ---------------------------------------------------------------------------------------------
step "user ftuser (1000:1000), /freqtrade/user_data, PATH"
in_root groupadd --gid 1000 ftuser
in_root useradd --uid 1000 --gid 1000 --create-home --home-dir /home/ftuser --shell /bin/sh ftuser
mkdir -p "$ROOT/freqtrade/user_data"
chown -R 1000:1000 "$ROOT/freqtrade"
# PATH is also set in the image; the links keep `freqtrade` reachable when a caller sets its own PATH.
ln -sf "$VENV/bin/freqtrade" "$ROOT/usr/local/bin/freqtrade"
if [ ! -x "$ROOT/usr/bin/python3" ] || [ ! -x "$ROOT/bin/sh" ]; then fail "python3 or /bin/sh missing in the root"; fi

# ---------------------------------------------------------------------------------------------
step "strip caches, docs and test suites"
before=$(du -sm "$ROOT" | cut -f1)
rm -rf "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* \
    "$ROOT"/usr/share/locale/* "$ROOT"/usr/share/lintian "$ROOT"/var/cache/apt/* \
    "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/debconf/*-old "$ROOT"/var/lib/dpkg/*-old \
    "$ROOT"/root/.cache "$ROOT"/tmp/* "$ROOT"/var/tmp/*
find "$ROOT/var/log" -type f -delete
site=$(echo "$ROOT$VENV"/lib/python3*/site-packages)
# The bundled test suites of the scientific stack are never imported by Freqtrade at run time.
for pkg in numpy pandas scipy pyarrow; do
    if [ -d "$site/$pkg" ]; then find "$site/$pkg" -depth -type d -name tests -exec rm -rf {} +; fi
done
rm -rf "$site/pyarrow/include" "$site/pyarrow/src"
find "$site" -name '*.pyx' -delete -o -name '*.pxd' -delete
after=$(du -sm "$ROOT" | cut -f1)
say "      root $before MiB -> $after MiB"

# ---------------------------------------------------------------------------------------------
step "docker import and smoke test"
new_id=$(tar --numeric-owner -C "$ROOT" -c . | docker import \
    --change 'USER 1000:1000' \
    --change 'WORKDIR /freqtrade' \
    --change "ENV PATH=$IMAGE_PATH" \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV LC_ALL=C.UTF-8' \
    --change 'ENV PYTHONDONTWRITEBYTECODE=1' \
    --change 'ENV PYTHONFAULTHANDLER=1' \
    --change 'ENV FT_APP_ENV=docker' \
    --change 'ENTRYPOINT ["freqtrade"]' \
    --change 'CMD ["trade"]' \
    --change "LABEL fta.inputs=$INPUTS" \
    --change "LABEL fta.freqtrade-version=$VERSION" \
    --change "LABEL fta.debian-suite=$SUITE" \
    --change "LABEL fta.debian-security=\"$security_date\"" \
    --message "fta: freqtrade==$VERSION on debian $SUITE minbase" \
    - 2>>"$LOG") || fail "docker import failed; see $LOG"
# The image must work the way fta runs it: uid 1000, read-only root, no capabilities, no network.
smoke=$(docker run --rm --network none --read-only --cap-drop ALL --security-opt no-new-privileges \
    --user 1000:1000 --tmpfs /tmp:rw,noexec,nosuid,size=16m -e HOME=/tmp --entrypoint /bin/sh "$new_id" \
    -c 'cd /freqtrade && freqtrade --version && python3 -c "import talib, pandas, ccxt" && id -u' 2>>"$LOG") \
    || { docker rmi "$new_id" >/dev/null 2>&1 || true; fail "the imported image does not run freqtrade; see $LOG"; }
echo "$smoke" >>"$LOG"
case "$smoke" in
    *"freqtrade $VERSION"*1000) ;;
    *) docker rmi "$new_id" >/dev/null 2>&1 || true; fail "unexpected smoke-test output: $smoke" ;;
esac
docker tag "$new_id" "$TAG"
# The image this tag named before was built by this script (same tag); drop it unless in use.
if [ -n "$OLD_ID" ] && [ "$OLD_ID" != "$new_id" ]; then docker rmi "$OLD_ID" >/dev/null 2>&1 || true; fi
say "      $TAG = ${new_id#sha256:}" "($(docker image inspect --format '{{.Size}}' "$TAG" | awk '{ printf "%d MiB", $1 / 1048576 }'))"
say "      done in $(elapsed "$STEP_START")"
say "total $(elapsed "$BUILD_START")"
echo "$TAG"
