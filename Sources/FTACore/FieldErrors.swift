/// Validation failures keyed by the input field they concern, so the API can answer with
/// field-level messages and the web form can show each one beside its field.
public struct FieldErrors: Error, Sendable, Equatable {
    public private(set) var messages: [String: String] = [:]

    public init() {}
    public init(_ field: String, _ message: String) { messages[field] = message }

    public var isEmpty: Bool { messages.isEmpty }

    public mutating func add(_ field: String, _ message: String) {
        // The first problem found for a field is the one worth fixing first.
        if messages[field] == nil { messages[field] = message }
    }

    /// Throws self when any field failed.
    public func throwIfAny() throws(FieldErrors) {
        if !isEmpty { throw self }
    }

    /// One sentence naming every failing field, for the CLI and the `message` of API errors.
    public var summary: String {
        messages.keys.sorted().map { "\($0): \(messages[$0]!)" }.joined(separator: "; ")
    }
}
