import FTACore
import FTAStore
import Foundation
import Hummingbird

/// The trading desk of one bot: what FreqUI shows (performance, periods, statistics, balance,
/// locks, lists, settings, candles) and its controls, through the bridge.
///
/// Reads go through the fan-in (`BotDataHub`): one request to the bot serves every page that
/// asks within two seconds. Controls are for owners and admins (a viewer: 403), audited, and
/// drop the bot's cached answers so the next read shows the change. Scope first, as everywhere:
/// another client's bot is a 404.
extension BotsController {
    func addDeskRoutes(to routes: RouteCollection<PortalContext>) {
        routes.get("bots/:botId/trades/:tradeId", use: trade)
        routes.get("bots/:botId/trades.csv", use: exportTrades)
        routes.get("bots/:botId/performance", use: performance)
        routes.get("bots/:botId/daily", use: daily)
        routes.get("bots/:botId/weekly", use: weekly)
        routes.get("bots/:botId/monthly", use: monthly)
        routes.get("bots/:botId/stats", use: stats)
        routes.get("bots/:botId/entries", use: entries)
        routes.get("bots/:botId/exits", use: exits)
        routes.get("bots/:botId/balance", use: balance)
        routes.get("bots/:botId/locks", use: locks)
        routes.get("bots/:botId/whitelist", use: whitelist)
        routes.get("bots/:botId/blacklist", use: blacklist)
        routes.get("bots/:botId/config", use: effectiveConfig)
        routes.get("bots/:botId/plot-config", use: plotConfig)
        routes.get("bots/:botId/candles", use: candles)

        routes.post("bots/:botId/trading/pause", use: tradingPause)
        routes.post("bots/:botId/trades/exit-all", use: forceExitAll)
        routes.post("bots/:botId/locks", use: lockPair)
        routes.delete("bots/:botId/locks/:lockId", use: unlock)
        routes.post("bots/:botId/blacklist", use: blacklistAdd)
        routes.delete("bots/:botId/blacklist", use: blacklistRemove)
        routes.patch("bots/:botId", use: update)
        routes.post("bots/:botId/clone", use: clone)
        routes.post("bots/:botId/wallet/reset", use: resetWallet)
    }

    // MARK: Reads

    /// The bot's answer to GET `path`, through the fan-in, after the scope check.
    private func read(_ context: PortalContext, _ action: String, _ path: String) async throws -> JSONValue {
        let bot = try await scopedBot(context, action: action)
        return try await hub.get(bot, path)
    }

    @Sendable func trade(_ request: Request, context: PortalContext) async throws -> PassThrough {
        guard let raw = context.parameters.get("tradeId"), let id = Int(raw), id > 0, id <= 1_000_000_000 else {
            _ = try await scopedBot(context, action: "bot.trade")
            throw APIError.notFound("No such trade.")
        }
        return PassThrough(value: try await read(context, "bot.trade", "/api/v1/trade/\(id)"))
    }

    @Sendable func performance(_ request: Request, context: PortalContext) async throws -> PassThrough {
        PassThrough(value: .object(["performance": try await read(context, "bot.performance", "/api/v1/performance")]))
    }

    @Sendable func daily(_ request: Request, context: PortalContext) async throws -> PassThrough {
        try await period(request, context, "daily", bounds: 1...365, default: 30)
    }

    @Sendable func weekly(_ request: Request, context: PortalContext) async throws -> PassThrough {
        try await period(request, context, "weekly", bounds: 1...104, default: 12)
    }

    @Sendable func monthly(_ request: Request, context: PortalContext) async throws -> PassThrough {
        try await period(request, context, "monthly", bounds: 1...60, default: 12)
    }

    private func period(_ request: Request, _ context: PortalContext, _ name: String, bounds: ClosedRange<Int>, default value: Int) async throws -> PassThrough {
        let timescale = try Self.integer(request, "timescale", bounds, default: value)
        return PassThrough(value: try await read(context, "bot.\(name)", "/api/v1/\(name)?timescale=\(timescale)"))
    }

    @Sendable func stats(_ request: Request, context: PortalContext) async throws -> PassThrough {
        PassThrough(value: try await read(context, "bot.stats", "/api/v1/stats"))
    }

    @Sendable func entries(_ request: Request, context: PortalContext) async throws -> PassThrough {
        PassThrough(value: .object(["entries": try await read(context, "bot.entries", "/api/v1/entries")]))
    }

    @Sendable func exits(_ request: Request, context: PortalContext) async throws -> PassThrough {
        PassThrough(value: .object(["exits": try await read(context, "bot.exits", "/api/v1/exits")]))
    }

