import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The OpenAPI document served at `/api/v1/openapi.json` against the routes the controllers
/// register: every route is documented with its method, nothing undocumented is served, and the
/// document is 3.1.0. (The system test Tests/system/api fuzzes the running portal against it.)
@Suite("OpenAPI document")
struct OpenAPITests {
    /// Every route under /api/v1 the controllers register (`routes.get("bots/:botId", ...)` and so
    /// on), in OpenAPI's path syntax. A new route must be added here and to the document.
    static let routes: [(method: HTTPRequest.Method, path: String)] = [
        // SystemController
        (.get, "/health"), (.get, "/system"), (.get, "/openapi.json"),
        // AuthController
        (.post, "/auth/login"), (.post, "/auth/logout"), (.get, "/me"), (.post, "/me/password"),
        // CatalogController
        (.get, "/catalog"),
        // ClientsController
        (.get, "/clients"), (.post, "/clients"), (.get, "/clients/{clientId}/users"), (.post, "/clients/{clientId}/users"),
        (.patch, "/users/{userId}"), (.post, "/users/{userId}/password"),
        // BotsController
        (.get, "/bots"), (.post, "/bots"), (.get, "/bots/{botId}"), (.delete, "/bots/{botId}"),
        (.post, "/bots/{botId}/start"), (.post, "/bots/{botId}/stop"), (.post, "/bots/{botId}/restart"),
        (.get, "/bots/{botId}/logs"), (.get, "/bots/{botId}/status"), (.get, "/bots/{botId}/profit"), (.get, "/bots/{botId}/trades"),
        (.post, "/bots/{botId}/trading/start"), (.post, "/bots/{botId}/trading/stop"), (.post, "/bots/{botId}/trades/{tradeId}/exit"),
        // AuditController
        (.get, "/audit"),
    ]

    static let httpMethods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// The document as the router serves it.
    func fetchDocument() async throws -> [String: Any] {
        let harness = try await Harness()
        let box = DocumentBox()
        try await harness.test { client in
            let response = try await client.call(.get, "/api/v1/openapi.json")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            await box.set(Data(buffer: response.body))
        }
        let data = try #require(await box.data)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("the document is OpenAPI 3.1.0 with the API's server, cookie session and error schema")
    func header() async throws {
        let document = try await fetchDocument()
        #expect(document["openapi"] as? String == "3.1.0")
        let servers = try #require(document["servers"] as? [[String: Any]])
        #expect(servers.count == 1 && servers.first?["url"] as? String == "/api/v1")
        let components = try #require(document["components"] as? [String: Any])
        let schemes = try #require(components["securitySchemes"] as? [String: [String: Any]])
        let session = try #require(schemes["session"])
        #expect(session["type"] as? String == "apiKey" && session["in"] as? String == "cookie" && session["name"] as? String == "fta_session")
        let schemas = try #require(components["schemas"] as? [String: Any])
        for name in ["Error", "User", "Client", "Bot", "AuditEntry"] {
            #expect(schemas[name] != nil, "components.schemas.\(name) is missing")
        }
    }

    @Test("every route the router serves is documented with its method, and nothing else is")
    func everyRouteIsDocumented() async throws {
        let document = try await fetchDocument()
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        for route in Self.routes {
            let item = paths[route.path]
            #expect(item != nil, "\(route.path) is not in the document's paths")
            #expect(item?[route.method.rawValue.lowercased()] != nil, "\(route.method) \(route.path) is not documented")
        }
        var documented: [String] = []
        for (path, item) in paths {
            for method in item.keys where Self.httpMethods.contains(method) { documented.append("\(method.uppercased()) \(path)") }
        }
        let served = Set(Self.routes.map { "\($0.method.rawValue) \($0.path)" })
        #expect(Set(documented) == served, "documented but not served: \(Set(documented).subtracting(served).sorted())")
        #expect(documented.count == served.count)
    }

    @Test("every operation has an id, a 2xx answer, and its errors use the Error schema")
    func operationsAreComplete() async throws {
        let document = try await fetchDocument()
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

    /// Each listed route really is served: unauthenticated, it is answered by its handler (401,
    /// or the public answer), never by the router's "No such page or endpoint." 404.
    @Test("each listed route is served by the router")
    func listedRoutesAreServed() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            for route in Self.routes {
                let uri = "/api/v1" + route.path
                    .replacingOccurrences(of: "{botId}", with: "acme-bot")
                    .replacingOccurrences(of: "{clientId}", with: "acme")
                    .replacingOccurrences(of: "{userId}", with: "1")
                    .replacingOccurrences(of: "{tradeId}", with: "1")
                let response = try await client.call(route.method, uri)
                #expect(!response.text.contains("No such page or endpoint"), "\(route.method) \(uri) is not routed: \(response.status)")
                #expect(response.status != .notFound && response.status != .methodNotAllowed, "\(route.method) \(uri): \(response.status)")
            }
        }
    }
}

/// Carries the decoded document out of the test client's closure.
actor DocumentBox {
    var data: Data?
    func set(_ data: Data) { self.data = data }
}
