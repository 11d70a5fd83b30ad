import FTACore
import FTARuntime
import FTAStore
import Foundation
import Logging

/// The lifecycle operations behind the portal and the CLI: create, start, stop, restart,
/// delete, logs, quarantine.
///
/// Each records intent in the database before touching Docker and is idempotent, so an
/// operation cut off halfway (a crash, a timeout) is finished by retrying it or by the
/// reconciler. Operations on one bot are serialised.
public struct BotLifecycle: Sendable {
    let database: AppDatabase
    let runtime: any BotRuntime
    let secretBox: SecretBox
    let admission: Admission
    /// The image of new bots (FTA_BOT_IMAGE); each bot keeps its own once started (BotRecord.image).
    public let image: String
    let exchangeOverride: ExchangeOverride?
    let allowTestStrategies: Bool
    let locks: KeyedLock
    let metrics: PortalMetrics?
    let logger: Logger

    public init(database: AppDatabase, runtime: any BotRuntime, secretBox: SecretBox, admission: Admission, image: String,
                exchangeOverride: ExchangeOverride?, allowTestStrategies: Bool, metrics: PortalMetrics? = nil, logger: Logger) {
        self.metrics = metrics
        self.database = database
        self.runtime = runtime
        self.secretBox = secretBox
        self.admission = admission
        self.image = image
        self.exchangeOverride = exchangeOverride
        self.allowTestStrategies = allowTestStrategies
        self.locks = KeyedLock()
        self.logger = logger
    }

    /// Records a new bot with fresh sealed secrets; starts it when `start`. During a lockdown a
    /// bot that should start is not created at all, rather than created and then refused.
    public func create(id: BotID, client: ClientRecord, settings: BotSettings, start: Bool) async throws -> BotRecord {
        if start, try await database.lockdown() != nil { throw DomainError.conflict(Lockdown.startRefusal) }
        let bot = BotRecord(id: id, clientID: client.id, settings: settings, desiredState: .stopped)
        let sealed = try secretBox.seal(BotSecrets.generate(), for: id)
        let maxBots = admission.maxBots(for: client)
        switch try await database.createBot(bot, secrets: BotSecretRecord(botId: id, sealed: sealed), maxBots: maxBots) {
        case .created: break
        case .idTaken: throw DomainError.conflict("A bot with the id '\(id)' already exists. Choose another id.")
        case .quotaReached(let count): throw DomainError.quotaExceeded(count: count, max: maxBots)
        }
        guard start else { return bot }
        return try await self.start(id)
    }

    /// Renders the config from the database and (re)creates and starts the container. Refused
    /// while a lockdown is in force, whoever asks (an owner, an admin, the reconciler).
    @discardableResult
    ///
    /// `unchangedSince`: the reconciler's start, which only happens when the bot is still as its
    /// pass read it (same `updatedAt`); an owner's stop in between wins, and the bot is returned
    /// as it is. Without it, a pass that read the bot before the stop started it again.
    public func start(_ id: BotID, unchangedSince: Date? = nil) async throws -> BotRecord {
        try await locks.withLock(id.rawValue) {
            guard let bot = try await database.bot(id) else { throw DomainError.notFound("No such bot.") }
            if let unchangedSince, bot.updatedAt != unchangedSince { return bot }
            try ensureCanMove(bot, to: .starting)
            // Measuring asks the runtime, so it happens before the transaction; the check and the
            // reservation (desiredState running) are then one atomic step in the database, so
            // concurrent starts of different bots cannot together exceed the budget. A bot
            // admitted after this measurement is not in it and counts with its reservation.
            let snapshot = await admission.gauge.snapshot(of: try await database.bots().filter(admission.holdsMemory))
            let admission = self.admission
            let admitted: BotRecord?
            do {
                admitted = try await database.admitBot(id, check: { bot, all in
                    if let refusal = admission.refusal(toStart: bot, among: all, snapshot: snapshot) { throw refusal }
                }, change: { $0.state = .starting; $0.desiredState = .running; $0.lastError = nil })
            } catch is LockdownInForce {
                throw DomainError.conflict(Lockdown.startRefusal)
            }
            guard let admitted else { throw DomainError.notFound("No such bot.") }
            await admission.gauge.forget(id)
            // Fresh API credentials for every new container: whatever the old ones were, and
            // whoever saw them, they open nothing from now on. Stored before the launch, so that
            // no container can ever run with credentials the portal does not hold.
            try await database.replaceBotSecret(id, sealed: try secretBox.seal(BotSecrets.generate(), for: id))
            // Its image is pinned at its first start (BotRecord.image).
            let pinned = admitted.image == nil ? try await database.updateBot(id) { $0.image = image } ?? admitted : admitted
            let launch = try await launchPlan(for: pinned)
            do {
                try await runtime.launch(launch)
            } catch RuntimeError.timedOut(let detail) {
                // The runtime may still start it (a small host starting several bots at once answers
                // late): the bot stays `starting`, admitted and wanted running, and the reconciler's
                // next passes see it running, or launch it again. Calling it failed would be wrong
                // as often as not, and would leave a running bot shown as failed.
                logger.warning("bot launch timed out; the reconciler finishes it", metadata: ["bot": "\(id)", "error": "\(detail)"])
                return try await database.updateBot(id) { $0.startedAt = Date() }!
            } catch let error as RuntimeError {
                try await fail(id, error)
            }
            return try await database.updateBot(id) { $0.state = .running; $0.startedAt = Date() }!
        }
    }

