import FTACore
import Foundation
import Hummingbird

/// Every error the API answers with: `{"error":{"code","message","fields"?}}` and its status.
///
/// Messages are written for the user. They never carry stack traces, SQL, file paths, Docker or
/// curl text: those go to the server log only (security review: "don't expose sensitive
/// information in error messages").
public struct APIError: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var fields: [String: String]?
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, fields: [String: String]? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(ErrorBody(error: .init(code: code, message: message, fields: fields)))
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The one place a domain error becomes an HTTP answer: its status, and the domain's own
    /// code, message and fields.
    public init(_ error: DomainError) {
        let status: HTTPResponse.Status = switch error {
        case .notFound: .notFound
        case .invalid: .badRequest
        case .conflict, .quotaExceeded, .memoryBudgetExceeded, .swapExceeded, .quarantined, .botNotRunning: .conflict
        case .botUnreachable, .botRefused: .badGateway
        case .botTimeout: .gatewayTimeout
        case .runtimeUnavailable, .imageMissing: .serviceUnavailable
        case .runtimeRefused, .runtimeFailed, .internal: .internalServerError
        }
        self.init(status, error.code, error.message, fields: error.fields)
    }

    // The errors the API uses, by name.
    public static let unauthenticated = APIError(.unauthorized, "unauthenticated", "Please sign in.")
    public static let forbidden = APIError(.forbidden, "forbidden", "You are not allowed to do this.")
    public static func notFound(_ what: String = "Not found.") -> APIError { APIError(DomainError.notFound(what)) }
    public static let invalidCredentials = APIError(.unauthorized, "invalid_credentials", "Wrong username or password.")
    public static let lockedDown = APIError(.forbidden, "lockdown", Lockdown.signInRefusal)
    public static func validation(_ errors: FieldErrors) -> APIError { APIError(DomainError.invalid(errors)) }
    public static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }
    public static func conflict(_ message: String) -> APIError { APIError(DomainError.conflict(message)) }
    public static let payloadTooLarge = APIError(.contentTooLarge, "payload_too_large", "The request body is too large (64 KiB at most).")
    public static let internalError = APIError(DomainError.internal)
    /// SQLite could not write for want of space: nothing of the request was saved (the
    /// transaction rolled back), and the disk alarm and its alert are on.
    public static let diskFull = APIError(.serviceUnavailable, "disk_full",
                                          "The server's disk is full, so nothing was saved. Try again later; the operator is alerted.")
    public static let apiDescriptionUnavailable = APIError(.serviceUnavailable, "api_description_unavailable",
                                                           "The API description is not installed on this server. The operator can run fta doctor to see why.")
}

/// The wire shape of an error.
struct ErrorBody: Codable {
    struct Inner: Codable {
        var code: String
        var message: String
        var fields: [String: String]?
    }
    var error: Inner
}
