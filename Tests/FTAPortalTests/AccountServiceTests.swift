import FTACore
import FTAPortal
import FTAStore
import Foundation
import Logging
import Testing

/// The account service that both the API and `fta` create accounts through.
@Suite("the account service")
struct AccountServiceTests {
    let database: AppDatabase
    let accounts: AccountService

    init() throws {
        database = try AppDatabase.inMemory()
        accounts = AccountService(database: database, hasher: PasswordHasher(cost: 12), audit: AuditTrail(database: database, logger: Logger(label: "test")))
    }

    func refusal<T>(_ body: () async throws -> T) async -> DomainError? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error as? DomainError
        }
    }

    @Test("a client draft names every field that is not valid, and creates nothing")
    func clientValidation() async throws {
        let error = await refusal { try ClientDraft(id: "Bad Id", name: "  ", maxBots: 0).validated() }
        guard case .invalid(let fields) = error else { Issue.record("expected invalid, got \(String(describing: error))"); return }
        #expect(fields.messages == ["id": Identifier.rule, "name": "must be 1 to 100 printable characters", "maxBots": "must be between 1 and 1000"])
        #expect(await refusal { try ClientDraft(id: "ok", name: "tab\there").validated() } == .invalid(FieldErrors("name", "must be 1 to 100 printable characters")))
        let trimmed = try ClientDraft(id: "acme", name: "  Acme Ltd ", maxBots: 7).validated()
        #expect(trimmed.id == ClientID("acme")! && trimmed.name == "Acme Ltd" && trimmed.maxBots == 7)
        #expect(try await database.clients().isEmpty)
    }

    @Test("account drafts apply the username and password rules, and client users are owners or viewers")
    func accountValidation() async throws {
        let weak = await refusal { try AccountDraft(username: "x", password: "short").validatedAdmin() }
        #expect(weak == .invalid({
            var errors = FieldErrors()
            errors.add("username", "must be 3 to 64 characters")
            errors.add("password", "must be at least 12 characters")
            return errors
        }()))
        #expect(await refusal { try AccountDraft(username: "alice", password: "alice-in-wonderland").validatedAdmin() }
            == .invalid(FieldErrors("password", "must not contain the username")))
        #expect(await refusal { try AccountDraft(username: "alice", password: testPassword).validatedClientUser(role: "admin") }
            == .invalid(FieldErrors("role", "must be owner or viewer")))
        let viewer = try AccountDraft(username: "alice", password: testPassword).validatedClientUser(role: "viewer")
        #expect(viewer.role == .viewer && !"\(viewer)".contains(testPassword))
    }

    @Test("a taken client id or username is refused, whatever the case, and the first one is kept")
    func duplicates() async throws {
        let acme = try await accounts.create(try ClientDraft(id: "acme", name: "Acme").validated(), by: .commandLine)
        #expect(await refusal { try await accounts.create(try ClientDraft(id: "acme", name: "Impostor").validated(), by: .commandLine) }
            == .conflict("A client with the id 'acme' already exists."))
        #expect(try await database.clients().map(\.name) == ["Acme"])

        let alice = try await accounts.create(try AccountDraft(username: "Alice", password: testPassword).validatedClientUser(role: "owner"),
                                              of: acme, by: .commandLine)
        #expect(alice.role == .owner && alice.clientId == acme.id && alice.passwordHash.hasPrefix("$2"))
        #expect(await refusal { try await accounts.create(try AccountDraft(username: "alice", password: testPassword).validatedAdmin(), of: nil, by: .commandLine) }
            == .conflict("The username 'alice' is taken.", fields: ["username": "is taken"]))
        #expect(try await database.hasAdmin() == false)
        let root = try await accounts.create(try AccountDraft(username: "root", password: testPassword).validatedAdmin(), of: nil, by: .commandLine)
        #expect(root.role == .admin && root.clientId == nil)
        #expect(try await database.hasAdmin())
    }

    @Test("the audit entry of a hostile display name holds no control or format character")
    func hostileName() async throws {
        // U+202E reverses the text after it and U+2066 opens an isolate: both pass the name rule
        // (they are format characters, not control characters) and must not reach the trail.
        let name = "Acme \u{202E}gnp.exe\u{2066} Ltd"
        let client = try await accounts.create(try ClientDraft(id: "acme", name: name).validated(), by: AuditActor(name: "root", userID: 1, sourceIP: "203.0.113.9"))
        #expect(client.name == name)  // stored as typed; the pages escape what they show
        let entry = try #require(try await database.auditEntries(AuditFilter(action: "client.create")).first)
        #expect(entry.detail == "name Acme ?gnp.exe? Ltd")
        #expect(entry.actor == "root" && entry.actorUserId == 1 && entry.sourceIp == "203.0.113.9" && entry.target == "acme" && entry.clientId == "acme")
        let texts = [entry.actor, entry.target, entry.detail, entry.sourceIp].compactMap { $0 }
        #expect(!texts.joined().unicodeScalars.contains { [.control, .format].contains($0.properties.generalCategory) })
    }

    @Test("the command line is audited as cli from local")
    func commandLineActor() async throws {
        _ = try await accounts.create(try AccountDraft(username: "root", password: testPassword).validatedAdmin(), of: nil, by: .commandLine)
        let entry = try #require(try await database.auditEntries(AuditFilter(action: "admin.create")).first)
        #expect(entry.actor == "cli" && entry.sourceIp == "local" && entry.target == "root" && entry.outcome == .success)
    }
}
