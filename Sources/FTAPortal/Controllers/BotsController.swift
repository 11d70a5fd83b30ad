import FTACore
import FTAStore
import Foundation
import Hummingbird
import NIOConcurrencyHelpers

/// Bots: list, create, read, delete, start/stop/restart, logs, and the bot's own trading data.
///
/// Every lookup is scoped to the caller's client before anything else: another client's bot is
/// a 404, exactly like a bot that does not exist. Only then does the role decide (viewer: 403
/// on changes).
struct BotsController {
    let database: AppDatabase
    let lifecycle: BotLifecycle
    let bridge: FreqtradeBridge
    /// Reads of the bots' data, fetched once for every page that asks (BotDataHub).
    let hub: BotDataHub
    let audit: AuditTrail
    let allowTestStrategies: Bool
    /// `GET /bots` as last answered per scope, with the `ChangeStamp` it was read at: every open
    /// page asks it every few seconds, and the list changes only when something is committed.
    let listAnswers = NIOLockedValueBox<[String: (stamp: ChangeStamp, body: ByteBuffer)]>([:])
    /// Bot rows read at one stamp (`record(of:)`).
    let botRecords = NIOLockedValueBox<(stamp: ChangeStamp?, bots: [BotID: BotRecord])>((nil, [:]))

    var endpoints: RouteCollection<PortalContext> {
        let routes = RouteCollection(context: PortalContext.self)
        routes.get("bots", use: list)
        routes.post("bots", use: create)
        routes.get("bots/:botId", use: show)
        routes.delete("bots/:botId", use: delete)
        routes.post("bots/:botId/start", use: start)
        routes.post("bots/:botId/stop", use: stop)
        routes.post("bots/:botId/restart", use: restart)
        routes.post("bots/:botId/rotate-credentials", use: rotateCredentials)
        routes.get("bots/:botId/logs", use: logs)
        routes.get("bots/:botId/status", use: status)
        routes.get("bots/:botId/profit", use: profit)
        routes.get("bots/:botId/trades", use: trades)
        routes.post("bots/:botId/trading/start", use: tradingStart)
        routes.post("bots/:botId/trading/stop", use: tradingStop)
        routes.post("bots/:botId/trades/:tradeId/exit", use: forceExit)
        addDeskRoutes(to: routes)
        return routes
    }

    @Sendable func list(_ request: Request, context: PortalContext) async throws -> Response {
        let principal = try context.requireUser()
        let scope: ClientID?
        if principal.isAdmin {
            if let raw = request.uri.queryParameters["client"] {
                guard let id = ClientID(String(raw)) else { throw APIError.validation(.init("client", Identifier.rule)) }
                scope = id
            } else {
                scope = nil
            }
        } else {
            // A client user's list is their own client's, whatever `?client=` says.
            scope = principal.clientID
        }
        let key = scope?.rawValue ?? "*"
        let stamp = database.changes.stamp()
        if let cached = listAnswers.withLockedValue({ $0[key] }), cached.stamp == stamp {
            return Self.json(cached.body)
        }
        let envelope = BotsEnvelope(bots: try await database.bots(ofClient: scope).map(BotView.init))
        let body = ByteBuffer(data: try context.responseEncoder.encode(envelope))
        listAnswers.withLockedValue { answers in
            // Bounded by the number of clients; a commit makes every entry stale at once.
            if answers.count > 1000 { answers.removeAll() }
            answers[key] = (stamp, body)
        }
        return Self.json(body)
    }