    @Sendable func balance(_ request: Request, context: PortalContext) async throws -> PassThrough {
        PassThrough(value: try await read(context, "bot.balance", "/api/v1/balance"))
    }

    @Sendable func locks(_ request: Request, context: PortalContext) async throws -> PassThrough {
        PassThrough(value: try await read(context, "bot.locks", "/api/v1/locks"))
    }

    @Sendable func whitelist(_ request: Request, context: PortalContext) async throws -> PassThrough {
        PassThrough(value: try await read(context, "bot.whitelist", "/api/v1/whitelist"))
    }

    @Sendable func blacklist(_ request: Request, context: PortalContext) async throws -> PassThrough {
        PassThrough(value: try await read(context, "bot.blacklist", "/api/v1/blacklist"))
    }

    /// The effective settings: the bot's own `show_config` (Freqtrade leaves out its secrets),
    /// with the pairs it trades now (`pair_whitelist`, from its `/whitelist`), which
    /// `show_config` does not list: after an edit and a restart, they are the new pairs.
    @Sendable func effectiveConfig(_ request: Request, context: PortalContext) async throws -> PassThrough {
        let bot = try await scopedBot(context, action: "bot.config")
        async let config = hub.get(bot, "/api/v1/show_config")
        async let whitelist = hub.get(bot, "/api/v1/whitelist")
        guard case .object(var fields) = try await config else { return PassThrough(value: try await config) }
        fields["pair_whitelist"] = try await whitelist["whitelist"] ?? .array([])
        return PassThrough(value: .object(fields))
    }

    @Sendable func plotConfig(_ request: Request, context: PortalContext) async throws -> PassThrough {
        PassThrough(value: try await read(context, "bot.plot_config", "/api/v1/plot_config"))
    }

    /// OHLC candles of one of the bot's pairs, with the strategy's indicators and its entry and
    /// exit signals, in the bot's timeframe; at most 1000 (Freqtrade computes them on demand).
    @Sendable func candles(_ request: Request, context: PortalContext) async throws -> PassThrough {
        let bot = try await scopedBot(context, action: "bot.candles")
        let limit = try Self.integer(request, "limit", 1...1000, default: 200)
        guard let pair = request.uri.queryParameters["pair"].map(String.init), !pair.isEmpty else {
            throw APIError.validation(.init("pair", "is required: one of the bot's pairs"))
        }
        guard bot.pairList.contains(pair) else { throw APIError.validation(.init("pair", "is not one of the bot's pairs")) }
        let path = "/api/v1/pair_candles?pair=\(Self.queryEncoded(pair))&timeframe=\(bot.timeframe)&limit=\(limit)"
        return PassThrough(value: try await hub.get(bot, path))
    }

    /// Every trade of the bot as CSV, in the order of `/trades`, read page by page. A control
    /// like the others (issue 13): owners and admins, audited.
    @Sendable func exportTrades(_ request: Request, context: PortalContext) async throws -> Response {
        let bot = try await managedBot(context, action: "bot.export")
        let rows = try await audited(context, "bot.export", bot) { () -> [JSONValue] in
            var rows: [JSONValue] = []
            var offset = 0
            while rows.count < Self.maxExportedTrades {
                let page = try await bridge.call(bot, "/api/v1/trades?limit=500&offset=\(offset)")
                let trades = page["trades"]?.arrayValue ?? []
                rows += trades
                offset += trades.count
                let total = Int(page["total_trades"]?.doubleValue ?? 0)
                if trades.isEmpty || offset >= total { break }
            }
            return rows
        }
        let csv = TradesCSV.render(rows)
        return Response(status: .ok, headers: [
            .contentType: "text/csv; charset=utf-8",
            .contentDisposition: "attachment; filename=\"\(bot.id)-trades.csv\"",
        ], body: .init(byteBuffer: ByteBuffer(string: csv)))
    }

    /// An export stops here: a dry-run bot seldom has a tenth of it, and the answer stays small.
    static let maxExportedTrades = 20_000

    // MARK: Controls

    /// Runs a control on the bot: the role check, the call, the audit entry, and the bot's
    /// cached answers dropped.
    func control(_ context: PortalContext, _ action: String, detail: String? = nil,
                 _ body: @Sendable (BotRecord) async throws -> JSONValue) async throws -> PassThrough {
        let bot = try await managedBot(context, action: action)
        do {
            let value = try await audited(context, action, bot, detail: detail) { try await body(bot) }
            await hub.invalidate(bot.id)
            return PassThrough(value: value)
        } catch {
            // Refused or half-done, the bot may have changed all the same: ask it afresh.
            await hub.invalidate(bot.id)
            throw error
        }
    }

