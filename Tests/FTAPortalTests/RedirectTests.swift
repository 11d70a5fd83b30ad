import FTAPortal
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite("redirects stay on the portal's origin")
struct RedirectTests {
    @Test("a directory redirect is a single-slash path, whatever the request path looks like", arguments: [
        ("/css", "/css/"), ("//css", "/css/"), ("///css", "/css/"), ("/%2Fcss", "/css/"), ("/.//css", "/css/"),
        ("//./js//pages", "/js/pages/"), ("/%2F%2Fjs", "/js/"),
    ])
    func directoryRedirect(path: String, expected: String) async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let response = try await client.call(.get, path)
            #expect((300..<400).contains(response.status.code), "\(path): \(response.status)")
            #expect(response.headers[.location] == expected, "\(path) -> \(response.headers[.location] ?? "none")")
        }
    }

    @Test("backslashes and control characters never reach a Location", arguments: ["/%5Ccss", "/%5C/css", "/%09/css", "/%0d%0a/css", "/%5C%5Cjs"])
    func hostilePaths(path: String) async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let response = try await client.call(.get, path)
            if let location = response.headers[.location] {
                #expect(location.hasPrefix("/") && !location.hasPrefix("//") && !location.contains("\\"), "\(path) -> \(location)")
                #expect(!location.unicodeScalars.contains { $0.properties.generalCategory == .control })
            }
        }
    }
}
