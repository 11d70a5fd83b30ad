import FTACore
import FTAStore
import Foundation
import Hummingbird
import NIOCore

/// The signed-in user of a request and the session it came with.
public struct Principal: Sendable {
    public var user: UserRecord
    public var sessionTokenHash: String

    public var userID: Int64 { user.id! }
    public var role: Role { user.role }
    public var clientID: ClientID? { user.clientId }
    public var isAdmin: Bool { role == .admin }
}

/// The request context: Hummingbird's core storage plus who is calling and from where.
public struct PortalContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer: nginx (127.0.0.1) in production.
    public let peerAddress: String?
    /// Whether the TCP peer is this host (nginx, or a local process such as a scraper).
    public var peerIsLoopback: Bool {
        guard let peerAddress else { return false }
        return ["127.0.0.1", "::1", "::ffff:127.0.0.1"].contains(peerAddress)
    }
    /// The end user's address: the peer, or `X-Forwarded-For` when the peer is local nginx.
    public var sourceIP: String
    public var principal: Principal?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress?.ipAddress
        sourceIP = peerAddress ?? "unknown"
    }

    /// JSON bodies are small: a bot is well under a kilobyte. Anything over 64 KiB is refused.
    public var maxUploadSize: Int { 64 * 1024 }

    /// ISO 8601 dates and sorted keys in every answer.
    public var responseEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    /// The caller, or 401.
    public func requireUser() throws -> Principal {
        guard let principal else { throw APIError.unauthenticated }
        return principal
    }

    /// The caller when an admin, else 403 (admin endpoints are not tenant objects, so a 403
    /// reveals nothing).
    public func requireAdmin() throws -> Principal {
        let principal = try requireUser()
        guard principal.isAdmin else { throw APIError.forbidden }
        return principal
    }
}
