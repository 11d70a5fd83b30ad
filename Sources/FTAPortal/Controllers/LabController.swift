import FTACore
import FTAStore
import Foundation
import Hummingbird

/// The strategy lab's API (docs/strategy-lab.md): a client's own strategies, backtests, their
/// comparison, "run as a bot", the dry-run replay, and the operator's data cache.
///
/// Scoping is the bots': every lookup is limited to the caller's client first, so another
/// client's strategy or backtest is a 404 exactly like one that does not exist; only then does
/// the role decide (a viewer reads, and is refused every change).
struct LabController {
    let database: AppDatabase
    let lab: StrategyLab
    let lifecycle: BotLifecycle
    let audit: AuditTrail
    let allowTestStrategies: Bool

    var endpoints: RouteCollection<PortalContext> {
        let routes = RouteCollection(context: PortalContext.self)
        routes.get("strategies", use: strategies)
        routes.post("strategies", use: upload)
        routes.get("strategies/:name", use: strategy)
        routes.delete("strategies/:name", use: deleteStrategy)
        routes.get("strategies/:name/parameters", use: parameters)
        routes.get("backtests", use: backtests)
        routes.post("backtests", use: createBacktest)
        routes.get("backtests/compare", use: compare)
        routes.get("backtests/:backtestId", use: backtest)
        routes.delete("backtests/:backtestId", use: deleteBacktest)
        routes.post("backtests/:backtestId/cancel", use: cancel)
        routes.post("backtests/:backtestId/bot", use: runAsBot)
        routes.post("bots/:botId/replay", use: replay)
        routes.get("lab/data", use: data)
        routes.delete("lab/data/:key", use: pruneData)
        return routes
    }

    // MARK: Strategies

    @Sendable func strategies(_ request: Request, context: PortalContext) async throws -> StrategiesEnvelope {
        let principal = try context.requireUser()
        var scope = principal.clientID
        if principal.isAdmin, let raw = request.uri.queryParameters["clientId"] {
            guard let id = ClientID(String(raw)) else { throw APIError.validation(.init("clientId", Identifier.rule)) }
            scope = id
        }
        let rows = principal.isAdmin && scope == nil ? try await database.strategies(of: nil) : try await database.strategies(of: scope!)
        var latest: [String: StrategyRecord] = [:]
        for row in rows where latest["\(row.clientId.rawValue)/\(row.name)"] == nil { latest["\(row.clientId.rawValue)/\(row.name)"] = row }
        let enabled = try await scope.asyncMap { try await database.client($0)?.customStrategies } ?? false
        return StrategiesEnvelope(
            customEnabled: enabled ?? false,
            shipped: ShippedStrategy.offered(allowTestStrategies: allowTestStrategies).map { ShippedView(name: $0.rawValue, displayName: $0.displayName, summary: $0.summary) },
            custom: latest.values.sorted { ($0.clientId.rawValue, $0.name) < ($1.clientId.rawValue, $1.name) }.map(StrategyView.init))
    }

    struct Upload: StrictInput {
        static let fields: Set<String> = ["fileName", "source", "clientId"]
        var fileName: String?
        var source: String?
        var clientId: String?
    }

