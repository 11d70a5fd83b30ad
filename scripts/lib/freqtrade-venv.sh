#!/usr/bin/env bash
# Host venv with the pinned Freqtrade from PyPI, for tests that run real Freqtrade outside Docker
# (`freqtrade show-config -c FILE` on rendered configs, `list-strategies` on shipped strategies).
#
# Usage: scripts/lib/freqtrade-venv.sh            # prints the path of the `freqtrade` executable
#        FTA_TEST_FREQTRADE=$(scripts/lib/freqtrade-venv.sh)
#
# Environment:
#   FTA_FREQTRADE_VERSION       Freqtrade version to install (default 2026.9, the bot image's pin)
#   FTA_TEST_FREQTRADE_VENV     venv directory (default /var/lib/fta-test/freqtrade-venv)
#   FTA_PYTHON                  interpreter that creates the venv (default python3; needs >= 3.11)
#
# Idempotent: a venv whose stamp names the same version is reused in well under a second. A venv
# without a matching stamp (older pin, interrupted install) is removed and built again.
# Progress goes to stderr so that stdout carries only the path.
set -euo pipefail

VERSION=${FTA_FREQTRADE_VERSION:-2026.9}
VENV=${FTA_TEST_FREQTRADE_VENV:-/var/lib/fta-test/freqtrade-venv}
PYTHON=${FTA_PYTHON:-python3}
STAMP=$VENV/.fta-freqtrade-version
FREQTRADE=$VENV/bin/freqtrade

log() { echo "freqtrade-venv: $*" >&2; }
die() { echo "freqtrade-venv: error: $*" >&2; exit 1; }

if [ -x "$FREQTRADE" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$VERSION" ]; then
    echo "$FREQTRADE"
    exit 0
fi

command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found; install python3 (>= 3.11) and python3-venv"
# Freqtrade 2026.x requires Python >= 3.11 (its wheel's Requires-Python).
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
    || die "$PYTHON is $("$PYTHON" -V 2>&1); Freqtrade $VERSION needs Python >= 3.11 (set FTA_PYTHON)"

mkdir -p "$(dirname "$VENV")"
# One installer at a time: parallel test runs would otherwise both rebuild the same venv.
exec 9>"$VENV.lock"
flock 9
if [ -x "$FREQTRADE" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$VERSION" ]; then
    echo "$FREQTRADE"
    exit 0
fi

start=$(date +%s)
log "creating $VENV with $("$PYTHON" -V 2>&1) for freqtrade==$VERSION"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV" || die "'$PYTHON -m venv' failed (on Debian: apt-get install python3-venv)"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --upgrade pip >&2 \
    || die "upgrading pip in the venv failed (is PyPI reachable?)"
log "pip install freqtrade==$VERSION (a few minutes the first time)"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir "freqtrade==$VERSION" >&2 \
    || die "pip install freqtrade==$VERSION failed"
got=$("$FREQTRADE" --version 2>/dev/null | tr -d '\r' | sed -n 's/.*[Ff]reqtrade[^0-9]*\([0-9][0-9.]*\).*/\1/p' | head -n 1)
[ "$got" = "$VERSION" ] || die "installed freqtrade reports version '${got:-?}', expected $VERSION"
echo "$VERSION" >"$STAMP"
log "ready in $(( $(date +%s) - start )) s"
echo "$FREQTRADE"
