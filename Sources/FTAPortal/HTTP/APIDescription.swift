import Foundation
import Hummingbird

/// The OpenAPI 3.1 description of the API, read once at start-up from `api/openapi.json` in the
/// web root and served as it is at `/api/v1/openapi.json`.
///
/// Why a file in web/: the release ships the binary plus web/, and install.sh copies web/ to
/// FTA_WEB_ROOT, so the description always travels with the build it describes, and the tests,
/// the linter (Tests/system/api) and schemathesis read the very bytes the portal serves. Why
/// under api/: the static pages never answer for `/api/` (`StaticFilesMiddleware`), so the file
/// has one address only, the API's own.
public enum APIDescription: Sendable {
    /// The file's bytes, unchanged.
    case available(ByteBuffer)
    /// Why there is nothing to serve (with the file's path: for the server log and `fta doctor`,
    /// never for an HTTP answer).
    case unavailable(reason: String)

    /// Where the file lives, relative to the web root.
    public static let relativePath = "api/openapi.json"

    public static func path(webRoot: String) -> String {
        URL(fileURLWithPath: webRoot).appendingPathComponent(relativePath).path
    }

    /// Reads and checks the file. A missing or malformed file is not fatal: the portal still
    /// starts and `/api/v1/openapi.json` answers 503 (`APIError.apiDescriptionUnavailable`).
    public static func load(webRoot: String) -> APIDescription {
        let path = path(webRoot: webRoot)
        guard let data = FileManager.default.contents(atPath: path) else {
            return .unavailable(reason: "\(path) is missing or not readable")
        }
        // Valid JSON with an object at the top is all the portal can promise about bytes it
        // serves unparsed; that it is a valid OpenAPI 3.1 document is the linter's job, in CI.
        guard (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
            return .unavailable(reason: "\(path) is not a JSON object")
        }
        return .available(ByteBuffer(bytes: data))
    }
}
