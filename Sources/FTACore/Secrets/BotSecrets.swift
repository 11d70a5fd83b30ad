import Crypto
import Foundation

/// A bot's own credentials for its Freqtrade REST API. Random per bot (security review items 1
/// and 5: no hardcoded JWT secret, ws token or default password), stored only sealed, handed to
/// the container through its environment, and never returned by the API or logged.
public struct BotSecrets: Codable, Sendable, Equatable {
    public var apiUsername: String
    public var apiPassword: String
    /// Signs the bot API's JWTs: 32 random bytes, hex.
    public var jwtSecretKey: String
    public var wsToken: String

    public init(apiUsername: String, apiPassword: String, jwtSecretKey: String, wsToken: String) {
        self.apiUsername = apiUsername
        self.apiPassword = apiPassword
        self.jwtSecretKey = jwtSecretKey
        self.wsToken = wsToken
    }

    /// Fresh random credentials from the system's CSPRNG.
    public static func generate() -> BotSecrets {
        BotSecrets(
            apiUsername: "fta-" + RandomBytes.hex(8),
            apiPassword: RandomBytes.base64URL(32),
            jwtSecretKey: RandomBytes.hex(32),
            wsToken: RandomBytes.base64URL(32)
        )
    }
}

/// Random bytes in the encodings fta needs.
public enum RandomBytes {
    public static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    public static func hex(_ count: Int) -> String {
        bytes(count).map { String(format: "%02x", $0) }.joined()
    }

    public static func base64URL(_ count: Int) -> String {
        Data(bytes(count)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// Seals secrets at rest with AES-256-GCM under the key from `FTA_SECRET_KEY`.
///
/// The owner's id is bound in as authenticated data, so a sealed blob copied onto another
/// bot's row fails to open instead of handing that bot someone else's credentials.
public struct SecretBox: Sendable {
    private let keyBytes: [UInt8]
    /// During a key rotation (`fta rotate-key`): the key being replaced, which still opens what
    /// was sealed before; sealing always uses the current key.
    private let previousKeyBytes: [UInt8]?
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// - Parameters:
    ///   - hexKey: 64 hex characters (32 bytes).
    ///   - previousHexKey: the same, for the key a rotation replaces.
    public init?(hexKey: String, previousHexKey: String? = nil) {
        guard let bytes = Self.decodeHex(hexKey), bytes.count == 32 else { return nil }
        keyBytes = bytes
        if let previousHexKey {
            guard let previous = Self.decodeHex(previousHexKey), previous.count == 32 else { return nil }
            previousKeyBytes = previous
        } else {
            previousKeyBytes = nil
        }
    }

    /// Which key opens a sealed value: the current one, the previous one, or neither.
    public enum Opener: Sendable, Equatable { case current, previous, neither }

    public func opener(of sealed: Data, boundTo owner: String) -> Opener {
        guard let box = try? AES.GCM.SealedBox(combined: sealed) else { return .neither }
        if (try? AES.GCM.open(box, using: key, authenticating: Data(owner.utf8))) != nil { return .current }
        if let previousKeyBytes, (try? AES.GCM.open(box, using: SymmetricKey(data: previousKeyBytes), authenticating: Data(owner.utf8))) != nil {
            return .previous
        }
        return .neither
    }

    /// Opens with whichever key sealed it and seals again with the current key.
    public func reseal(_ sealed: Data, boundTo owner: String) throws -> Data {
        try seal(open(sealed, boundTo: owner), boundTo: owner)
    }

    /// The owner a bot's secrets are bound to.
    public static func owner(of bot: BotID) -> String { "bot:\(bot.rawValue)" }

    public func seal(_ plaintext: Data, boundTo owner: String) throws -> Data {
        let box = try AES.GCM.seal(plaintext, using: key, authenticating: Data(owner.utf8))
        // `combined` is nonce + ciphertext + tag; always present for the default 12-byte nonce.
        return box.combined!
    }

    public func open(_ sealed: Data, boundTo owner: String) throws -> Data {
        let box = try AES.GCM.SealedBox(combined: sealed)
        do {
            return try AES.GCM.open(box, using: key, authenticating: Data(owner.utf8))
        } catch {
            guard let previousKeyBytes else { throw error }
            return try AES.GCM.open(box, using: SymmetricKey(data: previousKeyBytes), authenticating: Data(owner.utf8))
        }
    }

    public func seal(_ secrets: BotSecrets, for bot: BotID) throws -> Data {
        try seal(JSONEncoder().encode(secrets), boundTo: "bot:\(bot.rawValue)")
    }

    public func openSecrets(_ sealed: Data, for bot: BotID) throws -> BotSecrets {
        try JSONDecoder().decode(BotSecrets.self, from: open(sealed, boundTo: "bot:\(bot.rawValue)"))
    }

    /// Bytes from hex text (either case), or nil when it is not hex of whole bytes.
    public static func decodeHex(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = hexValue(chars[i]), let lo = hexValue(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

// A key must never reach a log line or an error message, however the box is printed: as a
// value, in a debugger, or inside a struct that holds it (ServiceLifecycle prints services whole).
extension SecretBox: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "SecretBox(keys redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