    @Sendable func upload(_ request: Request, context: PortalContext) async throws -> EditedResponse<StrategyEnvelope> {
        let principal = try context.requireUser()
        guard principal.role.canManageBots else {
            await audit.record(context, action: "strategy.upload", outcome: .denied, detail: "viewer")
            throw APIError.forbidden
        }
        let input = try await request.decodeStrict(Upload.self, context: context)
        let client = try await targetClient(principal, input.clientId)
        guard client.customStrategies else {
            await audit.record(context, action: "strategy.upload", clientId: client.id.rawValue, outcome: .denied, detail: "custom strategies not enabled")
            throw APIError(.forbidden, "forbidden", "Custom strategies are not enabled for this client. Ask the operator to enable them.")
        }
        var errors = FieldErrors()
        var name: String?
        if let file = input.fileName {
            let stem = file.hasSuffix(".py") ? String(file.dropLast(3)) : ""
            if !CustomStrategyName.isValid(stem) {
                errors.add("fileName", "must be <ClassName>.py: letters, digits and underscores, 1 to \(CustomStrategyName.maxLength) characters")
            } else if ShippedStrategy(rawValue: stem) != nil {
                errors.add("fileName", "must not be the name of a strategy fta ships")
            } else {
                name = stem
            }
        } else {
            errors.add("fileName", "is required")
        }
        let source = input.source ?? ""
        if input.source == nil || source.isEmpty {
            errors.add("source", "is required: the strategy's Python source")
        } else if source.utf8.count > CustomStrategyName.maxSourceBytes {
            throw APIError(.contentTooLarge, "payload_too_large", "A strategy may be at most \(CustomStrategyName.maxSourceBytes / 1024) KiB.")
        } else if source.contains("\u{0}") {
            errors.add("source", "must be text")
        }
        // Whether the class matches the file is Freqtrade's to say, in its own words, at validation
        // (issue 16): the portal only adds a hint to that verdict (`StrategyLab.validate`).
        try errors.throwIfAny()
        // Bounded per client: every version is kept (a bot or backtest names the one it ran), so
        // the bound is on uploads, not on what is kept.
        let stored = try await database.strategies(of: client.id)
        if stored.count >= Self.maxVersionsPerClient, !stored.contains(where: { $0.name == name! && $0.version == CustomStrategyName.version(of: source) }) {
            throw APIError(DomainError.conflict("This client has \(stored.count) strategy versions, the most it may keep. Delete strategies it no longer uses first."))
        }
        let record = StrategyRecord(clientId: client.id, name: name!, source: source, uploadedBy: principal.user.username)
        let (row, inserted) = try await database.insertStrategy(record)
        await audit.record(context, action: "strategy.upload", target: "custom:\(row.name)@\(row.version)", clientId: client.id.rawValue,
                           outcome: .success, detail: inserted ? "\(row.sizeBytes) bytes" : "same source as an earlier upload")
        if inserted { await lab.queueValidation() }
        return EditedResponse(status: .accepted, response: StrategyEnvelope(strategy: StrategyView(row)))
    }

    @Sendable func strategy(_ request: Request, context: PortalContext) async throws -> StrategyDetail {
        let (client, name, rows) = try await scopedStrategy(request, context: context)
        return StrategyDetail(name: name, clientId: client.rawValue, versions: rows.map(StrategyView.init), source: rows.first?.source ?? "")
    }

    @Sendable func deleteStrategy(_ request: Request, context: PortalContext) async throws -> Response {
        let principal = try context.requireUser()
        try await request.requireNoInput(context: context)
        let (client, name, _) = try await scopedStrategy(request, context: context)
        guard principal.role.canManageBots else {
            await audit.record(context, action: "strategy.delete", target: "custom:\(name)", clientId: client.rawValue, outcome: .denied, detail: "viewer")
            throw APIError.forbidden
        }
        let users = try await database.bots(ofClient: client).filter { StrategyRef(rawValue: $0.strategy)?.className == name && $0.strategy.hasPrefix(StrategyRef.customPrefix) }
        guard users.isEmpty else {
            throw APIError(DomainError.conflict("The bots \(users.map { $0.id.rawValue }.joined(separator: ", ")) use this strategy. Delete them or change their strategy first."))
        }
        _ = try await database.deleteStrategy(of: client, name: name)
        await audit.record(context, action: "strategy.delete", target: "custom:\(name)", clientId: client.rawValue, outcome: .success)
        return Response(status: .noContent)
    }

