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
        if password.utf8.count > maxBytes { return "must be at most \(maxBytes) bytes" }
        if let username, password.lowercased().contains(username.lowercased()) {
            return "must not contain the username"
        }
        if Set(password).count < 4 { return "is too repetitive" }
        return nil
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
