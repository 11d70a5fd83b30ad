import FTACore
import Foundation
import GRDB

/// fta's one SQLite database: every client, user, session, bot, sealed secret and audit entry.
///
/// Owns a `DatabaseWriter` (a `DatabasePool` in WAL mode in production, an in-memory queue in
/// tests), runs the migrations when it is opened, and exposes intention-named methods only:
/// the writer stays inside FTAStore, so no caller depends on SQLite or GRDB, and another store
/// (PostgreSQL, say) could stand behind the same methods.
public struct AppDatabase: Sendable {
    /// Internal, not public: tests reach it through `@testable import` to plant raw rows.
    let writer: any DatabaseWriter
    /// What moves when anything is committed (ChangeWatch): the portal's caches of hot reads.
    public let changes: ChangeWatch

    /// Wraps an open database and brings its schema up to date.
    public init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
        changes = ChangeWatch(writer: writer)
    }

    /// Opens (creating when absent, mode 0600) the database file at `path`, in WAL mode with
    /// foreign keys on and a busy timeout, and migrates it.
    public static func open(path: String, migrate: Bool = true) throws -> AppDatabase {
        let pool = try openPool(path: path)
        if migrate { return try AppDatabase(pool) }
        return AppDatabase(unmigrated: pool)
    }

    /// An in-memory database for tests.
    public static func inMemory() throws -> AppDatabase {
        try AppDatabase(DatabaseQueue(configuration: configuration()))
    }

    private init(unmigrated writer: any DatabaseWriter) {
        self.writer = writer
        changes = ChangeWatch(writer: writer)
    }

    /// Opens (creating when absent) and migrates the database at `path`, and says what that
    /// did: what `fta migrate` reports.
    public static func migrate(path: String) throws -> MigrationReport {
        let existed = FileManager.default.fileExists(atPath: path)
        let pool = try openPool(path: path)
        let before = try pool.read { db in try migrator.appliedIdentifiers(db) }
        try migrator.migrate(pool)
        let after = try pool.read { db in try migrator.appliedIdentifiers(db) }
        try pool.close()
        return MigrationReport(createdDatabase: !existed, applied: Set(after).subtracting(before).count)
    }

    /// The schema of the database at `path` against this binary's migrations, read without
    /// writing anything: an absent file is reported, never created.
    public static func schemaStatus(path: String) throws -> SchemaStatus {
        guard let database = try openReadOnly(path: path) else { return .noDatabase }
        let applied = try database.writer.read { db in try migrator.appliedIdentifiers(db) }
        let pending = Set(migrator.migrations).subtracting(applied).count
        return pending == 0 ? .upToDate : .pending(pending)
    }

    /// The database at `path` opened read-only and as it is (no migration), or nil when there
    /// is no file: for the commands that answer questions and must never create a database.
    public static func openReadOnly(path: String) throws -> AppDatabase? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return AppDatabase(unmigrated: try DatabaseQueue(path: path, configuration: DatabaseBackup.readOnlyConfiguration()))
    }

    static func openPool(path: String) throws -> DatabasePool {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try DatabaseFile.createPrivate(path)
        return try DatabasePool(path: path, configuration: configuration())
    }

    static func configuration() -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        // Concurrent writers (serve, a CLI command, a backup) wait instead of failing at once.
        config.busyMode = .timeout(10)
        config.label = "fta"
        return config
    }

    /// Whether the schema is at the newest version this binary knows.
    public func isMigrated() throws -> Bool {
        try writer.read { db in try Self.migrator.hasCompletedMigrations(db) }
    }

    /// Whether the database answers a trivial query: the health probe of `GET /health`.
    public func isHealthy() async -> Bool {
        (try? await writer.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1
    }

    /// Migrations are append-only: a released migration is never edited, the schema grows by
    /// new ones.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-foundation") { db in
            try db.create(table: "clients") { t in
                t.primaryKey("id", .text)
                t.column("name", .text).notNull()
                t.column("maxBots", .integer)
                t.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "users") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("username", .text).notNull().unique().collate(.nocase)
                t.column("passwordHash", .text).notNull()
                t.column("role", .text).notNull().check { ["admin", "owner", "viewer"].contains($0) }
                t.column("clientId", .text).references("clients", onDelete: .restrict).indexed()
                t.column("disabled", .boolean).notNull().defaults(to: false)
                t.column("createdAt", .datetime).notNull()
                t.column("passwordChangedAt", .datetime).notNull()
                // Admins belong to no client; every client user belongs to exactly one.
                t.check(sql: "(role = 'admin') = (clientId IS NULL)")
            }
            try db.create(table: "sessions") { t in
                t.primaryKey("tokenHash", .text)
                t.column("userId", .integer).notNull().references("users", onDelete: .cascade).indexed()
                t.column("createdAt", .datetime).notNull()
                t.column("lastSeenAt", .datetime).notNull()
                t.column("expiresAt", .datetime).notNull().indexed()
                t.column("sourceIp", .text)
            }
            try db.create(table: "bots") { t in
                t.primaryKey("id", .text)
                t.column("clientId", .text).notNull().references("clients", onDelete: .restrict).indexed()
                t.column("name", .text).notNull()
                t.column("exchange", .text).notNull()
                t.column("pairs", .text).notNull()
                t.column("stakeCurrency", .text).notNull()
                t.column("stakeAmount", .text).notNull()
                t.column("dryRunWallet", .double).notNull()
                t.column("maxOpenTrades", .integer).notNull()
                t.column("timeframe", .text).notNull()
                t.column("strategy", .text).notNull()
                t.column("size", .text).notNull()
                t.column("state", .text).notNull()
                t.column("desiredState", .text).notNull()
                t.column("lastError", .text)
                t.column("createdAt", .datetime).notNull()
                t.column("updatedAt", .datetime).notNull()
                t.column("startedAt", .datetime)
            }
            try db.create(table: "botSecrets") { t in
                t.primaryKey("botId", .text).references("bots", onDelete: .cascade)
                t.column("sealed", .blob).notNull()
                t.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "auditLog") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("at", .datetime).notNull().indexed()
                t.column("actor", .text).notNull()
                t.column("actorUserId", .integer)
                t.column("clientId", .text).indexed()
                t.column("action", .text).notNull()
                t.column("target", .text)
                t.column("sourceIp", .text)
                t.column("outcome", .text).notNull().check { ["success", "failure", "denied"].contains($0) }
                t.column("detail", .text)
            }
            // The audit trail is append-only at the schema level, not only through the API.
            try db.execute(sql: """
                CREATE TRIGGER auditLogNoUpdate BEFORE UPDATE ON auditLog
                BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
                CREATE TRIGGER auditLogNoDelete BEFORE DELETE ON auditLog
                BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
                """)
        }
        migrator.registerMigration("v2-lockdown") { db in
            // One row while the operator's lockdown is in force, none otherwise (`fta lockdown`).
            try db.create(table: "lockdown") { t in
                t.primaryKey("id", .integer).check { $0 == 1 }
                t.column("since", .datetime).notNull()
                t.column("by", .text).notNull()
                t.column("reason", .text)
            }
        }
        migrator.registerMigration("v3-audit-retention") { db in
            // Pruning the audit trail (fta audit prune, FTA_AUDIT_RETENTION_DAYS) is the one way
            // an entry can ever be deleted, and only inside its own transaction: it writes a
            // permit naming the last id and the cutoff date of the entries it exported to a
            // checksummed archive, deletes exactly those, and removes the permit. Whatever else deletes (a bug, sqlite3 by hand
            // without dropping triggers) is refused as before, and so is every entry younger than
            // 30 days, permit or not.
            try db.create(table: "auditPrunePermit") { t in
                t.primaryKey("id", .integer).check { $0 == 1 }
                t.column("throughId", .integer).notNull()
                t.column("before", .datetime).notNull()
            }
            try db.execute(sql: """
                DROP TRIGGER auditLogNoDelete;
                CREATE TRIGGER auditLogNoDelete BEFORE DELETE ON auditLog
                WHEN NOT EXISTS (SELECT 1 FROM auditPrunePermit p
                                 WHERE OLD.id <= p.throughId AND OLD.at < p.before
                                   AND OLD.at < strftime('%Y-%m-%d %H:%M:%f', 'now', '-30 days'))
                BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
                """)
        }
        migrator.registerMigration("v4-bot-image") { db in
            // Each bot's image (BotRecord.image): rolled out bot by bot (fta rollout).
            try db.alter(table: "bots") { t in t.add(column: "image", .text) }
        }
        migrator.registerMigration("v5-trading-desk") { db in
            // Settings edited while a bot runs apply at its next start ("restart to apply"), and a
            // paper-wallet reset moves the bot to a fresh trade database in its volume (BotRecord).
            try db.alter(table: "bots") { t in
                t.add(column: "settingsChangedAt", .datetime)
                t.add(column: "walletResets", .integer).notNull().defaults(to: 0)
            }
            // What the bots' own message websockets reported, per client, bounded (BotEventRecord).
            try db.create(table: "botEvents") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("clientId", .text).notNull()
                t.column("botId", .text).notNull()
                t.column("at", .datetime).notNull()
                t.column("kind", .text).notNull()
                t.column("title", .text).notNull()
                t.column("detail", .text)
            }
            try db.create(index: "botEventsByClient", on: "botEvents", columns: ["clientId", "id"])
            try db.create(index: "botEventsByBot", on: "botEvents", columns: ["botId", "id"])
        }
        registerLabMigration(&migrator)
        return migrator
    }
}