    @Sendable func parameters(_ request: Request, context: PortalContext) async throws -> PassThrough {
        let principal = try context.requireUser()
        let raw = try context.parameters.require("name")
        if let shipped = ShippedStrategy(rawValue: raw), ShippedStrategy.offered(allowTestStrategies: allowTestStrategies || principal.isAdmin).contains(shipped) {
            return PassThrough(value: try await lab.parameters(of: shipped))
        }
        let (_, _, rows) = try await scopedStrategy(request, context: context)
        guard let valid = rows.first(where: { $0.status == .valid }), let info = valid.info, let value = try? JSONValue.parse(Data(info.utf8)) else {
            throw APIError(DomainError.conflict(rows.first?.status == .validating ? "This strategy is still being validated." : "This strategy has no valid version."))
        }
        return PassThrough(value: value)
    }

    /// The caller's own strategy `:name` (an admin's: any client's, by `?clientId=`), with its versions.
    private func scopedStrategy(_ request: Request, context: PortalContext) async throws -> (ClientID, String, [StrategyRecord]) {
        let principal = try context.requireUser()
        let name = try context.parameters.require("name")
        guard CustomStrategyName.isValid(name) else { throw APIError.notFound("No such strategy.") }
        let rows: [StrategyRecord]
        if principal.isAdmin {
            let scope = request.uri.queryParameters["clientId"].flatMap { ClientID(String($0)) }
            rows = try await database.strategies(of: scope, name: name)
        } else {
            guard let own = principal.clientID else { throw APIError.notFound("No such strategy.") }
            rows = try await database.strategies(of: own, name: name)
        }
        guard let first = rows.first, rows.allSatisfy({ $0.clientId == first.clientId }) else {
            throw APIError.notFound(rows.isEmpty ? "No such strategy." : "Several clients have a strategy by this name: add ?clientId=.")
        }
        return (first.clientId, name, rows)
    }

    // MARK: Backtests

    struct NewBacktest: StrictInput {
        static let fields: Set<String> = ["strategy", "pairs", "timeframe", "timerange", "dryRunWallet", "stakeAmount", "maxOpenTrades",
                                          "tuning", "exchange", "clientId", "stakeCurrency"]
        var strategy: String?
        var pairs: [String]?
        var timeframe: String?
        var timerange: String?
        var dryRunWallet: Double?
        var stakeAmount: String?
        var maxOpenTrades: Int?
        var tuning: StrategyTuning?
        var exchange: String?
        var clientId: String?
        var stakeCurrency: String?
    }

    @Sendable func createBacktest(_ request: Request, context: PortalContext) async throws -> EditedResponse<BacktestEnvelope> {
        let principal = try context.requireUser()
        guard principal.role.canManageBots else {
            await audit.record(context, action: "backtest.create", outcome: .denied, detail: "viewer")
            throw APIError.forbidden
        }
        guard await lab.isAvailable else { throw APIError(DomainError.runtimeUnavailable) }
        let input = try await request.decodeStrict(NewBacktest.self, context: context)
        let client = try await targetClient(principal, input.clientId)
        let stakeCurrency = input.stakeCurrency ?? input.pairs?.first.flatMap { $0.split(separator: "/").last.map(String.init) } ?? "USDT"
        let draft = BotDraft(name: "backtest", exchange: input.exchange ?? "binance", pairs: input.pairs, stakeCurrency: stakeCurrency,
                             stakeAmount: input.stakeAmount, dryRunWallet: input.dryRunWallet, maxOpenTrades: input.maxOpenTrades,
                             timeframe: input.timeframe, strategy: input.strategy, size: BotSize.small.rawValue, tuning: input.tuning)
        var errors = FieldErrors()
        var settings: BotSettings?
        let catalog = try await database.customStrategyCatalog(of: client.id)
        do {
            settings = try draft.validated(allowTestStrategies: allowTestStrategies || principal.isAdmin, custom: catalog)
        } catch {
            for (field, message) in error.messages { errors.add(field, message) }
        }
        let range = input.timerange.flatMap(Timerange.init)
        if input.timerange == nil {
            errors.add("timerange", "is required, like 20261101-20261201")
        } else if let range {
            let tomorrow = Date().addingTimeInterval(86_400)
            if range.start >= range.end { errors.add("timerange", "must start before it ends") }
            else if range.end > tomorrow { errors.add("timerange", "must not end after today") }
            else if let tf = input.timeframe, BotCatalog.timeframes.contains(tf), range.candles(timeframe: tf) > Timerange.maxCandles {
                errors.add("timerange", "covers \(range.candles(timeframe: tf)) candles of \(tf); at most \(Timerange.maxCandles) per pair")
            }
        } else {
            errors.add("timerange", "must be YYYYMMDD-YYYYMMDD, like 20261101-20261201")
        }
        try errors.throwIfAny()
        let record = BacktestRecord(id: Self.newID(), clientId: client.id, createdBy: principal.user.username, settings: settings!,
                                    timerange: range!.description, botId: nil, timeLimitSeconds: await lab.settings.backtestTimeLimit)
        do { try await lab.submit(record, by: AuditActor(context)) } catch let error as DomainError { throw APIError(error) }
        return EditedResponse(status: .accepted, response: BacktestEnvelope(backtest: BacktestView(record, full: false)))
    }

