import FTACore
@testable import FTAStore
import Foundation
import GRDB
import Testing

@Suite("the lockdown in the store")
struct LockdownStoreTests {
    @Test("beginning a lockdown wants every bot stopped and ends client sessions only, in one step; starts are refused until it is lifted")
    func lockdown() async throws {
        let db = try AppDatabase.inMemory()
        #expect(try await db.createClient(ClientRecord(id: ClientID("acme")!, name: "Acme")) == .created)
        let admin = try #require(try await db.createUser(UserRecord(username: "root", passwordHash: "h", role: .admin, clientId: nil)).user)
        let owner = try #require(try await db.createUser(UserRecord(username: "alice", passwordHash: "h", role: .owner, clientId: ClientID("acme")!)).user)
        let viewer = try #require(try await db.createUser(UserRecord(username: "victor", passwordHash: "h", role: .viewer, clientId: ClientID("acme")!)).user)
        let now = Date()
        for (token, user) in [("a", admin), ("o", owner), ("v", viewer)] {
            try await db.createSession(SessionRecord(tokenHash: token, userId: user.id!, createdAt: now, lastSeenAt: now, expiresAt: now + 3600, sourceIp: nil))
        }
        let (bot, secret) = try sampleBot("b1")
        #expect(try await db.createBot(bot, secrets: secret, maxBots: 5) == .created)
        try await db.updateBot(bot.id) { $0.state = .running; $0.desiredState = .running }
        #expect(try await db.lockdown() == nil)

        let begun = try await db.beginLockdown(LockdownRecord(since: now, by: "cli", reason: "test"))
        #expect(!begun.wasAlreadyInForce && begun.sessionsEnded == 2 && begun.lockdown.reason == "test")
        #expect(try await db.lockdown()?.by == "cli")
        #expect(try await db.bot(bot.id)?.desiredState == .stopped)
        #expect(try await db.sessionCount(userID: admin.id!) == 1)
        #expect(try await db.sessionCount(userID: owner.id!) == 0)
        #expect(try await db.sessionCount(userID: viewer.id!) == 0)
        #expect(try await db.liveSession(tokenHash: "a", now: now, idleTimeout: 1800) != nil)

        // A start checks the lockdown in its own transaction and changes nothing.
        await #expect(throws: LockdownInForce.self) {
            _ = try await db.admitBot(bot.id, check: { _, _ in }, change: { $0.desiredState = .running })
        }
        #expect(try await db.bot(bot.id)?.desiredState == .stopped)

        #expect(try await db.liftLockdown()?.reason == "test")
        #expect(try await db.lockdown() == nil)
        #expect(try await db.liftLockdown() == nil)
        #expect(try await db.bot(bot.id)?.desiredState == .stopped)
        let admitted = try await db.admitBot(bot.id, check: { _, _ in }, change: { $0.desiredState = .running })
        #expect(admitted?.desiredState == .running)
    }

    @Test("there is at most one lockdown row, even in SQL")
    func oneRow() async throws {
        let db = try AppDatabase.inMemory()
        _ = try await db.beginLockdown(LockdownRecord(by: "cli", reason: nil))
        await #expect(throws: DatabaseError.self) {
            try await db.writer.write { try $0.execute(sql: "INSERT INTO lockdown (id, since, by) VALUES (2, '2026-01-01', 'x')") }
        }
    }
}
