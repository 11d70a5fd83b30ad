import FTACore
import FTARuntime
import FTAStore
import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// The lab's limits, from the configuration (docs/strategy-lab.md).
public struct LabSettings: Sendable, Equatable {
    /// FTA_LAB_DATA_CAP_MB: the shared market-data cache's cap, over all its sets.
    public var dataCapMB: Int
    /// FTA_LAB_BACKTEST_SECONDS: how long a backtest may run, in seconds.
    public var backtestTimeLimit: Int
    public var downloadTimeLimit: Int = 300
    /// A strategy must load in seconds; one that takes longer loops or waits at import.
    public var validateTimeLimit: Int = 90
    /// RAM limits of the jobs: a backtest holds Freqtrade, pandas and the candles of its pairs.
    public var backtestMemoryMB: Int = 512
    public var downloadMemoryMB: Int = 384
    public var validateMemoryMB: Int = 320
    /// Finished backtests kept per client; older ones go.
    public var keepBacktests: Int = 50
    /// Backtests a client may have waiting or running at once.
    public var maxPendingPerClient: Int = 3

    public init(dataCapMB: Int = 512, backtestTimeLimit: Int = 600) {
        self.dataCapMB = dataCapMB
        self.backtestTimeLimit = backtestTimeLimit
    }
}

/// What the lab's jobs hold of the host's memory while they run: admission counts it with the
/// bots', so a bot start cannot take the memory a running backtest holds, and the other way round.
public final class LabMemoryHold: Sendable {
    private let held = NIOLockedValueBox(0)
    public init() {}
    public var heldMB: Int { held.withLockedValue { $0 } }
    func hold(_ mb: Int) { held.withLockedValue { $0 += mb } }
    func release(_ mb: Int) { held.withLockedValue { $0 = max(0, $0 - mb) } }
}

