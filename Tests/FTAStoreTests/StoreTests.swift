import FTACore
@testable import FTAStore
import Foundation
import GRDB
import Testing

/// A fresh directory under /tmp for one test.
func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "fta-store-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func sampleBot(_ id: String, client: String = "acme") throws -> (BotRecord, BotSecretRecord) {
    let settings = try BotDraft(name: id, exchange: "binance", pairs: ["BTC/USDT"], stakeCurrency: "USDT", stakeAmount: "10",
                                dryRunWallet: 100, maxOpenTrades: 1, timeframe: "5m", strategy: "FtaRsi", size: "small").validated()
    return (BotRecord(id: BotID(id)!, clientID: ClientID(client)!, settings: settings, desiredState: .stopped),
            BotSecretRecord(botId: BotID(id)!, sealed: Data([1, 2, 3])))
}

@Suite("the SQLite store")
struct StoreTests {
    @Test("the database file and its WAL are created 0600, in WAL mode, foreign keys on")
    func privateFile() async throws {
        let dir = try temporaryDirectory()
        let db = try AppDatabase.open(path: dir + "/fta.sqlite")
        #expect(try await db.createClient(ClientRecord(id: ClientID("acme")!, name: "Acme")) == .created)
        for file in ["fta.sqlite", "fta.sqlite-wal"] {
            #expect(try DatabaseFile.mode(of: "\(dir)/\(file)") == 0o600)
        }
        let (mode, foreignKeys) = try await db.writer.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Bool.fetchOne(db, sql: "PRAGMA foreign_keys"))
        }
        #expect(mode == "wal")
        #expect(foreignKeys == true)
        #expect(try db.isMigrated())
    }

    @Test("migrate reports what it did; the schema status and read-only opening never create a file")
    func migrationReports() async throws {
        let dir = try temporaryDirectory()
        let path = dir + "/data/fta.sqlite"
        #expect(try AppDatabase.schemaStatus(path: path) == .noDatabase)
        #expect(try AppDatabase.openReadOnly(path: path) == nil)
        #expect(!FileManager.default.fileExists(atPath: dir + "/data"))

        let count = AppDatabase.migrator.migrations.count
        #expect(try AppDatabase.migrate(path: path) == MigrationReport(createdDatabase: true, applied: count))
        #expect(try AppDatabase.migrate(path: path) == MigrationReport(createdDatabase: false, applied: 0))
        #expect(try AppDatabase.schemaStatus(path: path) == .upToDate)
        let readOnly = try #require(try AppDatabase.openReadOnly(path: path))
        #expect(try await readOnly.clients().isEmpty)
        #expect(try await readOnly.hasAdmin() == false)
        await #expect(throws: DatabaseError.self) { try await readOnly.createClient(ClientRecord(id: ClientID("acme")!, name: "Acme")) }

        // A file that holds no schema yet: every migration is pending, and asking writes nothing.
        FileManager.default.createFile(atPath: dir + "/empty.sqlite", contents: nil)
        #expect(try AppDatabase.schemaStatus(path: dir + "/empty.sqlite") == .pending(count))
        #expect(try FileManager.default.attributesOfItem(atPath: dir + "/empty.sqlite")[.size] as? Int == 0)
    }

    @Test("a pre-existing world-readable file is tightened to 0600")
    func tightens() throws {
        let dir = try temporaryDirectory()
        FileManager.default.createFile(atPath: dir + "/fta.sqlite", contents: nil, attributes: [.posixPermissions: 0o644])
        _ = try AppDatabase.open(path: dir + "/fta.sqlite")
        #expect(try DatabaseFile.mode(of: dir + "/fta.sqlite") == 0o600)
    }

    @Test("the audit trail cannot be edited or deleted, even in SQL")
    func appendOnlyAudit() async throws {
        let db = try AppDatabase.inMemory()
        try await db.record(AuditEntry(actor: "alice", action: "auth.login", outcome: .success))
        await #expect(throws: DatabaseError.self) {
            try await db.writer.write { try $0.execute(sql: "UPDATE auditLog SET actor = 'mallory'") }
        }
        await #expect(throws: DatabaseError.self) {
            try await db.writer.write { try $0.execute(sql: "DELETE FROM auditLog") }
        }
        #expect(try await db.auditEntries(AuditFilter()).map(\.actor) == ["alice"])
    }

    @Test("a client user must belong to a client, an admin to none")
    func roleScope() async throws {
        let db = try AppDatabase.inMemory()
        await #expect(throws: DatabaseError.self) {
            _ = try await db.createUser(UserRecord(username: "x", passwordHash: "h", role: .owner, clientId: nil))
        }
        await #expect(throws: DatabaseError.self) {
            _ = try await db.createUser(UserRecord(username: "y", passwordHash: "h", role: .owner, clientId: ClientID("ghost")!))
        }
        #expect(try await db.createClient(ClientRecord(id: ClientID("acme")!, name: "Acme")) == .created)
        let user = try #require(try await db.createUser(UserRecord(username: "Alice", passwordHash: "h", role: .owner, clientId: ClientID("acme")!)).user)
        #expect(user.id != nil)
        // Usernames are unique whatever their case: a taken name is an answer, not a GRDB error.
        #expect(try await db.createUser(UserRecord(username: "alice", passwordHash: "h", role: .viewer, clientId: ClientID("acme")!)) == .usernameTaken)
        #expect(try await db.users(ofClient: ClientID("acme")!).map(\.username) == ["Alice"])
    }

    @Test("a taken client id is an answer, and the first client is kept")
    func clientIdTaken() async throws {
        let db = try AppDatabase.inMemory()
        #expect(try await db.createClient(ClientRecord(id: ClientID("acme")!, name: "Acme")) == .created)
        #expect(try await db.createClient(ClientRecord(id: ClientID("acme")!, name: "Impostor")) == .idTaken)
        #expect(try await db.clients().map(\.name) == ["Acme"])
    }

    @Test("the health probe answers for an open database and the schema reports itself migrated")
    func healthAndSchema() async throws {
        let db = try AppDatabase.inMemory()
        #expect(await db.isHealthy())
        #expect(try db.isMigrated())
        #expect(try await db.hasAdmin() == false)
        _ = try await db.createUser(UserRecord(username: "root", passwordHash: "h", role: .admin, clientId: nil))
        #expect(try await db.hasAdmin())
    }

    @Test("bots are scoped to their client, quotas hold in one transaction")
    func botScopeAndQuota() async throws {
        let db = try AppDatabase.inMemory()
        #expect(try await db.createClient(ClientRecord(id: ClientID("acme")!, name: "Acme")) == .created)
        #expect(try await db.createClient(ClientRecord(id: ClientID("globex")!, name: "Globex")) == .created)
        let (bot, secret) = try sampleBot("b1")
        #expect(try await db.createBot(bot, secrets: secret, maxBots: 1) == .created)
        #expect(try await db.createBot(bot, secrets: secret, maxBots: 5) == .idTaken)
        let (second, secondSecret) = try sampleBot("b2")
        #expect(try await db.createBot(second, secrets: secondSecret, maxBots: 1) == .quotaReached(count: 1))
        #expect(try await db.bot(BotID("b1")!, ofClient: ClientID("acme")!) != nil)
        #expect(try await db.bot(BotID("b1")!, ofClient: ClientID("globex")!) == nil)
        #expect(try await db.botSecret(BotID("b2")!) == nil)
        try await db.deleteBot(BotID("b1")!)
        #expect(try await db.botSecret(BotID("b1")!) == nil)  // secrets go with their bot
    }

    @Test("records come back typed, and a stored value outside its type fails the fetch instead of becoming a default")
    func typedRecords() async throws {
        let db = try AppDatabase.inMemory()
        #expect(try await db.createClient(ClientRecord(id: ClientID("acme")!, name: "Acme")) == .created)
        var (bot, secret) = try sampleBot("b1")
        bot.size = .large
        #expect(try await db.createBot(bot, secrets: secret, maxBots: 5) == .created)
        let stored = try #require(try await db.bot(BotID("b1")!))
        #expect(stored.id == BotID("b1")! && stored.clientId == ClientID("acme")! && stored.size == .large)
        let size = try await db.writer.read { try String.fetchOne($0, sql: "SELECT size FROM bots") }
        #expect(size == "large")  // stored as the raw string, as before

        // A hand-edited row: an unknown size, then an id outside the identifier rule.
        try await db.writer.write { try $0.execute(sql: "UPDATE bots SET size = 'huge'") }
        await #expect(throws: (any Error).self) { _ = try await db.bot(BotID("b1")!) }
        await #expect(throws: (any Error).self) { _ = try await db.bots() }
        try await db.writer.write { try $0.execute(sql: "INSERT INTO clients (id, name, createdAt) VALUES ('Not An Id', 'x', '2026-01-01')") }
        await #expect(throws: (any Error).self) { _ = try await db.clients() }
    }

    @Test("expired and idle sessions are not live and are cleaned")
    func sessions() async throws {
        let db = try AppDatabase.inMemory()
        let user = try #require(try await db.createUser(UserRecord(username: "root", passwordHash: "h", role: .admin, clientId: nil)).user)
        let now = Date()
        try await db.createSession(SessionRecord(tokenHash: "live", userId: user.id!, createdAt: now, lastSeenAt: now, expiresAt: now + 3600, sourceIp: nil))
        try await db.createSession(SessionRecord(tokenHash: "idle", userId: user.id!, createdAt: now - 4000, lastSeenAt: now - 4000, expiresAt: now + 3600, sourceIp: nil))
        try await db.createSession(SessionRecord(tokenHash: "old", userId: user.id!, createdAt: now - 9000, lastSeenAt: now, expiresAt: now - 1, sourceIp: nil))
        #expect(try await db.liveSession(tokenHash: "live", now: now, idleTimeout: 1800) != nil)
        #expect(try await db.liveSession(tokenHash: "idle", now: now, idleTimeout: 1800) == nil)
        #expect(try await db.liveSession(tokenHash: "old", now: now, idleTimeout: 1800) == nil)
        try await db.createSession(SessionRecord(tokenHash: "stale", userId: user.id!, createdAt: now - 4000, lastSeenAt: now - 4000, expiresAt: now + 3600, sourceIp: nil))
        #expect(try await db.deleteExpiredSessions(now: now, idleTimeout: 1800) == 1)
        #expect(try await db.sessionCount(userID: user.id!) == 1)
    }
}

