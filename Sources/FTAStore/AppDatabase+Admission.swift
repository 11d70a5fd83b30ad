import FTACore
import Foundation
import GRDB

extension AppDatabase {
    /// Admits a bot to start and records it as starting, in one step that no other start can
    /// interleave with (issue 15, class 3: admission must be atomic).
    ///
    /// Inside one `BEGIN IMMEDIATE` transaction, which takes SQLite's write lock at once, across
    /// every connection and every process (`fta serve`, `fta reconcile`): `check` sees the bot and
    /// every bot as they are committed, and throws its refusal to keep everything unchanged; when
    /// it does not throw, `change` is applied to the bot (which thereby holds its share of the
    /// budget, since what counts is the bots that should run) before anyone else can check.
    /// So two concurrent starts never both see the memory the other one is about to take.
    /// While a lockdown is in force it throws `LockdownInForce`, checked in the same transaction:
    /// a start that races `beginLockdown` either ends before it (and is stopped by it) or fails.
    ///
    /// - Returns: the bot as changed, or nil when there is no such bot.
    public func admitBot(
        _ id: BotID,
        check: @escaping @Sendable (_ bot: BotRecord, _ all: [BotRecord]) throws -> Void,
        change: @escaping @Sendable (inout BotRecord) throws -> Void
    ) async throws -> BotRecord? {
        try await writer.writeWithoutTransaction { db in
            var admitted: BotRecord?
            try db.inTransaction(.immediate) {
                if let lockdown = try LockdownRecord.fetchOne(db) { throw LockdownInForce(lockdown: lockdown) }
                let all = try BotRecord.fetchAll(db)
                guard var bot = all.first(where: { $0.id == id }) else { return .rollback }
                try check(bot, all)
                try change(&bot)
                bot.updatedAt = Date()
                try bot.update(db)
                admitted = bot
                return .commit
            }
            return admitted
        }
    }
}
