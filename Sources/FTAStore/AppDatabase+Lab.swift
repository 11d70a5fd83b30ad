import FTACore
import Foundation
import GRDB

/// One version of a client's own strategy: its source, as uploaded, and what validation said.
/// Versions are the SHA-256 of the source; a bot or backtest names the version it ran.
public struct StrategyRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "strategies"
    public enum Status: String, Codable, Sendable { case validating, valid, invalid }
    public var id: Int64?
    public var clientId: ClientID
    public var name: String
    public var version: String
    public var source: String
    public var sizeBytes: Int
    public var status: Status
    /// Freqtrade's own message for an invalid version, trimmed of paths.
    public var message: String?
    /// What validation read from the strategy (timeframe, ROI, stop-loss, parameters), JSON.
    public var info: String?
    public var uploadedAt: Date
    public var uploadedBy: String

    public init(clientId: ClientID, name: String, source: String, uploadedBy: String, now: Date = Date()) {
        self.clientId = clientId
        self.name = name
        self.source = source
        self.version = CustomStrategyName.version(of: source)
        self.sizeBytes = source.utf8.count
        self.status = .validating
        self.uploadedAt = now
        self.uploadedBy = uploadedBy
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A backtest a client asked for, from the queue to its result. Replays (dry run vs backtest)
/// carry the bot they replay.
public struct BacktestRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "backtests"
    public enum Status: String, Codable, Sendable { case queued, downloading, running, succeeded, failed, cancelled }
    public var id: String
    public var clientId: ClientID
    public var createdBy: String
    public var status: Status
    /// Where it is, in words for the UI ("waiting for memory", "backtesting", ...).
    public var phase: String
    public var error: String?
    /// BotSettings as JSON (the strategy reference inside is pinned to its version).
    public var settings: String
    public var timerange: String
    public var botId: BotID?
    public var timeLimitSeconds: Int
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// BacktestResult as JSON, once succeeded.
    public var result: String?
    /// DryRunComparison as JSON, for a finished replay.
    public var comparison: String?

    public init(id: String, clientId: ClientID, createdBy: String, settings: BotSettings, timerange: String, botId: BotID?,
                timeLimitSeconds: Int, now: Date = Date()) {
        self.id = id
        self.clientId = clientId
        self.createdBy = createdBy
        self.status = .queued
        self.phase = "queued"
        self.settings = String(decoding: try! JSONEncoder().encode(settings), as: UTF8.self)
        self.timerange = timerange
        self.botId = botId
        self.timeLimitSeconds = timeLimitSeconds
        self.createdAt = now
    }

    public var settingsValue: BotSettings? { try? JSONDecoder().decode(BotSettings.self, from: Data(settings.utf8)) }
    public var resultValue: BacktestResult? { result.flatMap { try? JSONDecoder().decode(BacktestResult.self, from: Data($0.utf8)) } }
    public var comparisonValue: DryRunComparison? { comparison.flatMap { try? JSONDecoder().decode(DryRunComparison.self, from: Data($0.utf8)) } }
    public var isFinished: Bool { [.succeeded, .failed, .cancelled].contains(status) }
}

/// A market-data set of the shared cache: one exchange and timeframe, with what it holds per pair.
public struct LabDataRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "labData"
    public var key: String
    public var exchange: String
    public var timeframe: String
    /// Pair -> {first, last, candles}, JSON, as the last download reported it.
    public var coverage: String
    public var sizeBytes: Int64
    public var downloadedAt: Date

    public init(key: String, exchange: String, timeframe: String, coverage: String, sizeBytes: Int64, downloadedAt: Date = Date()) {
        self.key = key
        self.exchange = exchange
        self.timeframe = timeframe
        self.coverage = coverage
        self.sizeBytes = sizeBytes
        self.downloadedAt = downloadedAt
    }
}

