import FTACore
import FTARuntime
import FTAStore
import Foundation
import Logging
import ServiceLifecycle

/// What one reconcile pass found and did.
public struct ReconcileReport: Sendable, Codable, Equatable {
    public var recreated: [String] = []
    public var stopped: [String] = []
    public var quarantined: [String] = []
    public var failed: [String] = []
    public var deleted: [String] = []
    /// Bots found killed for running out of memory since the last pass (each kill once).
    public var oomKilled: [String] = []
    /// Bots whose runtime found them unhealthy since the last pass (each run once): alive, but
    /// Freqtrade's API does not answer (a strategy stuck at import, a hung process).
    public var unhealthy: [String] = []
    public var orphanContainers: [String] = []
    public var orphanVolumes: [String] = []
    public var orphanNetworks: [String] = []
    public var errors: [String] = []

    public init() {}

    public var summary: String {
        "recreated \(recreated.count), stopped \(stopped.count), quarantined \(quarantined.count), failed \(failed.count), deleted \(deleted.count), OOM-killed \(oomKilled.count), unhealthy \(unhealthy.count), orphans \(orphanContainers.count + orphanVolumes.count + orphanNetworks.count), errors \(errors.count)"
    }
}

/// Keeps Docker in line with the database: the database says what should exist and run.
///
/// It recreates what is missing for bots that should run, stops what should not run, finishes
/// interrupted deletions, stops and quarantines any fta container that departs from the hardened
/// spec, stops containers whose labels name no known bot, and reports orphan volumes and
/// networks. It touches only objects labelled `fta.managed=true`.
public struct Reconciler: Sendable {
    let database: AppDatabase
    let runtime: any BotRuntime
    let lifecycle: BotLifecycle
    let audit: AuditTrail
    let bridge: FreqtradeBridge?
    let logger: Logger

    public init(database: AppDatabase, runtime: any BotRuntime, lifecycle: BotLifecycle, audit: AuditTrail, bridge: FreqtradeBridge?, logger: Logger) {
        self.database = database
        self.runtime = runtime
        self.lifecycle = lifecycle
        self.audit = audit
        self.bridge = bridge
        self.logger = logger
    }

    public func reconcileOnce() async throws -> ReconcileReport {
        var report = ReconcileReport()
        let bots = try await database.bots()
        let known = Dictionary(uniqueKeysWithValues: bots.map { ($0.id.rawValue, $0) })
        let inventory = try await runtime.inventory()

        // Instances whose labels point to no bot. One that names a client of this database (or
        // no client at all) claims to be ours without being so: stop it, never delete it (an
        // operator looks). One that names a client this database does not know belongs to
        // another fta (a second portal on the same engine, a database restored from an older
        // backup): report it and leave it alone.
        let clients = Set(try await database.clients().map(\.id.rawValue))
        for instance in inventory.instances where instance.bot.flatMap({ known[$0.rawValue] }) == nil {
            report.orphanContainers.append(instance.name)
            if let client = instance.clientLabel, !clients.contains(client) { continue }
            // Stopped once, it is only reported: the audit trail gets one entry, not one per pass.
            guard instance.running, let id = instance.namedBot else { continue }
            do {
                try await runtime.stop(bot: id)
                report.stopped.append(instance.name)
            } catch { report.errors.append("\(instance.name): \(error)") }
            await audit.record(AuditEntry(actor: "reconciler", clientId: instance.clientLabel, action: "reconcile.orphan_container",
                                          target: instance.name, outcome: .denied, detail: "labels point to no known bot; stopped"))
        }

        for bot in bots {
            do {
                try await reconcile(bot, into: &report)
            } catch DomainError.notFound {
                // Deleted while the pass ran: nothing left to do for it.
            } catch {
                report.errors.append("\(bot.id): \(error)")
                logger.error("reconcile failed", metadata: ["bot": "\(bot.id)", "error": "\(error)"])
            }
        }

        // Every pass measures the bots that hold memory, so that admission sees each bot's peak
        // over the last minutes, including the candles between two starts.
        await lifecycle.admission.gauge.measure(try await database.bots().filter(lifecycle.admission.holdsMemory))

        let botIDs = Set(bots.map(\.id))
        report.orphanVolumes = (inventory.storage.filter { !botIDs.contains($0) }.map(\.volumeName) + inventory.unrecognised.filter { $0.hasPrefix("fta-bot-") }).sorted()
        let clientsWithBots = Set(bots.map(\.clientId))
        report.orphanNetworks = (inventory.networks.filter { !clientsWithBots.contains($0) }.map(\.networkName) + inventory.unrecognised.filter { !$0.hasPrefix("fta-bot-") }).sorted()
        if report != ReconcileReport() { logger.notice("reconcile pass", metadata: ["report": "\(report.summary)"]) }
        return report
    }

