import FTACore
import FTAStore
import Foundation
import Hummingbird

// The JSON shapes the API answers with (docs/api.md). Records never go out as they are:
// a user's password hash and a bot's secrets have no field here.

struct UserView: Codable, Sendable {
    var id: Int64
    var username: String
    var role: Role
    var clientId: String?
    var disabled: Bool
    var createdAt: Date

    init(_ user: UserRecord) {
        id = user.id ?? 0
        username = user.username
        role = user.role
        clientId = user.clientId?.rawValue
        disabled = user.disabled
        createdAt = user.createdAt
    }
}

struct ClientView: Codable, Sendable {
    var id: String
    var name: String
    var createdAt: Date
    var botCount: Int
    var maxBots: Int
    var userCount: Int
    /// Whether the client's users may upload their own strategies.
    var customStrategies: Bool
}

struct BotView: Codable, Sendable {
    var id: String
    var clientId: String
    var name: String
    var exchange: String
    var pairs: [String]
    var stakeCurrency: String
    var stakeAmount: String
    var dryRunWallet: Double
    var maxOpenTrades: Int
    var timeframe: String
    /// The strategy as chosen (`FtaEmaCross`, `custom:MyStrategy`); `strategyVersion` pins the code.
    var strategy: String
    var strategyVersion: String
    var tuning: StrategyTuning?
    var size: String
    var memoryMB: Int
    var state: BotState
    var desiredState: DesiredState
    var lastError: String?
    var createdAt: Date
    var updatedAt: Date
    var startedAt: Date?
    /// The stored settings are newer than the running container's: a restart applies them.
    var pendingRestart: Bool
    var walletResets: Int

    init(_ bot: BotRecord) {
        pendingRestart = bot.pendingRestart
        walletResets = bot.walletResets
        id = bot.id.rawValue
        clientId = bot.clientId.rawValue
        name = bot.name
        exchange = bot.exchange
        pairs = bot.pairList
        stakeCurrency = bot.stakeCurrency
        stakeAmount = bot.stakeAmount
        dryRunWallet = bot.dryRunWallet
        maxOpenTrades = bot.maxOpenTrades
        timeframe = bot.timeframe
        let ref = StrategyRef(rawValue: bot.strategy)
        strategy = ref?.displayRef ?? bot.strategy
        strategyVersion = ref?.version ?? ""
        tuning = bot.tuningValue
        size = bot.size.rawValue
        memoryMB = bot.size.memoryMB
        state = bot.state
        desiredState = bot.desiredState
        lastError = bot.lastError
        createdAt = bot.createdAt
        updatedAt = bot.updatedAt
        startedAt = bot.startedAt
    }
}

/// The bots' memory budget: what bots may use together, what the bots that should run hold or
/// have reserved, and what is left.
struct BudgetView: Codable, Sendable {
    var memoryMB: Int
    var usedMB: Int
    var freeMB: Int

    init(_ account: MemoryAccount) {
        memoryMB = account.budgetMB
        usedMB = account.botsMB
        freeMB = account.freeMB
    }
}

/// `{"<key>": value}` wrappers, as every answer is an object.
struct UserEnvelope: ResponseCodable { var user: UserView }
struct UsersEnvelope: ResponseCodable { var users: [UserView] }
struct ClientEnvelope: ResponseCodable { var client: ClientView }
struct ClientsEnvelope: ResponseCodable { var clients: [ClientView] }
struct BotEnvelope: ResponseCodable { var bot: BotView }
struct BotsEnvelope: ResponseCodable { var bots: [BotView] }
struct MeView: ResponseCodable {
    var user: UserView
    var client: ClientView?
    var budget: BudgetView
}
struct LogsView: ResponseCodable { var lines: [String] }

/// A JSON value passed through from a bot's own API, written in one pass (JSONValue.jsonText,
/// keys sorted as the portal's encoder sorts them) rather than through Codable.
struct PassThrough: ResponseGenerator {
    var value: JSONValue
    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(data: value.jsonText())))
    }
}