    /// Stops the container; the bot stays stopped until started again.
    @discardableResult
    public func stop(_ id: BotID) async throws -> BotRecord {
        try await locks.withLock(id.rawValue) {
            guard let bot = try await database.bot(id) else { throw DomainError.notFound("No such bot.") }
            // Already stopped (or never started): stopping again is a no-op, not an error.
            if [.quarantined, .stopped, .created].contains(bot.state) {
                return try await database.updateBot(id) { $0.desiredState = .stopped } ?? bot
            }
            try ensureCanMove(bot, to: .stopping)
            _ = try await database.updateBot(id) { $0.state = .stopping; $0.desiredState = .stopped }
            do { try await runtime.stop(bot: id) } catch let error as RuntimeError { try await fail(id, error) }
            return try await database.updateBot(id) { $0.state = .stopped; $0.startedAt = nil }!
        }
    }

    /// The reconciler's stop of a container whose bot should not run: under the bot's lock, and
    /// only when the bot is still as the pass read it (an owner's start in between wins).
    func stopContainer(of bot: BotRecord) async throws -> Bool {
        try await locks.withLock(bot.id.rawValue) {
            guard let current = try await database.bot(bot.id), current.updatedAt == bot.updatedAt, current.desiredState == .stopped else { return false }
            try await runtime.stop(bot: bot.id)
            if current.state == .stopping { _ = try await database.updateBot(bot.id) { $0.state = .stopped } }
            return true
        }
    }

    @discardableResult
    public func restart(_ id: BotID) async throws -> BotRecord {
        try await stop(id)
        return try await start(id)
    }

    /// New API credentials now, on demand (a leak suspected, a routine rotation): a bot that runs
    /// is restarted, which gives its new container fresh ones (`start`); any other bot gets them
    /// stored at once, for its next start. The old ones open nothing afterwards.
    @discardableResult
    public func rotateCredentials(_ id: BotID) async throws -> BotRecord {
        guard let bot = try await database.bot(id) else { throw DomainError.notFound("No such bot.") }
        if bot.desiredState == .running, [.running, .starting].contains(bot.state) { return try await restart(id) }
        return try await locks.withLock(id.rawValue) {
            guard let bot = try await database.bot(id) else { throw DomainError.notFound("No such bot.") }
            guard ![.quarantined, .deleting].contains(bot.state) else {
                throw DomainError.conflict("A \(bot.state.rawValue) bot cannot get new credentials.")
            }
            try await database.replaceBotSecret(id, sealed: try secretBox.seal(BotSecrets.generate(), for: id))
            return bot
        }
    }

    /// Replaces a bot's settings (validated by the caller like a new bot's). A running bot keeps
    /// its container's settings until its next start: `pendingRestart` says so until then.
    @discardableResult
    public func update(_ id: BotID, settings: BotSettings) async throws -> BotRecord {
        try await locks.withLock(id.rawValue) {
            guard let bot = try await database.bot(id) else { throw DomainError.notFound("No such bot.") }
            guard bot.state != .deleting else { throw DomainError.conflict("This bot is being deleted.") }
            return try await database.updateBot(id) { $0.apply(settings); $0.settingsChangedAt = Date() } ?? bot
        }
    }

    /// Starts the bot's paper wallet afresh: the bot stops if it runs, moves on to a new trade
    /// database in its volume (the old one stays there, as the archive of its trades), and starts
    /// again if it ran. Returns the bot and the archive's file name.
    public func resetWallet(_ id: BotID) async throws -> (bot: BotRecord, archive: String) {
        guard let bot = try await database.bot(id) else { throw DomainError.notFound("No such bot.") }
        guard ![.deleting, .quarantined].contains(bot.state) else {
            throw DomainError.conflict("A \(bot.state.rawValue) bot's wallet cannot be reset.")
        }
        let wasRunning = bot.desiredState == .running
        if wasRunning { try await stop(id) }
        let reset = try await locks.withLock(id.rawValue) {
            try await database.updateBot(id) { $0.walletResets += 1 }
        }
        guard let reset else { throw DomainError.notFound("No such bot.") }
        let archive = BotPaths.databaseFile(generation: reset.walletResets - 1)
        return (wasRunning ? try await start(id) : reset, archive)
    }

