import FTACore
import FTAPortal
@testable import FTAStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite("every current-password check is throttled like sign-in")
struct PasswordChangeThrottleTests {
    @Test("wrong current passwords lock the account out; the right one is refused during the lockout; nothing changed")
    func lockout() async throws {
        let harness = try await Harness(["FTA_LOGIN_MAX_FAILURES": "3", "FTA_LOGIN_LOCKOUT_SECONDS": "2"])
        let before = try #require(try await harness.database.user(named: "alice")).passwordHash
        try await harness.test { client in
            let cookie = try await client.signIn("alice")
            for attempt in 0..<3 {
                let wrong = try await client.call(.post, "/api/v1/me/password", cookie: cookie,
                                                  json: ["currentPassword": "guess number \(attempt)", "newPassword": "a brand new passphrase"])
                #expect(wrong.status == .badRequest)
            }
            // Locked: the right current password is refused too, with the sign-in's answer.
            let locked = try await client.call(.post, "/api/v1/me/password", cookie: cookie,
                                               json: ["currentPassword": testPassword, "newPassword": "a brand new passphrase"])
            #expect(locked.status == .tooManyRequests)
            #expect(locked.errorCode == "too_many_attempts")
            #expect(Int(locked.headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect(sessionCookie(locked) == nil)
            // The same account is locked for sign-in as well: one budget of guesses, not two.
            let login = try await client.call(.post, "/api/v1/auth/login", json: ["username": "alice", "password": testPassword])
            #expect(login.status == .tooManyRequests)
            // Nothing changed: the old password still works once the lockout lifts, the new one does not.
            try await Task.sleep(for: .seconds(2.5))
            #expect(try await client.call(.post, "/api/v1/auth/login", json: ["username": "alice", "password": "a brand new passphrase"]).status == .unauthorized)
            #expect(try await client.call(.post, "/api/v1/auth/login", json: ["username": "alice", "password": testPassword]).status == .ok)
        }
        #expect(try #require(try await harness.database.user(named: "alice")).passwordHash == before)
        let changes = try await harness.database.auditEntries(AuditFilter(action: "user.password_change"))
        #expect(changes.filter { $0.outcome == .failure }.count == 3)
        #expect(changes.contains { $0.outcome == .denied && $0.detail == "locked out" })
        #expect(!changes.contains { $0.outcome == .success })
    }
}

@Suite("bcrypt sees exactly the password the policy checked")
struct PasswordBytesTests {
    /// 72 bytes in UTF-8 (bcrypt's limit) although fewer characters: "é" is two bytes.
    static let longest = "é" + String(repeating: "correct horse ", count: 4) + "battery staple"

    @Test("passwords over 72 UTF-8 bytes, or with a NUL or another control character, are refused when set", arguments: [
        longest + "y", String(longest.dropLast()) + "é", "correct horse battery staple\u{0}tail", "correct horse\tbattery staple",
        "correct horse battery staple\n", "correct\u{1b}[2Jhorse battery",
    ])
    func refusedAtSetTime(password: String) async throws {
        #expect(PasswordPolicy.problem(with: password) != nil)
        let harness = try await Harness()
        try await harness.test { client in
            let cookie = try await client.signIn("alice")
            let change = try await client.call(.post, "/api/v1/me/password", cookie: cookie,
                                               json: ["currentPassword": testPassword, "newPassword": password])
            #expect(change.status == .badRequest)
            let admin = try await client.signIn("root")
            let reset = try await client.call(.post, "/api/v1/users/\(harness.userIDs["victor"]!)/password", cookie: admin, json: ["password": password])
            #expect(reset.status == .badRequest)
        }
        await #expect(throws: UnhashablePassword.self) { _ = try await harness.services.hasher.hash(password) }
    }

    @Test("two passwords that differ only after byte 72, or after a NUL, do not both sign in")
    func noSharedPrefix() async throws {
        #expect(Self.longest.utf8.count == 72 && PasswordPolicy.problem(with: Self.longest) == nil)
        let harness = try await Harness()
        try await harness.database.setPassword(userID: harness.userIDs["alice"]!, hash: try await harness.services.hasher.hash(Self.longest))
        try await harness.test { client in
            #expect(try await client.call(.post, "/api/v1/auth/login", json: ["username": "alice", "password": Self.longest]).status == .ok)
            for other in [Self.longest + "anything", Self.longest + "\u{0}"] {
                #expect(try await client.call(.post, "/api/v1/auth/login", json: ["username": "alice", "password": other]).status == .unauthorized)
            }
            // gina keeps the seeded password: it followed by a NUL and a tail is not it.
            let withTail = try await client.call(.post, "/api/v1/auth/login", json: ["username": "gina", "password": testPassword + "\u{0}whatever"])
            #expect(withTail.status == .unauthorized)
            #expect(try await client.call(.post, "/api/v1/auth/login", json: ["username": "gina", "password": testPassword]).status == .ok)
        }
    }
}
