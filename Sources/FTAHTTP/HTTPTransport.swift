import Foundation
import NIOConcurrencyHelpers
import NIOPosix

/// A request for `HTTPTransport`.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: Data?
    /// When set, the TCP connection is replaced by this unix socket (the Docker socket proxy).
    public var unixSocketPath: String?
    public var timeout: Duration
    public var connectTimeout: Duration
    public var maxResponseBytes: Int
    /// Whether the connection may be kept and reused (the bots' APIs). Off, each request gets a
    /// fresh connection, closed after it: the Docker socket proxy's answers must reflect the
    /// engine as it is now, and a connection kept across an engine restart did not (the
    /// engine-restart and alert tests caught it).
    public var keepAlive: Bool

    public init(method: String, url: String, headers: [(String, String)] = [], body: Data? = nil, unixSocketPath: String? = nil,
                timeout: Duration = .seconds(30), connectTimeout: Duration = .seconds(3), maxResponseBytes: Int = 16 << 20,
                keepAlive: Bool = false) {
        self.keepAlive = keepAlive
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.unixSocketPath = unixSocketPath
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.maxResponseBytes = maxResponseBytes
    }
}

/// Status and body of an HTTP answer.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var body: Data
}

/// Why a request got no HTTP answer. The associated text is for logs only; it is never shown
/// to portal users.
public enum TransportError: Error, Sendable, Equatable {
    case unreachable(String)
    case timeout(String)
    case responseTooLarge
    case failed(String)
}

/// Blocking HTTP over libcurl, run on a thread pool of its own, off the event loop.
///
/// The pool is separate from NIO's singleton so that slow Docker calls or a slow bot cannot
/// starve bcrypt hashing or each other: 16 threads cover every bot on a small host at once.
public enum HTTPTransport {
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        return pool
    }()

    /// Easy handles between requests, with their open connections (CurlHandle). As many as
    /// the pool has threads: each request takes one, and gives it back when done.
    nonisolated(unsafe) static let idle = NIOLockedValueBox<[CurlHandle]>([])
    static let maxIdle = 16

    public static func perform(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        let result: Result<HTTPResponse, TransportError>
        do {
            result = try await pool.runIfActive {
                let handle = idle.withLockedValue { $0.popLast() } ?? CurlHandle()
                let result = handle.perform(request)
                idle.withLockedValue { if $0.count < maxIdle { $0.append(handle) } }
                return result
            }
        } catch {
            throw .failed("thread pool is not running")
        }
        return try result.get()
    }
}