    static func newID() -> String { "bt" + String(UInt64.random(in: 0..<(1 << 48)), radix: 16) }

    /// Strategy versions a client may keep: 100 versions of at most 32 KiB is 3.2 MiB of the database.
    static let maxVersionsPerClient = 100

    @Sendable func backtests(_ request: Request, context: PortalContext) async throws -> BacktestsEnvelope {
        let principal = try context.requireUser()
        let scope: ClientID? = principal.isAdmin ? request.uri.queryParameters["clientId"].flatMap { ClientID(String($0)) } : principal.clientID
        guard principal.isAdmin || scope != nil else { return BacktestsEnvelope(backtests: []) }
        return BacktestsEnvelope(backtests: try await database.backtests(of: scope).map { BacktestView($0, full: false) })
    }

    @Sendable func backtest(_ request: Request, context: PortalContext) async throws -> BacktestEnvelope {
        BacktestEnvelope(backtest: BacktestView(try await scopedBacktest(context), full: true))
    }

    @Sendable func compare(_ request: Request, context: PortalContext) async throws -> BacktestsEnvelope {
        let principal = try context.requireUser()
        let ids = (request.uri.queryParameters["ids"].map(String.init) ?? "").split(separator: ",").map(String.init)
        guard (2...4).contains(ids.count), Set(ids).count == ids.count else {
            throw APIError.validation(.init("ids", "must name 2 to 4 different backtests, separated by commas"))
        }
        var views: [BacktestView] = []
        for id in ids {
            guard let row = try await database.backtest(id), principal.isAdmin || row.clientId == principal.clientID else {
                throw APIError.notFound("No such backtest: \(id.prefix(32)).")
            }
            var view = BacktestView(row, full: false)
            view.metrics = row.resultValue?.metrics
            view.equity = row.resultValue?.equity
            views.append(view)
        }
        return BacktestsEnvelope(backtests: views)
    }

    @Sendable func cancel(_ request: Request, context: PortalContext) async throws -> BacktestEnvelope {
        let row = try await managedBacktest(context, action: "backtest.cancel")
        try await request.requireNoInput(context: context)
        do {
            let updated = try await lab.cancel(row.id)
            await audit.record(context, action: "backtest.cancel", target: row.id, clientId: row.clientId.rawValue, outcome: .success)
            return BacktestEnvelope(backtest: BacktestView(updated, full: false))
        } catch let error as DomainError { throw APIError(error) }
    }

    @Sendable func deleteBacktest(_ request: Request, context: PortalContext) async throws -> Response {
        let row = try await managedBacktest(context, action: "backtest.delete")
        try await request.requireNoInput(context: context)
        if !row.isFinished { _ = try? await lab.cancel(row.id) }
        try await database.deleteBacktest(row.id)
        await audit.record(context, action: "backtest.delete", target: row.id, clientId: row.clientId.rawValue, outcome: .success)
        return Response(status: .noContent)
    }