    @Sendable func tradingPause(_ request: Request, context: PortalContext) async throws -> PassThrough {
        try await request.requireNoInput(context: context)
        return try await control(context, "bot.trading_pause") { try await bridge.call($0, "/api/v1/pause", method: "POST") }
    }

    @Sendable func forceExitAll(_ request: Request, context: PortalContext) async throws -> PassThrough {
        try await request.requireNoInput(context: context)
        return try await control(context, "bot.force_exit", detail: "all") {
            try await bridge.call($0, "/api/v1/forceexit", method: "POST", body: .object(["tradeid": .string("all")]))
        }
    }

    struct NewLock: StrictInput {
        static let fields: Set<String> = ["pair", "minutes", "reason", "side"]
        var pair: String?
        var minutes: Int?
        var reason: String?
        var side: String?
    }

    @Sendable func lockPair(_ request: Request, context: PortalContext) async throws -> PassThrough {
        let bot = try await managedBot(context, action: "bot.lock")
        let input = try await request.decodeStrict(NewLock.self, context: context)
        var errors = FieldErrors()
        if input.pair == nil { errors.add("pair", "is required") } else if !bot.pairList.contains(input.pair!) {
            errors.add("pair", "is not one of the bot's pairs")
        }
        if let minutes = input.minutes { if !(1...10080).contains(minutes) { errors.add("minutes", "must be between 1 and 10080 (a week)") } } else {
            errors.add("minutes", "is required: how long the pair stays locked, 1 to 10080")
        }
        if let reason = input.reason, reason.count > 100 || reason.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            errors.add("reason", "must be at most 100 characters, without control characters")
        }
        let side = input.side ?? "*"
        if !["*", "long"].contains(side) { errors.add("side", "must be \"*\" or \"long\" (spot bots trade long only)") }
        try errors.throwIfAny()
        let until = Date().addingTimeInterval(TimeInterval(input.minutes! * 60))
        var payload: [String: JSONValue] = ["pair": .string(input.pair!), "until": .string(Self.isoDate(until)), "side": .string(side)]
        if let reason = input.reason, !reason.isEmpty { payload["reason"] = .string(reason) }
        // Freqtrade's POST /locks takes a list of locks.
        let body = JSONValue.array([.object(payload)])
        return try await control(context, "bot.lock", detail: "\(input.pair!) for \(input.minutes!) min") {
            try await bridge.call($0, "/api/v1/locks", method: "POST", body: body)
        }
    }

    @Sendable func unlock(_ request: Request, context: PortalContext) async throws -> PassThrough {
        try await request.requireNoInput(context: context)
        guard let raw = context.parameters.get("lockId"), let id = Int(raw), id > 0, id <= 1_000_000_000 else {
            _ = try await managedBot(context, action: "bot.unlock")
            throw APIError.notFound("No such lock.")
        }
        return try await control(context, "bot.unlock", detail: "lock \(id)") { try await bridge.call($0, "/api/v1/locks/\(id)", method: "DELETE") }
    }

    struct PairList: StrictInput {
        static let fields: Set<String> = ["pairs"]
        var pairs: [String]?
    }

    @Sendable func blacklistAdd(_ request: Request, context: PortalContext) async throws -> PassThrough {
        _ = try await managedBot(context, action: "bot.blacklist_add")
        let input = try await request.decodeStrict(PairList.self, context: context)
        let pairs = try Self.validPairs(input.pairs)
        return try await control(context, "bot.blacklist_add", detail: pairs.joined(separator: " ")) {
            try await bridge.call($0, "/api/v1/blacklist", method: "POST", body: .object(["blacklist": .array(pairs.map(JSONValue.string))]))
        }
    }

    @Sendable func blacklistRemove(_ request: Request, context: PortalContext) async throws -> PassThrough {
        try await request.requireNoInput(context: context)
        _ = try await managedBot(context, action: "bot.blacklist_remove")
        let pairs = try Self.validPairs(request.uri.queryParameters.getAll("pair").map { String($0) }, field: "pair")
        let query = pairs.map { "pairs_to_delete=\(Self.queryEncoded($0))" }.joined(separator: "&")
        return try await control(context, "bot.blacklist_remove", detail: pairs.joined(separator: " ")) {
            try await bridge.call($0, "/api/v1/blacklist?\(query)", method: "DELETE")
        }
    }

    // MARK: Settings, clone, wallet

    struct BotChanges: StrictInput {
        static let fields: Set<String> = ["name", "pairs", "stakeAmount", "dryRunWallet", "maxOpenTrades", "timeframe", "strategy", "size", "tuning"]
        var tuning: StrategyTuning?
        var name: String?
        var pairs: [String]?
        var stakeAmount: String?
        var dryRunWallet: Double?
        var maxOpenTrades: Int?
        var timeframe: String?
        var strategy: String?
        var size: String?
    }

    /// Edits a bot's settings, validated as at creation. A running bot gets them at its next
    /// start; until then it shows `pendingRestart`.
    @Sendable func update(_ request: Request, context: PortalContext) async throws -> BotEnvelope {
        let bot = try await managedBot(context, action: "bot.update")
        let input = try await request.decodeStrict(BotChanges.self, context: context)
        let current = try bot.settings(allowTestStrategies: true)
        var draft = BotDraft(current)
        draft.name = input.name ?? draft.name
        draft.pairs = input.pairs ?? draft.pairs
        draft.stakeAmount = input.stakeAmount ?? draft.stakeAmount
        draft.dryRunWallet = input.dryRunWallet ?? draft.dryRunWallet
        draft.maxOpenTrades = input.maxOpenTrades ?? draft.maxOpenTrades
        draft.timeframe = input.timeframe ?? draft.timeframe
        draft.strategy = input.strategy ?? draft.strategy
        draft.size = input.size ?? draft.size
        // `{}` clears the tuning: the strategy's own values hold again.
        if let tuning = input.tuning { draft.tuning = tuning }
        let settings: BotSettings
        // A bot keeps the test strategy (and the custom strategy version) it was given; a new
        // choice must be one offered, and a custom one one of the client's validated versions.
        let custom = input.strategy == nil ? CustomStrategyCatalog.trustedRows : try await database.customStrategyCatalog(of: bot.clientId)
        do {
            settings = try draft.validated(allowTestStrategies: allowTestStrategies || input.strategy == nil, custom: custom)
        } catch {
            var errors = FieldErrors()
            for (field, message) in error.messages { errors.add(field, message) }
            await audit.record(context, action: "bot.update", target: bot.id.rawValue, clientId: bot.clientId.rawValue, outcome: .failure, detail: "invalid")
            throw APIError.validation(errors)
        }
        guard settings != current else { return BotEnvelope(bot: BotView(bot)) }
        let changed = Self.changedFields(current, settings)
        let updated = try await audited(context, "bot.update", bot, detail: changed.joined(separator: ", ")) {
            try await lifecycle.update(bot.id, settings: settings)
        }
        return BotEnvelope(bot: BotView(updated))
    }

    struct CloneInput: StrictInput {
        static let fields: Set<String> = ["id", "name", "start"]
        var id: String?
        var name: String?
        var start: Bool?
    }

    /// A new bot of the same client with the same settings (a new name if given), stopped
    /// unless `start`.
    @Sendable func clone(_ request: Request, context: PortalContext) async throws -> EditedResponse<BotEnvelope> {
        let source = try await managedBot(context, action: "bot.clone")
        let principal = try context.requireUser()
        let input = try await request.decodeStrict(CloneInput.self, context: context)
        var settings = try source.settings(allowTestStrategies: true)
        var errors = FieldErrors()
        let id = input.id.flatMap(BotID.init)
        if id == nil { errors.add("id", input.id == nil ? "is required: the new bot's id" : Identifier.rule) }
        if let name = input.name {
            var draft = BotDraft(settings)
            draft.name = name
            do { settings = try draft.validated(allowTestStrategies: true, custom: .trustedRows) } catch {
                for (field, message) in error.messages { errors.add(field, message) }
            }
        } else {
            settings.name = String((settings.name + " (copy)").prefix(BotCatalog.nameMaxLength))
        }
        try errors.throwIfAny()
        guard let client = try await database.client(source.clientId) else { throw APIError.notFound("No such bot.") }
        if let existing = try await database.bot(id!) { throw Self.idTaken(id!, by: existing.clientId, for: principal) }
        let bot: BotRecord
        let cloned = settings
        do {
            bot = try await audited(context, "bot.clone", source, detail: "as \(id!)") {
                try await lifecycle.create(id: id!, client: client, settings: cloned, start: input.start ?? false)
            }
        } catch DomainError.conflict(Lockdown.startRefusal, _) {
            throw APIError(DomainError.conflict(Lockdown.startRefusal))
        } catch DomainError.conflict {
            let owner = try await database.bot(id!)?.clientId ?? client.id
            throw Self.idTaken(id!, by: owner, for: principal)
        }
        return EditedResponse(status: .created, response: BotEnvelope(bot: BotView(try await database.bot(id!) ?? bot)))
    }

    struct WalletReset: StrictInput {
        static let fields: Set<String> = ["confirm"]
        var confirm: String?
    }

    struct WalletResetView: ResponseEncodable {
        var bot: BotView
        var archive: String
    }

    /// Starts the paper wallet afresh, once the caller typed the bot's id: the trade history is
    /// kept in the bot's volume as an archive, and the bot shows no trades.
    @Sendable func resetWallet(_ request: Request, context: PortalContext) async throws -> WalletResetView {
        let bot = try await managedBot(context, action: "bot.wallet_reset")
        let input = try await request.decodeStrict(WalletReset.self, context: context)
        guard input.confirm == bot.id.rawValue else {
            throw APIError.validation(.init("confirm", "must be the bot's id (\(bot.id)): resetting the wallet starts its trade history afresh"))
        }
        let (reset, archive) = try await audited(context, "bot.wallet_reset", bot) { try await lifecycle.resetWallet(bot.id) }
        await hub.invalidate(bot.id)
        return WalletResetView(bot: BotView(reset), archive: archive)
    }

    // MARK: Helpers

    static func integer(_ request: Request, _ name: String, _ bounds: ClosedRange<Int>, default value: Int) throws -> Int {
        guard let raw = request.uri.queryParameters[Substring(name)] else { return value }
        guard let parsed = Int(raw), bounds.contains(parsed) else {
            throw APIError.validation(.init(name, "must be between \(bounds.lowerBound) and \(bounds.upperBound)"))
        }
        return parsed
    }

    static func validPairs(_ pairs: [String]?, field: String = "pairs") throws -> [String] {
        guard let pairs, !pairs.isEmpty else { throw APIError.validation(.init(field, "is required: one pair or more, like BTC/USDT")) }
        guard pairs.count <= 20 else { throw APIError.validation(.init(field, "takes at most 20 pairs at once")) }
        guard let bad = pairs.first(where: { !BotDraft.isPair($0) }) else { return pairs }
        throw APIError.validation(.init(field, "'\(bad.prefix(40))' is not a pair like BTC/USDT"))
    }

    static func queryEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    static func isoDate(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    static func changedFields(_ old: BotSettings, _ new: BotSettings) -> [String] {
        var fields: [String] = []
        if old.name != new.name { fields.append("name") }
        if old.pairs != new.pairs { fields.append("pairs \(new.pairs.joined(separator: " "))") }
        if old.stakeAmount != new.stakeAmount { fields.append("stakeAmount \(new.stakeAmount)") }
        if old.dryRunWallet != new.dryRunWallet { fields.append("dryRunWallet \(new.dryRunWallet)") }
        if old.maxOpenTrades != new.maxOpenTrades { fields.append("maxOpenTrades \(new.maxOpenTrades)") }
        if old.timeframe != new.timeframe { fields.append("timeframe \(new.timeframe)") }
        if old.strategy != new.strategy { fields.append("strategy \(new.strategy.rawValue)") }
        if old.size != new.size { fields.append("size \(new.size.rawValue)") }
        if old.tuning != new.tuning { fields.append("tuning") }
        return fields
    }
}