    private func reconcile(_ bot: BotRecord, into report: inout ReconcileReport) async throws {
        let id = bot.id
        if bot.state == .deleting {
            try await lifecycle.delete(id)
            report.deleted.append(bot.id.rawValue)
            return
        }
        let status = try await lifecycle.status(of: bot)
        if let status, !status.deviations.isEmpty, bot.state != .quarantined {
            try await lifecycle.quarantine(id, reason: "container out of the hardened spec: \(status.deviations.joined(separator: "; "))")
            report.quarantined.append(bot.id.rawValue)
            await audit.record(AuditEntry(actor: "reconciler", clientId: bot.clientId.rawValue, action: "bot.quarantine", target: bot.id.rawValue,
                                          outcome: .success, detail: status.deviations.joined(separator: "; ")))
            return
        }
        if let status, status.oomKilled, bot.state != .quarantined {
            try await recordOOMKill(of: bot, status, into: &report)
        }
        switch bot.desiredState {
        case .running where bot.state != .quarantined && bot.state != .failed:
            if let status, status.phase == .pending, bot.state == .starting,
               Date().timeIntervalSince(bot.startedAt ?? bot.updatedAt) < Self.pendingLaunchGrace {
                // A launch the runtime has not finished yet (created, not started: a slow host).
                // Launching again now would remove it and begin from nothing; the next pass looks again.
                return
            }
            if status?.phase.isAlive != true {
                if let status, status.phase == .crashed, bot.state == .running {
                    // The runtime's restart policy gave up: a crash loop is `failed`, not restarted forever.
                    // Its last output goes with it: what the owner needs to see why, without a log hunt.
                    let message = Self.failureMessage(status, output: await lastOutput(of: id))
                    _ = try await database.updateBot(id) { $0.state = .failed; $0.lastError = message }
                    report.failed.append(bot.id.rawValue)
                    await audit.record(AuditEntry(actor: "reconciler", clientId: bot.clientId.rawValue, action: "bot.failed", target: bot.id.rawValue,
                                                  outcome: .failure, detail: Self.failureMessage(status)))
                    return
                }
                let started = try await lifecycle.start(id, unchangedSince: bot.updatedAt)
                // Changed since the pass read it (an owner's stop, say): the next pass decides.
                guard started.updatedAt != bot.updatedAt else { return }
                report.recreated.append(bot.id.rawValue)
                await audit.record(AuditEntry(actor: "reconciler", clientId: bot.clientId.rawValue, action: "bot.recreate", target: bot.id.rawValue, outcome: .success))
            } else {
                if bot.state == .starting { _ = try await database.updateBot(id) { $0.state = .running } }
                if let status { try await noteHealth(of: bot, status, into: &report) }
                // The dry-run guard also runs on every pass, not only when someone looks.
                if let bridge {
                    do {
                        try await bridge.enforceDryRun(bot)
                    } catch DomainError.quarantined {
                        report.quarantined.append(bot.id.rawValue)
                    } catch {
                        // Not reachable yet: the next pass tries again.
                    }
                }
            }
        case .stopped where status?.isRunning == true:
            if try await lifecycle.stopContainer(of: bot) { report.stopped.append(bot.id.rawValue) }
        case .stopped where bot.state == .stopping:
            _ = try await database.updateBot(id) { $0.state = .stopped }
        default:
            break
        }
    }
}

extension Reconciler {
    static let oomAction = "bot.oom_killed"

    /// How long a launch may stay pending in the runtime before a pass launches the bot again.
    /// Under the 1 GiB test VM's emulation a container's start took over 30 s with six bots
    /// starting; ten minutes is far beyond any start that will still happen.
    public static let pendingLaunchGrace: TimeInterval = 600

