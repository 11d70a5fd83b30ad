import FTACore
import Foundation

/// Everything `fta` reads from its environment (`FTA_*`, `DOCKER_NETWORK`), validated at start.
///
/// Flags override variables: the CLI passes its flags as `overrides`, keyed by the variable name
/// they replace. A missing or malformed required value stops start-up with a message naming it.
public struct PortalConfiguration: Sendable {
    public var listenAddress: String
    public var port: Int
    public var databasePath: String
    public var webRoot: String
    public var dockerURL: String
    public var botImage: String
    public var secretKeyHex: String
    /// FTA_SECRET_KEY_PREVIOUS, only while `fta-admin rotate-key` replaces the key: it still
    /// opens what the old key sealed. Not in the example file: nobody sets it by hand.
    public var previousSecretKeyHex: String?
    /// The URL users type (nginx's). `https` turns on `Secure` cookies with the `__Host-` prefix.
    public var publicURL: String?
    public var controlNetwork: String
    /// The engine's own socket, which only the proxy opens; doctor checks fta cannot.
    public var engineSocket: String
    /// The env file these values came from (fta-run says so); doctor checks its mode.
    public var envFile: String
    /// FTA_MEMORY_BUDGET_MB: a fixed budget for all bots; nil: measured from the host (admission).
    public var memoryBudgetMB: Int?
    /// FTA_BOT_SWAP resolved: whether bots' cold pages may go to swap.
    public var botSwap: Bool
    public var memoryMarginMB: Int?
    /// FTA_BOT_STORE: where bots' volumes live (a mount point of its own, set up by install.sh).
    public var botStore: String
    /// FTA_BOT_DISK_MB resolved: each bot volume's cap in MiB; nil: unbounded.
    public var botDiskMB: Int?
    /// Whether FTA_BOT_DISK_MB was set to off on purpose (an engine install.sh does not own),
    /// rather than auto on a store that cannot cap.
    public var botDiskOff: Bool
    public var swapCreditMB: Int?
    public var maxBotsPerClient: Int
    public var sessionIdleTimeout: TimeInterval
    public var sessionLifetime: TimeInterval
    public var loginMaxFailures: Int
    public var loginWindow: TimeInterval
    public var loginLockout: TimeInterval
    public var bcryptCost: UInt8
    public var reconcileInterval: TimeInterval
    public var allowTestStrategies: Bool
    public var exchangeOverride: ExchangeOverride?
    public var logLevel: String
    /// FTA_BACKUP_*: scheduled backups (`fta backup --scheduled`).
    public var backupDirectory: String
    public var backupKeep: Int
    public var backupKeyFile: String?
    public var backupHook: String?
    /// FTA_AUDIT_*: how long audit entries stay in the database, and where pruned ones are archived.
    public var auditRetentionDays: Int
    public var auditArchiveDirectory: String
    /// FTA_ALERT_*: where alerts go, how often to look, how often to repeat.
    public var alerts: AlertSettings
    /// FTA_LAB_*: the strategy lab's cache cap and time limit.
    public var lab = LabSettings()
    /// FTA_CHARTJS_DIR: the distribution's Chart.js, served at /vendor/chart.js/.
    public var chartLibraryDirectory: String = "/usr/share/javascript/chart.js"
    /// FTA_RUNTIME: where bots run.
    public var runtime: RuntimeKind = .docker
    /// FTA_AWS_*: the account bots run in, with `runtime == .fargate` only.
    public var aws: AWSRuntimeSettings?

    /// The variables fta reads, with their defaults: from `ConfigurationCatalog`, their one owner.
    public static var variables: [(name: String, defaultValue: String?, doc: String)] {
        ConfigurationCatalog.all.filter(\.readByFTA).map { ($0.name, $0.defaultValue, $0.doc.joined(separator: " ")) }
    }

