import FTACore
import Foundation
import Hummingbird

/// A request body the API accepts: its fields are known, so anything else is refused.
protocol StrictInput: Decodable, Sendable {
    static var fields: Set<String> { get }
}

extension Request {
    /// Decodes a JSON object strictly: the body must fit the upload limit, be a JSON object,
    /// name only known fields, and have the right types. Failures are field-level 400s.
    func decodeStrict<T: StrictInput>(_ type: T.Type, context: PortalContext) async throws -> T {
        guard let (data, object) = try await jsonObjectBody(context: context) else {
            throw APIError.badRequest("The request body must be a JSON object.")
        }
        var errors = FieldErrors()
        for key in object.keys.sorted() where !T.fields.contains(key) {
            errors.add(String(key.prefix(64)), StrictJSON.messageForUnknownField(key))
        }
        try errors.throwIfAny()
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw APIError.validation(StrictJSON.fieldErrors(from: error))
        }
    }

    /// For actions that take no input (start, stop, logout, ...): the body must be empty or `{}`,
    /// so that a client believing it passed options learns it did not.
    func requireNoInput(context: PortalContext) async throws {
        guard let (_, object) = try await jsonObjectBody(context: context) else { return }
        var errors = FieldErrors()
        for key in object.keys.sorted() { errors.add(String(key.prefix(64)), "is not accepted: this action takes no input") }
        try errors.throwIfAny()
    }

    /// The body within the upload limit and its top-level JSON object; nil for an empty body.
    /// A body that is not a JSON object is a 400.
    private func jsonObjectBody(context: PortalContext) async throws -> (Data, [String: Any])? {
        let buffer: ByteBuffer
        do { buffer = try await body.collect(upTo: context.maxUploadSize) } catch { throw APIError.payloadTooLarge }
        guard buffer.readableBytes > 0 else { return nil }
        let data = Data(buffer.readableBytesView)
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw APIError.badRequest("The request body must be a JSON object.")
        }
        return (data, object)
    }
}

enum StrictJSON {
    /// Fields that would change what a bot may do are refused with the reason, not just as unknown.
    static func messageForUnknownField(_ key: String) -> String {
        let normalized = key.lowercased().filter { $0.isLetter }
        let guarded = ["dryrun", "apiserver", "key", "secret", "password", "token", "ccxt", "config", "jwt", "listen", "cors", "exchangeurl", "urls"]
        if guarded.contains(where: normalized.contains) {
            return "is not accepted: bots always trade in dry-run, never hold exchange keys, and fta alone configures their API"
        }
        return "is not a known field"
    }

    static func fieldErrors(from error: DecodingError) -> FieldErrors {
        func field(_ path: [any CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .typeMismatch(let type, let context):
            return FieldErrors(field(context.codingPath), "must be \(describe(type))")
        case .valueNotFound(let type, let context):
            return FieldErrors(field(context.codingPath), "must be \(describe(type)), not null")
        case .keyNotFound(let key, let context):
            return FieldErrors(field(context.codingPath + [key]), "is required")
        case .dataCorrupted(let context):
            return FieldErrors(context.codingPath.isEmpty ? "body" : field(context.codingPath), context.debugDescription)
        @unknown default:
            return FieldErrors("body", "is not valid")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type: "a whole number"
        case is Double.Type: "a number"
        case is [String].Type: "a list of strings"
        default: "of another type"
        }
    }
}