    struct AsBot: StrictInput {
        static let fields: Set<String> = ["id", "name", "size", "start"]
        var id: String?
        var name: String?
        var size: String?
        var start: Bool?
    }

    /// A dry-run bot with exactly the backtest's settings: its exchange, pairs, timeframe, strategy
    /// version, wallet, stake, open-trade limit and tuning.
    @Sendable func runAsBot(_ request: Request, context: PortalContext) async throws -> EditedResponse<BotEnvelope> {
        let row = try await managedBacktest(context, action: "backtest.bot")
        let input = try await request.decodeStrict(AsBot.self, context: context)
        guard let tested = row.settingsValue else { throw APIError(DomainError.internal) }
        var errors = FieldErrors()
        let id = input.id.flatMap(BotID.init)
        if id == nil { errors.add("id", input.id == nil ? "is required" : Identifier.rule) }
        // The bot's own fields (name, size) are validated as for any new bot; the rest is the
        // backtest's, pinned strategy version included.
        var draft = BotDraft(tested)
        draft.name = input.name
        draft.size = input.size ?? BotSize.small.rawValue
        var settings = tested
        do { settings = try draft.validated(allowTestStrategies: true, custom: .trustedRows) } catch {
            for (field, message) in error.messages { errors.add(field, message) }
        }
        try errors.throwIfAny()
        // The strategy version must still exist: it is the code the bot will run.
        _ = try await lifecycle.strategySource(settings.strategy, client: row.clientId)
        guard let client = try await database.client(row.clientId) else { throw APIError.notFound("No such client.") }
        if let existing = try await database.bot(id!) {
            throw BotsController.idTaken(id!, by: existing.clientId, for: try context.requireUser())
        }
        let bot: BotRecord
        do {
            bot = try await lifecycle.create(id: id!, client: client, settings: settings, start: input.start ?? true)
        } catch let error as DomainError {
            await audit.record(context, action: "backtest.bot", target: row.id, clientId: row.clientId.rawValue, outcome: .failure, detail: error.code)
            throw APIError(error)
        }
        await audit.record(context, action: "backtest.bot", target: bot.id.rawValue, clientId: row.clientId.rawValue, outcome: .success,
                           detail: "from backtest \(row.id)")
        if settings.strategy.isCustom {
            await audit.record(context, action: "strategy.use", target: settings.strategy.rawValue, clientId: row.clientId.rawValue,
                               outcome: .success, detail: "bot \(bot.id.rawValue)")
        }
        return EditedResponse(status: .created, response: BotEnvelope(bot: BotView(try await database.bot(bot.id) ?? bot)))
    }