    /// Reads and validates the configuration.
    /// - Parameters:
    ///   - environment: usually `ProcessInfo.processInfo.environment`.
    ///   - overrides: flag values keyed by the variable they override.
    ///   - requireSecrets: false for commands that never touch bot secrets (migrate, backup, ...).
    public static func load(
        environment: [String: String], overrides: [String: String] = [:], requireSecrets: Bool = true,
        host: HostMemory? = HostMemory.read()
    ) throws(ConfigurationError) -> PortalConfiguration {
        var values: [String: String] = [:]
        for (name, defaultValue, _) in variables {
            if let v = overrides[name] ?? environment[name], !v.isEmpty { values[name] = v } else if let d = defaultValue, !d.isEmpty { values[name] = d }
        }
        func int(_ name: String, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
            guard let text = values[name], let v = Int(text), range.contains(v) else {
                throw ConfigurationError(variable: name, problem: "must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(values[name] ?? "")'")
            }
            return v
        }
        func absolute(_ name: String) throws(ConfigurationError) -> String {
            guard let path = values[name], path.hasPrefix("/"), !path.contains("\n") else {
                throw ConfigurationError(variable: name, problem: "must be an absolute path, got '\(values[name] ?? "")'")
            }
            return path
        }
        func alertSettings() throws(ConfigurationError) -> AlertSettings {
            let webhook = values["FTA_ALERT_WEBHOOK_URL"]
            if let webhook, URL(string: webhook)?.scheme.map({ ["http", "https"].contains($0) }) != true || URL(string: webhook)?.host == nil {
                throw ConfigurationError(variable: "FTA_ALERT_WEBHOOK_URL", problem: "must be an http(s) URL, got '\(webhook)'")
            }
            let smtp = values["FTA_ALERT_SMTP_URL"]
            let to = (values["FTA_ALERT_EMAIL_TO"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if let smtp {
                guard URL(string: smtp)?.scheme.map({ ["smtp", "smtps"].contains($0) }) == true, URL(string: smtp)?.host != nil else {
                    throw ConfigurationError(variable: "FTA_ALERT_SMTP_URL", problem: "must be smtp://host:port or smtps://host:port, got '\(smtp)'")
                }
                guard let from = values["FTA_ALERT_EMAIL_FROM"], from.contains("@") else {
                    throw ConfigurationError(variable: "FTA_ALERT_EMAIL_FROM", problem: "must be an e-mail address when FTA_ALERT_SMTP_URL is set")
                }
                _ = from
                guard !to.isEmpty, to.allSatisfy({ $0.contains("@") && !$0.contains(" ") }) else {
                    throw ConfigurationError(variable: "FTA_ALERT_EMAIL_TO", problem: "must be one or more e-mail addresses when FTA_ALERT_SMTP_URL is set")
                }
            }
            return AlertSettings(webhookURL: webhook, smtpURL: smtp, emailFrom: values["FTA_ALERT_EMAIL_FROM"], emailTo: to,
                                 smtpUser: values["FTA_ALERT_SMTP_USER"], smtpPassword: values["FTA_ALERT_SMTP_PASSWORD"],
                                 checkInterval: TimeInterval(try int("FTA_ALERT_CHECK_SECONDS", 1...3600)),
                                 repeatInterval: TimeInterval(try int("FTA_ALERT_REPEAT_MINUTES", 1...10080) * 60))
        }
        func bool(_ name: String) throws(ConfigurationError) -> Bool {
            switch values[name]?.lowercased() {
            case "true", "1", "yes": return true
            case "false", "0", "no", nil: return false
            default: throw ConfigurationError(variable: name, problem: "must be true or false, got '\(values[name]!)'")
            }
        }

        let listen = values["FTA_LISTEN"]!
        guard ["127.0.0.1", "::1", "localhost"].contains(listen) else {
            throw ConfigurationError(variable: "FTA_LISTEN", problem: "must be a loopback address (127.0.0.1 or ::1); fta serve never listens on '\(listen)': publish it through nginx instead")
        }

        let secret = values["FTA_SECRET_KEY"] ?? ""
        if requireSecrets {
            if secret.isEmpty { throw ConfigurationError(variable: "FTA_SECRET_KEY", problem: "is required (generate one with: openssl rand -hex 32)") }
            if secret.lowercased().contains("change") || secret.lowercased().contains("placeholder") || Set(secret).count < 8 {
                throw ConfigurationError(variable: "FTA_SECRET_KEY", problem: "is still a placeholder; generate one with: openssl rand -hex 32")
            }
            if SecretBox(hexKey: secret) == nil {
                throw ConfigurationError(variable: "FTA_SECRET_KEY", problem: "must be 64 hex characters (32 bytes); generate one with: openssl rand -hex 32")
            }
        }
        let previousSecret = (overrides["FTA_SECRET_KEY_PREVIOUS"] ?? environment["FTA_SECRET_KEY_PREVIOUS"]).flatMap { $0.isEmpty ? nil : $0 }
        if let previousSecret, SecretBox(hexKey: previousSecret) == nil {
            throw ConfigurationError(variable: "FTA_SECRET_KEY_PREVIOUS", problem: "must be 64 hex characters (32 bytes): the key fta-admin rotate-key replaces")
        }

        let docker = values["FTA_DOCKER_URL"]!
        guard docker.hasPrefix("unix:///") || docker.hasPrefix("http://") || docker.hasPrefix("https://") else {
            throw ConfigurationError(variable: "FTA_DOCKER_URL", problem: "must be unix:///absolute/path or http://host:port, got '\(docker)'")
        }
        if ["unix:///var/run/docker.sock", "unix:///run/docker.sock"].contains(docker) {
            throw ConfigurationError(variable: "FTA_DOCKER_URL", problem: "points at the Docker socket itself; fta talks to Docker only through the socket proxy")
        }

        let publicURL = values["FTA_PUBLIC_URL"]
        if let publicURL, URL(string: publicURL)?.scheme.map({ ["http", "https"].contains($0) }) != true || URL(string: publicURL)?.host == nil {
            throw ConfigurationError(variable: "FTA_PUBLIC_URL", problem: "must be an http(s) URL like https://portal.example.com, got '\(publicURL)'")
        }

        let image = values["FTA_BOT_IMAGE"]!
        guard image.range(of: #"^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?$"#, options: .regularExpression) != nil,
              image.contains(":") || image.contains("@")
        else {
            throw ConfigurationError(variable: "FTA_BOT_IMAGE", problem: "must be a pinned image reference like freqtradeorg/freqtrade:2026.9, got '\(image)'")
        }

        let budget = values["FTA_MEMORY_BUDGET_MB"] == nil ? nil : try int("FTA_MEMORY_BUDGET_MB", 128...1_048_576)
        let margin = values["FTA_MEMORY_MARGIN_MB"] == nil ? nil : try int("FTA_MEMORY_MARGIN_MB", 0...1_048_576)
        let credit = values["FTA_SWAP_CREDIT_MB"] == nil ? nil : try int("FTA_SWAP_CREDIT_MB", 0...1_048_576)
        let botSwap: Bool
        switch values["FTA_BOT_SWAP"]!.lowercased() {
        // Auto: a bot limited below its footprint with no swap behind it would be OOM-killed, so
        // swapping limits only where there is swap to take the cold pages.
        case "auto": botSwap = (host?.swapTotalMB ?? 0) > 0
        case "on", "true", "1", "yes": botSwap = true
        case "off", "false", "0", "no": botSwap = false
        default: throw ConfigurationError(variable: "FTA_BOT_SWAP", problem: "must be on, off or auto, got '\(values["FTA_BOT_SWAP"]!)'")
        }

        let store = values["FTA_BOT_STORE"]!
        guard store.hasPrefix("/") else {
            throw ConfigurationError(variable: "FTA_BOT_STORE", problem: "must be an absolute path, got '\(store)'")
        }
        let botDisk: Int?
        switch values["FTA_BOT_DISK_MB"]!.lowercased() {
        // Auto: Docker refuses a volume with a size where the filesystem has no project quotas,
        // so a cap only where the store can enforce it; doctor fails on an unbounded store.
        case "auto": botDisk = BotStore.inspect(store).enforcesQuotas ? BotStore.defaultDiskMB : nil
        case "off", "false", "0", "no": botDisk = nil
        default: botDisk = try int("FTA_BOT_DISK_MB", 16...8192)
        }

        var override: ExchangeOverride?
        if let text = values["FTA_EXCHANGE_OVERRIDE"] {
            guard let json = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)), let ccxt = json["ccxt_config"] else {
                throw ConfigurationError(variable: "FTA_EXCHANGE_OVERRIDE", problem: "must be JSON with a ccxt_config object")
            }
            override = ExchangeOverride(ccxtConfig: ccxt, ccxtAsyncConfig: json["ccxt_async_config"] ?? ccxt)
        }

        let level = values["FTA_LOG_LEVEL"]!
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
            throw ConfigurationError(variable: "FTA_LOG_LEVEL", problem: "must be one of trace, debug, info, notice, warning, error, critical")
        }

        var configuration = PortalConfiguration(
            listenAddress: listen == "localhost" ? "127.0.0.1" : listen,
            port: try int("FTA_PORT", 1...65535),
            databasePath: values["FTA_DATABASE"]!,
            webRoot: values["FTA_WEB_ROOT"]!,
            dockerURL: docker,
            botImage: image,
            secretKeyHex: secret,
            previousSecretKeyHex: previousSecret,
            publicURL: publicURL,
            controlNetwork: values["DOCKER_NETWORK"]!,
            engineSocket: values["FTA_DOCKER_SOCKET"]!,
            // Not a setting of the file but where it is: fta-run names the file it read.
            envFile: overrides["FTA_ENV_FILE"] ?? environment["FTA_ENV_FILE"] ?? "/etc/fta/fta.env",
            memoryBudgetMB: budget,
            botSwap: botSwap,
            memoryMarginMB: margin,
            botStore: store,
            botDiskMB: botDisk,
            botDiskOff: ["off", "false", "0", "no"].contains(values["FTA_BOT_DISK_MB"]!.lowercased()),
            swapCreditMB: credit,
            maxBotsPerClient: try int("FTA_MAX_BOTS_PER_CLIENT", 1...1000),
            sessionIdleTimeout: TimeInterval(try int("FTA_SESSION_IDLE_MINUTES", 1...1440) * 60),
            sessionLifetime: TimeInterval(try int("FTA_SESSION_MAX_HOURS", 1...720) * 3600),
            loginMaxFailures: try int("FTA_LOGIN_MAX_FAILURES", 1...100),
            loginWindow: TimeInterval(try int("FTA_LOGIN_WINDOW_SECONDS", 1...86400)),
            loginLockout: TimeInterval(try int("FTA_LOGIN_LOCKOUT_SECONDS", 1...86400)),
            bcryptCost: UInt8(try int("FTA_BCRYPT_COST", 12...16)),
            reconcileInterval: TimeInterval(try int("FTA_RECONCILE_SECONDS", 1...3600)),
            allowTestStrategies: try bool("FTA_ALLOW_TEST_STRATEGIES"),
            exchangeOverride: override,
            logLevel: level,
            backupDirectory: try absolute("FTA_BACKUP_DIR"),
            backupKeep: try int("FTA_BACKUP_KEEP", 1...1000),
            backupKeyFile: values["FTA_BACKUP_KEY_FILE"] == nil ? nil : try absolute("FTA_BACKUP_KEY_FILE"),
            backupHook: values["FTA_BACKUP_HOOK"] == nil ? nil : try absolute("FTA_BACKUP_HOOK"),
            // 30 days at least: the schema refuses to prune anything younger anyway.
            auditRetentionDays: try int("FTA_AUDIT_RETENTION_DAYS", 30...36500),
            auditArchiveDirectory: try absolute("FTA_AUDIT_ARCHIVE_DIR"),
            alerts: try alertSettings(),
            chartLibraryDirectory: try absolute("FTA_CHARTJS_DIR")
        )
        configuration.lab = LabSettings(dataCapMB: try int("FTA_LAB_DATA_CAP_MB", 64...65536),
                                        backtestTimeLimit: try int("FTA_LAB_BACKTEST_SECONDS", 60...7200))
        configuration.lab.validateTimeLimit = try int("FTA_LAB_VALIDATE_SECONDS", 10...600)
        switch values["FTA_RUNTIME"]!.lowercased() {
        case "docker": configuration.runtime = .docker
        case "fargate":
            configuration.runtime = .fargate
            configuration.aws = try AWSRuntimeSettings.load(values, retentionDays: try int("FTA_AWS_LOG_RETENTION_DAYS", 1...3653), publicIP: try bool("FTA_AWS_PUBLIC_IP"))
        default: throw ConfigurationError(variable: "FTA_RUNTIME", problem: "must be docker or fargate, got '\(values["FTA_RUNTIME"]!)'")
        }
        return configuration
    }

