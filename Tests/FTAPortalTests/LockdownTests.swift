import FTACore
import FTAPortal
@testable import FTAStore
import Foundation
import GRDB
import HummingbirdTesting
import Testing

/// `fta lockdown` (issue 15, class 8: contain an incident): every client sign-in refused and
/// every client session ended, admins still in, every bot stopped and kept stopped, the audit
/// trail and every other record kept; `--lift` lets clients back in and leaves bots stopped.
@Suite("lockdown")
struct LockdownTests {
    /// Rows per table: a lockdown removes sessions only.
    static func rowCounts(_ database: AppDatabase) async throws -> [String: Int] {
        try await database.writer.read { db in
            var counts: [String: Int] = [:]
            for table in ["auditLog", "users", "clients", "bots", "botSecrets"] {
                counts[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)")
            }
            return counts
        }
    }

    static func lockdownState(_ client: any TestClientProtocol, admin: String) async throws -> [String: Any]? {
        try await client.call(.get, "/api/v1/system", cookie: admin).json["lockdown"] as? [String: Any]
    }

    @Test("during a lockdown client users' right passwords and sessions are refused, admins sign in, every bot stops and stays stopped, and nothing is removed; after the lift clients sign in again")
    func lockdownAndLift() async throws {
        let harness = try await Harness()
        let services = harness.services
        let bot = BotID("acme-bot")!
        try await harness.test { client in
            let owner = try await client.signIn("alice"), viewer = try await client.signIn("victor")
            let otherOwner = try await client.signIn("gina"), admin = try await client.signIn("root")
            // Asked while no bot runs: with running bots, /system's doctor would call their (in-memory,
            // unreachable) addresses.
            #expect(try await Self.lockdownState(client, admin: admin)?["active"] as? Bool == false)
            #expect(try await client.call(.post, "/api/v1/bots", cookie: otherOwner, json: botBody("globex-bot")).status == .created)
            #expect(try await client.call(.post, "/api/v1/bots/acme-bot/start", cookie: owner).status == .ok)
            #expect(await harness.runtime.isRunning(bot) == true)
            #expect(await harness.runtime.isRunning(BotID("globex-bot")!) == true)
            let trailBefore = try await harness.database.auditEntries(AuditFilter(limit: 10_000))
            let countsBefore = try await Self.rowCounts(harness.database)
            let launches = await harness.runtime.launchCount()

            let report = try await services.lockdown.begin(by: .commandLine, reason: "suspected leak of a client password")
            #expect(!report.wasAlreadyInForce && report.sessionsEnded == 3)
            #expect(report.stopped.sorted() == ["acme-bot", "globex-bot"] && report.notStopped.isEmpty)

            // Existing client sessions no longer work; the admin's does.
            for cookie in [owner, viewer, otherOwner] {
                #expect(try await client.call(.get, "/api/v1/me", cookie: cookie).status == .unauthorized)
                #expect(try await client.call(.post, "/api/v1/bots/acme-bot/start", cookie: cookie).status == .unauthorized)
            }
            #expect(try await client.call(.get, "/api/v1/me", cookie: admin).status == .ok)
            // The right password of an owner or a viewer is refused, with a clear message; a wrong
            // one gets the usual answer, so the refusal reveals nothing without the password.
            for username in ["alice", "victor", "gina"] {
                let refused = try await client.call(.post, "/api/v1/auth/login", json: ["username": username, "password": testPassword])
                #expect(refused.status == .forbidden && refused.errorCode == "lockdown", "\(username): \(refused.status) \(refused.text)")
                #expect(refused.text.contains("locked the portal down") && sessionCookie(refused) == nil)
            }
            let wrong = try await client.call(.post, "/api/v1/auth/login", json: ["username": "alice", "password": "not the password at all"])
            #expect(wrong.status == .unauthorized && wrong.errorCode == "invalid_credentials")
            let admin2 = try await client.signIn("root")

            // Every bot is stopped and wanted stopped; no start gets through, not the admin's, not
            // an owner's (through the lifecycle their request would reach), not the reconciler's.
            for record in try await harness.database.bots() {
                #expect(record.state == .stopped && record.desiredState == .stopped, "\(record.id): \(record.state)/\(record.desiredState)")
                #expect(await harness.runtime.isRunning(record.id) == false)
            }
            let adminStart = try await client.call(.post, "/api/v1/bots/acme-bot/start", cookie: admin2)
            #expect(adminStart.status == .conflict && adminStart.text.contains("locked the portal down"))
            await #expect(throws: DomainError.conflict(Lockdown.startRefusal)) { try await services.lifecycle.start(bot) }
            let created = try await client.call(.post, "/api/v1/bots", cookie: admin2, json: botBody("new-bot", ["clientId": "acme"]))
            #expect(created.status == .conflict && created.text.contains("locked the portal down"))
            #expect(try await harness.database.bot(BotID("new-bot")!) == nil)
            let pass = try await services.reconciler.reconcileOnce()
            #expect(pass.recreated.isEmpty)
            #expect(await harness.runtime.isRunning(bot) == false)
            #expect(await harness.runtime.launchCount() == launches)

            // The admin sees it: /system and the doctor check.
            let state = try #require(try await Self.lockdownState(client, admin: admin2))
            #expect(state["active"] as? Bool == true && state["by"] as? String == "cli" && state["reason"] as? String == "suspected leak of a client password")
            let check = try #require(await services.doctor.run(hostChecks: false).first { $0.name == "lockdown" })
            #expect(check.status == .warn && check.fix.contains("fta lockdown --lift") && check.detail.contains("suspected leak"))

            // Nothing was removed: every earlier audit entry is there as it was, and the trail has the
            // lockdown, each bot's stop and the refused sign-ins on top.
            let trailDuring = try await harness.database.auditEntries(AuditFilter(limit: 10_000))
            let during = Dictionary(uniqueKeysWithValues: trailDuring.map { ($0.id!, $0) })
            #expect(trailBefore.allSatisfy { during[$0.id!] == $0 })
            let lockdownEntry = try #require(trailDuring.first { $0.action == "system.lockdown" })
            #expect(lockdownEntry.actor == "cli" && lockdownEntry.outcome == .success && lockdownEntry.detail?.contains("suspected leak") == true)
            #expect(trailDuring.filter { $0.action == "bot.stop" && $0.detail == "lockdown" && $0.outcome == .success }.count == 2)
            #expect(trailDuring.filter { $0.action == "auth.login" && $0.outcome == .denied && $0.detail == "lockdown" }.count == 3)
            var countsDuring = try await Self.rowCounts(harness.database)
            #expect(countsDuring["auditLog"]! > countsBefore["auditLog"]!)
            countsDuring["auditLog"] = countsBefore["auditLog"]
            #expect(countsDuring == countsBefore)

            // Lifting: clients sign in again; bots stay stopped until their owners start them.
            let lifted = try await services.lockdown.lift(by: .commandLine)
            #expect(lifted?.reason == "suspected leak of a client password")
            #expect(try await services.lockdown.lift(by: .commandLine) == nil)
            let ownerAgain = try await client.signIn("alice")
            _ = try await client.signIn("victor")
            #expect(try await harness.database.bot(bot)?.state == .stopped)
            #expect(try await services.reconciler.reconcileOnce().recreated.isEmpty)
            #expect(await harness.runtime.isRunning(bot) == false)
            #expect(try await Self.lockdownState(client, admin: admin2)?["active"] as? Bool == false)
            #expect(await services.doctor.run(hostChecks: false).first { $0.name == "lockdown" }?.status == .pass)
            let lifts = try await harness.database.auditEntries(AuditFilter(action: "system.lockdown_lift"))
            #expect(lifts.count == 1 && lifts.first?.actor == "cli")
            #expect(try await client.call(.post, "/api/v1/bots/acme-bot/start", cookie: ownerAgain).status == .ok)
            #expect(await harness.runtime.isRunning(bot) == true)
        }
    }

