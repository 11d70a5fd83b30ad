import FTACore
import FTAHTTP
import FTARuntime
import FTAStore
import Foundation

/// One finding of `fta doctor`.
public struct DoctorCheck: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case pass, warn, fail }
    public var name: String
    public var status: Status
    public var detail: String
    /// What to do about it; empty on a pass.
    public var fix: String

    static func pass(_ name: String, _ detail: String) -> DoctorCheck { DoctorCheck(name: name, status: .pass, detail: detail, fix: "") }
    static func warn(_ name: String, _ detail: String, fix: String) -> DoctorCheck { DoctorCheck(name: name, status: .warn, detail: detail, fix: fix) }
    static func fail(_ name: String, _ detail: String, fix: String) -> DoctorCheck { DoctorCheck(name: name, status: .fail, detail: detail, fix: fix) }
}

extension DoctorCheck {
    /// A runtime's self-check finding, as doctor shows it.
    init(_ check: RuntimeCheck) {
        let status: Status = switch check.verdict {
        case .pass: .pass
        case .warn: .warn
        case .fail: .fail
        }
        self.init(name: check.name, status: status, detail: check.detail, fix: check.fix)
    }
}

/// Checks an installation and explains each finding with its fix. The portal's `/system` page
/// runs the checks that need no root; `fta doctor` runs all of them.
public struct Doctor: Sendable {
    let configuration: PortalConfiguration
    let runtime: any BotRuntime
    let database: AppDatabase?
    let lifecycle: BotLifecycle?
    let bridge: FreqtradeBridge?

    public init(configuration: PortalConfiguration, runtime: any BotRuntime, database: AppDatabase?, lifecycle: BotLifecycle?,
                bridge: FreqtradeBridge?) {
        self.configuration = configuration
        self.runtime = runtime
        self.database = database
        self.lifecycle = lifecycle
        self.bridge = bridge
    }

    var envFile: String { configuration.envFile }