    /// Whether the portal is reached over TLS (nginx with a certificate).
    public var servesTLS: Bool { publicURL?.hasPrefix("https://") == true }

    /// The session cookie's name: the `__Host-` prefix binds it to this host and path, over TLS.
    public var sessionCookieName: String { servesTLS ? "__Host-fta_session" : "fta_session" }

    /// The origin browsers send in `Origin` for the portal's own pages.
    public var publicOrigin: String? {
        guard let publicURL, let url = URL(string: publicURL), let scheme = url.scheme, let host = url.host else { return nil }
        return url.port.map { "\(scheme)://\(host):\($0)" } ?? "\(scheme)://\(host)"
    }

    public var secretBox: SecretBox? { SecretBox(hexKey: secretKeyHex, previousHexKey: previousSecretKeyHex) }
}

/// Where bots run (FTA_RUNTIME).
public enum RuntimeKind: String, Sendable {
    case docker, fargate
}

/// The FTA_AWS_* settings of the Fargate runtime, checked for the shape of each AWS id so that a
/// typo stops start-up instead of failing at the first bot's launch.
public struct AWSRuntimeSettings: Sendable, Equatable {
    public var region: String
    public var endpoint: String?
    public var cluster: String
    public var vpc: String
    public var subnets: [String]
    public var publicIP: Bool
    public var fileSystem: String
    public var storageSecurityGroup: String?
    public var portalSecurityGroup: String?
    public var executionRoleARN: String?
    public var logRetentionDays: Int

