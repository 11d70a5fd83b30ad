import Foundation
import GRDB

/// Online backups and restores of the database file.
///
/// A backup uses SQLite's online backup API through GRDB: it reads a consistent snapshot while
/// `fta serve` keeps writing, which a plain file copy of a WAL database does not guarantee.
public enum DatabaseBackup {
    /// Writes a consistent copy of the database at `source` to `destination` (mode 0600),
    /// checks it with `PRAGMA integrity_check`, and only then moves it into place.
    public static func backup(databaseAt source: String, to destination: String) throws {
        guard FileManager.default.fileExists(atPath: source) else { throw StoreError.notFound(path: source) }
        let sourcePool = try DatabasePool(path: source, configuration: readOnlyConfiguration())
        let temporary = destination + ".partial-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        try DatabaseFile.createPrivate(temporary)
        do {
            let copy = try DatabaseQueue(path: temporary)
            try sourcePool.backup(to: copy)
            try copy.writeWithoutTransaction { db in
                // A self-contained file: no -wal beside it.
                try db.execute(sql: "PRAGMA journal_mode = DELETE")
            }
            try copy.close()
        }
        try checkIntegrity(of: temporary)
        try DatabaseFile.createPrivate(temporary)
        if FileManager.default.fileExists(atPath: destination) {
            try FileManager.default.removeItem(atPath: destination)
        }
        try FileManager.default.moveItem(atPath: temporary, toPath: destination)
    }

    /// Replaces the database at `target` with the backup at `source`.
    ///
    /// Refuses while a server holds the database; checks the backup's integrity and that it is an
    /// fta database this binary can read; keeps the previous file aside as
    /// `<target>.before-restore-<timestamp>` and returns that path (nil when there was none).
    @discardableResult
    public static func restore(from source: String, to target: String, now: Date = Date()) throws -> String? {
        guard FileManager.default.fileExists(atPath: source) else { throw StoreError.notFound(path: source) }
        let lock = try ServerLock(databasePath: target)
        guard try lock.tryAcquire() else { throw StoreError.serverRunning(path: target) }
        defer { lock.release() }

        try checkIntegrity(of: source)
        let knownMigrations = Set(AppDatabase.migrator.migrations)
        let applied = try DatabaseQueue(path: source, configuration: readOnlyConfiguration()).read { db -> [String] in
            guard try db.tableExists("grdb_migrations"), try db.tableExists("bots") else { throw StoreError.notAnFTADatabase(path: source) }
            return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        }
        guard Set(applied).isSubset(of: knownMigrations) else { throw StoreError.newerSchema(path: source) }

        var keptAside: String?
        if FileManager.default.fileExists(atPath: target) {
            // Fold the WAL into the main file first so the file set aside is complete on its own.
            // A damaged database (the usual reason to restore) may not even open: then its WAL
            // goes aside with it, as it is.
            var folded = false
            if let current = try? DatabaseQueue(path: target) {
                folded = (try? current.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }) != nil
                try? current.close()
            }
            let stamp = ISO8601DateFormatter().string(from: now).replacingOccurrences(of: ":", with: "")
            let aside = "\(target).before-restore-\(stamp)"
            try FileManager.default.moveItem(atPath: target, toPath: aside)
            if !folded, FileManager.default.fileExists(atPath: target + "-wal") {
                try? FileManager.default.moveItem(atPath: target + "-wal", toPath: aside + "-wal")
            }
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: target + suffix) }
            keptAside = aside
        }
        try DatabaseFile.createPrivate(target)
        let restored = try DatabaseQueue(path: target)
        try DatabaseQueue(path: source, configuration: readOnlyConfiguration()).backup(to: restored)
        try restored.close()
        // Bring an older backup's schema up to date, the same way `fta serve` would.
        _ = try AppDatabase(DatabasePool(path: target, configuration: AppDatabase.configuration()))
        return keptAside
    }

    /// What a restore drill checks of a backup restored into a scratch file: its integrity, that it
    /// is an fta database this binary knows, and the rows of each of its tables.
    public static func drill(restoredAt path: String) throws -> [String: Int] {
        try checkIntegrity(of: path)
        let knownMigrations = Set(AppDatabase.migrator.migrations)
        return try DatabaseQueue(path: path, configuration: readOnlyConfiguration()).read { db in
            guard try db.tableExists("grdb_migrations"), try db.tableExists("bots") else { throw StoreError.notAnFTADatabase(path: path) }
            guard Set(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")).isSubset(of: knownMigrations) else {
                throw StoreError.newerSchema(path: path)
            }
            var counts: [String: Int] = [:]
            for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'grdb_migrations'") {
                counts[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table.quotedDatabaseIdentifier)") ?? 0
            }
            return counts
        }
    }

    /// Throws unless `PRAGMA integrity_check` says "ok".
    public static func checkIntegrity(of path: String) throws {
        let report: [String]
        do {
            report = try DatabaseQueue(path: path, configuration: readOnlyConfiguration()).read { db in
                try String.fetchAll(db, sql: "PRAGMA integrity_check")
            }
        } catch {
            throw StoreError.integrityCheckFailed(path: path, report: "not a readable SQLite database")
        }
        guard report == ["ok"] else {
            throw StoreError.integrityCheckFailed(path: path, report: report.prefix(5).joined(separator: "; "))
        }
    }

    /// The check `fta serve` runs before it opens its database: `PRAGMA quick_check` (the page
    /// structure, fast on a large file) through a read-write connection, so that a WAL left by a
    /// crash is recovered first rather than taken for damage.
    public static func checkBeforeServing(_ path: String) throws {
        let report: [String]
        do {
            let queue = try DatabaseQueue(path: path, configuration: AppDatabase.configuration())
            report = try queue.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
            try queue.close()
        } catch {
            throw StoreError.integrityCheckFailed(path: path, report: "not a readable SQLite database (\(error))")
        }
        guard report == ["ok"] else {
            throw StoreError.integrityCheckFailed(path: path, report: report.prefix(5).joined(separator: "; "))
        }
    }

    static func readOnlyConfiguration() -> Configuration {
        var config = AppDatabase.configuration()
        config.readonly = true
        return config
    }
}

/// An advisory lock (`flock`) on `<database>.lock` that `fta serve` holds for its lifetime, so
/// that `fta restore` can tell that a server is using the database.
public final class ServerLock: @unchecked Sendable {
    private let fd: Int32
    public let path: String

    public init(databasePath: String) throws {
        path = databasePath + ".lock"
        let dir = (databasePath as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError.cannotCreate(path: path, errno: errno) }
    }

    /// Takes the lock without waiting; false when another process holds it.
    public func tryAcquire() throws -> Bool {
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
        if errno == EWOULDBLOCK { return false }
        throw StoreError.cannotCreate(path: path, errno: errno)
    }

    public func release() {
        flock(fd, LOCK_UN)
    }

    deinit { close(fd) }
}
