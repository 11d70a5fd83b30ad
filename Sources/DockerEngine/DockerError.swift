/// How a Docker call failed, in terms the portal can act on. The associated texts come from
/// Docker or libcurl and are for logs only: the portal maps these to its own messages.
public enum DockerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 404: no such container, network, volume or image.
    case notFound(String)
    /// 409: name already in use, or an object still in use.
    case conflict(String)
    /// 403 from the socket proxy: the call is not on its allow-list.
    case deniedByProxy(String)
    /// 400: Docker refused the request as invalid.
    case badRequest(String)
    /// No connection to the proxy or engine.
    case unreachable(String)
    /// The call did not finish within its timeout.
    case timeout(String)
    /// Any other status from the engine.
    case server(status: Int, message: String)
    /// The engine answered something fta could not decode.
    case decoding(String)

    public var description: String {
        switch self {
        case .notFound(let m): "not found: \(m)"
        case .conflict(let m): "conflict: \(m)"
        case .deniedByProxy(let m): "denied by the socket proxy: \(m)"
        case .badRequest(let m): "bad request: \(m)"
        case .unreachable(let m): "Docker unreachable: \(m)"
        case .timeout(let m): "Docker call timed out: \(m)"
        case .server(let status, let m): "Docker error \(status): \(m)"
        case .decoding(let m): "undecodable Docker answer: \(m)"
        }
    }
}
