import FTACore
import FTAHTTP
import FTARuntime
import FTAStore
import Foundation
import Logging
import ServiceLifecycle

/// Where alerts go (FTA_ALERT_*), how often fta looks, how often it repeats itself.
public struct AlertSettings: Sendable, Equatable {
    public var webhookURL: String?
    public var smtpURL: String?
    public var emailFrom: String?
    public var emailTo: [String]
    public var smtpUser: String?
    public var smtpPassword: String?
    public var checkInterval: TimeInterval
    public var repeatInterval: TimeInterval

    public var isEnabled: Bool { webhookURL != nil || smtpURL != nil }
    /// How long an event (an OOM kill, a lockout, a burst of denials) keeps its alert firing
    /// after it was last seen; then the recovery is sent.
    public var quietWindow: TimeInterval { 5 * checkInterval }
}

/// One message: an alert that starts (or is still) firing, or its recovery.
public struct Alert: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable { case firing, resolved }
    /// What and where, e.g. `bot.failed:acme-ema`: one alert per key at a time.
    public var key: String
    /// The class, e.g. `bot.failed`.
    public var kind: String
    public var state: State
    public var severity: String
    public var summary: String
    public var detail: String
    public var time: Date
    public var host: String
}

/// Something wrong now, as one look found it.
public struct AlertCondition: Sendable, Equatable {
    public var key: String
    public var kind: String
    public var severity: String
    public var summary: String
    public var detail: String

    public init(_ kind: String, subject: String? = nil, severity: String = "critical", summary: String, detail: String = "") {
        self.key = subject.map { "\(kind):\($0)" } ?? kind
        self.kind = kind
        self.severity = severity
        self.summary = summary
        self.detail = detail
    }
}

/// The rules of de-duplication, rate limiting and recovery, apart from any I/O.
///
/// A condition sends one `firing` when it appears, again at most once per repeat interval while
/// it lasts, and one `resolved` when it is gone. An event (seen once) counts as a condition for
/// the quiet window after it was last seen.
public struct AlertBook: Sendable {
    struct Active: Sendable {
        var condition: AlertCondition
        var since: Date
        var lastSent: Date?
    }

    let settings: AlertSettings
    let host: String
    var active: [String: Active] = [:]
    var events: [String: (condition: AlertCondition, seen: Date)] = [:]

    public init(settings: AlertSettings, host: String) {
        self.settings = settings
        self.host = host
    }

    /// Records events seen by this look.
    public mutating func saw(_ event: AlertCondition, at now: Date) { events[event.key] = (event, now) }

    /// The messages due now, given what is wrong now.
    public mutating func evaluate(_ conditions: [AlertCondition], now: Date) -> [Alert] {
        events = events.filter { now.timeIntervalSince($0.value.seen) < settings.quietWindow }
        var current = Dictionary(conditions.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        for (key, event) in events where current[key] == nil { current[key] = event.condition }
        var due: [Alert] = []
        for (key, condition) in current.sorted(by: { $0.key < $1.key }) {
            var entry = active[key] ?? Active(condition: condition, since: now, lastSent: nil)
            entry.condition = condition
            if entry.lastSent.map({ now.timeIntervalSince($0) >= settings.repeatInterval }) ?? true {
                due.append(message(condition, .firing, now))
                entry.lastSent = now
            }
            active[key] = entry
        }
        for (key, entry) in active.sorted(by: { $0.key < $1.key }) where current[key] == nil {
            active[key] = nil
            // Only a condition somebody was told about gets a recovery.
            if entry.lastSent != nil {
                var resolved = message(entry.condition, .resolved, now)
                resolved.detail = "Back to normal after \(Int(now.timeIntervalSince(entry.since))) s."
                due.append(resolved)
            }
        }
        return due
    }

    /// A message that could not be delivered is due again at the next look.
    public mutating func undelivered(_ alert: Alert) {
        if alert.state == .firing { active[alert.key]?.lastSent = nil }
    }

    func message(_ condition: AlertCondition, _ state: Alert.State, _ now: Date) -> Alert {
        Alert(key: condition.key, kind: condition.kind, state: state, severity: condition.severity, summary: condition.summary,
              detail: condition.detail, time: now, host: host)
    }
}

/// Looks every FTA_ALERT_CHECK_SECONDS at what fta alerts on, and sends what is due.
public struct AlertService: Service {
    let services: PortalServices
    let logger: Logger

