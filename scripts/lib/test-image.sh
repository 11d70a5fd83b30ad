#!/usr/bin/env bash
# Builds the tiny image the tests run as a stand-in bot: fta-test/busybox:latest.
#
# Usage: scripts/lib/test-image.sh            (prints the image reference on success)
#
# There is no registry here, so nothing can be pulled: the image is made from Debian's
# busybox-static (/bin/busybox) with `tar -c . | docker import -`. It holds /bin/sh and the
# busybox applets, /freqtrade/user_data owned by uid 1000, and two stand-ins:
#   /usr/local/bin/freqtrade  `freqtrade trade ...` / `freqtrade webserver ...` serve the bot API
#                             on port 8080 with busybox httpd (static JSON: GET /api/v1/ping
#                             answers 200 {"status":"pong"}, /api/v1/show_config reports
#                             dry_run true); other subcommands print what they were given.
#   /usr/local/bin/python3    so that fta's healthcheck (["CMD","python3","-c","<ping>"])
#                             passes: it ignores its program and succeeds iff the ping answers.
# The image runs as 1000:1000 like the official Freqtrade image.
#
# Idempotent: the image carries a label with the hash of its inputs (this script and the busybox
# binary); an image with the same hash is reused, a different one is rebuilt. A lock keeps
# concurrent test runs from building twice.
set -euo pipefail

IMAGE=${FTA_TEST_IMAGE:-fta-test/busybox:latest}
export DOCKER_HOST=${FTA_TEST_DOCKER_HOST:-unix:///run/fta-test/docker.sock}
BUSYBOX=${FTA_TEST_BUSYBOX:-/bin/busybox}
LOCK=${FTA_TEST_RUN_DIR:-/run/fta-test}/test-image.lock
LABEL=fta.test.inputs

[ -x "$BUSYBOX" ] || { echo "test-image: $BUSYBOX missing (apt-get install busybox-static)" >&2; exit 1; }
# A dynamically linked busybox would not run in an image without a libc.
if ! LC_ALL=C file -b "$BUSYBOX" 2>/dev/null | grep -q 'statically linked'; then
    command -v file >/dev/null && { echo "test-image: $BUSYBOX is not statically linked (use busybox-static)" >&2; exit 1; }
fi

inputs_hash() {
    cat "${BASH_SOURCE[0]}" "$BUSYBOX" | sha256sum | cut -c1-32
}

build() {
    local stage hash
    hash=$1
    stage=$(mktemp -d)
    # shellcheck disable=SC2064  # expand now: the trap must remove this very directory
    trap "rm -rf '$stage'" RETURN

    mkdir -p "$stage"/{bin,etc,tmp,usr/local/bin,srv/fta-fake/www/api/v1,freqtrade/user_data}
    cp "$BUSYBOX" "$stage/bin/busybox"
    # One relative symlink per applet, so /bin/sh, wget, nc, httpd... exist.
    "$BUSYBOX" --list | while read -r applet; do
        [ "$applet" = busybox ] || ln -sf busybox "$stage/bin/$applet"
    done
    chmod 1777 "$stage/tmp"
    printf 'root:x:0:0:root:/root:/bin/sh\nftuser:x:1000:1000:ftuser:/freqtrade:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$stage/etc/passwd"
    printf 'root:x:0:\nftuser:x:1000:\nnogroup:x:65534:\n' >"$stage/etc/group"

    printf '{"status":"pong"}' >"$stage/srv/fta-fake/www/api/v1/ping"
    printf '{"dry_run":true,"state":"running","runmode":"dry_run","strategy":"FtaStandIn"}' \
        >"$stage/srv/fta-fake/www/api/v1/show_config"

    cat >"$stage/usr/local/bin/freqtrade" <<'EOF'
#!/bin/sh
# fta test-image stand-in for freqtrade (see scripts/lib/test-image.sh in the fta repo).
# `trade` and `webserver` serve the bot API's ping on port 8080 in the foreground (busybox httpd
# reads only the image, so it works on a read-only root as uid 1000); anything else is echoed.
case "${1:-}" in
    trade|webserver)
        echo "freqtrade stand-in: $*"
        exec httpd -f -p 8080 -h /srv/fta-fake/www ;;
    *)
        echo "freqtrade stand-in: $*"
        exit 0 ;;
esac
EOF
    cat >"$stage/usr/local/bin/python3" <<'EOF'
#!/bin/sh
# fta test-image stand-in for python3, only for the bot healthcheck: whatever program it is
# given, it succeeds iff the freqtrade stand-in answers /api/v1/ping on port 8080.
# (wget -T is avoided: it crashes in Debian's busybox-static 1.35; timeout does the job.)
exec timeout 4 wget -q -O /dev/null http://127.0.0.1:8080/api/v1/ping
EOF
    chmod 0755 "$stage/usr/local/bin/freqtrade" "$stage/usr/local/bin/python3"
    chown -R 1000:1000 "$stage/freqtrade"

    tar -C "$stage" --numeric-owner -c . | docker import \
        --change "LABEL $LABEL=$hash" \
        --change 'ENV PATH=/usr/local/bin:/bin' \
        --change 'USER 1000:1000' \
        --change 'WORKDIR /freqtrade' \
        --change 'CMD ["freqtrade","trade"]' \
        - "$IMAGE" >/dev/null
}

main() {
    local want have
    want=$(inputs_hash)
    mkdir -p "$(dirname "$LOCK")"
    exec 9>"$LOCK"
    flock 9
    have=$(docker image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$IMAGE" 2>/dev/null || true)
    if [ "$have" != "$want" ]; then
        echo "test-image: building $IMAGE from $BUSYBOX" >&2
        build "$want"
    fi
    echo "$IMAGE"
}

main "$@"
