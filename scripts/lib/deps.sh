#!/usr/bin/env bash
# Installs, from Debian's packages, what the tests need; skips what is already there.
#
# Usage: scripts/lib/deps.sh
#
# Swift itself is not a Debian package: the machine provides /opt/swift (see README).
set -euo pipefail

# Package -> a file it installs, so that a second run costs nothing.
declare -A NEEDED=(
    [libsqlite3-dev]=/usr/include/sqlite3.h
    [libcurl4-openssl-dev]=/usr/include/x86_64-linux-gnu/curl/curl.h
    [docker.io]=/usr/sbin/dockerd
    [docker-compose]=/usr/bin/docker-compose
    [haproxy]=/usr/sbin/haproxy
    [nginx]=/usr/sbin/nginx
    [busybox-static]=/bin/busybox
    [debootstrap]=/usr/sbin/debootstrap
    [shellcheck]=/usr/bin/shellcheck
    [sqlite3]=/usr/bin/sqlite3
    [iptables]=/usr/sbin/iptables
    [iproute2]=/usr/bin/ss
    [curl]=/usr/bin/curl
    [jq]=/usr/bin/jq
    [openssl]=/usr/bin/openssl
    [file]=/usr/bin/file
    [python3-venv]=/usr/share/doc/python3-venv
    [chromium]=/usr/bin/chromium
    [chromium-driver]=/usr/bin/chromedriver
    [xz-utils]=/usr/bin/xz
    # The no-secret-on-a-command-line tests trace every execve of the helpers.
    [strace]=/usr/bin/strace
    # The firewall tests: network namespaces (nsenter, unshare) and the systemd unit's check.
    [util-linux]=/usr/bin/nsenter
    [systemd]=/usr/bin/systemd-analyze
    # The metrics tests check /metrics with Prometheus's own linter.
    [prometheus]=/usr/bin/promtool
    # The clock-jump test moves a real fta serve's wall clock with libfaketime (LD_PRELOAD).
    [faketime]=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
    # The portal's charts: fta serves Debian's Chart.js (issue 13), as on an installed host.
    [libjs-chart.js]=/usr/share/javascript/chart.js/chart.min.js
    # scripts/bench-desk loads GET /bots, /health and a static file with wrk (issue 13): Python
    # cannot make thousands of requests a second on two cores, so it would measure itself.
    [wrk]=/usr/bin/wrk
)

missing=()
for package in "${!NEEDED[@]}"; do
    # curl.h lives under the multiarch triplet; accept any architecture.
    if [ "$package" = libcurl4-openssl-dev ]; then
        compgen -G "/usr/include/*/curl/curl.h" >/dev/null && continue
    fi
    [ -e "${NEEDED[$package]}" ] || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: every Debian package is present"
    exit 0
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