    /// Every check. `hostChecks` adds those that read root-owned files or other processes.
    public func run(hostChecks: Bool) async -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        if hostChecks {
            checks.append(portalListensOnLoopbackOnly())
            checks.append(await portalAnswers())
            // Here and not on /system: the running portal's own copy is what its
            // /api/v1/openapi.json shows; this is the file the next start will read.
            checks.append(apiDescriptionIsInstalled())
            checks.append(nginxProxiesToPortal())
            checks.append(envFileIsPrivate())
        }
        // The runtime checks its own promises (on Docker: the proxy's policy, the engine socket).
        checks += await runtime.selfCheck(host: hostChecks).map(DoctorCheck.init)
        checks.append(databaseIsHealthy())
        checks.append(await lockdownState())
        checks += await botsComply()
        checks.append(diskHeadroom())
        checks.append(await botStorage())
        checks.append(backups())
        checks.append(memoryHeadroom())
        return checks
    }

    // MARK: Portal and nginx

    func portalListensOnLoopbackOnly() -> DoctorCheck {
        let listeners = ListeningSockets.tcp(port: configuration.port)
        if listeners.isEmpty {
            return .fail("portal.loopback", "nothing listens on port \(configuration.port)", fix: "start the portal: fta serve (or check the fta service's log)")
        }
        let exposed = listeners.filter { !["127.0.0.1", "::1"].contains($0) }
        if exposed.isEmpty { return .pass("portal.loopback", "port \(configuration.port) listens on \(listeners.joined(separator: ", ")) only") }
        return .fail("portal.loopback", "port \(configuration.port) also listens on \(exposed.joined(separator: ", "))",
                     fix: "set FTA_LISTEN=127.0.0.1 and make sure no other program uses port \(configuration.port)")
    }

    func portalAnswers() async -> DoctorCheck {
        let request = HTTPRequest(method: "GET", url: "http://127.0.0.1:\(configuration.port)/api/v1/health", timeout: .seconds(3))
        guard let response = try? await HTTPTransport.perform(request), response.status == 200 else {
            return .fail("portal.health", "GET /api/v1/health on 127.0.0.1:\(configuration.port) did not answer 200", fix: "start the portal and read its log (/var/log/fta/fta.log or journalctl -u fta)")
        }
        let status = (try? JSONDecoder().decode(JSONValue.self, from: response.body))?["status"]?.stringValue ?? "?"
        return status == "ok" ? .pass("portal.health", "health is ok") : .warn("portal.health", "health is \(status)", fix: "see the proxy and database checks below")
    }

    func apiDescriptionIsInstalled() -> DoctorCheck {
        switch APIDescription.load(webRoot: configuration.webRoot) {
        case .available:
            return .pass("api.description", "\(APIDescription.path(webRoot: configuration.webRoot)) is a JSON document, for /api/v1/openapi.json")
        case .unavailable(let reason):
            return .fail("api.description", "\(reason): /api/v1/openapi.json answers 503",
                         fix: "run install.sh again (it installs web/, api/openapi.json included) and restart fta; check FTA_WEB_ROOT")
        }
    }

    func nginxProxiesToPortal() -> DoctorCheck {
        guard let nginx = Shell.which("nginx") else {
            return .fail("nginx", "nginx is not installed", fix: "run install.sh again")
        }
        let test = Shell.run(nginx, ["-t"])
        guard test.status == 0 else {
            return .fail("nginx", "nginx -t rejects the configuration: \(test.output.suffix(300))", fix: "fix the site in /etc/nginx, or run install.sh again")
        }
        let dump = Shell.run(nginx, ["-T"]).output
        guard NginxConfiguration.proxiesTo(port: configuration.port, dump: dump) else {
            return .fail("nginx", "no nginx site proxies to 127.0.0.1:\(configuration.port)", fix: "run install.sh again to install the fta site")
        }
        return .pass("nginx", "configuration valid and proxying to 127.0.0.1:\(configuration.port)")
    }

    func envFileIsPrivate() -> DoctorCheck {
        guard let text = try? String(contentsOfFile: envFile, encoding: .utf8) else {
            return .warn("env.file", "\(envFile) is not readable here", fix: "run fta doctor as root, or run install.sh to write it")
        }
        let mode = (try? DatabaseFile.mode(of: envFile)) ?? 0
        if mode & 0o077 != 0 {
            return .fail("env.file", "\(envFile) has mode \(String(mode, radix: 8))", fix: "chmod 600 \(envFile)")
        }
        // Every spelling a template uses (.env.example's CHANGE_ME_..., install.sh's built-in
        // change-me), in any case; comment lines may name them.
        let placeholders = text.split(separator: "\n").filter { line in
            let lower = line.lowercased()
            return !line.hasPrefix("#") && ["change_me", "changeme", "change-me"].contains { lower.contains($0) }
        }
        if !placeholders.isEmpty {
            let names = placeholders.map { $0.split(separator: "=").first.map(String.init) ?? "?" }
            return .fail("env.file", "placeholder secrets in \(envFile): \(names.joined(separator: ", "))", fix: "run install.sh again: it generates missing secrets")
        }
        return .pass("env.file", "\(envFile) is 0600 and holds no placeholder secret")
    }

    // MARK: Database, bots

    func databaseIsHealthy() -> DoctorCheck {
        let path = configuration.databasePath
        guard FileManager.default.fileExists(atPath: path) else {
            return .fail("database", "\(path) does not exist", fix: "run: fta migrate")
        }
        do {
            try DatabaseBackup.checkIntegrity(of: path)
        } catch {
            return .fail("database", "\(error)", fix: "restore the latest backup: fta restore FILE")
        }
        let mode = (try? DatabaseFile.mode(of: path)) ?? 0
        guard mode & 0o077 == 0 else {
            return .fail("database", "\(path) has mode \(String(mode, radix: 8))", fix: "chmod 600 \(path)")
        }
        return .pass("database", "integrity ok, mode 600")
    }

    /// A lockdown is the operator's own decision, so it is a warning, not a failure: doctor
    /// says it is in force, since when and why, and how to end it.
    func lockdownState() async -> DoctorCheck {
        guard let database else { return .warn("lockdown", "no database to read the lockdown state from", fix: "see the database check") }
        do {
            guard let lockdown = try await database.lockdown() else { return .pass("lockdown", "not in force: clients sign in, bots run") }
            return .warn("lockdown", "in force since \(Lockdown.time(lockdown.since)) (by \(lockdown.by); reason: \(lockdown.reason ?? "none given")): client sign-in refused, bots kept stopped",
                         fix: "when the incident is over: fta lockdown --lift (bots then stay stopped until their owners start them)")
        } catch {
            return .warn("lockdown", "cannot read the lockdown state", fix: "run: fta migrate")
        }
    }

    func botsComply() async -> [DoctorCheck] {
        guard let database, let lifecycle else { return [] }
        guard let bots = try? await database.bots() else { return [.fail("bots", "cannot read bots from the database", fix: "see the database check")] }
        var checks: [DoctorCheck] = []
        for bot in bots where bot.desiredState == .running || bot.state == .running {
            let name = "bot.\(bot.id)"
            do {
                guard let status = try await lifecycle.status(of: bot) else {
                    checks.append(.warn(name, "should run but has no container", fix: "fta reconcile recreates it"))
                    continue
                }
                if !status.deviations.isEmpty {
                    checks.append(.fail(name, "out of the hardened spec: \(status.deviations.joined(separator: "; "))", fix: "fta reconcile stops and quarantines it; then delete and recreate the bot"))
                    continue
                }
                if status.isRunning, let bridge {
                    // Doctor only looks: the reconciler's dry-run guard is the one that quarantines.
                    do {
                        switch try await bridge.dryRunVerdict(bot) {
                        case .dryRun: checks.append(.pass(name, "hardened, running, reports dry-run"))
                        case .live(let reported):
                            checks.append(.fail(name, "reports dry_run = \(reported)", fix: "run fta reconcile (it stops and quarantines the bot), then delete it and look at how it was created"))
                        }
                    } catch {
                        checks.append(.warn(name, "hardened; its API did not confirm dry-run yet", fix: "wait for the bot to finish starting, then run fta doctor again"))
                    }
                } else {
                    checks.append(.pass(name, "hardened (\(status.phase.rawValue))"))
                }
            } catch {
                checks.append(.fail(name, "cannot inspect its container: \(error)", fix: "see the proxy checks"))
            }
        }
        if bots.isEmpty { checks.append(.pass("bots", "no bots yet")) }
        return checks
    }

    // MARK: Host resources

    var dataDir: String {
        let dir = (configuration.databasePath as NSString).deletingLastPathComponent
        return dir.isEmpty ? "." : dir
    }

    func diskHeadroom() -> DoctorCheck {
        let dir = dataDir
        guard let space = DiskSpace.of(dir) else { return .warn("disk", "cannot read free space of \(dir)", fix: "check that \(dir) exists") }
        let freeMB = space.freeMB
        if space.isLow(fraction: 0) { return .fail("disk", "\(freeMB) MiB free on \(dir)", fix: "free disk space: docker system prune (images), old backups, logs") }
        if freeMB < 1024 { return .warn("disk", "\(freeMB) MiB free on \(dir)", fix: "free disk space soon") }
        return .pass("disk", "\(freeMB) MiB free on \(dir)")
    }

    /// The disk alarm of `/health`: the database's filesystem above its floor, and the bots'
    /// store (when capped) above a tenth. Cheap enough for every health request: two statvfs.
    public func diskIsAmple() -> Bool {
        if let data = DiskSpace.of(dataDir), data.isLow(fraction: 0) { return false }
        if configuration.botDiskMB != nil, let store = DiskSpace.of(configuration.botStore), store.isLow() { return false }
        return true
    }

    /// Bots' volumes: capped each, on a filesystem of their own, with room left (the disk alarm).
    func botStorage() async -> DoctorCheck {
        let store = BotStore.inspect(configuration.botStore)
        let path = configuration.botStore
        guard let capMB = configuration.botDiskMB else {
            if configuration.botDiskOff {
                return .warn("bots.storage", "FTA_BOT_DISK_MB=off: bot volumes have no cap (install.sh sets this on an engine it does not own, --docker-host)",
                             fix: "on fta's own engine, run install.sh without --docker-host: it puts bot volumes on a capped filesystem of their own")
            }
            return .fail("bots.storage", "bot volumes have no cap (FTA_BOT_DISK_MB is off, or \(path) is not an XFS filesystem mounted with project quotas): one bot can fill the disk",
                         fix: "run install.sh again: it puts bot volumes on a capped filesystem of their own (docs/security.md)")
        }
        guard store.enforcesQuotas else {
            return .fail("bots.storage", "FTA_BOT_DISK_MB=\(capMB) but \(path) is not an XFS mount with project quotas: Docker will refuse every new bot volume",
                         fix: "run install.sh again, or set FTA_BOT_DISK_MB=auto")
        }
        if let shared = Self.sameFilesystem(path, dataDir), shared {
            return .fail("bots.storage", "\(path) is on the filesystem of \(dataDir): a full store would stop the database",
                         fix: "run install.sh again: the store is an image mounted on its own")
        }
        guard let total = store.totalMB, let free = store.freeMB else {
            return .warn("bots.storage", "cannot read the free space of \(path)", fix: "check that \(path) is mounted")
        }
        var detail = "each bot volume capped at \(capMB) MiB on \(path) (XFS, project quotas): \(free) of \(total) MiB free"
        if let bots = try? await database?.bots(), bots.count * capMB > total {
            // Caps that add up to more than the store let full bots starve the others.
            detail += "; \(bots.count) bots x \(capMB) MiB is more than the store"
            return .warn("bots.storage", detail, fix: "grow the store (install.sh --bot-store-mb) or delete unused bots")
        }
        if DiskSpace(totalMB: total, freeMB: free).isLow() {
            return .fail("bots.storage", detail, fix: "a bot's volume is nearly full: look at its logs, or grow the store (install.sh --bot-store-mb)")
        }
        return .pass("bots.storage", detail)
    }

    /// Scheduled backups (the daily fta-backup.timer): there is one, and the newest is recent.
    func backups(now: Date = Date()) -> DoctorCheck {
        let directory = configuration.backupDirectory
        guard let newest = ScheduledBackups.list(directory).first else {
            return .warn("backups", "no scheduled backup in \(directory) yet",
                         fix: "run: fta-admin backup --scheduled (install.sh enables fta-backup.timer, which runs it daily)")
        }
        let hours = Int(now.timeIntervalSince(newest.date) / 3600)
        let detail = "newest \(newest.path) is \(hours) h old\(newest.sealed ? ", encrypted" : ""); keeping \(configuration.backupKeep)"
        // Daily, at a random time within 30 minutes, catching up at boot: over 26 h means a run was missed.
        if hours >= 72 { return .fail("backups", detail, fix: "see: systemctl status fta-backup.timer fta-backup.service; journalctl -u fta-backup") }
        if hours >= 26 { return .warn("backups", detail, fix: "the daily backup did not run: systemctl status fta-backup.timer; journalctl -u fta-backup") }
        return .pass("backups", detail)
    }

    /// Whether two paths are on one filesystem (nil when one cannot be read).
    static func sameFilesystem(_ a: String, _ b: String) -> Bool? {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return nil }
        return sa.st_dev == sb.st_dev
    }

    func memoryHeadroom() -> DoctorCheck {
        guard let text = ProcFields.read("/proc/meminfo"),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
              let kb = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return .warn("memory", "cannot read /proc/meminfo", fix: "") }
        let availableMB = kb / 1024
        // Swapping limits keep a bot's RAM below its footprint: with no swap behind them, every
        // bot is OOM-killed while it imports (docs/density.md).
        if configuration.botSwap, let host = HostMemory.parse(text), host.swapTotalMB == 0 {
            return .fail("memory", "FTA_BOT_SWAP is on but the host has no swap: bots will be killed for running out of memory",
                         fix: "add swap or zram (install.sh adds a swap file on small hosts), or set FTA_BOT_SWAP=auto")
        }
        let budget = configuration.memoryBudgetMB.map { "fixed bot budget \($0) MiB" } ?? "bot budget measured"
        let detail = "\(availableMB) MiB available; \(budget); bots \(configuration.botSwap ? "may" : "may not") swap"
        if availableMB < 64 { return .fail("memory", detail, fix: "stop a bot or add memory/swap") }
        if availableMB < 150 { return .warn("memory", detail, fix: "the host is short of memory: stop a bot or lower FTA_MEMORY_BUDGET_MB") }
        return .pass("memory", detail)
    }
}

