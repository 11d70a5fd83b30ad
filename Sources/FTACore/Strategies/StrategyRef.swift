import Crypto
import Foundation

/// The strategy a bot or a backtest runs: one fta ships, or one of its client's own uploads,
/// pinned to the exact version (the SHA-256 of its source) it was validated as.
///
/// Stored and shown as text: a shipped strategy by its class name (`FtaEmaCross`, as before
/// custom strategies existed, so old rows read unchanged), a custom one as
/// `custom:<ClassName>@<sha256 hex>`. A client may name `custom:<ClassName>` alone; validation
/// pins it to that strategy's latest valid version, so what ran is always recorded exactly.
public enum StrategyRef: Sendable, Hashable, Codable, CustomStringConvertible {
    case shipped(ShippedStrategy)
    case custom(name: String, version: String)

    public static let customPrefix = "custom:"

    /// Parses the stored form; a custom reference must carry its version here.
    public init?(rawValue text: String) {
        if let shipped = ShippedStrategy(rawValue: text) {
            self = .shipped(shipped)
            return
        }
        guard let (name, version) = Self.customParts(text), let version else { return nil }
        self = .custom(name: name, version: version)
    }

    /// `custom:<Name>` or `custom:<Name>@<version>`: the class name and the version when given.
    public static func customParts(_ text: String) -> (name: String, version: String?)? {
        guard text.hasPrefix(customPrefix) else { return nil }
        let rest = text.dropFirst(customPrefix.count)
        let parts = rest.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard CustomStrategyName.isValid(parts[0]) else { return nil }
        if parts.count == 1 { return (parts[0], nil) }
        guard CustomStrategyName.isVersion(parts[1]) else { return nil }
        return (parts[0], parts[1])
    }

    public var rawValue: String {
        switch self {
        case .shipped(let s): s.rawValue
        case .custom(let name, let version): "\(Self.customPrefix)\(name)@\(version)"
        }
    }

    public var description: String { rawValue }

    /// The Python class name, also the strategy file's name.
    public var className: String {
        switch self {
        case .shipped(let s): s.className
        case .custom(let name, _): name
        }
    }

    /// The version that ran: the SHA-256 of the source (shipped ones: of the source this release ships).
    public var version: String {
        switch self {
        case .shipped(let s): CustomStrategyName.version(of: s.pythonSource)
        case .custom(_, let version): version
        }
    }

    /// The name a client chose it by, without the version: what the API shows as `strategy`.
    public var displayRef: String {
        switch self {
        case .shipped(let s): s.rawValue
        case .custom(let name, _): Self.customPrefix + name
        }
    }

    public var isCustom: Bool { if case .custom = self { true } else { false } }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = StrategyRef(rawValue: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "invalid strategy reference"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// What validation may resolve a client's custom strategy references against: the versions of
/// that client's strategies that passed validation. `trusted` accepts any well-formed pinned
/// reference: for rows fta wrote itself after validating them.
public struct CustomStrategyCatalog: Sendable, Equatable {
    /// Class name -> its valid versions, newest first.
    public var valid: [String: [String]]
    public var trusted: Bool

    public init(valid: [String: [String]] = [:], trusted: Bool = false) {
        self.valid = valid
        self.trusted = trusted
    }

    /// Why a reference does not resolve, as a field message.
    public struct Problem: Error, Sendable, Equatable { public var message: String }

    public static let none = CustomStrategyCatalog()
    public static let trustedRows = CustomStrategyCatalog(trusted: true)

    /// The pinned reference for `text` (`custom:Name` or `custom:Name@version`), or why not.
    public func resolve(_ text: String) -> Result<StrategyRef, Problem> {
        guard let (name, version) = StrategyRef.customParts(text) else {
            return .failure(Problem(message: "is not a strategy reference like custom:MyStrategy"))
        }
        if trusted, let version { return .success(.custom(name: name, version: version)) }
        guard let versions = valid[name], let latest = versions.first else {
            return .failure(Problem(message: "custom strategy '\(name)' is not one of your validated strategies"))
        }
        guard let version else { return .success(.custom(name: name, version: latest)) }
        guard versions.contains(version) else { return .failure(Problem(message: "version \(version.prefix(12)) of '\(name)' is not a validated version")) }
        return .success(.custom(name: name, version: version))
    }
}

/// The rules for a custom strategy's name and version.
public enum CustomStrategyName {
    public static let maxLength = 64
    /// A custom strategy's source may be this large, in bytes of UTF-8 (docs/strategy-lab.md).
    public static let maxSourceBytes = 32 * 1024

    /// A Python identifier of ASCII letters, digits and underscores, not starting with a digit.
    public static func isValid(_ name: String) -> Bool {
        guard (1...maxLength).contains(name.count), let first = name.unicodeScalars.first,
              first == "_" || ("A"..."Z").contains(first) || ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }

    /// 64 lowercase hex digits.
    public static func isVersion(_ text: String) -> Bool {
        text.count == 64 && text.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }

    /// The version of a source: its SHA-256, hex.
    public static func version(of source: String) -> String {
        SHA256.hash(data: Data(source.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
