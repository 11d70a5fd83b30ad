import FTACore
import Foundation
import GRDB

// Intention-named reads and writes. Every query that a client user can trigger takes the
// client it is scoped to; the portal never reads another client's rows "and filters later".

extension AppDatabase {
    // MARK: Clients

    /// Inserts a client unless its id is taken.
    public func createClient(_ client: ClientRecord) async throws -> ClientCreation {
        try await writer.write { db in
            if try ClientRecord.exists(db, key: client.id) { return .idTaken }
            // Another process (the CLI beside `fta serve`) can win between the check and the
            // insert: its uniqueness violation is the same answer.
            return try Self.unlessUniquenessViolated(.idTaken) { try client.insert(db); return .created }
        }
    }

    public func client(_ id: ClientID) async throws -> ClientRecord? {
        try await writer.read { db in try ClientRecord.fetchOne(db, key: id.rawValue) }
    }

    public func clients() async throws -> [ClientRecord] {
        try await writer.read { db in try ClientRecord.order(Column("id")).fetchAll(db) }
    }

    /// Bot and user counts per client id.
    public func clientCounts() async throws -> (bots: [String: Int], users: [String: Int]) {
        try await writer.read { db in
            func counts(_ sql: String) throws -> [String: Int] {
                Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: sql).map { ($0[0] as String, $0[1] as Int) })
            }
            return (
                try counts("SELECT clientId, COUNT(*) FROM bots GROUP BY clientId"),
                try counts("SELECT clientId, COUNT(*) FROM users WHERE clientId IS NOT NULL GROUP BY clientId")
            )
        }
    }

    // MARK: Users

    /// Inserts a user unless the username is taken, whatever its case.
    public func createUser(_ user: UserRecord) async throws -> UserCreation {
        try await writer.write { db in
            if try UserRecord.filter(Column("username") == user.username).fetchCount(db) > 0 { return .usernameTaken }
            var user = user
            return try Self.unlessUniquenessViolated(.usernameTaken) { try user.insert(db); return .created(user) }
        }
    }

    public func user(id: Int64) async throws -> UserRecord? {
        try await writer.read { db in try UserRecord.fetchOne(db, key: id) }
    }

    public func user(named username: String) async throws -> UserRecord? {
        try await writer.read { db in try UserRecord.filter(Column("username") == username).fetchOne(db) }
    }

    public func users(ofClient client: ClientID) async throws -> [UserRecord] {
        try await writer.read { db in try UserRecord.filter(Column("clientId") == client.rawValue).order(Column("username")).fetchAll(db) }
    }

    public func hasAdmin() async throws -> Bool {
        try await writer.read { db in try UserRecord.filter(Column("role") == Role.admin.rawValue).fetchCount(db) > 0 }
    }

    /// Sets a new password hash and ends every session of that user, in one transaction.
    public func setPassword(userID: Int64, hash: String, now: Date = Date()) async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE users SET passwordHash = ?, passwordChangedAt = ? WHERE id = ?", arguments: [hash, now, userID])
            try SessionRecord.filter(Column("userId") == userID).deleteAll(db)
        }
    }

    /// Disables or enables a user; disabling ends their sessions at once.
    public func setDisabled(userID: Int64, _ disabled: Bool) async throws -> UserRecord? {
        try await writer.write { db in
            try db.execute(sql: "UPDATE users SET disabled = ? WHERE id = ?", arguments: [disabled, userID])
            if disabled { try SessionRecord.filter(Column("userId") == userID).deleteAll(db) }
            return try UserRecord.fetchOne(db, key: userID)
        }
    }

    // MARK: Sessions

    /// The session and its user when the session is alive at `now`, touching its idle clock. A
    /// client user's session is not alive during a lockdown (one started in a race with
    /// `beginLockdown` ends here).
    ///
    /// A read, for nearly every request: the write (a touch, or the removal of a dead session)
    /// happens only when one is due, so that signed-in pages do not queue on SQLite's one writer.
    public func liveSession(tokenHash: String, now: Date, idleTimeout: TimeInterval) async throws -> (SessionRecord, UserRecord)? {
        let found = try await writer.read { db -> (SessionRecord, UserRecord?)? in
            guard let session = try SessionRecord.fetchOne(db, key: tokenHash) else { return nil }
            guard session.expiresAt > now, session.lastSeenAt.addingTimeInterval(idleTimeout) > now,
                  let user = try UserRecord.fetchOne(db, key: session.userId), !user.disabled,
                  try user.role == .admin || !LockdownRecord.exists(db, key: 1)
            else { return (session, nil) }
            return (session, user)
        }
        guard let (session, user) = found else { return nil }
        guard let user else {
            _ = try await writer.write { db in try SessionRecord.deleteOne(db, key: tokenHash) }
            return nil
        }
        // Touch at most once a minute, and at most a tenth of the idle timeout apart: with a
        // 1-minute timeout, touching once a minute ended sessions in steady use at the minute
        // (the clock-jump test found it).
        guard now.timeIntervalSince(session.lastSeenAt) > min(60, idleTimeout / 10) else { return (session, user) }
        return try await writer.write { db in
            // Looked at again inside the write: a sign-out or a password change in between wins.
            guard var current = try SessionRecord.fetchOne(db, key: tokenHash) else { return nil }
            if current.lastSeenAt < now {
                current.lastSeenAt = now
                try current.update(db)
            }
            return (current, user)
        }
    }

    public func createSession(_ session: SessionRecord) async throws {
        try await writer.write { db in try session.insert(db) }
    }

    /// The newest moment any session was started or used (nil with no session): the portal's
    /// clock never starts behind it (PortalClock), whatever the wall clock says.
    public func newestSessionActivity() throws -> Date? {
        try writer.read { db in try Date.fetchOne(db, sql: "SELECT MAX(lastSeenAt) FROM sessions") }
    }

    public func deleteSession(tokenHash: String) async throws {
        _ = try await writer.write { db in try SessionRecord.deleteOne(db, key: tokenHash) }
    }

    /// Removes sessions past their absolute lifetime or idle timeout; returns how many.
    @discardableResult
    public func deleteExpiredSessions(now: Date, idleTimeout: TimeInterval) async throws -> Int {
        try await writer.write { db in
            try SessionRecord
                .filter(Column("expiresAt") <= now || Column("lastSeenAt") <= now.addingTimeInterval(-idleTimeout))
                .deleteAll(db)
        }
    }

    public func sessionCount(userID: Int64) async throws -> Int {
        try await writer.read { db in try SessionRecord.filter(Column("userId") == userID).fetchCount(db) }
    }

    /// The result of `insert`, or `taken` when it violates a UNIQUE or PRIMARY KEY constraint.
    /// Every other constraint (a CHECK, a foreign key) is a caller's bug and is thrown.
    private static func unlessUniquenessViolated<T>(_ taken: T, _ insert: () throws -> T) throws -> T {
        do {
            return try insert()
        } catch let error as DatabaseError
            where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            return taken
        }
    }

    // MARK: Bots

    /// Inserts a bot and its sealed secrets together: a bot never exists without credentials.
    /// Fails with `quota` when the client already has `maxBots` bots, checked in the same
    /// transaction so that two concurrent creations cannot both slip under the quota.
    public func createBot(_ bot: BotRecord, secrets: BotSecretRecord, maxBots: Int) async throws -> BotCreation {
        try await writer.write { db in
            let count = try BotRecord.filter(Column("clientId") == bot.clientId).fetchCount(db)
            if count >= maxBots { return .quotaReached(count: count) }
            if try BotRecord.exists(db, key: bot.id) { return .idTaken }
            try bot.insert(db)
            try secrets.insert(db)
            return .created
        }
    }

    public func bot(_ id: BotID) async throws -> BotRecord? {
        try await writer.read { db in try BotRecord.fetchOne(db, key: id.rawValue) }
    }

    /// The bot when it belongs to `client`, else nil: another client's bot does not exist.
    public func bot(_ id: BotID, ofClient client: ClientID) async throws -> BotRecord? {
        try await writer.read { db in
            try BotRecord.filter(key: id.rawValue).filter(Column("clientId") == client.rawValue).fetchOne(db)
        }
    }

    public func bots(ofClient client: ClientID? = nil) async throws -> [BotRecord] {
        try await writer.read { db in
            var request = BotRecord.order(Column("clientId"), Column("id"))
            if let client { request = request.filter(Column("clientId") == client.rawValue) }
            return try request.fetchAll(db)
        }
    }

    public func botCount(ofClient client: ClientID) async throws -> Int {
        try await writer.read { db in try BotRecord.filter(Column("clientId") == client.rawValue).fetchCount(db) }
    }

    /// Every bot's sealed secrets.
    public func botSecrets() async throws -> [BotSecretRecord] {
        try await writer.read { db in try BotSecretRecord.fetchAll(db) }
    }

    /// Replaces every bot's sealed secrets with `transform`'s result (nil: unchanged), in one
    /// transaction: a crash part-way leaves all of them as they were. Returns how many changed.
    public func resealBotSecrets(_ transform: @Sendable (BotSecretRecord) throws -> Data?) async throws -> Int {
        try await writer.write { db in
            var changed = 0
            for var record in try BotSecretRecord.fetchAll(db) {
                guard let sealed = try transform(record) else { continue }
                record.sealed = sealed
                try record.update(db)
                changed += 1
            }
            return changed
        }
    }

    /// Replaces a bot's sealed secrets (fresh credentials for its next container).
    public func replaceBotSecret(_ id: BotID, sealed: Data) async throws {
        try await writer.write { db in
            guard var record = try BotSecretRecord.fetchOne(db, key: id.rawValue) else { return }
            record.sealed = sealed
            record.createdAt = Date()
            try record.update(db)
        }
    }

    public func botSecret(_ id: BotID) async throws -> BotSecretRecord? {
        try await writer.read { db in try BotSecretRecord.fetchOne(db, key: id.rawValue) }
    }

    /// Applies `change` to the bot's row in one transaction and returns the new row.
    @discardableResult
    public func updateBot(_ id: BotID, _ change: @escaping @Sendable (inout BotRecord) throws -> Void) async throws -> BotRecord? {
        try await writer.write { db in
            guard var bot = try BotRecord.fetchOne(db, key: id.rawValue) else { return nil }
            try change(&bot)
            bot.updatedAt = Date()
            try bot.update(db)
            return bot
        }
    }

    public func deleteBot(_ id: BotID) async throws {
        _ = try await writer.write { db in try BotRecord.deleteOne(db, key: id.rawValue) }
    }

    // MARK: Audit

    public func record(_ entry: AuditEntry) async throws {
        try await writer.write { db in
            var entry = entry
            try entry.insert(db)
        }
    }

    /// Audit entries, newest first, filtered.
    public func auditEntries(_ filter: AuditFilter) async throws -> [AuditEntry] {
        try await writer.read { db in
            var request = AuditEntry.order(Column("id").desc).limit(filter.limit)
            if let actor = filter.actor { request = request.filter(Column("actor") == actor) }
            if let action = filter.action { request = request.filter(Column("action") == action) }
            if let client = filter.clientId { request = request.filter(Column("clientId") == client) }
            if let outcome = filter.outcome { request = request.filter(Column("outcome") == outcome.rawValue) }
            if let before = filter.before { request = request.filter(Column("id") < before) }
            if let after = filter.after { request = request.filter(Column("id") > after) }
            return try request.fetchAll(db)
        }
    }
}

