/// What a signed-in user may do. Client users belong to exactly one client.
public enum Role: String, Codable, Sendable, CaseIterable {
    /// The operator: every client, every bot, accounts, audit trail.
    case admin
    /// Manages their client's bots.
    case owner
    /// Reads their client's bots; changes nothing.
    case viewer

    public var canManageBots: Bool { self != .viewer }
}

/// Password rules (security review item 5: strong, unique passwords).
public enum PasswordPolicy {
    public static let minLength = 12
    /// bcrypt reads only the first 72 bytes; a longer password would silently lose its tail.
    public static let maxBytes = 72

    /// Why `password` is not acceptable, or nil when it is.
    public static func problem(with password: String, username: String? = nil) -> String? {
        if password.count < minLength { return "must be at least \(minLength) characters" }
        if let problem = hashingProblem(with: password) { return problem }
        if let username, password.lowercased().contains(username.lowercased()) {
            return "must not contain the username"
        }
        if Set(password).count < 4 { return "is too repetitive" }
        return nil
    }

    /// Why bcrypt would not see exactly the bytes of `password`, or nil when it would.
    ///
    /// bcrypt reads a C string: it stops at the first NUL byte and uses at most 72 bytes, so
    /// "x…x" (72 bytes) + "anything" and "secret\0anything" would each share a hash with a
    /// shorter password. Counted in UTF-8 bytes, which is what the hasher passes on; no
    /// control character at all (NUL, newlines, tabs, escapes), since none can be typed into a
    /// password field on purpose. `PasswordHasher` applies this same check to every password it
    /// hashes or verifies, so what was validated is byte for byte what is hashed.
    public static func hashingProblem(with password: String) -> String? {
        if password.utf8.count > maxBytes { return "must be at most \(maxBytes) bytes" }
        let control = password.unicodeScalars.contains {
            [.control, .lineSeparator, .paragraphSeparator].contains($0.properties.generalCategory)
        }
        return control ? "must not contain control characters" : nil
    }
}

/// Usernames: short, printable, unambiguous in logs and the audit trail.
public enum UsernameRule {
    public static func problem(with username: String) -> String? {
        guard (3...64).contains(username.count) else { return "must be 3 to 64 characters" }
        let ok = username.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._@-".unicodeScalars.contains($0)
        }
        return ok ? nil : "may contain only letters, digits and . _ @ -"
    }
}