    public init(services: PortalServices, logger: Logger) {
        self.services = services
        self.logger = logger
    }

    public func run() async throws {
        let settings = services.configuration.alerts
        guard settings.isEnabled else {
            // A service that returns ends the whole group: with no receiver, it waits for the shutdown.
            try? await gracefulShutdown()
            return
        }
        var book = AlertBook(settings: settings, host: ProcessInfo.processInfo.hostName)
        let watcher = AlertWatcher(services: services)
        await watcher.start()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = Date()
            let (conditions, events) = await watcher.look(now: now)
            for event in events { book.saw(event, at: now) }
            for alert in book.evaluate(conditions, now: now) where !(await deliver(alert)) {
                book.undelivered(alert)
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(settings.checkInterval)) }
        }
    }

    /// Sends to every configured receiver; true when at least one took it.
    func deliver(_ alert: Alert) async -> Bool {
        let settings = services.configuration.alerts
        var delivered = false
        if let url = settings.webhookURL {
            do {
                let encoder = JSONEncoder()
                encoder.dateEncodingStrategy = .iso8601
                encoder.outputFormatting = .sortedKeys
                let response = try await HTTPTransport.perform(HTTPRequest(method: "POST", url: url, headers: [("Content-Type", "application/json")],
                                                                           body: try encoder.encode(alert), timeout: .seconds(10), maxResponseBytes: 64 << 10))
                if (200..<300).contains(response.status) { delivered = true } else {
                    logger.warning("alert webhook refused the alert", metadata: ["alert": "\(alert.key)", "status": "\(response.status)"])
                }
            } catch {
                logger.warning("alert webhook unreachable", metadata: ["alert": "\(alert.key)", "error": "\(error)"])
            }
        }
        if let url = settings.smtpURL, let from = settings.emailFrom {
            let subject = "[fta \(alert.state == .firing ? "ALERT" : "RESOLVED")] \(alert.summary)"
            let body = "\(alert.summary)\n\n\(alert.detail)\n\nalert: \(alert.key)\nstate: \(alert.state.rawValue)\nseverity: \(alert.severity)\n"
                + "host: \(alert.host)\ntime: \(ISO8601DateFormatter().string(from: alert.time))\n"
            do {
                try await MailTransport.send(MailMessage(url: url, from: from, to: settings.emailTo, subject: subject, body: body,
                                                         username: settings.smtpUser, password: settings.smtpPassword))
                delivered = true
            } catch {
                logger.warning("alert e-mail not sent", metadata: ["alert": "\(alert.key)", "error": "\(error)"])
            }
        }
        await services.audit.record(AuditEntry(actor: "alerts", action: "alert.\(alert.state.rawValue)", target: alert.key,
                                                outcome: delivered ? .success : .failure, detail: alert.summary))
        return delivered
    }
}

