/// One variable of fta's configuration, as `.env.example` documents it. The catalog below is
/// the one owner of every default: `PortalConfiguration.load` applies them, and
/// `fta config example` prints the example file from them (a test compares it with
/// `.env.example`), so install.sh never repeats a default.
public struct ConfigurationVariable: Sendable {
    public let name: String
    /// What applies when the variable is unset or empty; nil: required, with no default.
    public let defaultValue: String?
    /// What the example file shows, when not the default (a placeholder secret).
    public let exampleValue: String?
    /// The comment lines above it in the example file.
    public let doc: [String]
    /// Read by fta itself; false for the Compose file's and the proxy's own variables.
    public let readByFTA: Bool

    init(_ name: String, _ defaultValue: String?, example: String? = nil, readByFTA: Bool = true, _ doc: [String] = []) {
        self.name = name
        self.defaultValue = defaultValue
        self.exampleValue = example
        self.doc = doc
        self.readByFTA = readByFTA
    }

    /// The line of the example file.
    var exampleLine: String { "\(name)=\(exampleValue ?? defaultValue ?? "")" }
}

/// The variables, in the example file's sections and order.
public enum ConfigurationCatalog {
    public struct Section: Sendable {
        public let title: String
        public let variables: [ConfigurationVariable]
    }

    static let header: [String] = [
        "# fta configuration: every variable fta and its Compose file read, with placeholders only.",
        "#",
        "# install.sh copies this file to /etc/fta/fta.env (mode 0600), gives every placeholder secret",
        "# below a fresh random value, and never overwrites a value on a re-run. Never commit a real .env.",
        "# Flags of the fta CLI override these (e.g. `fta serve --port 8080`).",
        "",
    ]