    /// Removes the container, the volume and, with the client's last bot, the network; then
    /// the record and its secrets.
    public func delete(_ id: BotID) async throws {
        try await locks.withLock(id.rawValue) {
            guard let bot = try await database.bot(id) else { throw DomainError.notFound("No such bot.") }
            try ensureCanMove(bot, to: .deleting)
            _ = try await database.updateBot(id) { $0.state = .deleting; $0.desiredState = .stopped }
            do {
                try await runtime.remove(bot: id, client: bot.clientId)
            } catch let error as RuntimeError {
                // The bot stays `deleting`; retrying the delete (or the reconciler) finishes it.
                logger.error("delete failed", metadata: ["bot": "\(id)", "error": "\(error)"])
                throw error.domainError
            }
            try await database.deleteBot(id)
        }
    }

    /// Stops a bot at once and keeps it stopped: it did something fta never allows.
    public func quarantine(_ id: BotID, reason: String) async throws {
        try await locks.withLock(id.rawValue) {
            _ = try await database.updateBot(id) { $0.state = .quarantined; $0.desiredState = .stopped; $0.lastError = "Quarantined: \(reason)" }
            do { try await runtime.stop(bot: id) } catch { logger.error("quarantine stop failed", metadata: ["bot": "\(id)", "error": "\(error)"]) }
        }
    }

    public func logs(_ id: BotID, tail: Int) async throws -> [String] {
        do { return try await runtime.logs(bot: id, tail: tail) } catch { throw error.domainError }
    }

    public func status(of bot: BotRecord) async throws(RuntimeError) -> BotRuntimeStatus? {
        try await runtime.status(of: BotPlacement(bot: bot.id, client: bot.clientId, size: bot.size, image: bot.image))
    }

    /// The bot's decrypted API credentials (for the portal's bridge to its Freqtrade API).
    public func secrets(of id: BotID) async throws -> BotSecrets {
        guard let record = try await database.botSecret(id) else { throw DomainError.internal }
        return try secretBox.openSecrets(record.sealed, for: id)
    }

    /// The image `bot` runs, or will run at its next start: its own, else that of new bots.
    public func image(of bot: BotRecord) -> String { bot.image ?? image }

    func launchPlan(for bot: BotRecord) async throws -> BotLaunch {
        let settings = try bot.settings(allowTestStrategies: true)
        var launch = BotLaunch(botID: bot.id, clientID: bot.clientId, settings: settings,
                               secrets: try await secrets(of: bot.id), image: image(of: bot), exchangeOverride: exchangeOverride,
                               walletGeneration: bot.walletResets, strategySource: try await strategySource(settings.strategy, client: bot.clientId))
        launch.launcher = LabRunnerSource.launcher
        return launch
    }

    /// The source of the exact strategy version a bot or backtest runs: a custom one's as the
    /// client uploaded it (and validation passed), never another client's.
    func strategySource(_ ref: StrategyRef, client: ClientID) async throws -> String {
        switch ref {
        case .shipped(let shipped): return shipped.pythonSource
        case .custom(let name, let version):
            guard let row = try await database.strategy(of: client, name: name, version: version), row.status == .valid else {
                throw DomainError.conflict("The strategy \(name) (version \(version.prefix(12))) is no longer available: it was deleted. Choose another strategy.")
            }
            return row.source
        }
    }

    private func ensureCanMove(_ bot: BotRecord, to next: BotState) throws {
        guard bot.state.canMove(to: next) else {
            throw DomainError.conflict("This bot is \(bot.state.rawValue) and cannot be \(next == .deleting ? "deleted" : next.rawValue == "starting" ? "started" : "stopped") now.")
        }
    }

    /// Marks the bot failed with a user-facing reason and throws the matching domain error.
    private func fail(_ id: BotID, _ error: RuntimeError) async throws -> Never {
        let domainError = error.domainError
        if case .refused = error { metrics?.proxyDenied() }
        logger.error("bot operation failed", metadata: ["bot": "\(id)", "error": "\(error)"])
        _ = try? await database.updateBot(id) { $0.state = .failed; $0.lastError = domainError.message }
        throw domainError
    }
}
