import FTACore
import FTAPortal
@testable import FTAStore
import Foundation
import HummingbirdTesting
import Testing

@Suite("creating a bot does not reveal another client's bot ids")
struct BotIdDisclosureTests {
    @Test("an id another client uses gets the neutral 409; the owner's own duplicate stays helpful; nothing changes")
    func twoClients() async throws {
        let harness = try await Harness()
        let before = try #require(try await harness.database.bot(BotID("acme-bot")!))
        try await harness.test { client in
            let gina = try await client.signIn("gina")
            // globex's owner tries acme's id, and an id nobody has that the schema refuses anyway.
            let taken = try await client.call(.post, "/api/v1/bots", cookie: gina, json: botBody("acme-bot"))
            #expect(taken.status == .conflict)
            let error = try #require(taken.json["error"] as? [String: Any])
            let message = try #require(error["message"] as? String)
            #expect(message == "The id 'acme-bot' is not available. Choose another id.")
            #expect((error["fields"] as? [String: String]) == ["id": "is not available"])
            // Apart from the id the caller typed, nothing names a bot, an owner or a client.
            let rest = message.replacingOccurrences(of: "'acme-bot'", with: "").lowercased()
            for word in ["exist", "already", "acme", "client", "bot"] {
                #expect(!rest.contains(word), "\(message) says \(word)")
            }
            // Each client gets exactly that answer for the other's ids, whichever way round.
            #expect(try await client.call(.post, "/api/v1/bots", cookie: gina, json: botBody("globex-one", ["start": false])).status == .created)
            let alice = try await client.signIn("alice")
            let ownDuplicate = try await client.call(.post, "/api/v1/bots", cookie: alice, json: botBody("acme-bot"))
            #expect(ownDuplicate.status == .conflict)
            #expect(ownDuplicate.text.contains("You already have a bot with the id 'acme-bot'"))
            let otherTaken = try await client.call(.post, "/api/v1/bots", cookie: alice, json: botBody("globex-one"))
            #expect(otherTaken.status == .conflict)
            #expect(otherTaken.text.replacingOccurrences(of: "globex-one", with: "acme-bot") == taken.text)
            // An admin, who sees every bot anyway, is told plainly.
            let root = try await client.signIn("root")
            let admin = try await client.call(.post, "/api/v1/bots", cookie: root, json: botBody("acme-bot", ["clientId": "globex"]))
            #expect(admin.status == .conflict && admin.text.contains("already exists"))
        }
        // Nothing changed: acme's bot is as it was, globex has only the bot it created.
        #expect(try await harness.database.bot(BotID("acme-bot")!) == before)
        #expect(try await harness.database.bots(ofClient: ClientID("globex")!).map(\.id.rawValue) == ["globex-one"])
    }
}