    /// Backtests the bot's own window with its exact strategy version and settings.
    @Sendable func replay(_ request: Request, context: PortalContext) async throws -> EditedResponse<BacktestEnvelope> {
        let principal = try context.requireUser()
        let raw = try context.parameters.require("botId")
        guard let id = BotID(raw), let bot = try await database.bot(id), principal.isAdmin || bot.clientId == principal.clientID else {
            throw APIError.notFound("No such bot.")
        }
        guard principal.role.canManageBots else {
            await audit.record(context, action: "bot.replay", target: bot.id.rawValue, clientId: bot.clientId.rawValue, outcome: .denied, detail: "viewer")
            throw APIError.forbidden
        }
        try await request.requireNoInput(context: context)
        guard await lab.isAvailable else { throw APIError(DomainError.runtimeUnavailable) }
        var settings = try bot.settings(allowTestStrategies: true)
        settings.name = "replay of \(bot.name)".prefix(BotCatalog.nameMaxLength).description
        guard let started = bot.startedAt ?? Optional(bot.createdAt) else { throw APIError(DomainError.internal) }
        // The window: from the bot's start (or its first trade, when earlier) to now.
        var start = started
        if let answer = try? await lab.bridge.call(bot, "/api/v1/trades?limit=500") {
            for trade in StrategyLab.trades(fromFreqtrade: answer["trades"]?.arrayValue ?? []) {
                if let open = ISO8601Parsing.date(trade.openDate), open < start { start = open }
            }
        }
        let end = Date()
        guard end.timeIntervalSince(start) >= Double(BotCatalog.minutes(of: settings.timeframe) * 60 * 2) else {
            throw APIError(DomainError.conflict("This bot has run for less than two candles; a replay needs a longer window."))
        }
        let record = BacktestRecord(id: Self.newID(), clientId: bot.clientId, createdBy: principal.user.username, settings: settings,
                                    timerange: Timerange.seconds(from: start.addingTimeInterval(-Double(BotCatalog.minutes(of: settings.timeframe) * 60)), to: end),
                                    botId: bot.id, timeLimitSeconds: await lab.settings.backtestTimeLimit)
        do { try await lab.submit(record, by: AuditActor(context)) } catch let error as DomainError { throw APIError(error) }
        return EditedResponse(status: .accepted, response: BacktestEnvelope(backtest: BacktestView(record, full: false)))
    }

    private func scopedBacktest(_ context: PortalContext) async throws -> BacktestRecord {
        let principal = try context.requireUser()
        let id = try context.parameters.require("backtestId")
        guard id.count <= 32, let row = try await database.backtest(id), principal.isAdmin || row.clientId == principal.clientID else {
            throw APIError.notFound("No such backtest.")
        }
        return row
    }

    private func managedBacktest(_ context: PortalContext, action: String) async throws -> BacktestRecord {
        let row = try await scopedBacktest(context)
        guard try context.requireUser().role.canManageBots else {
            await audit.record(context, action: action, target: row.id, clientId: row.clientId.rawValue, outcome: .denied, detail: "viewer")
            throw APIError.forbidden
        }
        return row
    }

    /// The client a change is for: the caller's own, or for an admin the one named.
    private func targetClient(_ principal: Principal, _ named: String?) async throws -> ClientRecord {
        if principal.isAdmin {
            guard let raw = named, let id = ClientID(raw) else { throw APIError.validation(.init("clientId", "is required for an admin: the client it is for")) }
            guard let client = try await database.client(id) else { throw APIError.validation(.init("clientId", "is not a known client")) }
            return client
        }
        if let named, named != principal.clientID?.rawValue { throw APIError.validation(.init("clientId", "must be omitted or be your own client")) }
        guard let own = principal.clientID, let client = try await database.client(own) else { throw APIError.forbidden }
        return client
    }

    // MARK: The operator's data cache

    @Sendable func data(_ request: Request, context: PortalContext) async throws -> PassThrough {
        _ = try context.requireAdmin()
        let sets = try await database.labData()
        let cap = await lab.settings.dataCapMB
        return PassThrough(value: .object([
            "capMB": .number(Double(cap)),
            "usedBytes": .number(Double(sets.reduce(Int64(0)) { $0 + $1.sizeBytes })),
            "sets": .array(sets.map { set in
                .object([
                    "key": .string(set.key), "exchange": .string(set.exchange), "timeframe": .string(set.timeframe),
                    "sizeBytes": .number(Double(set.sizeBytes)),
                    "pairs": (try? JSONValue.parse(Data(set.coverage.utf8))) ?? .object([:]),
                    "downloadedAt": .string(ISO8601Parsing.string(set.downloadedAt)),
                ])
            }),
        ]))
    }

