import FTACore
import Foundation
import GRDB

/// A client of the operator: a tenant whose users and bots are kept apart from every other's.
public struct ClientRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "clients"
    public var id: ClientID
    public var name: String
    /// Overrides the server's default per-client bot quota when set.
    public var maxBots: Int?
    public var createdAt: Date
    /// Whether the client's users may upload their own strategies (the operator's choice, off by default).
    public var customStrategies: Bool = false

    public init(id: ClientID, name: String, maxBots: Int? = nil, createdAt: Date = Date()) {
        self.id = id
        self.name = name
        self.maxBots = maxBots
        self.createdAt = createdAt
    }
}

/// A person who signs in: the operator's admins, and client users (owner or viewer).
public struct UserRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "users"
    public var id: Int64?
    public var username: String
    /// bcrypt hash; never leaves the store except to be verified.
    public var passwordHash: String
    public var role: Role
    public var clientId: ClientID?
    public var disabled: Bool
    public var createdAt: Date
    public var passwordChangedAt: Date

    public init(username: String, passwordHash: String, role: Role, clientId: ClientID?, now: Date = Date()) {
        self.username = username
        self.passwordHash = passwordHash
        self.role = role
        self.clientId = clientId
        self.disabled = false
        self.createdAt = now
        self.passwordChangedAt = now
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A signed-in browser. Only a hash of the session token is stored, so a copy of the database
/// (a backup, say) cannot be used to take over a session.
public struct SessionRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "sessions"
    public var tokenHash: String
    public var userId: Int64
    public var createdAt: Date
    public var lastSeenAt: Date
    /// Absolute end of life, whatever the activity.
    public var expiresAt: Date
    public var sourceIp: String?

    public init(tokenHash: String, userId: Int64, createdAt: Date, lastSeenAt: Date, expiresAt: Date, sourceIp: String?) {
        self.tokenHash = tokenHash
        self.userId = userId
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.expiresAt = expiresAt
        self.sourceIp = sourceIp
    }
}

/// A bot: its settings, the state it is in and the state its owner wants.
public struct BotRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "bots"
    public var id: BotID
    public var clientId: ClientID
    public var name: String
    public var exchange: String
    /// JSON array of pairs.
    public var pairs: String
    public var stakeCurrency: String
    public var stakeAmount: String
    public var dryRunWallet: Double
    public var maxOpenTrades: Int
    public var timeframe: String
    public var strategy: String
    public var size: BotSize
    public var state: BotState
    public var desiredState: DesiredState
    public var lastError: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var startedAt: Date?
    /// The image the bot's containers run, pinned at its first start: a new FTA_BOT_IMAGE is for
    /// new bots, and reaches existing ones only through `fta rollout`, bot by bot, verified.
    public var image: String?
    /// When the settings were last edited; after `startedAt`, the running container still has
    /// the old ones ("restart to apply").
    public var settingsChangedAt: Date?
    /// Paper-wallet resets so far: the bot trades in its volume's database number `walletResets`,
    /// the earlier ones stay there as archives (BotPaths.database(generation:)).
    public var walletResets: Int = 0
    /// The strategy tuning (StrategyTuning as JSON), nil when none.
    public var tuning: String?

    /// The stored settings are newer than the running container's.
    public var pendingRestart: Bool {
        guard let changed = settingsChangedAt, let started = startedAt, [.running, .starting, .failed].contains(state) else { return false }
        return changed > started
    }

    public init(id: BotID, clientID: ClientID, settings: BotSettings, desiredState: DesiredState, now: Date = Date()) {
        self.id = id
        self.clientId = clientID
        self.name = settings.name
        self.exchange = settings.exchange
        self.pairs = String(decoding: try! JSONEncoder().encode(settings.pairs), as: UTF8.self)
        self.stakeCurrency = settings.stakeCurrency
        self.stakeAmount = settings.stakeAmount.description
        self.dryRunWallet = settings.dryRunWallet
        self.maxOpenTrades = settings.maxOpenTrades
        self.timeframe = settings.timeframe
        self.strategy = settings.strategy.rawValue
        self.size = settings.size
        self.tuning = Self.tuningText(settings.tuning)
        self.state = .created
        self.desiredState = desiredState
        self.createdAt = now
        self.updatedAt = now
    }

    /// Replaces the settings (validated by the caller); id, client, state and exchange stay.
    public mutating func apply(_ settings: BotSettings) {
        name = settings.name
        pairs = String(decoding: try! JSONEncoder().encode(settings.pairs), as: UTF8.self)
        stakeCurrency = settings.stakeCurrency
        stakeAmount = settings.stakeAmount.description
        dryRunWallet = settings.dryRunWallet
        maxOpenTrades = settings.maxOpenTrades
        timeframe = settings.timeframe
        strategy = settings.strategy.rawValue
        size = settings.size
        tuning = Self.tuningText(settings.tuning)
    }

    static func tuningText(_ tuning: StrategyTuning?) -> String? {
        tuning.map { String(decoding: try! JSONEncoder().encode($0), as: UTF8.self) }
    }

    public var tuningValue: StrategyTuning? { tuning.flatMap { try? JSONDecoder().decode(StrategyTuning.self, from: Data($0.utf8)) } }

    public var pairList: [String] { (try? JSONDecoder().decode([String].self, from: Data(pairs.utf8))) ?? [] }

    /// The settings as validated at creation. Rows are only written from validated settings,
    /// so this re-validation never fails short of a hand-edited database.
    public func settings(allowTestStrategies: Bool = true) throws(FieldErrors) -> BotSettings {
        try BotDraft(
            name: name, exchange: exchange, pairs: pairList, stakeCurrency: stakeCurrency, stakeAmount: stakeAmount,
            dryRunWallet: dryRunWallet, maxOpenTrades: maxOpenTrades, timeframe: timeframe, strategy: strategy, size: size.rawValue,
            tuning: tuningValue
        ).validated(allowTestStrategies: allowTestStrategies, custom: .trustedRows)
    }
}