/// Local addresses listening on a TCP port, from /proc/net/tcp and tcp6.
enum ListeningSockets {
    static func tcp(port: Int) -> [String] {
        var addresses: [String] = []
        let hexPort = String(format: "%04X", port)
        for (file, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
            guard let text = ProcFields.read(file) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 3, fields[3] == "0A" else { continue }  // 0A = LISTEN
                let local = fields[1].split(separator: ":")
                guard local.count == 2, local[1] == hexPort else { continue }
                addresses.append(decode(String(local[0]), v6: v6))
            }
        }
        return addresses
    }

    private static func decode(_ hex: String, v6: Bool) -> String {
        let bytes = stride(from: 0, to: hex.count, by: 2).compactMap { i -> UInt8? in
            let start = hex.index(hex.startIndex, offsetBy: i)
            return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)
        }
        if !v6 { return bytes.reversed().map(String.init).joined(separator: ".") }
        // /proc prints IPv6 as four little-endian 32-bit words.
        let words = stride(from: 0, to: 16, by: 4).map { Array(bytes[$0..<$0 + 4].reversed()) }.flatMap { $0 }
        if words[0..<10].allSatisfy({ $0 == 0 }) && words[10] == 0xff && words[11] == 0xff {
            return words[12...].map(String.init).joined(separator: ".")
        }
        if words[0..<15].allSatisfy({ $0 == 0 }) && words[15] == 1 { return "::1" }
        if words.allSatisfy({ $0 == 0 }) { return "::" }
        return stride(from: 0, to: 16, by: 2).map { String(format: "%x", UInt16(words[$0]) << 8 | UInt16(words[$0 + 1])) }.joined(separator: ":")
    }
}