extension AppDatabase {
    static func registerLabMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6-strategy-lab") { db in
            try db.alter(table: "clients") { t in t.add(column: "customStrategies", .boolean).notNull().defaults(to: false) }
            try db.alter(table: "bots") { t in t.add(column: "tuning", .text) }
            try db.create(table: "strategies") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("clientId", .text).notNull().references("clients", onDelete: .cascade)
                t.column("name", .text).notNull()
                t.column("version", .text).notNull()
                t.column("source", .text).notNull()
                t.column("sizeBytes", .integer).notNull()
                t.column("status", .text).notNull()
                t.column("message", .text)
                t.column("info", .text)
                t.column("uploadedAt", .datetime).notNull()
                t.column("uploadedBy", .text).notNull()
                t.uniqueKey(["clientId", "name", "version"])
            }
            try db.create(table: "backtests") { t in
                t.primaryKey("id", .text)
                t.column("clientId", .text).notNull().references("clients", onDelete: .cascade)
                t.column("createdBy", .text).notNull()
                t.column("status", .text).notNull()
                t.column("phase", .text).notNull()
                t.column("error", .text)
                t.column("settings", .text).notNull()
                t.column("timerange", .text).notNull()
                t.column("botId", .text)
                t.column("timeLimitSeconds", .integer).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("startedAt", .datetime)
                t.column("finishedAt", .datetime)
                t.column("result", .text)
                t.column("comparison", .text)
            }
            try db.create(index: "backtestsByClient", on: "backtests", columns: ["clientId", "createdAt"])
            try db.create(table: "labData") { t in
                t.primaryKey("key", .text)
                t.column("exchange", .text).notNull()
                t.column("timeframe", .text).notNull()
                t.column("coverage", .text).notNull()
                t.column("sizeBytes", .integer).notNull()
                t.column("downloadedAt", .datetime).notNull()
            }
        }
    }

    // MARK: Strategies

    /// The client's strategy versions, newest first (all names, or one).
    public func strategies(of client: ClientID?, name: String? = nil) async throws -> [StrategyRecord] {
        try await writer.read { db in
            var request = StrategyRecord.all()
            if let client { request = request.filter(Column("clientId") == client.rawValue) }
            if let name { request = request.filter(Column("name") == name) }
            return try request.order(Column("uploadedAt").desc, Column("id").desc).fetchAll(db)
        }
    }

    /// The version of `name` the client has, whatever its status.
    public func strategy(of client: ClientID, name: String, version: String) async throws -> StrategyRecord? {
        try await writer.read { db in
            try StrategyRecord.filter(Column("clientId") == client.rawValue && Column("name") == name && Column("version") == version).fetchOne(db)
        }
    }

    /// Inserts a new version, or answers the existing row when the same source was uploaded before.
    public func insertStrategy(_ record: StrategyRecord) async throws -> (StrategyRecord, inserted: Bool) {
        try await writer.write { db in
            if let existing = try StrategyRecord.filter(Column("clientId") == record.clientId.rawValue && Column("name") == record.name
                                                            && Column("version") == record.version).fetchOne(db) {
                return (existing, false)
            }
            var row = record
            try row.insert(db)
            return (row, true)
        }
    }

    public func updateStrategy(id: Int64, status: StrategyRecord.Status, message: String?, info: String?) async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE strategies SET status = ?, message = ?, info = ? WHERE id = ?",
                           arguments: [status.rawValue, message, info, id])
        }
    }

    public func deleteStrategy(of client: ClientID, name: String) async throws -> Int {
        try await writer.write { db in
            try StrategyRecord.filter(Column("clientId") == client.rawValue && Column("name") == name).deleteAll(db)
        }
    }

    /// The client's valid versions by name, newest first: what `custom:<Name>` resolves against.
    public func customStrategyCatalog(of client: ClientID) async throws -> CustomStrategyCatalog {
        var valid: [String: [String]] = [:]
        for row in try await strategies(of: client) where row.status == .valid { valid[row.name, default: []].append(row.version) }
        return CustomStrategyCatalog(valid: valid)
    }

    // MARK: Backtests

    public func insertBacktest(_ record: BacktestRecord) async throws {
        try await writer.write { db in try record.insert(db) }
    }

    public func backtest(_ id: String) async throws -> BacktestRecord? {
        try await writer.read { db in try BacktestRecord.fetchOne(db, key: id) }
    }

    /// A client's backtests (every client's for nil), newest first, at most `limit`.
    public func backtests(of client: ClientID?, limit: Int = 200) async throws -> [BacktestRecord] {
        try await writer.read { db in
            var request = BacktestRecord.all()
            if let client { request = request.filter(Column("clientId") == client.rawValue) }
            return try request.order(Column("createdAt").desc).limit(limit).fetchAll(db)
        }
    }

    /// Backtests still to run or running, oldest first: the queue.
    public func unfinishedBacktests() async throws -> [BacktestRecord] {
        try await writer.read { db in
            try BacktestRecord.filter([BacktestRecord.Status.queued.rawValue, BacktestRecord.Status.downloading.rawValue,
                                       BacktestRecord.Status.running.rawValue].contains(Column("status")))
                .order(Column("createdAt")).fetchAll(db)
        }
    }

    /// Applies `change` to the backtest and saves it; nil when it is gone.
    @discardableResult
    public func updateBacktest(_ id: String, _ change: @escaping @Sendable (inout BacktestRecord) -> Void) async throws -> BacktestRecord? {
        try await writer.write { db in
            guard var row = try BacktestRecord.fetchOne(db, key: id) else { return nil }
            change(&row)
            try row.update(db)
            return row
        }
    }

    public func deleteBacktest(_ id: String) async throws {
        _ = try await writer.write { db in try BacktestRecord.deleteOne(db, key: id) }
    }

    /// Keeps each client's newest `keep` finished backtests.
    public func pruneBacktests(of client: ClientID, keep: Int) async throws {
        try await writer.write { db in
            try db.execute(sql: """
                DELETE FROM backtests WHERE clientId = ? AND status IN ('succeeded', 'failed', 'cancelled') AND id NOT IN (
                    SELECT id FROM backtests WHERE clientId = ? AND status IN ('succeeded', 'failed', 'cancelled')
                    ORDER BY createdAt DESC LIMIT ?)
                """, arguments: [client.rawValue, client.rawValue, keep])
        }
    }

    // MARK: Market data

    public func labData() async throws -> [LabDataRecord] {
        try await writer.read { db in try LabDataRecord.order(Column("key")).fetchAll(db) }
    }

    public func labData(_ key: String) async throws -> LabDataRecord? {
        try await writer.read { db in try LabDataRecord.fetchOne(db, key: key) }
    }

    public func saveLabData(_ record: LabDataRecord) async throws {
        try await writer.write { db in try record.save(db) }
    }

    public func deleteLabData(_ key: String) async throws {
        _ = try await writer.write { db in try LabDataRecord.deleteOne(db, key: key) }
    }

    public func setCustomStrategies(_ client: ClientID, enabled: Bool) async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE clients SET customStrategies = ? WHERE id = ?", arguments: [enabled, client.rawValue])
        }
    }
}
