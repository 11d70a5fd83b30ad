import FTACore
import FTAStore
import Foundation
import Prometheus

/// The portal's Prometheus metrics (`GET /metrics`, loopback only; docs/operations.md).
///
/// Two kinds: events counted as they happen, in swift-prometheus' registry (requests, bridge
/// calls, reconcile passes, sign-in failures, proxy denials, OOM kills, restarts); and the state
/// of things, read when Prometheus scrapes (bots by state, the memory budget, the database's
/// size, free disk, the newest backup's age), so that they can never drift from the database.
public final class PortalMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// Counts the alerts read back (the registry's counters are write-only): lockouts, denials.
    private let tallies = Tallies()

    /// Request durations from 1 ms (a static file) to 10 s (a slow bot behind the bridge).
    static let requestBuckets: [Duration] = [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                             .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                                             .seconds(1), .seconds(2.5), .seconds(5), .seconds(10)]
    /// A reconcile pass inspects every bot: milliseconds on a quiet host, seconds on a busy one.
    static let passBuckets: [Duration] = [.milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                                          .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60)]

    /// A metric's name and help text (no namespace or unit parts: the names are written whole).
    static func describe(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    public init() {
        // Declared up front, so that a scrape shows every counter at 0 before its first event.
        for result in ["ok", "error"] { _ = reconcilePasses(result) }
        _ = loginFailures
        _ = loginLockouts
        _ = proxyDenials
        _ = oomKills
        _ = botRestarts
        _ = dryRunGuardTrips
    }

    // MARK: Events

    /// One request, by its route pattern (`/api/v1/bots/{id}`, never the raw path: bounded labels).
    public func request(route: String, method: String, status: Int, duration: Duration) {
        registry.makeDurationHistogram(descriptor: Self.describe("fta_http_request_duration_seconds", "Time to answer a request, by route pattern, method and status class."), labels: [("route", route), ("method", method), ("code", "\(status / 100)xx")], buckets: Self.requestBuckets)
            .record(duration)
    }

    /// One call to a bot's own API through the bridge.
    public func bridgeCall(bot: String, duration: Duration, failed: Bool) {
        registry.makeDurationHistogram(descriptor: Self.describe("fta_bridge_request_duration_seconds", "Time of a call to a bot's Freqtrade API, by bot."), labels: [("bot", bot)], buckets: Self.requestBuckets)
            .record(duration)
        if failed {
            registry.makeCounter(descriptor: Self.describe("fta_bridge_errors_total", "Calls to a bot's API that failed (unreachable, timed out, refused), by bot."), labels: [("bot", bot)]).increment()
        }
    }

    /// One reconcile pass: its duration, and what it found to do.
    public func reconcilePass(duration: Duration, ok: Bool, oomKilled: Int = 0, recreated: Int = 0) {
        registry.makeDurationHistogram(descriptor: Self.describe("fta_reconcile_duration_seconds", "Time of one reconcile pass over every bot."),
                                       labels: [], buckets: Self.passBuckets)
            .record(duration)
        reconcilePasses(ok ? "ok" : "error").increment()
        if oomKilled > 0 { oomKills.increment(by: Int64(oomKilled)) }
        if recreated > 0 { botRestarts.increment(by: Int64(recreated)) }
    }

    func reconcilePasses(_ result: String) -> Counter {
        registry.makeCounter(descriptor: Self.describe("fta_reconcile_passes_total", "Reconcile passes, by result (error: the pass could not finish, e.g. the engine was unreachable)."), labels: [("result", result)])
    }

    var loginFailures: Counter { registry.makeCounter(descriptor: Self.describe("fta_login_failures_total", "Wrong passwords at sign-in and at password changes.")) }
    var loginLockouts: Counter {
        registry.makeCounter(descriptor: Self.describe("fta_login_lockouts_total", "Accounts or addresses locked out after too many wrong passwords."))
    }
    var proxyDenials: Counter {
        registry.makeCounter(descriptor: Self.describe("fta_proxy_denials_total", "Operations the socket proxy (or the engine) refused to the portal."))
    }
    var oomKills: Counter { registry.makeCounter(descriptor: Self.describe("fta_bot_oom_kills_total", "Bots found killed for running out of memory.")) }
    var botRestarts: Counter {
        registry.makeCounter(descriptor: Self.describe("fta_bot_restarts_total", "Bot containers the reconciler recreated or started again."))
    }
    var dryRunGuardTrips: Counter {
        registry.makeCounter(descriptor: Self.describe("fta_dry_run_guard_trips_total", "Bots quarantined because their API reported live trading."))
    }

    public func loginFailed(lockedOut: Int) {
        loginFailures.increment()
        if lockedOut > 0 {
            loginLockouts.increment(by: Int64(lockedOut))
            tallies.add("lockouts", lockedOut)
        }
    }

    public func proxyDenied() {
        proxyDenials.increment()
        tallies.add("denials", 1)
    }

    /// How many of `name` ("lockouts", "denials") happened since start.
    public func tally(_ name: String) -> Int { tallies.value(name) }
    public func dryRunGuardTripped() { dryRunGuardTrips.increment() }

    // MARK: Exposition

    /// The state read at scrape time.
    public struct Snapshot: Sendable {
        public var version: String
        public var botsByState: [String: Int]
        public var budget: MemoryAccount?
        public var databaseBytes: Int
        /// Free and total bytes by filesystem role ("database", "bots").
        public var disks: [String: DiskSpace]
        /// Seconds since the newest backup; nil: no backup yet.
        public var backupAgeSeconds: Double?
        public var backups: Int
    }

    /// The exposition text: the registry's metrics, then the scrape-time ones.
    public func exposition(_ snapshot: Snapshot) -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        var text = String(decoding: buffer, as: UTF8.self)
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { text += "\(name)\(sample.labels) \(sample.value)\n" }
        }
        family("fta_build_info", "gauge", "The running fta: always 1, with its version.", [("{version=\"\(Self.escape(snapshot.version))\"}", "1")])
        family("fta_bots", "gauge", "Bots by state.", BotState.allCases.map { ("{state=\"\($0.rawValue)\"}", "\(snapshot.botsByState[$0.rawValue] ?? 0)") })
        if let budget = snapshot.budget {
            family("fta_memory_budget_bytes", "gauge", "The bots' memory budget: total, held by bots, and free for starts.",
                   [("{kind=\"total\"}", "\(budget.budgetMB << 20)"), ("{kind=\"used\"}", "\(budget.botsMB << 20)"), ("{kind=\"free\"}", "\(budget.freeMB << 20)")])
        }
        family("fta_database_size_bytes", "gauge", "The SQLite database with its WAL.", [("", "\(snapshot.databaseBytes)")])
        let disks = snapshot.disks.sorted { $0.key < $1.key }
        family("fta_disk_free_bytes", "gauge", "Free space of the database's filesystem and of the bots' store.",
               disks.map { ("{filesystem=\"\($0.key)\"}", "\($0.value.freeMB << 20)") })
        family("fta_disk_size_bytes", "gauge", "Size of the database's filesystem and of the bots' store.",
               disks.map { ("{filesystem=\"\($0.key)\"}", "\($0.value.totalMB << 20)") })
        family("fta_backups", "gauge", "Scheduled backups kept in FTA_BACKUP_DIR.", [("", "\(snapshot.backups)")])
        if let age = snapshot.backupAgeSeconds {
            family("fta_backup_age_seconds", "gauge", "Seconds since the newest scheduled backup was written.", [("", String(format: "%.0f", age))])
        }
        return text
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}

/// A few counts behind a lock.
private final class Tallies: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    func add(_ name: String, _ amount: Int) { lock.withLock { counts[name, default: 0] += amount } }
    func value(_ name: String) -> Int { lock.withLock { counts[name] ?? 0 } }
}