@Suite("backups and restores")
struct BackupTests {
    @Test("a backup taken while another connection writes holds every committed row and passes integrity_check")
    func backupDuringWrites() async throws {
        let dir = try temporaryDirectory()
        let db = try AppDatabase.open(path: dir + "/fta.sqlite")
        // A writer commits rows as fast as it can while backups run.
        let writer = Task {
            var committed = 0
            while !Task.isCancelled && committed < 3000 {
                try await db.record(AuditEntry(actor: "load", action: "test.write", outcome: .success, detail: "\(committed)"))
                committed += 1
            }
            return committed
        }
        try await Task.sleep(for: .milliseconds(200))
        var counts: [Int] = []
        for index in 0..<3 {
            let before = try await db.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM auditLog")! }
            let file = "\(dir)/backup-\(index).sqlite"
            try DatabaseBackup.backup(databaseAt: dir + "/fta.sqlite", to: file)
            #expect(try DatabaseFile.mode(of: file) == 0o600)
            try DatabaseBackup.checkIntegrity(of: file)
            let copied = try await DatabaseQueue(path: file).read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM auditLog")! }
            // Every row committed before the backup began is in it.
            #expect(copied >= before)
            counts.append(copied)
        }
        let total = try await writer.value
        #expect(total == 3000)
        #expect(counts.first! > 0)
    }