    @Test("a lockdown applied again keeps the first one's time and reason, and still ends new client sessions")
    func appliedAgain() async throws {
        let harness = try await Harness()
        let first = try await harness.services.lockdown.begin(by: .commandLine, reason: "first")
        let userID = try #require(harness.userIDs["alice"])
        // A session that a sign-in racing the lockdown could have stored: not alive, and ended again.
        try await harness.database.createSession(SessionRecord(tokenHash: "raced", userId: userID, createdAt: Date(), lastSeenAt: Date(),
                                                               expiresAt: Date().addingTimeInterval(3600), sourceIp: nil))
        #expect(try await harness.database.liveSession(tokenHash: "raced", now: Date(), idleTimeout: 1800) == nil)
        try await harness.database.createSession(SessionRecord(tokenHash: "raced-2", userId: userID, createdAt: Date(), lastSeenAt: Date(),
                                                               expiresAt: Date().addingTimeInterval(3600), sourceIp: nil))
        let again = try await harness.services.lockdown.begin(by: .commandLine, reason: "second")
        #expect(again.wasAlreadyInForce && again.sessionsEnded == 1)
        // The store keeps times to the millisecond.
        #expect(again.lockdown.reason == "first" && abs(again.lockdown.since.timeIntervalSince(first.lockdown.since)) < 0.01)
        #expect(try await harness.database.sessionCount(userID: userID) == 0)
    }
}
