#!/usr/bin/env bash
# Makes the release archive: everything a server needs to install fta with no Swift toolchain.
#
# Usage: scripts/release.sh [--binary PATH] [--version VERSION] [--out DIR]
#
#   --binary PATH     package this already built fta (CI, tests) instead of building one
#   --version V       the version in the archive's name (default: git describe --tags --always --dirty)
#   --out DIR         where the archive goes (default: dist/ in the checkout, ignored by git)
#
# It builds fta as install.sh does (release, --static-swift-stdlib: the Swift runtime and
# Foundation are inside the binary; it links only the system's libc, libm, libstdc++, libgcc_s,
# libcurl and libsqlite3; docs/install.md says which systems that fits), then writes
#
#   DIR/fta-<version>-linux-<arch>.tar.gz          the archive, one top directory of that name:
#       bin/fta, install.sh, scripts/install/ (install.sh's library and the installed helpers),
#       scripts/build-freqtrade-image.sh (install.sh --build-bot-image), web/, compose/, nginx/,
#       .env.example, README.md, docs/, VERSION and SHA256SUMS (the SHA-256 of every other file)
#   DIR/fta-<version>-linux-<arch>.tar.gz.sha256   its SHA-256 (`sha256sum -c` reads it)
#
# and prints the archive's path and SHA-256. install.sh checks every file against SHA256SUMS
# before it uses one, and the archive against its .sha256 (or FTA_RELEASE_SHA256). On a server:
#   tar -xzf fta-<version>-linux-x86_64.tar.gz && sudo fta-<version>-linux-x86_64/install.sh
# or, from anywhere: sudo ./install.sh --release fta-<version>-linux-x86_64.tar.gz
# The archive is reproducible from the same commit and binary: names sorted, owner root, times
# those of the commit.
set -Eeuo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)

usage() { sed -n '3,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { printf 'release.sh: %s\n' "$*" >&2; exit 1; }

binary="" version="" out=$ROOT/dist
while [ $# -gt 0 ]; do
    case $1 in
        --binary) binary=${2:?--binary needs a path}; shift 2 ;;
        --version) version=${2:?--version needs a value}; shift 2 ;;
        --out) out=${2:?--out needs a directory}; shift 2 ;;
        -h | --help) usage ;;
        *) usage ;;
    esac
done

if [ -z "$version" ]; then
    version=$(git -C "$ROOT" describe --tags --always --dirty 2>/dev/null || echo dev)
fi
[[ $version =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]] || die "--version: letters, digits and . _ + - only: $version"
arch=$(uname -m)
name=fta-$version-linux-$arch

if [ -z "$binary" ]; then
    # The same build as install.sh's stage_build, in a scratch directory of its own.
    export PATH=/opt/swift/usr/bin:/usr/share/swift/usr/bin:$PATH
    command -v swift >/dev/null || die "no Swift toolchain: install one, or pass --binary PATH"
    echo "release.sh: building fta (release, static Swift runtime)" >&2
    swift build -c release --product fta --static-swift-stdlib --package-path "$ROOT" \
        --scratch-path "$ROOT/.build-release" >&2
    binary=$ROOT/.build-release/release/fta
fi
if [ ! -f "$binary" ] || [ ! -x "$binary" ]; then die "not an executable file: $binary"; fi
help=$("$binary" --help 2>&1) || die "$binary --help failed: is it fta, built for this machine?"
[[ $help == *serve* && $help == *migrate* ]] || die "$binary does not look like fta (no serve/migrate in --help)"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
top=$stage/$name
mkdir -p "$top/bin"
install -m 0755 "$binary" "$top/bin/fta"
# Without its debug sections (a release build carries some 40 MB of them); the symbol table stays,
# so that a crash's backtrace still names the functions.
if command -v strip >/dev/null && [ "$(head -c 4 "$top/bin/fta" | tr -d '\177')" = ELF ]; then
    strip --strip-debug "$top/bin/fta"
fi

# The files install.sh uses, as the checkout has them (tracked files only: nothing a build or a
# test run left behind).
files=(install.sh .env.example README.md scripts/build-freqtrade-image.sh)
while IFS= read -r f; do files+=("$f"); done < <(git -C "$ROOT" ls-files -- scripts/install web compose nginx docs)
for f in "${files[@]}"; do
    [ -f "$ROOT/$f" ] || die "missing from the checkout: $f"
    mode=0644
    [ -x "$ROOT/$f" ] && mode=0755
    install -D -m "$mode" "$ROOT/$f" "$top/$f"
done
printf '%s\n' "$version" >"$top/VERSION"

# SHA256SUMS: every file but itself, by its path inside the top directory.
(
    cd "$top"
    find . -type f -printf '%P\0' | sort -z | xargs -0 sha256sum >"$stage/SHA256SUMS"
)
mv "$stage/SHA256SUMS" "$top/SHA256SUMS"

mkdir -p "$out"
archive=$(cd "$out" && pwd)/$name.tar.gz
epoch=$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -C "$stage" -cf - "$name" |
    gzip -n >"$archive.tmp"
mv -f "$archive.tmp" "$archive"
sum=$(sha256sum "$archive" | awk '{ print $1 }')
printf '%s  %s\n' "$sum" "$name.tar.gz" >"$archive.sha256"

echo "$archive"
echo "SHA-256 $sum"
