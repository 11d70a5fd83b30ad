#!/usr/bin/env bash
# fta-admin: the fta CLI as the service runs it (user fta, configuration from /etc/fta/fta.env).
# install.sh installs it as /usr/local/sbin/fta-admin. Examples:
#   sudo fta-admin doctor
#   sudo fta-admin client create acme --name "Acme Ltd"
#   sudo fta-admin backup /var/lib/fta/backup.sqlite     (fta can only write where user fta may)
set -euo pipefail
exec /usr/local/lib/fta/fta-run --user fta --env-file /etc/fta/fta.env --chdir /var/lib/fta \
    -- /usr/local/bin/fta "$@"
