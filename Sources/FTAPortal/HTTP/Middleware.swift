import FTACore
import FTAStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Turns every error into the uniform JSON error shape and puts the security headers on every
/// response, so they hold even when nginx is bypassed (security review: CORS, headers).
struct ResponseHardeningMiddleware: RouterMiddleware {
    typealias Context = PortalContext
    let notFoundPage: String?

    /// The portal's pages load scripts and styles from itself only; no inline code, no frames.
    static let contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = try errorResponse(for: error, request: request, context: context)
        }
        if let location = response.headers[.location] {
            response.headers[.location] = SameOriginRedirect.path(location)
        }
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.crossOriginOpenerPolicy] = "same-origin"
        response.headers[.crossOriginResourcePolicy] = "same-origin"
        response.headers[.permissionsPolicy] = "camera=(), microphone=(), geolocation=(), payment=()"
        if request.uri.path.hasPrefix("/api/") {
            response.headers[.cacheControl] = "no-store"
        }
        // No CORS: the portal answers its own origin only, so no Access-Control-* header is ever sent.
        response.headers[values: .accessControlAllowOrigin] = []
        return response
    }

    private func errorResponse(for error: any Error, request: Request, context: Context) throws -> Response {
        let apiError: APIError
        switch error {
        case let error as APIError:
            apiError = error
        case let error as DomainError:
            apiError = APIError(error)
        case let error as HTTPError:
            switch error.status {
            case .notFound:
                if !request.uri.path.hasPrefix("/api/"), let notFoundPage, let page = try? Data(contentsOf: URL(fileURLWithPath: notFoundPage)) {
                    return Response(status: .notFound, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: page)))
                }
                apiError = .notFound("No such page or endpoint.")
            case .contentTooLarge: apiError = .payloadTooLarge
            case .methodNotAllowed: apiError = APIError(.methodNotAllowed, "method_not_allowed", "This method is not allowed here.")
            case .badRequest: apiError = .badRequest("The request is malformed.")
            case .unauthorized: apiError = .unauthenticated
            case .forbidden: apiError = .forbidden
            default:
                context.logger.error("unexpected HTTP error", metadata: ["status": "\(error.status.code)"])
                apiError = APIError(error.status, "error", "The request could not be handled.")
            }
        case let errors as FieldErrors:
            apiError = .validation(errors)
        case let error where StoreFailure.isDiskFull(error):
            context.logger.critical("database write refused: disk full", metadata: ["path": "\(request.uri.path)"])
            apiError = .diskFull
        default:
            // Details stay in the server log; the user gets a sentence.
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: type(of: error)))", "path": "\(request.uri.path)"])
            apiError = .internalError
        }
        return try apiError.response(from: request, context: context)
    }
}

/// Every redirect the portal answers goes to a path on its own origin.
///
/// Hummingbird's FileMiddleware redirects a directory to itself plus "/", built from the
/// percent-decoded request path: `GET /%2Fcss` (or `//css`) answered `Location: //css/`, which a
/// browser reads as the host "css". The portal never sends anyone to another site, so a Location
/// is rebuilt from its path segments: empty and "." segments dropped (so it never starts with
/// "//"), each segment percent-encoded again, and a segment with a backslash or a control
/// character (browsers read "/\\host" as "//host" and drop tabs and newlines) sends to "/".
enum SameOriginRedirect {
    static func path(_ location: String) -> String {
        // An absolute URL or a scheme ("https:evil") is never a same-origin path.
        guard location.hasPrefix("/") else { return "/" }
        let pathPart = location.prefix { $0 != "?" && $0 != "#" }
        let decoded = pathPart.removingPercentEncoding ?? String(pathPart)
        var segments: [String] = []
        for segment in decoded.split(separator: "/", omittingEmptySubsequences: true) where segment != "." {
            if segment.contains("\\") || segment == ".." || segment.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                return "/"
            }
            segments.append(segment.addingPercentEncoding(withAllowedCharacters: segmentCharacters) ?? "")
        }
        let trailing = decoded.hasSuffix("/") && !segments.isEmpty ? "/" : ""
        return "/" + segments.joined(separator: "/") + trailing
    }

    /// RFC 3986 pchar without "/" and without ";" or "%" (re-encoded).
    private static let segmentCharacters = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,=:@")
}

