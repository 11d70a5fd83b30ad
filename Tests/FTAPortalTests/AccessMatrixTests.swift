import FTACore
import FTAPortal
import FTAStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Who calls: nobody, a viewer of acme, the owner of acme, the owner of another client, an admin.
enum Caller: String, CaseIterable, Sendable {
    case anonymous, viewer, owner, otherOwner, admin

    var username: String? {
        switch self {
        case .anonymous: nil
        case .viewer: "victor"
        case .owner: "alice"
        case .otherOwner: "gina"
        case .admin: "root"
        }
    }
}

struct Expectation: Sendable, CustomStringConvertible {
    var method: HTTPRequest.Method
    var path: String
    var body: [String: any Sendable]?
    /// Status per caller, in `Caller.allCases` order.
    var statuses: [Int]
    var description: String { "\(method) \(path)" }
}

@Suite("role × endpoint × tenant")
struct AccessMatrixTests {
    // Every endpoint of the API. acme's objects are the targets; status per caller:
    //                                                        anon viewer owner other admin
    static func matrix(viewerID: Int64) -> [Expectation] {
        [
            .init(method: .get, path: "/api/v1/health", statuses: [200, 200, 200, 200, 200]),
            .init(method: .get, path: "/api/v1/openapi.json", statuses: [200, 200, 200, 200, 200]),
            .init(method: .get, path: "/api/v1/me", statuses: [401, 200, 200, 200, 200]),
            .init(method: .get, path: "/api/v1/catalog", statuses: [401, 200, 200, 200, 200]),
            .init(method: .get, path: "/api/v1/clients", statuses: [401, 403, 403, 403, 200]),
            .init(method: .post, path: "/api/v1/clients", body: ["id": "newco", "name": "New Co"], statuses: [401, 403, 403, 403, 201]),
            .init(method: .get, path: "/api/v1/clients/acme/users", statuses: [401, 403, 403, 403, 200]),
            .init(method: .post, path: "/api/v1/clients/acme/users", body: ["username": "newuser", "password": "another long passphrase", "role": "viewer"],
                  statuses: [401, 403, 403, 403, 201]),
            .init(method: .patch, path: "/api/v1/users/\(viewerID)", body: ["disabled": false], statuses: [401, 403, 403, 403, 200]),
            .init(method: .post, path: "/api/v1/users/\(viewerID)/password", body: ["password": testPassword], statuses: [401, 403, 403, 403, 204]),
            .init(method: .get, path: "/api/v1/bots", statuses: [401, 200, 200, 200, 200]),
            .init(method: .get, path: "/api/v1/bots/acme-bot", statuses: [401, 200, 200, 404, 200]),
            .init(method: .get, path: "/api/v1/bots/acme-bot/logs?tail=5", statuses: [401, 200, 200, 404, 200]),
            .init(method: .post, path: "/api/v1/bots/acme-bot/start", statuses: [401, 403, 200, 404, 200]),
            .init(method: .post, path: "/api/v1/bots/acme-bot/restart", statuses: [401, 403, 200, 404, 200]),
            .init(method: .post, path: "/api/v1/bots/acme-bot/rotate-credentials", statuses: [401, 403, 200, 404, 200]),
            // A running bot whose container has no address yet: the bridge answers 502, after the
            // checks. The viewer could not start it, so for them it is not running: 409.
            .init(method: .get, path: "/api/v1/bots/acme-bot/status", statuses: [401, 409, 502, 404, 502]),
            .init(method: .get, path: "/api/v1/bots/acme-bot/profit", statuses: [401, 409, 502, 404, 502]),
            .init(method: .get, path: "/api/v1/bots/acme-bot/trades", statuses: [401, 409, 502, 404, 502]),
            .init(method: .post, path: "/api/v1/bots/acme-bot/trading/stop", statuses: [401, 403, 502, 404, 502]),
            .init(method: .post, path: "/api/v1/bots/acme-bot/trading/start", statuses: [401, 403, 502, 404, 502]),
            .init(method: .post, path: "/api/v1/bots/acme-bot/trades/1/exit", statuses: [401, 403, 502, 404, 502]),
            .init(method: .post, path: "/api/v1/bots/acme-bot/stop", statuses: [401, 403, 200, 404, 200]),
            .init(method: .get, path: "/api/v1/bots/nonexistent", statuses: [401, 404, 404, 404, 404]),
            .init(method: .get, path: "/api/v1/audit", statuses: [401, 403, 403, 403, 200]),
            .init(method: .post, path: "/api/v1/auth/logout", statuses: [401, 204, 204, 204, 204]),
        ]
    }

