import FTACore
import FTAPortal
import FTARuntimeTesting
@testable import FTAStore
import Foundation
import GRDB
import Logging
import NIOConcurrencyHelpers
import Testing

/// Collects every log line, to search it for secrets.
final class CollectingLogHandler: LogHandler, @unchecked Sendable {
    static let lines = NIOLockedValueBox<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        let all = self.metadata.merging(metadata ?? [:]) { $1 }
        Self.lines.withLockedValue { $0.append("\(message) \(all)") }
    }
}

@Suite("secrets never leave the store")
struct SecretsNeverLeakTests {
    @Test("a bot's API credentials appear in no API answer, audit entry or log line, and only sealed in the database")
    func botSecrets() async throws {
        let harness = try await Harness(logger: Logger(label: "leak-test") { _ in CollectingLogHandler() })
        let texts = NIOLockedValueBox<[String]>([])
        let keep: @Sendable (String) -> Void = { text in texts.withLockedValue { $0.append(text) } }
        try await harness.test { client in
            let owner = try await client.signIn("alice"), admin = try await client.signIn("root")
            keep(try await client.call(.post, "/api/v1/bots", cookie: owner, json: botBody("leaky")).text)
            for path in ["/api/v1/bots", "/api/v1/bots/leaky", "/api/v1/bots/leaky/logs", "/api/v1/me", "/api/v1/audit", "/api/v1/system"] {
                keep(try await client.call(.get, path, cookie: path.contains("audit") || path.contains("system") ? admin : owner).text)
            }
            keep(try await client.call(.post, "/api/v1/bots/leaky/restart", cookie: owner).text)
        }
        let secrets = try await harness.services.lifecycle.secrets(of: BotID("leaky")!)
        let audit = try await harness.database.auditEntries(AuditFilter(limit: 500)).map { "\($0)" }
        let logs = CollectingLogHandler.lines.withLockedValue { $0 }
        let dump = try await harness.database.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM bots").map { "\($0)" } + Row.fetchAll(db, sql: "SELECT * FROM botSecrets").map { "\($0)" }
        }
        for secret in [secrets.apiPassword, secrets.jwtSecretKey, secrets.wsToken] {
            for text in texts.withLockedValue({ $0 }) + audit + logs + dump { #expect(!text.contains(secret)) }
        }
        #expect(!logs.isEmpty)
    }

    /// docs/security.md, "Encrypted at rest": what the file on disk holds, byte for byte. The bot's
    /// own name is found there (the file itself is not encrypted, and the search works); its
    /// credentials and the key that seals them are not, in the database, its WAL or a backup.
    @Test("the database file, its WAL and a backup hold a bot's name in clear but none of its credentials, nor the sealing key")
    func secretsAreSealedOnDisk() async throws {
        let dir = NSTemporaryDirectory() + "fta-at-rest-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = RandomBytes.hex(32)
        let path = dir + "/fta.sqlite"
        let services = try PortalServices(configuration: try testConfiguration(["FTA_SECRET_KEY": key]), database: try AppDatabase.open(path: path),
                                          runtime: InMemoryBotRuntime(), logger: Logger(label: "test"))
        #expect(try await services.database.createClient(ClientRecord(id: ClientID("acme")!, name: "Acme Ltd")) == .created)
        let client = try #require(try await services.database.client(ClientID("acme")!))
        _ = try await services.lifecycle.create(id: BotID("at-rest")!, client: client, settings: try validSettings(), start: true)
        let secrets = try await services.lifecycle.secrets(of: BotID("at-rest")!)
        try DatabaseBackup.backup(databaseAt: path, to: dir + "/backup.sqlite")

        let files = ["fta.sqlite", "fta.sqlite-wal", "backup.sqlite"].map { dir + "/" + $0 }
        let bytes = try files.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        #expect(!bytes[0].isEmpty && !bytes[2].isEmpty)
        #expect(bytes.contains { $0.range(of: Data("at-rest".utf8)) != nil }, "the search finds what is stored in clear")
        for secret in [secrets.apiUsername, secrets.apiPassword, secrets.jwtSecretKey, secrets.wsToken, key] {
            for (file, content) in zip(files, bytes) {
                #expect(content.range(of: Data(secret.utf8)) == nil, "\(file) holds a secret in clear")
            }
        }
    }

    @Test("passwords appear in no API answer, audit entry or log line")
    func passwords() async throws {
        let harness = try await Harness(logger: Logger(label: "leak-test") { _ in CollectingLogHandler() })
        let texts = NIOLockedValueBox<[String]>([])
        let keep: @Sendable (String) -> Void = { text in texts.withLockedValue { $0.append(text) } }
        try await harness.test { client in
            let admin = try await client.signIn("root")
            keep(try await client.call(.post, "/api/v1/clients/acme/users", cookie: admin,
                                               json: ["username": "newbie", "password": "newbie secret phrase", "role": "owner"]).text)
            keep(try await client.call(.post, "/api/v1/auth/login", json: ["username": "newbie", "password": "wrong guess phrase"]).text)
            keep(try await client.call(.get, "/api/v1/clients/acme/users", cookie: admin).text)
        }
        let audit = try await harness.database.auditEntries(AuditFilter(limit: 500)).map { "\($0)" }
        let logs = CollectingLogHandler.lines.withLockedValue { $0 }
        for text in texts.withLockedValue({ $0 }) + audit + logs {
            #expect(!text.contains("newbie secret phrase") && !text.contains("wrong guess phrase") && !text.contains("$2b$"))
        }
    }
}