/// Trades as CSV: one header, one line per trade, fields quoted when needed. A text a strategy
/// chose (exit reason, entry tag) that starts like a formula is prefixed with `'`, so that a
/// spreadsheet opening the file shows it instead of evaluating it.
enum TradesCSV {
    static let columns = ["trade_id", "pair", "is_open", "open_date", "close_date", "open_rate", "close_rate", "amount",
                          "stake_amount", "profit_ratio", "profit_abs", "exit_reason", "enter_tag"]
    static let textColumns: Set<String> = ["pair", "open_date", "close_date", "exit_reason", "enter_tag"]

    static func render(_ trades: [JSONValue]) -> String {
        var out = columns.joined(separator: ",") + "\r\n"
        for trade in trades {
            out += columns.map { field(trade[$0], text: textColumns.contains($0)) }.joined(separator: ",") + "\r\n"
        }
        return out
    }

    static func field(_ value: JSONValue?, text: Bool) -> String {
        var cell: String
        switch value {
        case .none, .null: return ""
        case .bool(let b): cell = b ? "true" : "false"
        case .number(let n): cell = n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .string(let s): cell = s
        default: cell = ""
        }
        if text, let first = cell.first, "=+-@\t\r".contains(String(first)) { cell = "'" + cell }
        if cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            cell = "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return cell
    }
}