/// What `nginx -T` (the whole configuration, as nginx reads it) says about where it proxies.
enum NginxConfiguration {
    /// True when some `proxy_pass` reaches 127.0.0.1:`port` (or [::1]:`port`): directly, or
    /// through an `upstream` block with such a `server`, as install.sh's site does (an upstream
    /// keeps connections to the portal alive).
    static func proxiesTo(port: Int, dump: String) -> Bool {
        // Comments could name the port without meaning it (nginx -T also prints file headers as
        // comments). No directive fta cares about has a # inside a value.
        let text = dump.split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "" }
            .joined(separator: "\n")
        let address = "(?:127\\.0\\.0\\.1|\\[::1\\]):\(port)(?![0-9])"
        if matches("proxy_pass\\s+https?://\(address)", in: text) { return true }
        for upstream in captures("upstream\\s+([A-Za-z0-9_.-]+)\\s*\\{([^}]*)\\}", in: text) where upstream.count == 2 {
            let (name, body) = (upstream[0], upstream[1])
            guard matches("(?:^|[\\s;])server\\s+\(address)", in: body) else { continue }
            let escaped = NSRegularExpression.escapedPattern(for: name)
            if matches("proxy_pass\\s+https?://\(escaped)(?:[\\s;/]|$)", in: text) { return true }
        }
        return false
    }

    private static func matches(_ pattern: String, in text: String) -> Bool {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return false }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// The capture groups of every match.
    private static func captures(_ pattern: String, in text: String) -> [[String]] {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { match in
            (1..<match.numberOfRanges).compactMap { Range(match.range(at: $0), in: text).map { String(text[$0]) } }
        }
    }
}

/// Runs a program and captures its output (for nginx -t).
enum Shell {
    static func which(_ name: String) -> String? {
        for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        return nil
    }

    static func run(_ path: String, _ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
