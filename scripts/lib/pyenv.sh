#!/usr/bin/env bash
# A Python virtualenv with the test tools (pytest, selenium, schemathesis), from PyPI.
#
# Usage: scripts/lib/pyenv.sh      (prints the venv's python)
#
# Reused when Tests/system/requirements.txt has not changed since it was built.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV=${FTA_TEST_VENV:-/var/lib/fta-test/venv}
REQUIREMENTS=$ROOT/Tests/system/requirements.txt
STAMP=$VENV/.requirements.sha256

want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
    echo "$VENV/bin/python"
    exit 0
fi
echo "pyenv: installing test tools into $VENV" >&2
python3 -m venv "$VENV" >&2
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQUIREMENTS" >&2
echo "$want" >"$STAMP"
echo "$VENV/bin/python"