    /// The retention periods CloudWatch Logs accepts (PutRetentionPolicy).
    public static let retentionDays: Set<Int> = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]

    static func load(_ values: [String: String], retentionDays: Int, publicIP: Bool) throws(ConfigurationError) -> AWSRuntimeSettings {
        func id(_ name: String, _ pattern: String, _ example: String, required: Bool = true) throws(ConfigurationError) -> String? {
            guard let value = values[name] else {
                if required { throw ConfigurationError(variable: name, problem: "is required with FTA_RUNTIME=fargate (like \(example))") }
                return nil
            }
            guard value.range(of: pattern, options: .regularExpression) != nil else {
                throw ConfigurationError(variable: name, problem: "must look like \(example), got '\(value)'")
            }
            return value
        }
        let region = try id("FTA_AWS_REGION", #"^[a-z]{2}(-[a-z]+)+-[0-9]$"#, "eu-west-1")!
        let endpoint = values["FTA_AWS_ENDPOINT"]
        if let endpoint, URL(string: endpoint)?.scheme.map({ ["http", "https"].contains($0) }) != true || URL(string: endpoint)?.host == nil {
            throw ConfigurationError(variable: "FTA_AWS_ENDPOINT", problem: "must be an http(s) URL, got '\(endpoint)'")
        }
        let subnets = (values["FTA_AWS_SUBNETS"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !subnets.isEmpty, subnets.allSatisfy({ $0.range(of: #"^subnet-[0-9a-f]{8,17}$"#, options: .regularExpression) != nil }) else {
            throw ConfigurationError(variable: "FTA_AWS_SUBNETS", problem: "must be one or more subnet ids (subnet-0123abcd,...) with FTA_RUNTIME=fargate")
        }
        guard Self.retentionDays.contains(retentionDays) else {
            throw ConfigurationError(variable: "FTA_AWS_LOG_RETENTION_DAYS", problem: "must be one of CloudWatch's periods: \(Self.retentionDays.sorted().map(String.init).joined(separator: ", "))")
        }
        return AWSRuntimeSettings(
            region: region, endpoint: endpoint,
            cluster: try id("FTA_AWS_CLUSTER", #"^[A-Za-z0-9_-]{1,255}$"#, "fta-bots")!,
            vpc: try id("FTA_AWS_VPC", #"^vpc-[0-9a-f]{8,17}$"#, "vpc-0123abcd")!,
            subnets: subnets, publicIP: publicIP,
            fileSystem: try id("FTA_AWS_EFS_FILE_SYSTEM", #"^fs-[0-9a-f]{8,17}$"#, "fs-0123abcd")!,
            storageSecurityGroup: try id("FTA_AWS_STORAGE_SECURITY_GROUP", #"^sg-[0-9a-f]{8,17}$"#, "sg-0123abcd", required: false),
            portalSecurityGroup: try id("FTA_AWS_PORTAL_SECURITY_GROUP", #"^sg-[0-9a-f]{8,17}$"#, "sg-0123abcd", required: false),
            executionRoleARN: try id("FTA_AWS_EXECUTION_ROLE_ARN", #"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$"#, "arn:aws:iam::123456789012:role/fta-bots", required: false),
            logRetentionDays: retentionDays)
    }
}

/// A configuration value that stops start-up, with the variable it concerns.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let variable: String
    public let problem: String
    public var description: String { "\(variable) \(problem)" }
}

extension PortalConfiguration {
    /// How admission counts memory with this configuration.
    public var memoryPolicy: MemoryPolicy {
        MemoryPolicy(fixedBudgetMB: memoryBudgetMB, botSwap: botSwap, marginMB: memoryMarginMB, swapCreditMB: swapCreditMB)
    }
}

extension PortalConfiguration: CustomReflectable {
    /// What prints where the configuration is printed: the settings, never the secret key (nor
    /// the previous one during a rotation, nor the alert relay's password, redacted in its own type).
    public var customMirror: Mirror {
        Mirror(self, children: [
            "listenAddress": listenAddress, "port": port, "databasePath": databasePath, "webRoot": webRoot, "dockerURL": dockerURL,
            "botImage": botImage, "secretKeyHex": "<redacted>", "previousSecretKeyHex": previousSecretKeyHex == nil ? "nil" : "<redacted>",
            "publicURL": publicURL as Any, "envFile": envFile, "botSwap": botSwap, "botStore": botStore, "botDiskMB": botDiskMB as Any,
            "maxBotsPerClient": maxBotsPerClient, "backupDirectory": backupDirectory, "alerts": alerts, "logLevel": logLevel,
        ])
    }
}