    @Test("every endpoint answers each caller as expected, and no client sees another's data")
    func matrix() async throws {
        for caller in Caller.allCases {
            let harness = try await Harness()
            let rows = Self.matrix(viewerID: harness.userIDs["victor"]!)
            try await harness.test { client in
                var cookie: String?
                if let username = caller.username { cookie = try await client.signIn(username) }
                for row in rows {
                    let index = Caller.allCases.firstIndex(of: caller)!
                    let response = try await client.call(row.method, row.path, cookie: cookie, json: row.body)
                    #expect(Int(response.status.code) == row.statuses[index], "\(row) as \(caller): \(response.status) \(response.text.prefix(200))")
                    if response.status.code >= 400 {
                        #expect(response.errorCode != nil, "\(row) as \(caller): error without the uniform shape")
                    }
                    // Tenant isolation: acme's data never reaches globex's owner, nor the reverse.
                    if caller == .otherOwner { #expect(!response.text.lowercased().contains("acme"), "\(row) leaked acme data to globex") }
                    if caller == .viewer || caller == .owner { #expect(!response.text.lowercased().contains("globex"), "\(row) leaked globex data to acme") }
                }
            }
        }
    }

    @Test("creating and deleting bots: owners for their client only, viewers never, admins for any client")
    func createAndDelete() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let viewer = try await client.signIn("victor"), owner = try await client.signIn("alice")
            let other = try await client.signIn("gina"), admin = try await client.signIn("root")
            #expect(try await client.call(.post, "/api/v1/bots", cookie: viewer, json: botBody("v1")).status == .forbidden)
            #expect(try await client.call(.post, "/api/v1/bots", cookie: owner, json: botBody("o1")).status == .created)
            // An owner cannot plant a bot in another client.
            let planted = try await client.call(.post, "/api/v1/bots", cookie: other, json: botBody("g1", ["clientId": "acme"]))
            #expect(planted.status == .badRequest)
            #expect(try await client.call(.post, "/api/v1/bots", cookie: admin, json: botBody("a1")).status == .badRequest)  // admin must name the client
            #expect(try await client.call(.post, "/api/v1/bots", cookie: admin, json: botBody("a1", ["clientId": "globex"])).status == .created)

            #expect(try await client.call(.delete, "/api/v1/bots/o1", cookie: viewer).status == .forbidden)
            #expect(try await client.call(.delete, "/api/v1/bots/o1", cookie: other).status == .notFound)
            #expect(try await client.call(.delete, "/api/v1/bots/o1", cookie: owner).status == .noContent)
            #expect(try await client.call(.delete, "/api/v1/bots/a1", cookie: admin).status == .noContent)
            let remaining = try await harness.database.bots().map(\.id.rawValue)
            #expect(remaining == ["acme-bot"])
            // ?client= is for admins; an owner's list stays their own.
            let listed = try await client.call(.get, "/api/v1/bots?client=globex", cookie: owner)
            #expect((listed.json["bots"] as? [[String: Any]])?.map { $0["clientId"] as? String } == ["acme"])
        }
    }

    @Test("access to another client's bot is a 404 and is audited as denied")
    func deniedIsAudited() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let other = try await client.signIn("gina")
            #expect(try await client.call(.post, "/api/v1/bots/acme-bot/stop", cookie: other).status == .notFound)
        }
        let denied = try await harness.database.auditEntries(AuditFilter(outcome: .denied))
        #expect(denied.contains { $0.actor == "gina" && $0.target == "acme-bot" })
    }
}
