import FTACore
import Foundation
import GRDB

/// The operator's incident switch (`fta lockdown`): while it is in force, no client user (owner
/// or viewer) has a session and no bot starts. Admins keep signing in, to investigate.
public struct LockdownRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "lockdown"
    /// Always 1: there is one lockdown in force, or none.
    var id = 1
    public var since: Date
    /// Who put it in force, as the audit trail names them.
    public var by: String
    public var reason: String?

    public init(since: Date = Date(), by: String, reason: String?) {
        self.since = since
        self.by = by
        self.reason = reason
    }
}

/// Thrown by `admitBot` while a lockdown is in force: no bot may start then.
public struct LockdownInForce: Error, Sendable, Equatable {
    public let lockdown: LockdownRecord
}

/// What `beginLockdown` did.
public struct LockdownBegun: Sendable, Equatable {
    /// The lockdown in force: the one just recorded, or the one already there (kept as it was).
    public var lockdown: LockdownRecord
    public var wasAlreadyInForce: Bool
    /// Client users' sessions ended by this call.
    public var sessionsEnded: Int
}

extension AppDatabase {
    /// The lockdown in force, or nil.
    public func lockdown() async throws -> LockdownRecord? {
        try await writer.read { db in try LockdownRecord.fetchOne(db) }
    }

    /// Puts the lockdown in force, in one transaction: records it (an earlier one in force is
    /// kept), wants every bot stopped, so that no reconciler, in this process or another,
    /// starts one again, and ends every session of a client user. Admins keep their sessions.
    /// Nothing else is removed: the audit trail, users, bots and their volumes stay.
    public func beginLockdown(_ record: LockdownRecord) async throws -> LockdownBegun {
        try await writer.write { db in
            let existing = try LockdownRecord.fetchOne(db)
            if existing == nil { try record.insert(db) }
            try db.execute(sql: "UPDATE bots SET desiredState = ?, updatedAt = ? WHERE desiredState != ?",
                           arguments: [DesiredState.stopped.rawValue, Date(), DesiredState.stopped.rawValue])
            let ended = try SessionRecord
                .filter(sql: "userId IN (SELECT id FROM users WHERE role != ?)", arguments: [Role.admin.rawValue])
                .deleteAll(db)
            return LockdownBegun(lockdown: existing ?? record, wasAlreadyInForce: existing != nil, sessionsEnded: ended)
        }
    }

    /// Ends the lockdown; returns the one that was in force, nil when none was. Bots keep their
    /// desired state: they stay stopped until their owners start them.
    public func liftLockdown() async throws -> LockdownRecord? {
        try await writer.write { db in
            guard let existing = try LockdownRecord.fetchOne(db) else { return nil }
            try LockdownRecord.deleteAll(db)
            return existing
        }
    }
}
