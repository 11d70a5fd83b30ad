import FTARuntimeTesting
import FTAStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

// @testable for one thing only: the doctor's check, which `fta doctor` runs among host checks.
@testable import FTAPortal

/// The API description file, web/api/openapi.json, against the router that serves the API: each
/// route the controllers register is described with its method and each described operation is
/// routed, both read from the sources themselves (the router's own route list, the file). The file
/// is served byte for byte, and only at /api/v1/openapi.json. (Tests/system/api lints the file as
/// OpenAPI 3.1 and fuzzes the running portal against it.)
@Suite("OpenAPI description")
struct OpenAPITests {
    /// The repository's file: the harness's web root is the repository's web/.
    static let file = URL(fileURLWithPath: webRoot).appendingPathComponent(APIDescription.relativePath)
    static let httpMethods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
    static let apiPrefix = "/api/v1"

    static func document() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
    }

    /// "METHOD /path" of every operation the file describes, in OpenAPI's path syntax.
    static func describedOperations() throws -> Set<String> {
        let paths = try #require(try document()["paths"] as? [String: [String: Any]])
        return Set(paths.flatMap { path, item in
            item.keys.filter(httpMethods.contains).map { "\($0.uppercased()) \(path)" }
        })
    }

    /// The routes of the router `fta serve` runs, as Hummingbird lists them: `RouterPath` prints a
    /// parameter as `{botId}`, OpenAPI's own syntax, so no route list is kept by hand.
    static func routerRoutes() throws -> [(method: String, path: String)] {
        let services = try PortalServices(configuration: try testConfiguration(), database: try AppDatabase.inMemory(),
                                          runtime: InMemoryBotRuntime(), logger: Logger(label: "test"))
        return buildRouter(services).routes.map { ($0.method.rawValue, $0.path.description) }
    }

    @Test("every route under /api/v1 is described with its method, every described operation is routed, and nothing is routed elsewhere")
    func routerAndDescriptionAgree() throws {
        let routes = try Self.routerRoutes()
        // Prometheus' conventional address, for a scraper on the host only (a request that came
        // through nginx is a 404): not part of the API the browser and clients use. Nor is the
        // distribution's Chart.js, a static script the pages load (VendorController).
        let outside = routes.filter { !$0.path.hasPrefix(Self.apiPrefix + "/") }.map { "\($0.method) \($0.path)" }
            .filter { !["GET /metrics", "GET /vendor/chart.js/chart.min.js"].contains($0) }
        #expect(outside.isEmpty, "routes outside \(Self.apiPrefix), which the description cannot cover: \(outside.sorted())")
        let routed = Set(routes.filter { $0.path.hasPrefix(Self.apiPrefix + "/") }.map { "\($0.method) \($0.path.dropFirst(Self.apiPrefix.count))" })
        let described = try Self.describedOperations()
        #expect(!routed.isEmpty, "the router listed no route")
        #expect(routed.subtracting(described).isEmpty, "routed but not described in \(APIDescription.relativePath): \(routed.subtracting(described).sorted())")
        #expect(described.subtracting(routed).isEmpty, "described in \(APIDescription.relativePath) but not routed: \(described.subtracting(routed).sorted())")
    }

    @Test("GET /api/v1/openapi.json answers the file byte for byte, as application/json")
    func servedAsTheFile() async throws {
        let expected = try Data(contentsOf: Self.file)
        try await Harness().test { client in
            let response = try await client.call(.get, "/api/v1/openapi.json")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            #expect(Data(buffer: response.body) == expected)
        }
    }

    @Test("the description is OpenAPI 3.1.0 with the API's server, cookie session and error schema")
    func header() throws {
        let document = try Self.document()
        #expect(document["openapi"] as? String == "3.1.0")
        let servers = try #require(document["servers"] as? [[String: Any]])
        #expect(servers.count == 1 && servers.first?["url"] as? String == Self.apiPrefix)
        let components = try #require(document["components"] as? [String: Any])
        let schemes = try #require(components["securitySchemes"] as? [String: [String: Any]])
        let session = try #require(schemes["session"])
        #expect(session["type"] as? String == "apiKey" && session["in"] as? String == "cookie" && session["name"] as? String == "fta_session")
        let schemas = try #require(components["schemas"] as? [String: Any])
        for name in ["Error", "User", "Client", "Bot", "AuditEntry"] {
            #expect(schemas[name] != nil, "components.schemas.\(name) is missing")
        }
    }

    @Test("every operation has an id, a 2xx answer, and its errors use the Error schema")
    func operationsAreComplete() throws {
        let document = try Self.document()
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let components = try #require(document["components"] as? [String: Any])
        let shared = try #require(components["responses"] as? [String: [String: Any]])
        /// The schema `$ref` of an answer's JSON body, following a `#/components/responses/` reference.
        func bodySchema(_ answer: Any) -> String? {
            var answer = answer as? [String: Any]
            if let ref = answer?["$ref"] as? String, ref.hasPrefix("#/components/responses/") {
                answer = shared[String(ref.dropFirst("#/components/responses/".count))]
            }
            let content = answer?["content"] as? [String: Any]
            let json = content?["application/json"] as? [String: Any]
            return (json?["schema"] as? [String: Any])?["$ref"] as? String
        }
        var ids: Set<String> = []
        for (path, item) in paths {
            for (method, value) in item where Self.httpMethods.contains(method) {
                let operation = try #require(value as? [String: Any])
                let id = try #require(operation["operationId"] as? String, "\(method) \(path) has no operationId")
                #expect(ids.insert(id).inserted, "operationId \(id) is used twice")
                let responses = try #require(operation["responses"] as? [String: Any])
                #expect(responses.keys.contains { $0.hasPrefix("2") }, "\(method) \(path) documents no success")
                for (status, answer) in responses where !status.hasPrefix("2") {
                    #expect(bodySchema(answer) == "#/components/schemas/Error", "\(method) \(path) \(status) is not an Error")
                }
                if method != "get" {
                    // The CSRF rule answers 415 to any state-changing request without the JSON content type.
                    #expect(responses["415"] != nil, "\(method) \(path) does not document 415")
                }
                let isPublic = (operation["security"] as? [Any])?.isEmpty == true
                if !isPublic { #expect(responses["401"] != nil, "\(method) \(path) does not document 401") }
            }
        }
    }

    /// Each described operation reaches its handler: unauthenticated, it is answered 401 or with
    /// the public answer, never with the router's "No such page or endpoint." 404 or a 405.
    @Test("each described operation is dispatched by the router to a handler")
    func describedOperationsAreDispatched() async throws {
        let samples = ["botId": "acme-bot", "clientId": "acme", "userId": "1", "tradeId": "1", "lockId": "1",
                       "name": "FtaEmaCross", "backtestId": "bt3f9a0c1d2e", "key": "binance-5m"]
        let operations = try Self.describedOperations()
        try await Harness().test { client in
            for operation in operations.sorted() {
                let (method, path) = (String(operation.prefix { $0 != " " }), String(operation.drop { $0 != " " }.dropFirst()))
                var uri = Self.apiPrefix + path
                for match in path.matches(of: /\{([A-Za-z]+)\}/) {
                    let value = try #require(samples[String(match.output.1)], "no sample value for \(match.output.0) in \(operation)")
                    uri = uri.replacingOccurrences(of: String(match.output.0), with: value)
                }
                let response = try await client.call(HTTPRequest.Method(method)!, uri)
                #expect(!response.text.contains("No such page or endpoint"), "\(operation) is not routed: \(response.status)")
                #expect(response.status != .notFound && response.status != .methodNotAllowed, "\(method) \(uri): \(response.status)")
            }
        }
    }

    /// Reasons the file cannot be served: it is missing, it is not JSON, it is JSON but no object.
    static let brokenFiles: [String?] = [nil, "{\"openapi\": \"3.1.0\",", "[]"]

    @Test("without a usable file the portal still starts, and the description answers 503 in the error shape", arguments: brokenFiles)
    func brokenFileAnswers503(content: String?) async throws {
        let root = try temporaryWebRoot(apiDescription: content)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try await Harness(["FTA_WEB_ROOT": root]).test { client in
            let response = try await client.call(.get, "/api/v1/openapi.json")
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            #expect(response.errorCode == "api_description_unavailable")
            // Nothing about the server's files in the answer: the path is for the log and doctor.
            #expect(!response.text.contains(root) && !response.text.contains("openapi.json"))
            #expect(try await client.call(.get, "/api/v1/health").status == .ok)
        }
    }

    @Test("fta doctor fails api.description when the file is missing or broken, and passes with the repository's file", arguments: brokenFiles)
    func doctorNamesTheFile(content: String?) async throws {
        let root = try temporaryWebRoot(apiDescription: content)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let broken = try await Harness(["FTA_WEB_ROOT": root]).services.doctor.apiDescriptionIsInstalled()
        #expect(broken.name == "api.description" && broken.status == .fail)
        #expect(broken.detail.contains(APIDescription.path(webRoot: root)) && !broken.fix.isEmpty)
        let installed = try await Harness().services.doctor.apiDescriptionIsInstalled()
        #expect(installed.name == "api.description" && installed.status == .pass, "\(installed.detail)")
    }

    /// The file sits in the web root, whose files the portal serves to anyone; under /api/ the
    /// static pages never answer, so no spelling of its path serves it a second time.
    @Test("the file is not served as a static page, however its path is spelled")
    func notServedAsStaticFile() async throws {
        let attempts = ["/api/openapi.json", "//api/openapi.json", "/./api/openapi.json", "/%61pi/openapi.json", "/API/openapi.json",
                        "/api/%6Fpenapi.json", "/api/", "/api", "/api//openapi.json"]
        try await Harness().test { client in
            for path in attempts {
                let response = try await client.call(.get, path)
                #expect(response.status == .notFound || response.status == .badRequest, "GET \(path): \(response.status)")
                #expect(!response.text.contains("\"openapi\""), "GET \(path) served the description")
            }
            // The pages themselves are still served.
            #expect(try await client.call(.get, "/").status == .ok)
            #expect(try await client.call(.get, "/css/app.css").status == .ok)
        }
    }

    /// A web root with a 404 page and, when `apiDescription` is given, that text as the file.
    func temporaryWebRoot(apiDescription: String?) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fta-web-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("api"), withIntermediateDirectories: true)
        try Data(contentsOf: URL(fileURLWithPath: webRoot).appendingPathComponent("404.html")).write(to: root.appendingPathComponent("404.html"))
        if let apiDescription {
            try Data(apiDescription.utf8).write(to: root.appendingPathComponent(APIDescription.relativePath))
        }
        return root.path
    }
}