    static func json(_ body: ByteBuffer) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
    }

    struct NewBot: StrictInput {
        static let fields: Set<String> = [
            "id", "clientId", "name", "exchange", "pairs", "stakeCurrency", "stakeAmount", "dryRunWallet",
            "maxOpenTrades", "timeframe", "strategy", "size", "start", "tuning",
        ]
        var tuning: StrategyTuning?
        var id: String?
        var clientId: String?
        var name: String?
        var exchange: String?
        var pairs: [String]?
        var stakeCurrency: String?
        var stakeAmount: String?
        var dryRunWallet: Double?
        var maxOpenTrades: Int?
        var timeframe: String?
        var strategy: String?
        var size: String?
        var start: Bool?
    }

    @Sendable func create(_ request: Request, context: PortalContext) async throws -> EditedResponse<BotEnvelope> {
        let principal = try context.requireUser()
        guard principal.role.canManageBots else {
            await audit.record(context, action: "bot.create", outcome: .denied, detail: "viewer")
            throw APIError.forbidden
        }
        let input = try await request.decodeStrict(NewBot.self, context: context)
        let draft = BotDraft(name: input.name, exchange: input.exchange, pairs: input.pairs, stakeCurrency: input.stakeCurrency,
                             stakeAmount: input.stakeAmount, dryRunWallet: input.dryRunWallet, maxOpenTrades: input.maxOpenTrades,
                             timeframe: input.timeframe, strategy: input.strategy, size: input.size, tuning: input.tuning)
        var errors = FieldErrors()
        let id = input.id.flatMap(BotID.init)
        if id == nil { errors.add("id", input.id == nil ? "is required" : Identifier.rule) }
        var clientID = principal.clientID
        if principal.isAdmin {
            clientID = input.clientId.flatMap(ClientID.init)
            if clientID == nil { errors.add("clientId", "is required for an admin: the client the bot belongs to") }
        } else if input.clientId != nil, input.clientId != principal.clientID?.rawValue {
            // An owner naming another client learns nothing: the field is simply refused.
            errors.add("clientId", "must be omitted or be your own client")
        }
        var settings: BotSettings?
        // A custom strategy resolves against the bot's client's validated versions only.
        let custom = try await clientID.asyncMap { try await database.customStrategyCatalog(of: $0) } ?? .none
        do { settings = try draft.validated(allowTestStrategies: allowTestStrategies, custom: custom) } catch {
            for (field, message) in error.messages { errors.add(field, message) }
        }
        try errors.throwIfAny()
        guard let client = try await database.client(clientID!) else {
            throw APIError.validation(.init("clientId", "is not a known client"))
        }
        do {
            if let existing = try await database.bot(id!) { throw Self.idTaken(id!, by: existing.clientId, for: principal) }
            let bot: BotRecord
            do {
                bot = try await lifecycle.create(id: id!, client: client, settings: settings!, start: input.start ?? true)
            } catch DomainError.conflict(Lockdown.startRefusal, _) {
                throw APIError(DomainError.conflict(Lockdown.startRefusal))
            } catch DomainError.conflict {
                // Taken between the look-up and the insert: answer as the look-up would have.
                let owner = try await database.bot(id!)?.clientId ?? client.id
                throw Self.idTaken(id!, by: owner, for: principal)
            }
            await audit.record(context, action: "bot.create", target: bot.id.rawValue, clientId: bot.clientId.rawValue, outcome: .success)
            if settings!.strategy.isCustom {
                await audit.record(context, action: "strategy.use", target: settings!.strategy.rawValue, clientId: bot.clientId.rawValue,
                                   outcome: .success, detail: "bot \(bot.id.rawValue)")
            }
            return EditedResponse(status: .created, response: BotEnvelope(bot: BotView(try await database.bot(id!) ?? bot)))
        } catch let error as APIError {
            await audit.record(context, action: "bot.create", target: id!.rawValue, clientId: client.id.rawValue, outcome: .failure, detail: error.code)
            throw error
        }
    }

    /// The answer for a bot id that is already used, by the client `owner`.
    ///
    /// Bot ids are unique on the host, not per client: they name the bot's container and volume
    /// (`fta-bot-<id>`, docs/design.md), so per-client ids would change those names and the
    /// schema. An id another client uses therefore cannot be given out, but the answer must not
    /// tell a client that some other client has a bot by that name: it says only that the id
    /// is not available, the one answer for every id this caller may not take. The caller's own
    /// duplicate stays helpful, and an admin, who sees every bot anyway, is told plainly.
    static func idTaken(_ id: BotID, by owner: ClientID, for principal: Principal) -> APIError {
        if principal.isAdmin {
            return APIError(DomainError.conflict("A bot with the id '\(id)' already exists (client \(owner)). Choose another id.",
                                                 fields: ["id": "is taken"]))
        }
        if owner == principal.clientID {
            return APIError(DomainError.conflict("You already have a bot with the id '\(id)'. Choose another id.",
                                                 fields: ["id": "is one of your bots already"]))
        }
        return APIError(DomainError.conflict("The id '\(id)' is not available. Choose another id.", fields: ["id": "is not available"]))
    }

    @Sendable func show(_ request: Request, context: PortalContext) async throws -> BotEnvelope {
        BotEnvelope(bot: BotView(try await scopedBot(context, action: "bot.read")))
    }

    @Sendable func delete(_ request: Request, context: PortalContext) async throws -> Response {
        try await request.requireNoInput(context: context)
        let bot = try await managedBot(context, action: "bot.delete")
        try await audited(context, "bot.delete", bot) { try await lifecycle.delete(bot.id) }
        return Response(status: .noContent)
    }

    @Sendable func start(_ request: Request, context: PortalContext) async throws -> BotEnvelope {
        try await request.requireNoInput(context: context)
        let bot = try await managedBot(context, action: "bot.start")
        return BotEnvelope(bot: BotView(try await audited(context, "bot.start", bot) { try await lifecycle.start(bot.id) }))
    }

    @Sendable func stop(_ request: Request, context: PortalContext) async throws -> BotEnvelope {
        try await request.requireNoInput(context: context)
        let bot = try await managedBot(context, action: "bot.stop")
        return BotEnvelope(bot: BotView(try await audited(context, "bot.stop", bot) { try await lifecycle.stop(bot.id) }))
    }

    @Sendable func restart(_ request: Request, context: PortalContext) async throws -> BotEnvelope {
        try await request.requireNoInput(context: context)
        let bot = try await managedBot(context, action: "bot.restart")
        return BotEnvelope(bot: BotView(try await audited(context, "bot.restart", bot) { try await lifecycle.restart(bot.id) }))
    }

    /// New bot API credentials now (BotLifecycle.rotateCredentials): a running bot restarts.
    @Sendable func rotateCredentials(_ request: Request, context: PortalContext) async throws -> BotEnvelope {
        try await request.requireNoInput(context: context)
        let bot = try await managedBot(context, action: "bot.rotate_credentials")
        return BotEnvelope(bot: BotView(try await audited(context, "bot.rotate_credentials", bot) { try await lifecycle.rotateCredentials(bot.id) }))
    }

    @Sendable func logs(_ request: Request, context: PortalContext) async throws -> LogsView {
        let bot = try await scopedBot(context, action: "bot.logs")
        var tail = 200
        if let raw = request.uri.queryParameters["tail"] {
            guard let value = Int(raw), (1...5000).contains(value) else { throw APIError.validation(.init("tail", "must be between 1 and 5000")) }
            tail = value
        }
        return LogsView(lines: try await lifecycle.logs(bot.id, tail: tail))
    }

    @Sendable func status(_ request: Request, context: PortalContext) async throws -> PassThrough {
        let bot = try await scopedBot(context, action: "bot.status")
        let trades = try await hub.get(bot, "/api/v1/status")
        return PassThrough(value: .object(["trades": trades]))
    }

    @Sendable func profit(_ request: Request, context: PortalContext) async throws -> PassThrough {
        let bot = try await scopedBot(context, action: "bot.profit")
        return PassThrough(value: try await hub.get(bot, "/api/v1/profit"))
    }

    @Sendable func trades(_ request: Request, context: PortalContext) async throws -> PassThrough {
        let bot = try await scopedBot(context, action: "bot.trades")
        let query = request.uri.queryParameters
        var limit = 50, offset = 0
        if let raw = query["limit"] {
            guard let value = Int(raw), (1...500).contains(value) else { throw APIError.validation(.init("limit", "must be between 1 and 500")) }
            limit = value
        }
        if let raw = query["offset"] {
            guard let value = Int(raw), value >= 0, value <= 1_000_000 else { throw APIError.validation(.init("offset", "must be 0 or more")) }
            offset = value
        }
        let answer = try await hub.get(bot, "/api/v1/trades?limit=\(limit)&offset=\(offset)")
        return PassThrough(value: .object([
            "trades": answer["trades"] ?? .array([]),
            "total": answer["total_trades"] ?? .number(0),
            "offset": .number(Double(offset)),
        ]))
    }

    @Sendable func tradingStart(_ request: Request, context: PortalContext) async throws -> PassThrough {
        try await request.requireNoInput(context: context)
        return try await control(context, "bot.trading_start") { try await bridge.call($0, "/api/v1/start", method: "POST") }
    }

    @Sendable func tradingStop(_ request: Request, context: PortalContext) async throws -> PassThrough {
        try await request.requireNoInput(context: context)
        return try await control(context, "bot.trading_stop") { try await bridge.call($0, "/api/v1/stop", method: "POST") }
    }

    @Sendable func forceExit(_ request: Request, context: PortalContext) async throws -> PassThrough {
        try await request.requireNoInput(context: context)
        guard let raw = context.parameters.get("tradeId"), let tradeID = Int(raw), tradeID > 0 else {
            _ = try await managedBot(context, action: "bot.force_exit")
            throw APIError.notFound("No such trade.")
        }
        return try await control(context, "bot.force_exit", detail: "trade \(tradeID)") {
            try await bridge.call($0, "/api/v1/forceexit", method: "POST", body: .object(["tradeid": .string(String(tradeID))]))
        }
    }

    /// The bot named in the path when the caller may see it; a 404 otherwise (and an audit
    /// entry when it exists under another client).
    func scopedBot(_ context: PortalContext, action: String) async throws -> BotRecord {
        let principal = try context.requireUser()
        guard let raw = context.parameters.get("botId"), let id = BotID(raw) else { throw APIError.notFound("No such bot.") }
        let found = try await record(of: id)
        let bot = principal.isAdmin || found?.clientId == principal.clientID ? found : nil
        guard let bot else {
            if found != nil {
                await audit.record(context, action: action, target: id.rawValue, outcome: .denied, detail: "another client's bot")
            }
            throw APIError.notFound("No such bot.")
        }
        return bot
    }

    /// The bot's row, from memory while nothing was committed since it was read (ChangeWatch):
    /// every read of a bot's data looks it up first.
    func record(of id: BotID) async throws -> BotRecord? {
        let stamp = database.changes.stamp()
        if let cached = botRecords.withLockedValue({ $0.stamp == stamp ? $0.bots[id] : nil }) { return cached }
        guard let bot = try await database.bot(id) else { return nil }
        botRecords.withLockedValue { records in
            if records.stamp != stamp || records.bots.count >= 10_000 { records = (stamp, [:]) }
            records.bots[id] = bot
        }
        return bot
    }

    /// `scopedBot`, then the role must be allowed to change bots.
    func managedBot(_ context: PortalContext, action: String) async throws -> BotRecord {
        let bot = try await scopedBot(context, action: action)
        guard try context.requireUser().role.canManageBots else {
            await audit.record(context, action: action, target: bot.id.rawValue, clientId: bot.clientId.rawValue, outcome: .denied, detail: "viewer")
            throw APIError.forbidden
        }
        return bot
    }

    func audited<T: Sendable>(_ context: PortalContext, _ action: String, _ bot: BotRecord, detail: String? = nil,
                                      _ body: @Sendable () async throws -> T) async throws -> T {
        do {
            let result = try await body()
            await audit.record(context, action: action, target: bot.id.rawValue, clientId: bot.clientId.rawValue, outcome: .success, detail: detail)
            return result
        } catch {
            await audit.record(context, action: action, target: bot.id.rawValue, clientId: bot.clientId.rawValue, outcome: .failure,
                               detail: (error as? APIError)?.code ?? "error")
            throw error
        }
    }
}