/// What `AppDatabase.migrate(path:)` did.
public struct MigrationReport: Sendable, Equatable {
    /// Whether the database file was absent and is now created.
    public var createdDatabase: Bool
    /// How many migrations ran.
    public var applied: Int
}

/// Where a database's schema stands against this binary's migrations.
public enum SchemaStatus: Sendable, Equatable {
    case noDatabase
    case pending(Int)
    case upToDate
}

/// File-level care for the database and its copies.
public enum DatabaseFile {
    /// Creates `path` with mode 0600 when absent, and tightens it to 0600 when present, before
    /// SQLite opens it: SQLite gives its -wal and -shm files the mode of the main file.
    public static func createPrivate(_ path: String) throws {
        let fd = openCreatingPrivate(path)
        guard fd >= 0 else { throw StoreError.cannotCreate(path: path, errno: errno) }
        defer { close(fd) }
        guard fchmod(fd, 0o600) == 0 else { throw StoreError.cannotCreate(path: path, errno: errno) }
    }

    private static func openCreatingPrivate(_ path: String) -> Int32 {
        open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    }

    /// The permission bits of `path`.
    public static func mode(of path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0
    }
}

/// Store failures worth a clear message.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    case cannotCreate(path: String, errno: Int32)
    case integrityCheckFailed(path: String, report: String)
    case notAnFTADatabase(path: String)
    case newerSchema(path: String)
    case serverRunning(path: String)
    case notFound(path: String)
    case auditPruneMismatch(expected: Int, deleted: Int)

    public var description: String {
        switch self {
        case .cannotCreate(let path, let e): "cannot create \(path): \(String(cString: strerror(e)))"
        case .integrityCheckFailed(let path, let report): "\(path) fails SQLite's integrity check: \(report)"
        case .notAnFTADatabase(let path): "\(path) is not an fta database"
        case .newerSchema(let path): "\(path) was written by a newer fta; upgrade fta before restoring it"
        case .serverRunning(let path): "fta serve is using \(path); stop it first (it holds \(path).lock)"
        case .notFound(let path): "\(path) does not exist"
        case .auditPruneMismatch(let expected, let deleted):
            "pruning the audit trail would have deleted \(deleted) entries, not the \(expected) exported; nothing was deleted"
        }
    }
}

/// What a caller above the store needs to know of SQLite's failures, without importing GRDB.
public enum StoreFailure {
    /// SQLITE_FULL: a write found no space (the disk, or the database's size limit). SQLite rolls
    /// the statement's transaction back, so nothing half-written stays.
    public static func isDiskFull(_ error: any Error) -> Bool {
        (error as? DatabaseError)?.resultCode == .SQLITE_FULL
    }
}