    @Sendable func pruneData(_ request: Request, context: PortalContext) async throws -> Response {
        _ = try context.requireAdmin()
        try await request.requireNoInput(context: context)
        let key = try context.parameters.require("key")
        guard try await database.labData(key) != nil else { throw APIError.notFound("No such data set.") }
        do { try await lab.prune(key) } catch let error as DomainError { throw APIError(error) }
        await audit.record(context, action: "lab.data.prune", target: key, outcome: .success)
        return Response(status: .noContent)
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}

// MARK: Views

struct ShippedView: Codable, Sendable {
    var name: String
    var displayName: String
    var summary: String
}

struct StrategyView: Codable, Sendable {
    var name: String
    var version: String
    var sizeBytes: Int
    var status: String
    var message: String?
    var uploadedAt: Date
    var uploadedBy: String
    var clientId: String

    init(_ row: StrategyRecord) {
        name = row.name
        version = row.version
        sizeBytes = row.sizeBytes
        status = row.status.rawValue
        message = row.message
        uploadedAt = row.uploadedAt
        uploadedBy = row.uploadedBy
        clientId = row.clientId.rawValue
    }
}

struct StrategiesEnvelope: ResponseCodable {
    var customEnabled: Bool
    var shipped: [ShippedView]
    var custom: [StrategyView]
}

struct StrategyEnvelope: ResponseCodable { var strategy: StrategyView }

struct StrategyDetail: ResponseCodable {
    var name: String
    var clientId: String
    var versions: [StrategyView]
    var source: String
}

struct BacktestView: Codable, Sendable {
    struct Progress: Codable, Sendable {
        var elapsedSeconds: Int
        var timeLimitSeconds: Int
    }
    struct Summary: Codable, Sendable {
        var tradeCount: Int
        var profitTotal: Double?
        var profitTotalAbs: Double?
        var winRate: Double?
        var maxDrawdown: Double?
    }
    var id: String
    var clientId: String
    var createdBy: String
    var status: String
    var phase: String
    var progress: Progress
    var error: String?
    var strategy: String
    var strategyVersion: String
    var exchange: String
    var pairs: [String]
    var timeframe: String
    var timerange: String
    var dryRunWallet: Double
    var stakeAmount: String
    var maxOpenTrades: Int
    var tuning: StrategyTuning?
    var botId: String?
    var createdAt: Date
    var startedAt: Date?
    var finishedAt: Date?
    var summary: Summary?
    var result: BacktestResult?
    var comparison: DryRunComparison?
    var metrics: BacktestResult.Metrics?
    var equity: [BacktestResult.EquityPoint]?

    init(_ row: BacktestRecord, full: Bool) {
        let settings = row.settingsValue
        let result = row.resultValue
        id = row.id
        clientId = row.clientId.rawValue
        createdBy = row.createdBy
        status = row.status.rawValue
        phase = row.phase
        let end = row.finishedAt ?? Date()
        progress = Progress(elapsedSeconds: row.startedAt.map { max(0, Int(end.timeIntervalSince($0))) } ?? 0, timeLimitSeconds: row.timeLimitSeconds)
        error = row.error
        strategy = settings?.strategy.displayRef ?? "?"
        strategyVersion = settings?.strategy.version ?? ""
        exchange = settings?.exchange ?? ""
        pairs = settings?.pairs ?? []
        timeframe = settings?.timeframe ?? ""
        timerange = row.timerange
        dryRunWallet = settings?.dryRunWallet ?? 0
        stakeAmount = settings?.stakeAmount.description ?? ""
        maxOpenTrades = settings?.maxOpenTrades ?? 0
        tuning = settings?.tuning
        botId = row.botId?.rawValue
        createdAt = row.createdAt
        startedAt = row.startedAt
        finishedAt = row.finishedAt
        summary = result.map { Summary(tradeCount: $0.metrics.tradeCount, profitTotal: $0.metrics.profitTotal, profitTotalAbs: $0.metrics.profitTotalAbs,
                                       winRate: $0.metrics.winRate, maxDrawdown: $0.metrics.maxDrawdown) }
        if full {
            self.result = result
            comparison = row.comparisonValue
        }
    }
}

struct BacktestEnvelope: ResponseCodable { var backtest: BacktestView }
struct BacktestsEnvelope: ResponseCodable { var backtests: [BacktestView] }
