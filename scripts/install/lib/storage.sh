# shellcheck shell=bash
# install.sh: bots' volumes on a filesystem of their own, each with a cap (docs/security.md,
# "Disk"). Sourced by install.sh; not run on its own.
#
# Why: a bot's volume is where Freqtrade writes its trades database and logs. On the root
# filesystem, one bot (a hostile strategy, a runaway log) could fill the disk that holds
# /var/lib/fta: the portal's database stops, and so do the other bots. So:
#   - Docker's volumes directory is an XFS filesystem in an image file, fully allocated up front
#     (fallocate), so that its bots can never take more of the root disk than the image;
#   - it is mounted with project quotas, and fta creates each bot volume with a `size`, which
#     Docker's local driver turns into a hard project quota: a bot stops at its own cap
#     (FTA_BOT_DISK_MB, auto: 256 MiB) and cannot fill the store for the others;
#   - the image is mounted on $BOT_STORE (world-searchable, so that the portal's doctor and its
#     disk alarm can read the free space) and its volumes/ directory is bound onto Docker's
#     volumes directory. docker.service requires that mount, so Docker never starts on the
#     uncapped directory underneath.
# Container logs are capped by Docker's log rotation (daemon.json, step 4, and each bot's own
# LogConfig); a bot's root filesystem is read-only and its /tmp a 64 MiB tmpfs.

readonly BOT_STORE=/var/lib/fta-bot-store
readonly BOT_STORE_IMAGE=/var/lib/fta-bot-store.xfs
readonly DOCKER_VOLUMES=/var/lib/docker/volumes
readonly DOCKER_STORE_DROPIN=/etc/systemd/system/docker.service.d/fta-bot-store.conf
readonly DEFAULT_BOT_STORE_MB=2048
# XFS needs 300 MiB; below 512 the store holds one bot.
readonly MIN_BOT_STORE_MB=512
# What the root filesystem keeps free beside the store: images, the database, backups, logs.
readonly BOT_STORE_KEEP_FREE_MB=2048


bot_store_ready() {
    findmnt -n -o FSTYPE,OPTIONS --mountpoint "$BOT_STORE" 2>/dev/null | grep -Eq '^xfs[[:space:]].*(prjquota|pquota)' \
        && findmnt -n --mountpoint "$DOCKER_VOLUMES" >/dev/null 2>&1
}

# The store's size: --bot-store-mb, else the default, shrunk to leave the root disk room.
bot_store_size_mb() {
    if [ -n "$OPT_BOT_STORE_MB" ]; then echo "$OPT_BOT_STORE_MB"; return 0; fi
    local free_mb size
    free_mb=$(df -Pm /var/lib | awk 'NR == 2 { print $4 }')
    size=$DEFAULT_BOT_STORE_MB
    if ((free_mb - size < BOT_STORE_KEEP_FREE_MB)); then size=$(((free_mb - BOT_STORE_KEEP_FREE_MB) / 256 * 256)); fi
    echo "$size"
}

# Docker volumes that already exist stay where they are: moving them under running bots would
# fork their data. (A fresh host has none; its volumes/ holds only Docker's metadata.db.)
existing_docker_volumes() {
    find "$DOCKER_VOLUMES" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | head -n 5
}

fstab_lines() {
    cat <<EOF
# fta (install.sh): bots' volumes, an XFS image with project quotas (docs/security.md)
$BOT_STORE_IMAGE $BOT_STORE xfs loop,prjquota,nosuid,noexec 0 0
$BOT_STORE/volumes $DOCKER_VOLUMES none bind,x-systemd.requires-mounts-for=$BOT_STORE 0 0
EOF
}