/// What is wrong now, read from the runtime, the database, the doctor's disk and backup checks,
/// the audit trail (OOM kills, the dry-run guard) and the portal's own counters (lockouts, proxy
/// denials).
actor AlertWatcher {
    let services: PortalServices
    var auditCursor: Int64 = 0
    var lockouts = 0
    var denials = 0
    var denialTimes: [Date] = []
    var engineMisses = 0
    /// Proxy denials within the window that make a burst: one is fta's bug or a probe; five
    /// are a pattern worth a look.
    static let denialBurst = 5

    init(services: PortalServices) { self.services = services }

    /// Starts from now: what happened before fta started was someone else's to alert on.
    func start() async {
        auditCursor = (try? await services.database.auditEntries(AuditFilter(limit: 1)).first?.id ?? 0) ?? 0
        lockouts = services.metrics.tally("lockouts")
        denials = services.metrics.tally("denials")
    }

    func look(now: Date) async -> (conditions: [AlertCondition], events: [AlertCondition]) {
        var conditions: [AlertCondition] = []
        var events: [AlertCondition] = []
        // Two failed looks in a row: one slow answer on a busy host is not an outage.
        engineMisses = await services.runtime.isReachable() ? 0 : engineMisses + 1
        if engineMisses >= 2 {
            conditions.append(AlertCondition("engine.unreachable", summary: "The container engine does not answer",
                                             detail: "The portal cannot reach Docker through the socket proxy: bots cannot be started, stopped or watched. Check: systemctl status fta-proxy docker"))
        }
        if !services.doctor.diskIsAmple() {
            conditions.append(AlertCondition("disk.low", summary: "Disk space is low",
                                             detail: "Under 300 MiB free for the database, or under a tenth of the bots' store. fta doctor shows the figures."))
        }
        let backups = services.doctor.backups(now: now)
        if backups.status != .pass {
            conditions.append(AlertCondition("backup.missing", severity: "warning", summary: "The scheduled backup is missing or old",
                                             detail: "\(backups.detail). \(backups.fix)"))
        }
        for bot in (try? await services.database.bots()) ?? [] {
            if bot.state == .failed {
                conditions.append(AlertCondition("bot.failed", subject: bot.id.rawValue, severity: "warning", summary: "Bot \(bot.id) failed",
                                                 detail: bot.lastError ?? "No reason recorded."))
            } else if bot.state == .quarantined {
                conditions.append(AlertCondition("bot.quarantined", subject: bot.id.rawValue, summary: "Bot \(bot.id) is quarantined",
                                                 detail: bot.lastError ?? "It left the hardened spec or reported live trading."))
            }
        }
        // New audit entries since the last look, oldest first.
        let recent = (try? await services.database.auditEntries(AuditFilter(after: auditCursor, limit: 500))) ?? []
        auditCursor = max(auditCursor, recent.compactMap(\.id).max() ?? 0)
        for entry in recent.reversed() {
            let target = entry.target ?? "?"
            if entry.action == Reconciler.oomAction {
                events.append(AlertCondition("bot.oom_killed", subject: target, summary: "Bot \(target) was killed for running out of memory",
                                             detail: entry.detail ?? ""))
            } else if entry.action == Reconciler.unhealthyAction {
                events.append(AlertCondition("bot.unhealthy", subject: target, severity: "warning", summary: "Bot \(target) runs but its API does not answer",
                                             detail: entry.detail ?? ""))
            } else if entry.action == "bot.quarantine" && entry.actor == "dry-run-guard" {
                events.append(AlertCondition("dryrun.guard", subject: target, summary: "The dry-run guard stopped bot \(target)",
                                             detail: entry.detail ?? "The bot's own API reported live trading."))
            }
        }
        let lockoutsNow = services.metrics.tally("lockouts")
        if lockoutsNow > lockouts {
            events.append(AlertCondition("auth.lockouts", severity: "warning", summary: "Sign-in lockouts: repeated wrong passwords",
                                         detail: "\(lockoutsNow - lockouts) account(s) or address(es) locked out since the last look. The audit trail (auth.login, denied) names them."))
        }
        lockouts = lockoutsNow
        let denialsNow = services.metrics.tally("denials")
        denialTimes += Array(repeating: now, count: max(0, denialsNow - denials))
        denials = denialsNow
        // Five minutes at the default look interval (30 s); shorter when fta looks more often.
        let window = min(300, 10 * services.configuration.alerts.checkInterval)
        denialTimes = denialTimes.filter { now.timeIntervalSince($0) < window }
        if denialTimes.count >= Self.denialBurst {
            events.append(AlertCondition("proxy.denials", summary: "A burst of socket-proxy denials",
                                         detail: "\(denialTimes.count) operations refused by the socket proxy in \(Int(window)) s: fta's own calls are never refused, so look at the proxy's log."))
        }
        return (conditions, events)
    }
}

// ServiceLifecycle names a service by `"\(service)"` in its logs and errors: by default that
// prints every stored property, down to the portal's configuration. A service's name is its type.
extension AlertService: CustomStringConvertible {
    public var description: String { "AlertService" }
}

extension AlertSettings: CustomReflectable {
    /// The relay's password never shows where the settings are printed.
    public var customMirror: Mirror {
        Mirror(self, children: ["webhookURL": webhookURL as Any, "smtpURL": smtpURL as Any, "emailTo": emailTo, "smtpUser": smtpUser as Any,
                                "smtpPassword": smtpPassword == nil ? "nil" : "<redacted>", "checkInterval": checkInterval,
                                "repeatInterval": repeatInterval])
    }
}