/// The strategy lab: validates uploaded strategies, fills the shared market-data cache and runs
/// backtests, one job at a time, each in a hardened one-shot container (HardenedJobContainer).
///
/// One at a time because the host is small: a backtest holds about as much as a bot, and the
/// queue waits for memory admission before it starts one, so it never pushes running bots into
/// the OOM killer. The queue is the database: what waits survives a restart, and what was running
/// when the portal stopped runs again.
public actor StrategyLab {
    let database: AppDatabase
    let runtime: (any LabJobRuntime)?
    let lifecycle: BotLifecycle
    let admission: Admission
    let audit: AuditTrail
    let bridge: FreqtradeBridge
    let image: String
    let exchangeOverride: ExchangeOverride?
    public let settings: LabSettings
    let logger: Logger

    private var woken = false
    private var cancelRequests: Set<String> = []
    private var shippedInfo: [ShippedStrategy: JSONValue] = [:]
    private var inspectionWaiters: [ShippedStrategy: [CheckedContinuation<Result<JSONValue, LabFailure>, Never>]] = [:]

    public init(database: AppDatabase, runtime: (any LabJobRuntime)?, lifecycle: BotLifecycle, admission: Admission, audit: AuditTrail,
                bridge: FreqtradeBridge, image: String, exchangeOverride: ExchangeOverride?, settings: LabSettings, logger: Logger) {
        self.database = database
        self.runtime = runtime
        self.lifecycle = lifecycle
        self.admission = admission
        self.audit = audit
        self.bridge = bridge
        self.image = image
        self.exchangeOverride = exchangeOverride
        self.settings = settings
        self.logger = logger
    }

    public var isAvailable: Bool { runtime != nil }

    // MARK: Requests

    /// Queues a backtest (the caller validated and scoped it).
    public func submit(_ record: BacktestRecord, by actor: AuditActor) async throws {
        let pending = try await database.backtests(of: record.clientId).filter { !$0.isFinished }.count
        guard pending < settings.maxPendingPerClient else {
            throw DomainError.conflict("You already have \(pending) backtests waiting or running (at most \(settings.maxPendingPerClient)). Wait for one to finish or cancel one.")
        }
        try await database.insertBacktest(record)
        await audit.record(by: actor, action: "backtest.create", target: record.id, clientId: record.clientId.rawValue, outcome: .success,
                           detail: "\(record.settingsValue?.strategy.rawValue ?? "?") \(record.timerange)")
        if let strategy = record.settingsValue?.strategy, strategy.isCustom {
            await audit.record(by: actor, action: "strategy.use", target: strategy.rawValue, clientId: record.clientId.rawValue, outcome: .success,
                               detail: "backtest \(record.id)")
        }
        wake()
    }

    /// Cancels a queued or running backtest; a finished one is a conflict.
    public func cancel(_ id: String) async throws -> BacktestRecord {
        guard let row = try await database.backtest(id) else { throw DomainError.notFound("No such backtest.") }
        guard !row.isFinished else { throw DomainError.conflict("This backtest has already \(row.status.rawValue).") }
        cancelRequests.insert(id)
        let updated = try await database.updateBacktest(id) { row in
            guard !row.isFinished else { return }
            row.status = .cancelled
            row.phase = "cancelled"
            row.finishedAt = Date()
        }
        wake()
        return updated ?? row
    }

    /// Removes a market-data set: its volume and its record. Refused while a job may use it.
    public func prune(_ key: String) async throws {
        guard let runtime else { throw DomainError.runtimeUnavailable }
        let busy = try await database.unfinishedBacktests().contains { row in
            row.status != .queued && row.settingsValue.map { Self.dataKey(exchange: $0.exchange, timeframe: $0.timeframe) } == key
        }
        guard !busy else { throw DomainError.conflict("A backtest is using this data set now; prune it when it has finished.") }
        do { try await runtime.removeDataSet(key) } catch { throw error.domainError }
        try await database.deleteLabData(key)
    }

    /// A new strategy version to validate.
    public func queueValidation() { wake() }

    /// What the strategy's code says about itself (timeframe, ROI, stop-loss, parameters): read by
    /// validation for custom ones, and by an inspection job on first use for shipped ones.
    public func parameters(of shipped: ShippedStrategy) async throws -> JSONValue {
        if let info = shippedInfo[shipped] { return info }
        guard runtime != nil else { throw DomainError.runtimeUnavailable }
        let result = await withCheckedContinuation { continuation in
            inspectionWaiters[shipped, default: []].append(continuation)
            wake()
        }
        switch result {
        case .success(let info): return info
        case .failure(let failure): throw DomainError.conflict("The strategy could not be inspected: \(failure.message)")
        }
    }

    /// Something to do arrived: the queue's next nap ends early.
    private func wake() { woken = true }

    /// Naps up to `seconds`, less when woken.
    private func sleep(seconds: Int) async {
        for _ in 0..<(seconds * 4) where !woken && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
        }
        woken = false
    }

    // MARK: The queue

    /// Runs the queue until the task is cancelled.
    public func run() async {
        guard let runtime else { return }
        await recover(runtime)
        while !Task.isCancelled {
            if let shipped = inspectionWaiters.keys.sorted(by: { $0.rawValue < $1.rawValue }).first {
                let result = await inspect(shipped, runtime)
                if case .success(let info) = result { shippedInfo[shipped] = info }
                for waiter in inspectionWaiters.removeValue(forKey: shipped) ?? [] { waiter.resume(returning: result) }
                continue
            }
            do {
                if let pending = try await database.strategies(of: nil).last(where: { $0.status == .validating }) {
                    await validate(pending, runtime)
                    continue
                }
                if let next = try await database.unfinishedBacktests().first {
                    await runBacktest(next, runtime)
                    continue
                }
            } catch {
                logger.warning("lab: the queue could not be read", metadata: ["error": "\(error)"])
            }
            await sleep(seconds: 5)
        }
    }

    /// After a restart: no job of the old process is left running, and what it was running runs again.
    ///
    /// Only this portal's own jobs go: those of its unfinished backtests (and their downloads) and
    /// of its strategies still validating, by their ids (`jobID(...)`). A job of another portal on
    /// the same engine (a test engine shared by several) is not this one's to remove.
    private func recover(_ runtime: any LabJobRuntime) async {
        do {
            let unfinished = try await database.unfinishedBacktests()
            var mine = Set(unfinished.flatMap { [$0.id, "d" + $0.id] })
            for row in try await database.strategies(of: nil) where row.status == .validating { mine.insert(Self.jobID(validating: row)) }
            for id in try await runtime.jobIDs() where mine.contains(id) { try await runtime.removeJob(id) }
            for row in unfinished where row.status != .queued {
                try await database.updateBacktest(row.id) { $0.status = .queued; $0.phase = "queued (the portal restarted)" }
            }
        } catch {
            logger.warning("lab: clean-up after start failed", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Validation

    private func validate(_ row: StrategyRecord, _ runtime: any LabJobRuntime) async {
        guard let id = row.id else { return }
        let ref = StrategyRef.custom(name: row.name, version: row.version)
        let spec = jobSpec(kind: .validate, client: row.clientId, settings: Self.probeSettings(ref), source: row.source, arguments: "{}", dataSet: nil,
                           id: Self.jobID(validating: row))
        let actor = AuditActor(name: "fta-lab", sourceIP: nil)
        switch await execute(spec, timeLimit: settings.validateTimeLimit, backtest: nil, runtime) {
        case .success(let output):
            let ok = output["ok"]?.boolValue == true
            var message = output["message"]?.stringValue.map { Self.trimPaths(String($0.prefix(2000))) }
            // Freqtrade says only that it cannot load the class; the likely cause is fta's rule.
            if !ok, let text = message, text.contains("Impossible to load Strategy"), !Self.declaresClass(row.name, in: row.source) {
                message = text + " (fta: the file \(row.name).py must define class \(row.name), a Freqtrade IStrategy.)"
            }
            let info = output["info"].flatMap { ok ? String(decoding: $0.jsonText(), as: UTF8.self) : nil }
            try? await database.updateStrategy(id: id, status: ok ? .valid : .invalid, message: ok ? nil : (message ?? "Freqtrade could not load it."), info: info)
            await audit.record(by: actor, action: ok ? "strategy.validated" : "strategy.rejected", target: ref.rawValue,
                               clientId: row.clientId.rawValue, outcome: ok ? .success : .failure, detail: ok ? nil : message.map { String($0.prefix(200)) })
        case .failure(let failure) where failure.interrupted:
            return  // still validating: it runs again at the next start
        case .failure(let failure):
            try? await database.updateStrategy(id: id, status: .invalid, message: "Validation stopped: \(failure.message)", info: nil)
            await audit.record(by: actor, action: "strategy.rejected", target: ref.rawValue, clientId: row.clientId.rawValue, outcome: .failure,
                               detail: failure.message)
        }
    }

    private func inspect(_ shipped: ShippedStrategy, _ runtime: any LabJobRuntime) async -> Result<JSONValue, LabFailure> {
        // The inspection runs for no client; the operator's own id marks it in the runtime.
        let spec = jobSpec(kind: .validate, client: ClientID("fta-lab")!, settings: Self.probeSettings(.shipped(shipped)),
                           source: shipped.pythonSource, arguments: "{}", dataSet: nil, id: "i-" + shipped.rawValue.lowercased())
        switch await execute(spec, timeLimit: settings.validateTimeLimit, backtest: nil, runtime) {
        case .success(let output):
            guard output["ok"]?.boolValue == true, let info = output["info"] else {
                return .failure(LabFailure(output["message"]?.stringValue ?? "Freqtrade could not load it."))
            }
            return .success(info)
        case .failure(let failure): return .failure(failure)
        }
    }

    /// Whether the source has a line `class <name>(` (or `class <name>:`) at its top level.
    static func declaresClass(_ name: String, in source: String) -> Bool {
        source.split(whereSeparator: \.isNewline).contains { line in
            guard line.hasPrefix("class ") else { return false }
            let rest = line.dropFirst(6).drop { $0 == " " }
            guard rest.hasPrefix(name) else { return false }
            let after = rest.dropFirst(name.count).drop { $0 == " " }
            return after.hasPrefix("(") || after.hasPrefix(":")
        }
    }

    /// Settings that only carry the strategy: validation loads it, nothing trades.
    static func probeSettings(_ ref: StrategyRef) -> BotSettings {
        BotSettings(name: "validation", exchange: "binance", pairs: ["BTC/USDT"], stakeCurrency: "USDT", stakeAmount: .unlimited,
                    dryRunWallet: 1000, maxOpenTrades: 1, timeframe: "5m", strategy: ref, size: .small)
    }

    // MARK: Backtests

    private func runBacktest(_ queued: BacktestRecord, _ runtime: any LabJobRuntime) async {
        let id = queued.id
        guard let botSettings = queued.settingsValue else {
            await finish(id, failure: "its settings could not be read")
            return
        }
        let source: String
        do {
            source = try await lifecycle.strategySource(botSettings.strategy, client: queued.clientId)
        } catch {
            await finish(id, failure: (error as? DomainError)?.message ?? "its strategy is no longer available")
            return
        }
        let key = Self.dataKey(exchange: botSettings.exchange, timeframe: botSettings.timeframe)
        await setPhase(id, status: .downloading, phase: "checking market data", started: true)

        // 1. Market data: downloaded once into the shared cache, whoever asks.
        guard let window = Self.window(of: queued.timerange) else {
            await finish(id, failure: "its timerange cannot be read")
            return
        }
        let margin = TimeInterval(Self.startupCandles * BotCatalog.minutes(of: botSettings.timeframe) * 60)
        let need = (start: window.start.addingTimeInterval(-margin), end: min(window.end, Date()))
        let cached = try? await database.labData(key)
        let missing = botSettings.pairs.filter { !Self.covers(cached, pair: $0, from: need.start, to: need.end, timeframe: botSettings.timeframe) }
        if !missing.isEmpty {
            let used = ((try? await database.labData()) ?? []).reduce(Int64(0)) { $0 + $1.sizeBytes }
            guard used < Int64(settings.dataCapMB) << 20 else {
                await finish(id, failure: "the market-data cache is full (\(used >> 20) of \(settings.dataCapMB) MiB); the operator can prune it")
                return
            }
            await setPhase(id, status: .downloading, phase: "downloading data")
            let arguments = JSONValue.object([
                // Only what is missing: Freqtrade drops a pair's newest stored candle at each download
                // of a window it already holds (it may be incomplete), so a covered pair is left alone.
                "pairs": .array(missing.map { .string($0) }),
                "timeframe": .string(botSettings.timeframe),
                "timerange": .string(Timerange.seconds(from: need.start, to: window.end)),
            ])
            // The download loads no strategy, and its cache is writable: it never gets the
            // client's code, only a shipped strategy's name and source for the config's sake.
            var downloadSettings = botSettings
            downloadSettings.strategy = .shipped(.emaCross)
            downloadSettings.tuning = nil
            let spec = jobSpec(kind: .download, client: queued.clientId, settings: downloadSettings, source: ShippedStrategy.emaCross.pythonSource,
                               arguments: String(decoding: arguments.jsonText(), as: UTF8.self), dataSet: key, id: "d" + id)
            switch await execute(spec, timeLimit: settings.downloadTimeLimit, backtest: id, runtime) {
            case .success(let output) where output["ok"]?.boolValue == true:
                await recordDownload(key: key, exchange: botSettings.exchange, timeframe: botSettings.timeframe, output: output, previous: cached,
                                     client: queued.clientId, pairs: missing)
            case .success(let output):
                await finish(id, failure: "the market data could not be downloaded: \(Self.trimPaths(output["message"]?.stringValue ?? "no reason given"))")
                return
            case .failure(let failure) where failure.interrupted:
                return  // left as it is: recover() queues it again at the next start
            case .failure(let failure):
                await finish(id, failure: "the market data could not be downloaded: \(failure.message)", cancelled: failure.cancelled)
                return
            }
        }

        // 2. The backtest itself, on the cache read-only.
        await setPhase(id, status: .running, phase: "loading")
        let arguments = JSONValue.object(["timerange": .string(queued.botId == nil ? queued.timerange : Timerange.seconds(from: window.start, to: window.end))])
        let spec = jobSpec(kind: .backtest, client: queued.clientId, settings: botSettings, source: source,
                           arguments: String(decoding: arguments.jsonText(), as: UTF8.self), dataSet: key, id: id)
        switch await execute(spec, timeLimit: queued.timeLimitSeconds, backtest: id, runtime) {
        case .success(let output):
            guard output["ok"]?.boolValue == true, let resultValue = output["result"],
                  let decoded = try? JSONDecoder().decode(BacktestResult.self, from: resultValue.jsonText()) else {
                await finish(id, failure: Self.trimPaths(output["message"]?.stringValue ?? "the backtest produced no result"))
                return
            }
            let result = decoded.bounded()
            var comparison: String?
            if let botID = queued.botId {
                comparison = await compareWithDryRun(bot: botID, result: result, window: window, timeframe: botSettings.timeframe)
            }
            let text = String(decoding: (try? JSONEncoder().encode(result)) ?? Data(), as: UTF8.self)
            let compared = comparison
            try? await database.updateBacktest(id) { row in
                guard !row.isFinished else { return }
                row.status = .succeeded
                row.phase = "done"
                row.result = text
                row.comparison = compared
                row.finishedAt = Date()
            }
            try? await database.pruneBacktests(of: queued.clientId, keep: settings.keepBacktests)
        case .failure(let failure) where failure.interrupted:
            return  // left as it is: recover() queues it again at the next start
        case .failure(let failure):
            await finish(id, failure: failure.message, cancelled: failure.cancelled)
        }
    }

    /// Candles loaded before the window for the strategies' indicators to settle (Freqtrade's
    /// startup candles): the shipped ones need at most 50; 300 leaves room for custom ones.
    static let startupCandles = 300

    static func dataKey(exchange: String, timeframe: String) -> String { "\(exchange)-\(timeframe)".lowercased() }

    /// A stored timerange as instants: `YYYYMMDD-YYYYMMDD` or a replay's epoch seconds.
    static func window(of text: String) -> (start: Date, end: Date)? {
        if let days = Timerange(text) { return (days.start, days.end) }
        let parts = text.split(separator: "-").compactMap { TimeInterval(String($0)) }
        guard parts.count == 2 else { return nil }
        return (Date(timeIntervalSince1970: parts[0]), Date(timeIntervalSince1970: parts[1]))
    }

    /// Whether the cached set holds `pair` over the window: its first candle at or before the
    /// start, and its last no older than three candles before the end.
    static func covers(_ set: LabDataRecord?, pair: String, from start: Date, to end: Date, timeframe: String) -> Bool {
        guard let set, let coverage = try? JSONValue.parse(Data(set.coverage.utf8)), let entry = coverage[pair],
              let first = entry["first"]?.stringValue.flatMap(ISO8601Parsing.date), let last = entry["last"]?.stringValue.flatMap(ISO8601Parsing.date)
        else { return false }
        // Three candles: the newest candle is never stored (it is still forming, and Freqtrade drops
        // the last stored one at each download), and a replay's window ends now.
        let slack = Double(3 * BotCatalog.minutes(of: timeframe) * 60)
        return first <= start.addingTimeInterval(Double(BotCatalog.minutes(of: timeframe) * 60)) && last >= end.addingTimeInterval(-slack)
    }

    private func recordDownload(key: String, exchange: String, timeframe: String, output: JSONValue, previous: LabDataRecord?,
                                client: ClientID, pairs: [String]) async {
        var coverage: [String: JSONValue] = [:]
        if let previous, case .object(let old)? = try? JSONValue.parse(Data(previous.coverage.utf8)) { coverage = old }
        if case .object(let new)? = output["coverage"] { for (pair, value) in new { coverage[String(pair.prefix(32))] = value } }
        let size = Int64(output["sizeBytes"]?.doubleValue ?? Double(previous?.sizeBytes ?? 0))
        let record = LabDataRecord(key: key, exchange: exchange, timeframe: timeframe,
                                   coverage: String(decoding: JSONValue.object(coverage).jsonText(), as: UTF8.self), sizeBytes: size)
        try? await database.saveLabData(record)
        await audit.record(by: AuditActor(name: "fta-lab", sourceIP: nil), action: "lab.data.download", target: key, clientId: client.rawValue,
                           outcome: .success, detail: "\(pairs.joined(separator: ",")) (\(size >> 20) MiB in the set)")
    }

    /// The bot's own trades over the window against the replay's.
    private func compareWithDryRun(bot id: BotID, result: BacktestResult, window: (start: Date, end: Date), timeframe: String) async -> String? {
        guard let bot = try? await database.bot(id), let answer = try? await bridge.call(bot, "/api/v1/trades?limit=500") else { return nil }
        var dry = Self.trades(fromFreqtrade: answer["trades"]?.arrayValue ?? [])
        if let open = try? await bridge.call(bot, "/api/v1/status"), let list = open.arrayValue { dry += Self.trades(fromFreqtrade: list) }
        dry = dry.filter { trade in ISO8601Parsing.date(trade.openDate).map { $0 >= window.start && $0 <= window.end } ?? false }
        let comparison = DryRunComparison.compare(
            dry: dry, backtest: result.trades,
            window: .init(start: ISO8601Parsing.string(window.start), end: ISO8601Parsing.string(window.end)),
            toleranceSeconds: Double(BotCatalog.minutes(of: timeframe) * 60 + 60))
        return (try? JSONEncoder().encode(comparison)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Freqtrade's trade objects (REST API) in the lab's form.
    static func trades(fromFreqtrade list: [JSONValue]) -> [BacktestResult.Trade] {
        list.prefix(2000).compactMap { t in
            guard let pair = t["pair"]?.stringValue, let open = t["open_date"]?.stringValue, let rate = t["open_rate"]?.doubleValue else { return nil }
            let isOpen = t["is_open"]?.boolValue == true
            return BacktestResult.Trade(
                pair: pair, openDate: ISO8601Parsing.date(open).map(ISO8601Parsing.string) ?? open,
                closeDate: isOpen ? nil : t["close_date"]?.stringValue.map { ISO8601Parsing.date($0).map(ISO8601Parsing.string) ?? $0 },
                openRate: rate, closeRate: isOpen ? nil : t["close_rate"]?.doubleValue, amount: t["amount"]?.doubleValue,
                stakeAmount: t["stake_amount"]?.doubleValue, profitAbs: isOpen ? nil : t["profit_abs"]?.doubleValue,
                profitRatio: isOpen ? nil : t["profit_ratio"]?.doubleValue, exitReason: t["exit_reason"]?.stringValue,
                enterTag: t["enter_tag"]?.stringValue)
        }
    }

    private func setPhase(_ id: String, status: BacktestRecord.Status? = nil, phase: String, started: Bool = false) async {
        try? await database.updateBacktest(id) { row in
            guard !row.isFinished else { return }
            if let status { row.status = status }
            row.phase = phase
            if started { row.startedAt = Date() }
        }
    }

    private func finish(_ id: String, failure: String, cancelled: Bool = false) async {
        let row = try? await database.updateBacktest(id) { row in
            guard !row.isFinished else { return }
            row.status = cancelled ? .cancelled : .failed
            row.phase = cancelled ? "cancelled" : "failed"
            row.error = cancelled ? nil : failure
            row.finishedAt = Date()
        }
        if let row, !cancelled {
            await audit.record(by: AuditActor(name: "fta-lab", sourceIP: nil), action: "backtest.failed", target: id, clientId: row.clientId.rawValue,
                               outcome: .failure, detail: String(failure.prefix(300)))
        }
    }

    // MARK: Running one job

    private func jobSpec(kind: LabJobKind, client: ClientID, settings botSettings: BotSettings, source: String, arguments: String,
                         dataSet: String?, id: String? = nil) -> LabJobSpec {
        let memory = switch kind {
        case .validate: settings.validateMemoryMB
        case .download: settings.downloadMemoryMB
        case .backtest: settings.backtestMemoryMB
        }
        return LabJobSpec(
            id: id ?? Self.newJobID(), client: client, kind: kind, image: image,
            config: String(decoding: renderLabConfig(settings: botSettings, exchangeOverride: exchangeOverride), as: UTF8.self),
            strategyClass: botSettings.strategy.className, strategySource: source,
            strategyParams: botSettings.tuning?.paramsFile(className: botSettings.strategy.className),
            protections: botSettings.tuning?.protectionsJSON, arguments: arguments, runner: LabRunnerSource.runner,
            dataSet: dataSet, memoryMB: memory)
    }

    static func newJobID() -> String { "j" + String(UInt64.random(in: 0..<(1 << 48)), radix: 16) }

    /// A validation's job id: the row and the version, so that a restart finds it again.
    static func jobID(validating row: StrategyRecord) -> String { "v\(row.id ?? 0)-\(row.version.prefix(12))" }

    /// Waits for memory, runs the job to its end (or its time limit, or a cancellation), and
    /// answers the result it printed. `backtest`: the backtest whose phase shows the progress.
    private func execute(_ spec: LabJobSpec, timeLimit: Int, backtest: String?, _ runtime: any LabJobRuntime) async -> Result<JSONValue, LabFailure> {
        // Memory first: a job waits rather than pushing running bots into the OOM killer.
        while true {
            if let backtest, cancelRequests.contains(backtest) { return .failure(.cancelledByUser) }
            if Task.isCancelled { return .failure(.interrupted) }
            guard let account = try? await admission.currentAccount(database: database) else { break }
            let free = account.freeMB
            if free >= spec.memoryMB { break }
            if let backtest { await setPhase(backtest, phase: "waiting for memory (needs \(spec.memoryMB) MiB, \(free) MiB free)") }
            await sleep(seconds: 5)
        }
        admission.lab.hold(spec.memoryMB)
        defer { admission.lab.release(spec.memoryMB) }
        do {
            try await runtime.startJob(spec)
        } catch {
            logger.warning("lab: a job could not start", metadata: ["job": "\(spec.id)", "error": "\(error)"])
            return .failure(LabFailure("the job could not start (\(error.domainError.message))"))
        }
        let started = Date()
        var lastProgress = Date.distantPast
        while true {
            await sleep(seconds: 1)
            // The portal is stopping: the job goes with it, and what it was for runs again at
            // the next start (recover). Without this the loop would spin: a cancelled task's
            // naps end at once and every runtime call fails.
            if Task.isCancelled {
                try? await runtime.removeJob(spec.id)
                return .failure(.interrupted)
            }
            if let backtest, cancelRequests.contains(backtest) {
                cancelRequests.remove(backtest)
                try? await runtime.removeJob(spec.id)
                return .failure(.cancelledByUser)
            }
            let elapsed = Int(Date().timeIntervalSince(started))
            if elapsed > timeLimit {
                try? await runtime.removeJob(spec.id)
                return .failure(LabFailure("it ran longer than its time limit of \(timeLimit) s and was stopped"))
            }
            let status: BotRuntimeStatus?
            do { status = try await runtime.jobStatus(spec.id) } catch { continue }
            guard let status else { return .failure(LabFailure("the job's container disappeared")) }
            if status.phase == .running || status.phase == .pending {
                if let backtest, Date().timeIntervalSince(lastProgress) >= 3, let lines = try? await runtime.jobOutput(spec.id),
                   let phase = Self.lastProgress(lines) {
                    lastProgress = Date()
                    await setPhase(backtest, phase: phase)
                }
                continue
            }
            let lines = (try? await runtime.jobOutput(spec.id)) ?? []
            try? await runtime.removeJob(spec.id)
            if status.oomKilled {
                return .failure(LabFailure("it was killed: out of memory (its limit is \(spec.memoryMB) MiB)"))
            }
            if let result = Self.result(in: lines) { return .success(result) }
            let tail = lines.filter { !$0.isStdout }.suffix(4).map { Self.trimPaths(String($0.text.prefix(300))) }.joined(separator: " | ")
            return .failure(LabFailure("it \(status.reason ?? "ended") without a result\(tail.isEmpty ? "" : ": " + tail)"))
        }
    }

    /// The last `FTA-PROGRESS` the runner printed, as a phase for the UI.
    static func lastProgress(_ lines: [LabJobOutputLine]) -> String? {
        for line in lines.reversed() where line.isStdout && line.text.hasPrefix("FTA-PROGRESS ") {
            guard let value = try? JSONValue.parse(Data(line.text.dropFirst("FTA-PROGRESS ".count).utf8)),
                  let phase = value["phase"]?.stringValue else { continue }
            let detail = value["detail"]?.stringValue.map { ": " + String($0.prefix(80)) } ?? ""
            return String(phase.prefix(32)) + detail
        }
        return nil
    }

    /// The runner's result: `FTA-RESULT-PART i n chunk` lines on stdout, base64 of one JSON object.
    static func result(in lines: [LabJobOutputLine]) -> JSONValue? {
        var parts: [Int: String] = [:]
        var total: Int?
        for line in lines where line.isStdout && line.text.hasPrefix("FTA-RESULT-PART ") {
            let fields = line.text.split(separator: " ", maxSplits: 3)
            guard fields.count == 4, let i = Int(fields[1]), let n = Int(fields[2]), n >= 1, n <= 4096, (1...n).contains(i) else { continue }
            if total != nil, total != n { parts.removeAll() }
            total = n
            parts[i] = String(fields[3])
        }
        guard let n = total, parts.count == n else { return nil }
        let text = (1...n).compactMap { parts[$0] }.joined()
        guard let data = Data(base64Encoded: text), data.count <= 32 << 20, let value = try? JSONValue.parse(data), value["ok"] != nil else { return nil }
        return value
    }

    /// A message with every file path cut down to its last component: what Freqtrade says about a
    /// strategy must not show where fta keeps things.
    static func trimPaths(_ text: String) -> String {
        var out = ""
        var token = ""
        func flush() {
            if token.contains("/") && (token.hasPrefix("/") || token.hasPrefix("\"/") || token.hasPrefix("'/") || token.hasPrefix("(/")) {
                let lead = token.prefix { $0 == "\"" || $0 == "'" || $0 == "(" }
                let rest = token.dropFirst(lead.count)
                let trail = rest.reversed().prefix { $0 == "\"" || $0 == "'" || $0 == ")" || $0 == "," || $0 == ":" || $0 == "." }
                let body = rest.dropLast(trail.count)
                let last = body.split(separator: "/").last.map(String.init) ?? ""
                out += String(lead) + last + String(trail.reversed())
            } else {
                out += token
            }
            token = ""
        }
        for ch in text {
            if ch == " " || ch == "\n" || ch == "\t" { flush(); out.append(ch) } else { token.append(ch) }
        }
        flush()
        return out
    }
}

/// Why a lab job ended without a result, in words for the client.
struct LabFailure: Error, Sendable, Equatable {
    var message: String
    var cancelled = false
    var interrupted = false
    init(_ message: String, cancelled: Bool = false, interrupted: Bool = false) {
        self.message = message
        self.cancelled = cancelled
        self.interrupted = interrupted
    }
    static let cancelledByUser = LabFailure("cancelled", cancelled: true)
    /// The portal is stopping: nothing is recorded, the work runs again at the next start.
    static let interrupted = LabFailure("interrupted: the portal is stopping", interrupted: true)
}

/// Runs the lab's queue for as long as the portal runs.
struct StrategyLabService: Service {
    let lab: StrategyLab

    func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await lab.run() }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }
}
