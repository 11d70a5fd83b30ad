import FTACore
import FTAPortal
import FTARuntime
import FTARuntimeTesting
import FTAStore
import FTATestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// The repository's web/ folder, found from this file's path.
let webRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("web").path

/// A test configuration: random secret key, given overrides.
func testConfiguration(_ overrides: [String: String] = [:]) throws(ConfigurationError) -> PortalConfiguration {
    var environment = [
        "FTA_SECRET_KEY": RandomBytes.hex(32),
        "FTA_DOCKER_URL": TestEnvironment.dockerURL ?? "http://127.0.0.1:9",
        "FTA_WEB_ROOT": webRoot,
        "FTA_DATABASE": "/nonexistent/unused.sqlite",
        "FTA_PUBLIC_URL": "http://127.0.0.1:8081",
        "FTA_MEMORY_BUDGET_MB": "4096",
        // Whatever swap the test host has: bots' limits and reservations are the same everywhere.
        "FTA_BOT_SWAP": "off",
        "FTA_BOT_IMAGE": TestEnvironment.testImage,
    ]
    environment.merge(overrides) { $1 }
    return try PortalConfiguration.load(environment: environment)
}

let testPassword = "correct horse battery staple"

/// One portal with a seeded database: an admin, clients acme and globex, an owner and a viewer of
/// acme, an owner of globex, and a bot `acme-bot` of acme.
struct Harness {
    let services: PortalServices
    /// The API tests need bots, not Docker: the Docker-backed suites use `DockerBotRuntime`.
    let runtime: InMemoryBotRuntime
    var database: AppDatabase { services.database }
    var userIDs: [String: Int64] = [:]

    static let users: [(name: String, role: Role, client: String?)] = [
        ("root", .admin, nil), ("alice", .owner, "acme"), ("victor", .viewer, "acme"), ("gina", .owner, "globex"),
    ]

    init(_ overrides: [String: String] = [:], runtime: (any BotRuntime)? = nil, labRuntime: (any LabJobRuntime)? = nil,
         logger: Logger = Logger(label: "test")) async throws {
        let fake = InMemoryBotRuntime()
        self.runtime = fake
        let database = try AppDatabase.inMemory()
        services = try PortalServices(configuration: try testConfiguration(overrides), database: database, runtime: runtime ?? fake,
                                      logger: logger, labRuntime: labRuntime)
        #expect(try await database.createClient(ClientRecord(id: ClientID("acme")!, name: "Acme Ltd")) == .created)
        #expect(try await database.createClient(ClientRecord(id: ClientID("globex")!, name: "Globex Corp")) == .created)
        // One bcrypt hash for every seeded user: hashing is slow by design.
        let hash = try await services.hasher.hash(testPassword)
        for user in Self.users {
            let record = try #require(try await database.createUser(UserRecord(username: user.name, passwordHash: hash, role: user.role, clientId: user.client.flatMap(ClientID.init))).user)
            userIDs[user.name] = record.id
        }
        _ = try await services.lifecycle.create(id: BotID("acme-bot")!, client: try await database.client(ClientID("acme")!)!,
                                                settings: try validSettings(), start: false)
    }

    /// Runs `test` against the router (no sockets).
    func test(_ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(router: buildRouter(services))
        try await app.test(.router) { client in try await test(client) }
    }
}

func validSettings(strategy: String = "FtaEmaCross", size: String = "small") throws -> BotSettings {
    try BotDraft(name: "Test bot", exchange: "binance", pairs: ["BTC/USDT", "ETH/USDT"], stakeCurrency: "USDT", stakeAmount: "100",
                 dryRunWallet: 1000, maxOpenTrades: 3, timeframe: "5m", strategy: strategy, size: size).validated(allowTestStrategies: true)
}

/// The JSON body of a new bot; `extra` adds or replaces fields.
func botBody(_ id: String, _ extra: [String: Any] = [:]) -> [String: Any] {
    var body: [String: Any] = [
        "id": id, "name": "Bot \(id)", "exchange": "binance", "pairs": ["BTC/USDT"], "stakeCurrency": "USDT",
        "stakeAmount": "50", "dryRunWallet": 1000, "maxOpenTrades": 2, "timeframe": "5m", "strategy": "FtaRsi", "size": "small",
    ]
    body.merge(extra) { $1 }
    return body
}

extension TestClientProtocol {
    /// A JSON request, with the headers the portal's own pages send.
    @discardableResult
    func call(_ method: HTTPRequest.Method, _ path: String, cookie: String? = nil, json: Any? = nil, headers extra: HTTPFields = [:]) async throws -> TestResponse {
        var headers = extra
        if let cookie { headers[.cookie] = cookie }
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        } else if ![.get, .head].contains(method) {
            body = ByteBuffer(string: "{}")
        }
        if body != nil && headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await execute(uri: path, method: method, headers: headers, body: body)
    }

    /// Signs in and returns the `Cookie` header value to send.
    func signIn(_ username: String, password: String = testPassword) async throws -> String {
        let response = try await call(.post, "/api/v1/auth/login", json: ["username": username, "password": password])
        try #require(response.status == .ok, "login of \(username) answered \(response.status)")
        return try #require(sessionCookie(response))
    }
}

/// `name=value` of the session cookie a response sets.
func sessionCookie(_ response: TestResponse) -> String? {
    response.headers[values: .setCookie].first { $0.contains("fta_session=") }?.split(separator: ";").first.map(String.init)
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:] }
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
}