/// A bot's API credentials, sealed with AES-GCM (see `SecretBox`).
public struct BotSecretRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "botSecrets"
    public var botId: BotID
    public var sealed: Data
    public var createdAt: Date

    public init(botId: BotID, sealed: Data, createdAt: Date = Date()) {
        self.botId = botId
        self.sealed = sealed
        self.createdAt = createdAt
    }
}

/// How an audited action ended.
public enum AuditOutcome: String, Codable, Sendable, CaseIterable {
    case success, failure, denied
}

/// One line of the audit trail: who did what to what, from where, and how it ended. Never a
/// password, token or secret. Append-only: the schema refuses updates and deletes.
public struct AuditEntry: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "auditLog"
    public var id: Int64?
    public var at: Date
    public var actor: String
    public var actorUserId: Int64?
    public var clientId: String?
    public var action: String
    public var target: String?
    public var sourceIp: String?
    public var outcome: AuditOutcome
    public var detail: String?

    public init(
        actor: String, actorUserId: Int64? = nil, clientId: String? = nil, action: String, target: String? = nil,
        sourceIp: String? = nil, outcome: AuditOutcome, detail: String? = nil, at: Date = Date()
    ) {
        self.at = at
        self.actor = actor
        self.actorUserId = actorUserId
        self.clientId = clientId
        self.action = action
        self.target = target
        self.sourceIp = sourceIp
        self.outcome = outcome
        self.detail = detail
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// Something a bot reported on its message websocket (an entry fill, an exit, a protection, a
/// warning...) or that the portal saw (the bot unreachable), kept per client for the activity
/// feed; bounded and pruned (AppDatabase.recordEvent).
public struct BotEventRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "botEvents"
    public var id: Int64?
    public var clientId: ClientID
    public var botId: BotID
    public var at: Date
    public var kind: String
    public var title: String
    public var detail: String?

    public init(clientId: ClientID, botId: BotID, at: Date = Date(), kind: String, title: String, detail: String? = nil) {
        self.clientId = clientId
        self.botId = botId
        self.at = at
        self.kind = kind
        self.title = title
        self.detail = detail
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