    /// Records an OOM kill once: the bot's `lastError` says so and the audit trail has an entry,
    /// even when the runtime's restart policy already brought the bot back (the runtime keeps
    /// the OOM flag of the last exit until the instance is recreated). The kill is known by the
    /// time its run ended, so a later pass, or another portal process, does not record it again.
    func recordOOMKill(of bot: BotRecord, _ status: BotRuntimeStatus, into report: inout ReconcileReport) async throws {
        let kill = "exited at \(status.lastExitAt ?? "an unknown time") after \(status.restartCount) restarts"
        guard try await !isRecorded(Self.oomAction, for: bot, detailPrefix: kill) else { return }
        let alive = status.phase.isAlive
        let message = alive
            ? "The bot was killed for running out of memory; it was restarted (\(status.restartCount) restarts so far)."
            : Self.oomMessage
        _ = try await database.updateBot(bot.id) { $0.lastError = message }
        report.oomKilled.append(bot.id.rawValue)
        logger.warning("bot killed for running out of memory", metadata: ["bot": "\(bot.id)", "restarts": "\(status.restartCount)"])
        await audit.record(AuditEntry(actor: "reconciler", clientId: bot.clientId.rawValue, action: Self.oomAction, target: bot.id.rawValue, outcome: .failure,
                                      detail: "\(kill); \(alive ? "restarted by the runtime" : "not restarted"); size \(bot.size)"))
    }

    static let unhealthyAction = "bot.unhealthy"

    /// What `lastError` starts with while the runtime finds a bot unhealthy.
    static let unhealthyMessage = "Freqtrade's API stopped answering the health check (three tries 30 s apart, after a 2-minute start):"
        + " the bot runs but does not work, often because its strategy is stuck (a loop at import, a call that never returns)."
        + " It uses no more than its size's CPU share; stop it, fix the strategy, and start it again."

    /// How long a run must have lasted before its unhealthy verdict is recorded. The health check
    /// already waits out a 2-minute start period and three failed probes 30 s apart; a host
    /// starting bots under heavy swap, or the emulated 1 GiB test VM (where Freqtrade took up to
    /// 250 s to its API), may still be starting then, and that is not worth an alert.
    public static let unhealthyGrace: TimeInterval = 300

    /// Records, once per run of the instance, that the runtime finds a running bot unhealthy:
    /// Freqtrade's API does not answer although the process is alive, which nothing else would
    /// show (the container neither exits nor grows). The owner reads why in `lastError`, with
    /// the bot's last output; the audit trail and the alerts get one `bot.unhealthy` entry. The
    /// bot is left running: it cannot take more than its limits, and a hiccup of a loaded host
    /// (a swap storm slowing the probe) heals by itself, which clears the message again.
    func noteHealth(of bot: BotRecord, _ status: BotRuntimeStatus, into report: inout ReconcileReport, now: Date = Date()) async throws {
        switch status.health {
        case "unhealthy":
            // A run whose start is unknown counts as old enough: the verdict is the runtime's.
            if let started = status.startedAt.flatMap(Self.runtimeDate), now.timeIntervalSince(started) < Self.unhealthyGrace { return }
            let run = "run started at \(status.startedAt ?? "an unknown time")"
            guard try await !isRecorded(Self.unhealthyAction, for: bot, detailPrefix: run) else { return }
            let message = Self.withLastOutput(Self.unhealthyMessage, await lastOutput(of: bot.id))
            _ = try await database.updateBot(bot.id) { $0.lastError = message }
            report.unhealthy.append(bot.id.rawValue)
            logger.warning("bot is unhealthy: its API does not answer", metadata: ["bot": "\(bot.id)"])
            await audit.record(AuditEntry(actor: "reconciler", clientId: bot.clientId.rawValue, action: Self.unhealthyAction, target: bot.id.rawValue,
                                          outcome: .failure, detail: "\(run); Freqtrade's API does not answer its health check; strategy \(bot.strategy)"))
        case "healthy" where bot.lastError?.hasPrefix(Self.unhealthyMessage) == true:
            _ = try await database.updateBot(bot.id) { $0.lastError = nil }
        default:
            break
        }
    }

    /// A runtime's timestamp (Docker's have nanoseconds, which the ISO 8601 parser does not take:
    /// cut to milliseconds).
    public static func runtimeDate(_ text: String) -> Date? {
        let cut = text.replacing(/\.(\d{3})\d+/) { ".\($0.1)" }
        return ISO8601Parsing.date(cut)
    }