    public static let sections: [Section] = [
        Section(title: "Portal (fta serve)", variables: [
            .init("FTA_LISTEN", "127.0.0.1", ["Address fta serve binds. Loopback only: 127.0.0.1 or ::1. Anything else is refused at start;", "nginx publishes the portal."]),
            .init("FTA_PORT", "8080", ["Port fta serve binds on that address."]),
            .init("FTA_DATABASE", "/var/lib/fta/fta.sqlite", ["The SQLite file holding all state (created 0600). Back it up with `fta backup FILE`."]),
            .init("FTA_WEB_ROOT", "/usr/local/share/fta/web", ["The static files of the web portal (install.sh copies web/ there)."]),
            .init("FTA_CHARTJS_DIR", "/usr/share/javascript/chart.js", ["Debian's libjs-chart.js (install.sh installs it): fta serves its chart.min.js at", "/vendor/chart.js/chart.min.js for the portal's charts."]),
            .init("FTA_PUBLIC_URL", "http://127.0.0.1:8081", ["The URL users open (nginx). With https://, session cookies get Secure and the __Host- prefix."]),
            .init("FTA_LOG_LEVEL", "info", ["Log level: trace, debug, info, notice, warning, error or critical."]),
        ]),
        Section(title: "Secrets", variables: [
            .init("FTA_SECRET_KEY", nil, example: "CHANGE_ME_64_HEX_CHARACTERS_FROM_openssl_rand_hex_32", ["Seals each bot's API credentials at rest (AES-256-GCM). 64 hex characters = 32 random bytes:", "  openssl rand -hex 32", "fta refuses to start with this placeholder. Losing it makes existing bots' secrets unreadable", "(delete and recreate the bots); keep it with your backups, apart from them."]),
        ]),
        Section(title: "Docker, through the socket proxy only", variables: [
            .init("FTA_DOCKER_URL", "unix:///run/fta-proxy/docker.sock", ["The socket proxy (never the Docker socket itself): unix:///path or http://127.0.0.1:PORT."]),
            .init("FTA_BOT_IMAGE", "freqtradeorg/freqtrade:2026.9", ["The pinned Freqtrade image bots run. Offline: build one with scripts/build-freqtrade-image.sh", "and name its tag here (fta-local/freqtrade:2026.9)."]),
            .init("DOCKER_NETWORK", "fta-control", ["The control network of the socket proxy (Compose). Bots never join it."]),
        ]),
        Section(title: "Where bots run: Docker on this host, or ECS/Fargate (docs/aws.md)", variables: [
            .init("FTA_RUNTIME", "docker", ["docker: each bot a hardened container on this host, through the socket proxy (the default).", "fargate: each bot a Fargate task in the AWS account below; the FTA_AWS_* settings then apply.", "Credentials come from AWS's standard chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the ECS", "task role, or the EC2 instance role (IMDSv2)."]),
            .init("FTA_AWS_REGION", "", ["The region of the bots' cluster, e.g. eu-west-1. Required with fargate."]),
            .init("FTA_AWS_ENDPOINT", "", ["One endpoint for every AWS service instead of AWS's own (a local stand-in such as moto). Empty: AWS."]),
            .init("FTA_AWS_CLUSTER", "fta-bots", ["The ECS cluster bots' tasks run in."]),
            .init("FTA_AWS_VPC", "", ["The VPC of the bots (vpc-...): each client's security group is made there."]),
            .init("FTA_AWS_SUBNETS", "", ["The bots' subnets (subnet-..., comma-separated): private ones with a NAT gateway, or public ones", "with FTA_AWS_PUBLIC_IP=true."]),
            .init("FTA_AWS_PUBLIC_IP", "false", ["Give each task a public IPv4 address (needed in a subnet without a NAT gateway)."]),
            .init("FTA_AWS_EFS_FILE_SYSTEM", "", ["The encrypted EFS file system (fs-...) holding one access point per bot, in place of its volume."]),
            .init("FTA_AWS_STORAGE_SECURITY_GROUP", "", ["The EFS mount targets' security group (sg-...): bots may reach NFS (TCP 2049) there."]),
            .init("FTA_AWS_PORTAL_SECURITY_GROUP", "", ["The portal's security group (sg-...): the only source bots accept connections from (their API, TCP 8080)."]),
            .init("FTA_AWS_EXECUTION_ROLE_ARN", "", ["The role ECS pulls the image and writes the logs with (arn:aws:iam::...:role/...). Bots get no role."]),
            .init("FTA_AWS_LOG_RETENTION_DAYS", "7", ["How long CloudWatch keeps a bot's output, in days (one of CloudWatch's values: 1, 3, 5, 7, 14, 30, ...)."]),
        ]),
        Section(title: "Socket proxy (compose/docker-compose.yml)", variables: [
            .init("FTA_PROXY_IMAGE", "haproxy:2.8.15-alpine", readByFTA: false, ["The pinned HAProxy image running compose/haproxy/haproxy.cfg."]),
            .init("FTA_PROXY_SOCKET_DIR", "/run/fta-proxy", readByFTA: false, ["Host directory of the proxy's unix socket (0750; socket 0660, group of the fta user)."]),
            .init("FTA_PROXY_MEMORY", "64m", readByFTA: false, ["Memory limit of the proxy container."]),
            .init("FTA_PROXY_UID", "99", readByFTA: false, ["The proxy's user, the group allowed to use its socket (fta's), and the Docker socket's group."]),
            .init("FTA_GID", "999", readByFTA: false),
            .init("DOCKER_GID", "998", readByFTA: false),
            .init("FTA_DOCKER_SOCKET", "/var/run/docker.sock", ["The Docker socket the proxy (only the proxy) mounts, read-only."]),
        ]),
        Section(title: "Capacity (docs/density.md)", variables: [
            .init("FTA_MEMORY_BUDGET_MB", "", ["Admission counts what the host really has: its memory (plus a swap credit when bots may swap),", "less what the control plane (fta, dockerd, containerd, haproxy, nginx) holds, a margin, and", "what each running bot holds (its measured working set; its size's reservation until measured).", "A fixed memory budget for all running bots together, in MiB, instead. Empty: measured."]),
            .init("FTA_BOT_SWAP", "auto", ["Let bots' cold pages (imported modules they never touch again) go to swap, zram or the swap", "file install.sh adds: a small bot then holds 128 MiB of RAM and up to 480 MiB with swap,", "instead of 320 MiB all in RAM. auto: on when the host has swap; on; off."]),
            .init("FTA_MEMORY_MARGIN_MB", "", ["Memory admission keeps free of bots, in MiB. Empty: 64, or 1/16 of the host's memory if larger."]),
            .init("FTA_SWAP_CREDIT_MB", "", ["How far bots may commit beyond RAM when they swap, in MiB. Empty: 1/8 of RAM, at most half", "the free swap; 0 when bots may not swap."]),
            .init("FTA_BOT_STORE", "/var/lib/fta-bot-store", ["The filesystem of bots' volumes: install.sh makes it an XFS image of its own, mounted with", "project quotas (docs/security.md), so that a bot that fills its volume stops at its own cap and", "can never fill the disk of the portal, its database or other bots."]),
            .init("FTA_BOT_DISK_MB", "auto", ["Each bot's volume cap in MiB (its trades database and logs). auto: 256 when FTA_BOT_STORE is", "an XFS filesystem mounted with project quotas, else off (unbounded: doctor fails); off; or 16 to 8192."]),
            .init("FTA_MAX_BOTS_PER_CLIENT", "3", ["Default bot quota per client (an admin can set another per client)."]),
        ]),
        Section(title: "Strategy lab", variables: [
            .init("FTA_LAB_DATA_CAP_MB", "512", ["The shared market-data cache's cap in MiB, over all its sets (docs/strategy-lab.md): a", "backtest that needs new data past it is refused until the operator prunes a set. 64 to 65536."]),
            .init("FTA_LAB_BACKTEST_SECONDS", "600", ["How long one backtest may run before it is stopped, in seconds (60 to 7200)."]),
            .init("FTA_LAB_VALIDATE_SECONDS", "90", ["How long loading an uploaded strategy may take before validation stops it, in seconds", "(10 to 600): a strategy loads in seconds; one that takes longer loops or waits at import."]),
        ]),
        Section(title: "Sessions and sign-in limits", variables: [
            .init("FTA_SESSION_IDLE_MINUTES", "30"),
            .init("FTA_SESSION_MAX_HOURS", "12"),
            .init("FTA_LOGIN_MAX_FAILURES", "5", ["Failed sign-ins per account or per IP within the window before a lockout, and its length."]),
            .init("FTA_LOGIN_WINDOW_SECONDS", "900"),
            .init("FTA_LOGIN_LOCKOUT_SECONDS", "900"),
            .init("FTA_BCRYPT_COST", "12", ["bcrypt cost for passwords (12 or more)."]),
        ]),
        Section(title: "Background work", variables: [
            .init("FTA_RECONCILE_SECONDS", "30", ["Seconds between two reconcile passes (database vs Docker)."]),
        ]),
        Section(title: "Scheduled backups (fta backup --scheduled; docs/operations.md)", variables: [
            .init("FTA_BACKUP_DIR", "/var/lib/fta/backups", ["Where scheduled backups go: fta-<UTC time>.sqlite (or .sqlite.enc), mode 0600."]),
            .init("FTA_BACKUP_KEEP", "7", ["How many scheduled backups to keep; older ones are deleted after a new one is checked."]),
            .init("FTA_BACKUP_KEY_FILE", "", ["A file holding a 64-hex-character key (openssl rand -hex 32): backups are then encrypted", "with AES-256-GCM. Keep the key off this disk too, or a thief of the disk has both."]),
            .init("FTA_BACKUP_HOOK", "", ["A program run after each scheduled backup with the backup's path as its one argument, to", "copy it off the host (rclone, aws s3 cp, scp...). Its failure is reported, the backup kept."]),
        ]),
        Section(title: "Retention (fta audit prune; docs/operations.md)", variables: [
            .init("FTA_AUDIT_RETENTION_DAYS", "400", ["Audit entries older than this many days (30 at least) are exported to a checksummed", "archive, then deleted from the database, once a day by fta serve."]),
            .init("FTA_AUDIT_ARCHIVE_DIR", "/var/lib/fta/audit-archive", ["Where pruned audit entries go: audit-<first id>-<last id>.jsonl and its .sha256, mode 0600.", "Copy them off the host with the backups (FTA_BACKUP_HOOK)."]),
        ]),
        Section(title: "Alerts (docs/operations.md): a webhook, e-mail, or both; none when both are empty", variables: [
            .init("FTA_ALERT_WEBHOOK_URL", "", ["Each alert and each recovery is POSTed here as JSON (http or https)."]),
            .init("FTA_ALERT_SMTP_URL", "", ["smtp://relay:587 (STARTTLS when offered) or smtps://relay:465."]),
            .init("FTA_ALERT_EMAIL_FROM", ""),
            .init("FTA_ALERT_EMAIL_TO", "", ["One address or several, comma-separated."]),
            .init("FTA_ALERT_SMTP_USER", "", ["The relay's login and password, if it asks for them."]),
            .init("FTA_ALERT_SMTP_PASSWORD", ""),
            .init("FTA_ALERT_CHECK_SECONDS", "30", ["Seconds between two looks at what to alert on."]),
            .init("FTA_ALERT_REPEAT_MINUTES", "360", ["An alert still firing is sent again at most this often; a recovery is always sent."]),
        ]),
        Section(title: "Tests only: never set these in production", variables: [
            .init("FTA_ALLOW_TEST_STRATEGIES", "false", ["Offer test-only strategies (FtaQuickTest)."]),
            .init("FTA_EXCHANGE_OVERRIDE", "", ["JSON {\"ccxt_config\":{...},\"ccxt_async_config\":{...}} pointing bots at a local market simulator."]),
        ]),
    ]

    public static var all: [ConfigurationVariable] { sections.flatMap(\.variables) }

    /// The example file, `.env.example`: what `fta config example` prints.
    public static func renderExample() -> String {
        var lines = header
        for section in sections {
            lines.append("# --- \(section.title) ---")
            for variable in section.variables {
                lines += variable.doc.map { $0.isEmpty ? "#" : "# \($0)" }
                lines.append(variable.exampleLine)
            }
            lines.append("")
        }
        if lines.last == "" { lines.removeLast() }
        return lines.joined(separator: "\n") + "\n"
    }
}
