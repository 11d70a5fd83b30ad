#!/usr/bin/env bash
# fta-admin: the fta CLI as the service runs it (user fta, configuration from /etc/fta/fta.env).
# install.sh installs it as /usr/local/sbin/fta-admin. Examples:
#   sudo fta-admin doctor
#   sudo fta-admin client create acme --name "Acme Ltd"
#   sudo fta-admin backup /var/lib/fta/backup.sqlite     (fta can only write where user fta may)
# `doctor` alone runs as root (still with only the env file's environment): its host checks run
# `nginx -t`, read the root-only /etc/fta/fta.env and look at the Docker socket's owner. It only
# reads; SQLite hands any file it creates beside the database to the database's owner (fta).
set -euo pipefail
user=fta
if [ "${1:-}" = doctor ]; then user=root; fi
exec /usr/local/lib/fta/fta-run --user "$user" --env-file /etc/fta/fta.env --chdir /var/lib/fta \
    -- /usr/local/bin/fta "$@"