# Step 4's first part: before dockerd (re)starts.
setup_bot_store() {
    local size volumes tmp
    if ((EXTERNAL_DOCKER)); then return 0; fi
    if ! ((HAVE_SYSTEMD)); then
        info "bot volumes: no systemd here, so no store of their own; each bot volume is uncapped (fta doctor says so)"
        return 0
    fi
    if bot_store_ready; then
        info "bot volumes: on $BOT_STORE ($(df -Pm "$BOT_STORE" | awk 'NR == 2 { print $4 " of " $2 }') MiB free), each capped by a project quota"
        return 0
    fi
    if in_container; then
        warn "bot volumes: this is a container, which cannot mount a filesystem of its own: bot volumes are uncapped"
        return 0
    fi
    volumes=$(existing_docker_volumes)
    if [ -n "$volumes" ]; then
        warn "bot volumes: Docker already has volumes in $DOCKER_VOLUMES (${volumes//$'\n'/, }): they stay, and bot volumes stay uncapped. To cap them, see docs/security.md (Disk)"
        return 0
    fi
    size=$(bot_store_size_mb)
    [[ $size =~ ^[0-9]+$ ]] || fail "--bot-store-mb must be a number of MiB, got '$size'"
    if ((size < MIN_BOT_STORE_MB)); then
        warn "bot volumes: only room for a ${size} MiB store (at least $MIN_BOT_STORE_MB, and $BOT_STORE_KEEP_FREE_MB MiB kept free): bot volumes are uncapped; free disk space and run install.sh again"
        return 0
    fi
    changed "put Docker's volumes on a ${size} MiB XFS image with project quotas ($BOT_STORE_IMAGE on $BOT_STORE), so that each bot volume has its own cap"
    ((DRY_RUN)) && return 0
    have mkfs.xfs || fail "mkfs.xfs is missing (the xfsprogs package, step 3)"
    # Docker must not run while its volumes directory changes under it.
    if systemctl is-active --quiet docker.service 2>/dev/null || systemctl is-active --quiet docker.socket 2>/dev/null; then
        run_logged systemctl stop docker.socket docker.service
    fi
    if [ ! -f "$BOT_STORE_IMAGE" ]; then
        # fallocate: the blocks are the store's from now on, so bots can never take more of the
        # root disk than this; dd where the filesystem cannot preallocate.
        fallocate -l "${size}M" "$BOT_STORE_IMAGE" 2>/dev/null \
            || dd if=/dev/zero of="$BOT_STORE_IMAGE" bs=1M count="$size" status=none
        chmod 600 "$BOT_STORE_IMAGE"
        run_logged mkfs.xfs -q -L fta-bots "$BOT_STORE_IMAGE"
    fi
    install -d -m 0755 "$BOT_STORE"
    if ! grep -qF "$BOT_STORE_IMAGE " /etc/fstab; then fstab_lines >>/etc/fstab; fi
    systemctl daemon-reload
    findmnt -n --mountpoint "$BOT_STORE" >/dev/null || run_logged mount "$BOT_STORE"
    # 0701 as Docker makes it: the volumes' names are not for other users to list.
    install -d -m 0701 "$BOT_STORE/volumes"
    install -d -m 0701 "$DOCKER_VOLUMES"
    # Docker's own metadata.db comes along (no volume is in it: see existing_docker_volumes).
    if [ -n "$(ls -A "$DOCKER_VOLUMES")" ]; then cp -a "$DOCKER_VOLUMES/." "$BOT_STORE/volumes/"; fi
    findmnt -n --mountpoint "$DOCKER_VOLUMES" >/dev/null || run_logged mount "$DOCKER_VOLUMES"
    tmp=$(new_tmp)
    printf '%s\n' "# fta (install.sh): Docker starts only on the bots' store, never on the uncapped directory below it." \
        "[Unit]" "RequiresMountsFor=$DOCKER_VOLUMES" >"$tmp"
    install -d -m 0755 "$(dirname "$DOCKER_STORE_DROPIN")"
    put_file "$tmp" "$DOCKER_STORE_DROPIN" 644 root root
    systemctl daemon-reload
    bot_store_ready || fail "the bots' store did not mount as XFS with project quotas (see $INSTALL_LOG)"
}

# --uninstall --purge: the store goes with the bots' data.
remove_bot_store() {
    local docker_was_active=0
    if ((HAVE_SYSTEMD)) && systemctl is-active --quiet docker.service 2>/dev/null; then
        docker_was_active=1
        systemctl stop docker.socket docker.service || warn "could not stop docker.service"
    fi
    findmnt -n --mountpoint "$DOCKER_VOLUMES" >/dev/null 2>&1 && { umount "$DOCKER_VOLUMES" || warn "could not unmount $DOCKER_VOLUMES"; }
    findmnt -n --mountpoint "$BOT_STORE" >/dev/null 2>&1 && { umount "$BOT_STORE" || warn "could not unmount $BOT_STORE"; }
    if grep -qF "$BOT_STORE" /etc/fstab 2>/dev/null; then
        grep -vF -e "$BOT_STORE" -e "fta (install.sh): bots' volumes" /etc/fstab >/etc/fstab.fta-new && mv /etc/fstab.fta-new /etc/fstab
    fi
    rm -f "$DOCKER_STORE_DROPIN" "$BOT_STORE_IMAGE"
    rmdir "$BOT_STORE" 2>/dev/null || true
    if ((HAVE_SYSTEMD)); then
        systemctl daemon-reload 2>/dev/null || true
        if ((docker_was_active)); then systemctl start docker.service || warn "could not start docker.service again"; fi
    fi
}