    /// What the user reads in `lastError` of a bot the kernel killed and that stays down.
    static let oomMessage = "The bot was killed for running out of memory."

    /// How many of a failed bot's last output lines `lastError` carries, and how long each may be.
    static let failureOutputLines = 10
    static let failureOutputWidth = 300

    /// What the user reads in `lastError` when the runtime gave up on a crashing bot: why, then
    /// the last lines the bot wrote (each cut to a readable width).
    static func failureMessage(_ status: BotRuntimeStatus, output: [String] = []) -> String {
        let why = status.oomKilled
            ? "The bot was killed for running out of memory, after repeated restarts."
            : "The bot stopped with exit code \(status.exitCode ?? -1) after repeated restarts."
        return withLastOutput(why, output)
    }

    /// `why`, then the bot's last output lines, each cut to a readable width: what `lastError`
    /// says of a bot that failed or is stuck.
    static func withLastOutput(_ why: String, _ output: [String]) -> String {
        let lines = output.suffix(failureOutputLines).map { String($0.prefix(failureOutputWidth)) }
        return lines.isEmpty ? why : why + " Its last output:\n" + lines.joined(separator: "\n")
    }

    /// The bot's last output lines for `lastError`; none when the runtime cannot give them.
    func lastOutput(of bot: BotID) async -> [String] {
        (try? await runtime.logs(bot: bot, tail: Self.failureOutputLines)) ?? []
    }

    /// Whether the audit trail already has this bot's `action` entry whose detail starts with
    /// `detailPrefix` (what names one event: a kill, a run): each is recorded once, also across
    /// passes and portal processes.
    func isRecorded(_ action: String, for bot: BotRecord, detailPrefix: String) async throws -> Bool {
        let recorded = try await database.auditEntries(AuditFilter(action: action, clientId: bot.clientId.rawValue))
        return recorded.contains { $0.target == bot.id.rawValue && $0.detail?.hasPrefix(detailPrefix) == true }
    }
}

/// Runs a reconcile pass every interval inside `fta serve`, until graceful shutdown.
public struct ReconcilerService: Service {
    let reconciler: Reconciler
    let interval: Duration
    let metrics: PortalMetrics?
    let logger: Logger

    public init(reconciler: Reconciler, interval: Duration, metrics: PortalMetrics? = nil, logger: Logger) {
        self.reconciler = reconciler
        self.interval = interval
        self.metrics = metrics
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let started = ContinuousClock.now
            do {
                let report = try await reconciler.reconcileOnce()
                metrics?.reconcilePass(duration: ContinuousClock.now - started, ok: report.errors.isEmpty,
                                       oomKilled: report.oomKilled.count, recreated: report.recreated.count)
            } catch {
                metrics?.reconcilePass(duration: ContinuousClock.now - started, ok: false)
                logger.warning("reconcile pass failed", metadata: ["error": "\(error)"])
            }
            // Graceful shutdown does not cancel tasks: without this, SIGTERM waits out the sleep.
            try? await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
        }
    }
}

/// Removes expired sessions and stale login-throttle entries every few minutes.
public struct SessionCleanupService: Service {
    let database: AppDatabase
    let throttle: LoginThrottle
    let idleTimeout: TimeInterval
    let clock: PortalClock
    let interval: Duration
    let logger: Logger

    public init(database: AppDatabase, throttle: LoginThrottle, idleTimeout: TimeInterval, clock: PortalClock = PortalClock(),
                interval: Duration = .seconds(300), logger: Logger) {
        self.database = database
        self.clock = clock
        self.throttle = throttle
        self.idleTimeout = idleTimeout
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let removed = try await database.deleteExpiredSessions(now: clock.now(), idleTimeout: idleTimeout)
                if removed > 0 { logger.info("expired sessions removed", metadata: ["count": "\(removed)"]) }
                await throttle.prune()
            } catch {
                logger.warning("session cleanup failed", metadata: ["error": "\(error)"])
            }
            // Graceful shutdown does not cancel tasks: without this, SIGTERM waits out the sleep.
            try? await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
        }
    }
}

extension ReconcilerService: CustomStringConvertible {
    public var description: String { "ReconcilerService" }
}

extension SessionCleanupService: CustomStringConvertible {
    public var description: String { "SessionCleanupService" }
}