/// What `createClient` did.
public enum ClientCreation: Equatable, Sendable {
    case created
    case idTaken
}

/// What `createUser` did: the stored user (with its id), or nothing when the name is taken.
public enum UserCreation: Equatable, Sendable {
    case created(UserRecord)
    case usernameTaken

    /// The stored user, nil when the username was taken.
    public var user: UserRecord? {
        if case .created(let user) = self { user } else { nil }
    }
}

/// What `createBot` did.
public enum BotCreation: Equatable, Sendable {
    case created
    case idTaken
    case quotaReached(count: Int)
}

/// Filters of the audit trail. All optional; `limit` is bounded by the caller.
public struct AuditFilter: Sendable, Equatable {
    public var actor: String?
    public var action: String?
    public var clientId: String?
    public var outcome: AuditOutcome?
    public var before: Int64?
    /// Only entries newer than this id (a reader that follows the trail, like the alerts).
    public var after: Int64?
    public var limit: Int

    public init(actor: String? = nil, action: String? = nil, clientId: String? = nil, outcome: AuditOutcome? = nil,
                before: Int64? = nil, after: Int64? = nil, limit: Int = 100) {
        self.actor = actor
        self.action = action
        self.clientId = clientId
        self.outcome = outcome
        self.before = before
        self.after = after
        self.limit = limit
    }
}