    @Test("restore brings the data back and keeps the previous file aside")
    func restore() async throws {
        let dir = try temporaryDirectory()
        let path = dir + "/fta.sqlite"
        let db = try AppDatabase.open(path: path)
        #expect(try await db.createClient(ClientRecord(id: ClientID("acme")!, name: "Acme")) == .created)
        try DatabaseBackup.backup(databaseAt: path, to: dir + "/backup.sqlite")
        #expect(try await db.createClient(ClientRecord(id: ClientID("later")!, name: "Added after the backup")) == .created)
        try db.writer.close()

        let aside = try DatabaseBackup.restore(from: dir + "/backup.sqlite", to: path)
        let restored = try AppDatabase.open(path: path)
        #expect(try await restored.clients().map(\.id.rawValue) == ["acme"])
        #expect(try DatabaseFile.mode(of: path) == 0o600)
        let previous = try await DatabaseQueue(path: try #require(aside)).read { try String.fetchAll($0, sql: "SELECT id FROM clients ORDER BY id") }
        #expect(previous == ["acme", "later"])
    }

    @Test("restore refuses while a server holds the database, and changes nothing")
    func refusesWhileServing() async throws {
        let dir = try temporaryDirectory()
        let path = dir + "/fta.sqlite"
        let db = try AppDatabase.open(path: path)
        #expect(try await db.createClient(ClientRecord(id: ClientID("acme")!, name: "Acme")) == .created)
        try DatabaseBackup.backup(databaseAt: path, to: dir + "/backup.sqlite")
        #expect(try await db.createClient(ClientRecord(id: ClientID("kept")!, name: "Kept")) == .created)

        // `fta serve` holds this lock for its lifetime; a child process stands in for it, as
        // flock is per open file and the test itself must not share it.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = [path + ".lock", "sleep", "30"]
        try holder.run()
        defer { holder.terminate() }
        try await Task.sleep(for: .milliseconds(300))

        #expect(throws: StoreError.serverRunning(path: path)) { try DatabaseBackup.restore(from: dir + "/backup.sqlite", to: path) }
        #expect(try await db.clients().map(\.id.rawValue) == ["acme", "kept"])
    }

    @Test("restore refuses a corrupt file or a file that is not fta's")
    func refusesBadFiles() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/fta.sqlite"
        _ = try AppDatabase.open(path: path)
        FileManager.default.createFile(atPath: dir + "/garbage", contents: Data(repeating: 0x42, count: 8192))
        #expect(throws: StoreError.self) { try DatabaseBackup.restore(from: dir + "/garbage", to: path) }
        let other = try DatabaseQueue(path: dir + "/other.sqlite")
        try other.write { try $0.execute(sql: "CREATE TABLE t(x)") }
        try other.close()
        #expect(throws: StoreError.notAnFTADatabase(path: dir + "/other.sqlite")) { try DatabaseBackup.restore(from: dir + "/other.sqlite", to: path) }
        #expect(throws: StoreError.notFound(path: dir + "/missing")) { try DatabaseBackup.restore(from: dir + "/missing", to: path) }
    }
}
