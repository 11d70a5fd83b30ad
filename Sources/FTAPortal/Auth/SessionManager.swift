import Crypto
import FTACore
import FTAStore
import Foundation
import Hummingbird
import NIOConcurrencyHelpers

/// Server-side sessions: a 256-bit random token in an `HttpOnly`, `SameSite=Strict` cookie,
/// stored in SQLite only as its SHA-256, with an idle timeout and an absolute lifetime.
public struct SessionManager: Sendable {
    let database: AppDatabase
    public let cookieName: String
    let secure: Bool
    let idleTimeout: TimeInterval
    let lifetime: TimeInterval
    /// Session time: real elapsed time, whatever the wall clock does (PortalClock).
    public let clock: PortalClock
    /// Sessions checked since the last commit to the database (`ChangeWatch`): every request
    /// carries its session, and reading it and its user each time cost more than the rest of a
    /// `GET /bots` (docs/desk-performance.md). Any commit, by this process or a CLI command (a
    /// sign-out, a password change, `fta lockdown`), moves the stamp and empties the cache.
    let checked: NIOLockedValueBox<CheckedSessions>

    public init(database: AppDatabase, configuration: PortalConfiguration, clock: PortalClock = PortalClock()) {
        self.database = database
        self.clock = clock
        cookieName = configuration.sessionCookieName
        secure = configuration.servesTLS
        idleTimeout = configuration.sessionIdleTimeout
        lifetime = configuration.sessionLifetime
        checked = NIOLockedValueBox(CheckedSessions())
    }

    /// Starts a new session (always a new token: no fixation) and returns its token.
    public func start(for user: UserRecord, sourceIP: String, now: Date? = nil) async throws -> String {
        let now = now ?? clock.now()
        let token = RandomBytes.base64URL(32)
        try await database.createSession(SessionRecord(
            tokenHash: Self.hash(token), userId: user.id!, createdAt: now, lastSeenAt: now,
            expiresAt: now.addingTimeInterval(lifetime), sourceIp: sourceIP
        ))
        return token
    }

    public func principal(forToken token: String, now: Date? = nil) async throws -> Principal? {
        let now = now ?? clock.now()
        // A token is 43 base64url characters; anything else cannot be one of ours.
        guard token.count == 43 else { return nil }
        let hash = Self.hash(token)
        let stamp = database.changes.stamp()
        // Served from the cache only while nothing was committed, the session is within its
        // lifetime, and its activity needs no touch yet (which is a write, made by liveSession).
        if let (session, user) = checked.withLockedValue({ $0.entry(hash, stamp: stamp) }), session.expiresAt > now,
           now.timeIntervalSince(session.lastSeenAt) <= min(60, idleTimeout / 10) {
            return Principal(user: user, sessionTokenHash: hash)
        }
        guard let (session, user) = try await database.liveSession(tokenHash: hash, now: now, idleTimeout: idleTimeout) else { return nil }
        checked.withLockedValue { $0.store(hash, session, user, stamp: stamp) }
        return Principal(user: user, sessionTokenHash: hash)
    }

    public func end(tokenHash: String) async throws {
        try await database.deleteSession(tokenHash: tokenHash)
    }

    public func cookie(for token: String) -> Cookie {
        Cookie(name: cookieName, value: token, maxAge: Int(lifetime), path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }

    /// A cookie that makes the browser forget the session.
    public var clearingCookie: Cookie {
        Cookie(name: cookieName, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }

    static func hash(_ token: String) -> String {
        Data(token.utf8).sha256Hex
    }
}

/// The sessions found alive at one `ChangeStamp`; all dropped when the stamp moves.
struct CheckedSessions: Sendable {
    private var stamp: ChangeStamp?
    private var entries: [String: (SessionRecord, UserRecord)] = [:]
    /// A bound, whatever the number of open sessions: beyond it the cache starts over.
    static let maxEntries = 10_000

    func entry(_ hash: String, stamp: ChangeStamp) -> (SessionRecord, UserRecord)? {
        guard stamp == self.stamp else { return nil }
        return entries[hash]
    }

    /// Keeps what was read at `stamp` (taken before the read: a commit in between moved it).
    mutating func store(_ hash: String, _ session: SessionRecord, _ user: UserRecord, stamp: ChangeStamp) {
        if stamp != self.stamp || entries.count >= Self.maxEntries {
            entries.removeAll(keepingCapacity: true)
            self.stamp = stamp
        }
        entries[hash] = (session, user)
    }
}

extension Data {
    /// The SHA-256 of these bytes in lowercase hex: session token hashes, archive checksums.
    var sha256Hex: String { SHA256.hash(data: self).map { String(format: "%02x", $0) }.joined() }
}
