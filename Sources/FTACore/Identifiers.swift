/// The one rule for every fta identifier (clients, bots): lowercase `[a-z0-9][a-z0-9-]{0,30}`.
///
/// Ids end up in Docker object names (`fta-client-<id>`, `fta-bot-<id>`), in labels and in the
/// socket proxy's name rules, so they are validated once, here, and carried as typed values.
public enum Identifier {
    public static let maxLength = 31

    /// Whether `raw` is a valid fta id.
    public static func isValid(_ raw: String) -> Bool {
        let scalars = Array(raw.unicodeScalars)
        guard let first = scalars.first, scalars.count <= maxLength else { return false }
        func isAlnum(_ s: Unicode.Scalar) -> Bool { ("a"..."z").contains(s) || ("0"..."9").contains(s) }
        return isAlnum(first) && scalars.dropFirst().allSatisfy { isAlnum($0) || $0 == "-" }
    }

    /// The message shown for an invalid id, the same everywhere.
    public static let rule = "must be 1 to 31 characters of lowercase letters, digits and '-', starting with a letter or digit"
}

/// An id that follows `Identifier`'s rule: validated at construction, compared, printed and
/// coded as its raw string.
public protocol ValidatedIdentifier: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    var rawValue: String { get }
    init(validated raw: String)
}

extension ValidatedIdentifier {
    public init?(_ raw: String) {
        guard Identifier.isValid(raw) else { return nil }
        self.init(validated: raw)
    }

    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let id = Self(raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: Identifier.rule))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// A validated client id.
public struct ClientID: ValidatedIdentifier {
    public let rawValue: String
    public init(validated raw: String) { rawValue = raw }
    /// The client's Docker network: `fta-client-<clientId>`.
    public var networkName: String { "fta-client-\(rawValue)" }
}

/// A validated bot id.
public struct BotID: ValidatedIdentifier {
    public let rawValue: String
    public init(validated raw: String) { rawValue = raw }
    /// The bot's container and volume share this name: `fta-bot-<botId>`.
    public var containerName: String { "fta-bot-\(rawValue)" }
    public var volumeName: String { "fta-bot-\(rawValue)" }
}

/// Docker labels fta puts on every object it creates, and reads back.
public enum FTALabel {
    public static let managed = "fta.managed"
    public static let client = "fta.client"
    public static let bot = "fta.bot"
}