/// The static pages of the web root, except under `/api/`. That prefix belongs to the API: a file
/// there (web/api/openapi.json) keeps one address only, the API's own, and no file in web/ can
/// ever answer for an endpoint.
struct StaticFilesMiddleware: RouterMiddleware {
    typealias Context = PortalContext
    let files: FileMiddleware<PortalContext, LocalFileSystem>

    init(webRoot: String, logger: Logger) {
        files = FileMiddleware(webRoot, searchForIndexHtml: true, logger: logger)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.isUnderAPI(request.uri.path) { return try await next(request, context) }
        return try await files.handle(request, context: context, next: next)
    }

    /// Whether the file a path names would be under web/api/. Compared the way the file system
    /// resolves it (FileMiddleware percent-decodes the path and appends it to the root, and the
    /// file system skips empty and "." segments: web//api/x and web/./api/x are web/api/x), and in
    /// any case, for file systems that ignore it.
    static func isUnderAPI(_ path: String) -> Bool {
        let decoded = path.removingPercentEncoding ?? path
        return decoded.split(separator: "/").first { $0 != "." }?.lowercased() == "api"
    }
}

/// Takes the end user's address from `X-Forwarded-For` only when the peer is the local nginx;
/// from anyone else the header is ignored, so it cannot be forged to dodge the login limits.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = PortalContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if context.peerIsLoopback, let forwarded = request.headers[.xForwardedFor] {
            // nginx overwrites the header with its own peer ($remote_addr): take the last hop.
            let last = forwarded.split(separator: ",").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if !last.isEmpty, last.count <= 45, last.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" }) {
                context.sourceIP = last
            }
        }
        return try await next(request, context)
    }
}

/// CSRF defence for a cookie-authenticated JSON API: a state-changing request must say it is
/// JSON (a cross-site form cannot) and must not come from another site (`Origin`,
/// `Sec-Fetch-Site`). With `SameSite=Strict` cookies this is defence in depth.
struct CSRFMiddleware: RouterMiddleware {
    typealias Context = PortalContext
    let allowedOrigins: Set<String>
    let audit: AuditTrail

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard ![.get, .head, .options].contains(request.method) else { return try await next(request, context) }
        if let site = request.headers[.secFetchSite], !["same-origin", "none"].contains(site.lowercased()) {
            try await refuse(request, context, "Sec-Fetch-Site: \(site.prefix(20))")
        }
        if let origin = request.headers[.origin] {
            let host = request.headers[.host] ?? ""
            let sameHost = ["http://\(host)", "https://\(host)"].contains(origin)
            if !(sameHost || allowedOrigins.contains(origin)) {
                try await refuse(request, context, "Origin: \(origin.prefix(80))")
            }
        }
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/json") else {
            throw APIError(.unsupportedMediaType, "unsupported_media_type", "Send this request with Content-Type: application/json.")
        }
        return try await next(request, context)
    }

    private func refuse(_ request: Request, _ context: Context, _ why: String) async throws -> Never {
        await audit.record(context, action: "csrf.refused", target: "\(request.method) \(request.uri.path)", outcome: .denied, detail: why)
        throw APIError(.forbidden, "cross_site", "Requests from other sites are refused.")
    }
}

/// Loads the session named by the cookie, if alive, into the context. It does not refuse
/// anything: each handler says what it needs (`requireUser`, `requireAdmin`).
struct SessionMiddleware: RouterMiddleware {
    typealias Context = PortalContext
    let sessions: SessionManager

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let token = request.cookies[sessions.cookieName]?.value {
            context.principal = try await sessions.principal(forToken: token)
        }
        return try await next(request, context)
    }
}
