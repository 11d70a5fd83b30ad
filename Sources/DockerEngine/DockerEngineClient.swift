import FTAHTTP
import Foundation
import Logging

/// A Docker Engine API client over libcurl, speaking to a unix socket or an HTTP URL.
///
/// In fta that endpoint is always the socket proxy (`FTA_DOCKER_URL`), never the Docker socket
/// itself. The API version is pinned so that the proxy's path rules and the engine agree;
/// every call has a timeout; blocking curl calls run on `HTTPTransport`'s pool, one easy handle
/// per request.
public struct DockerEngineClient: Sendable {
    /// The API version fta speaks: Docker 20.10 and every later engine support it.
    public static let apiVersion = "1.41"

    public let endpoint: String
    let baseURL: String
    let unixSocketPath: String?
    public var timeout: Duration
    let logger: Logger

    /// - Parameter url: `unix:///path/to/socket` or `http://host:port`.
    public init(url: String, timeout: Duration = .seconds(30), logger: Logger = Logger(label: "fta.docker")) throws(DockerConfigurationError) {
        endpoint = url
        self.timeout = timeout
        self.logger = logger
        if url.hasPrefix("unix://") {
            let path = String(url.dropFirst("unix://".count))
            guard path.hasPrefix("/") else { throw DockerConfigurationError(url: url) }
            unixSocketPath = path
            baseURL = "http://docker/v\(Self.apiVersion)"
        } else if url.hasPrefix("http://") || url.hasPrefix("https://"), URL(string: url)?.host != nil {
            unixSocketPath = nil
            baseURL = url.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/v\(Self.apiVersion)"
        } else {
            throw DockerConfigurationError(url: url)
        }
    }

    // MARK: Engine

    /// Whether the engine (through the proxy) answers `/_ping`.
    public func ping() async -> Bool {
        (try? await send("GET", "/_ping", timeout: .seconds(3))) != nil
    }

    public func version() async throws(DockerError) -> EngineVersion {
        try await decode(EngineVersion.self, send("GET", "/version"))
    }

    // MARK: Networks

    @discardableResult
    public func createNetwork(_ spec: NetworkCreate) async throws(DockerError) -> String {
        try await decode(CreateResponse.self, send("POST", "/networks/create", body: spec)).Id
    }

    public func inspectNetwork(_ name: String) async throws(DockerError) -> NetworkInspect {
        try await decode(NetworkInspect.self, send("GET", "/networks/\(name)"))
    }

    public func networks(label: String) async throws(DockerError) -> [NetworkInspect] {
        try await decode([NetworkInspect].self, send("GET", "/networks", query: [("filters", labelFilter(label))]))
    }

    public func removeNetwork(_ name: String) async throws(DockerError) {
        _ = try await send("DELETE", "/networks/\(name)")
    }

    // MARK: Volumes

    public func createVolume(_ spec: VolumeCreate) async throws(DockerError) {
        _ = try await send("POST", "/volumes/create", body: spec)
    }

    public func inspectVolume(_ name: String) async throws(DockerError) -> VolumeInspect {
        try await decode(VolumeInspect.self, send("GET", "/volumes/\(name)"))
    }

    public func volumes(label: String) async throws(DockerError) -> [VolumeInspect] {
        try await decode(VolumeList.self, send("GET", "/volumes", query: [("filters", labelFilter(label))])).Volumes ?? []
    }

    public func removeVolume(_ name: String) async throws(DockerError) {
        _ = try await send("DELETE", "/volumes/\(name)")
    }

    // MARK: Containers

    @discardableResult
    public func createContainer(name: String, _ spec: ContainerCreate) async throws(DockerError) -> String {
        try await decode(CreateResponse.self, send("POST", "/containers/create", query: [("name", name)], body: spec)).Id
    }

    /// Starts a container; starting a running one is not an error (Docker answers 304).
    public func startContainer(_ name: String) async throws(DockerError) {
        _ = try await send("POST", "/containers/\(name)/start")
    }

    /// Stops a container, killing it after `grace` seconds; stopping a stopped one is not an error.
    public func stopContainer(_ name: String, grace: Int = 20) async throws(DockerError) {
        _ = try await send("POST", "/containers/\(name)/stop", query: [("t", String(grace))], timeout: .seconds(Int64(grace) + 15))
    }

    public func inspectContainer(_ name: String) async throws(DockerError) -> ContainerInspect {
        try await decode(ContainerInspect.self, send("GET", "/containers/\(name)/json"))
    }

    /// Removes a container, stopping it first when `force`.
    public func removeContainer(_ name: String, force: Bool = true) async throws(DockerError) {
        _ = try await send("DELETE", "/containers/\(name)", query: [("force", force ? "true" : "false")])
    }

    public func containers(label: String, all: Bool = true) async throws(DockerError) -> [ContainerSummary] {
        try await decode([ContainerSummary].self, send("GET", "/containers/json", query: [("all", all ? "1" : "0"), ("filters", labelFilter(label))]))
    }

    /// The last `tail` lines of a container's stdout and stderr.
    public func logs(_ name: String, tail: Int, timestamps: Bool = true) async throws(DockerError) -> [LogLine] {
        let data = try await send("GET", "/containers/\(name)/logs", query: [
            ("stdout", "1"), ("stderr", "1"), ("tail", String(tail)), ("timestamps", timestamps ? "1" : "0"),
        ])
        return LogStream.lines(from: data)
    }

    public func stats(_ name: String) async throws(DockerError) -> ContainerStats {
        // one-shot: one sample at once, instead of waiting a second for a CPU delta fta never reads.
        try await decode(ContainerStats.self, send("GET", "/containers/\(name)/stats", query: [("stream", "false"), ("one-shot", "true")],
                                                   timeout: .seconds(10)))
    }

    // MARK: Transport

    /// Sends one request and returns the body of a 2xx or 304 answer; maps everything else.
    public func send(_ method: String, _ path: String, query: [(String, String)] = [], body: (some Encodable & Sendable)? = Optional<EmptyObject>.none,
                     timeout: Duration? = nil) async throws(DockerError) -> Data {
        var url = baseURL + path
        if !query.isEmpty {
            url += "?" + query.map { "\(Self.percentEncode($0.0))=\(Self.percentEncode($0.1))" }.joined(separator: "&")
        }
        var headers: [(String, String)] = [("Accept", "application/json")]
        var payload: Data?
        if let body {
            let encoder = JSONEncoder()
            // Compact, sorted and without `\/`: what the proxy's body rules expect.
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            do { payload = try encoder.encode(body) } catch { throw .decoding("cannot encode request: \(error)") }
            headers.append(("Content-Type", "application/json"))
        }
        let request = HTTPRequest(method: method, url: url, headers: headers, body: payload, unixSocketPath: unixSocketPath,
                                  timeout: timeout ?? self.timeout)
        let response: HTTPResponse
        do {
            response = try await HTTPTransport.perform(request)
        } catch {
            logger.warning("docker call failed", metadata: ["method": "\(method)", "path": "\(path)", "error": "\(error)"])
            switch error {
            case .timeout(let m): throw .timeout(m)
            case .unreachable(let m): throw .unreachable(m)
            case .responseTooLarge: throw .server(status: 0, message: "response too large")
            case .failed(let m): throw .unreachable(m)
            }
        }
        let message = { (try? JSONDecoder().decode(ErrorResponse.self, from: response.body).message) ?? String(decoding: response.body.prefix(200), as: UTF8.self) }
        switch response.status {
        case 200..<300, 304: return response.body
        case 400: throw .badRequest(message())
        case 403: throw .deniedByProxy(message())
        case 404: throw .notFound(message())
        case 409: throw .conflict(message())
        default: throw .server(status: response.status, message: message())
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws(DockerError) -> T {
        do { return try JSONDecoder().decode(type, from: data) } catch { throw .decoding("\(T.self): \(error)") }
    }

    private func labelFilter(_ label: String) -> String {
        let data = try! JSONEncoder().encode(["label": [label]])
        return String(decoding: data, as: UTF8.self)
    }

    /// RFC 3986 unreserved characters pass; everything else is %-encoded.
    static func percentEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// `FTA_DOCKER_URL` is neither `unix:///absolute/path` nor an http(s) URL.
public struct DockerConfigurationError: Error, CustomStringConvertible, Sendable {
    public let url: String
    public var description: String { "FTA_DOCKER_URL must be unix:///absolute/path or http://host:port, got '\(url)'" }
}

/// Docker's log stream format for containers without a TTY: frames of an 8-byte header
/// (stream type, three zero bytes, big-endian length) followed by that many bytes.
public enum LogStream {
    public static func lines(from data: Data) -> [LogLine] {
        let bytes = [UInt8](data)
        var lines: [LogLine] = []
        var pending: [LogLine.Stream: String] = [:]
        var index = 0
        while index < bytes.count {
            guard let length = frameLength(bytes, at: index) else {
                // Not multiplexed (a TTY container) or truncated: the rest is plain text.
                let rest = String(decoding: bytes[index...], as: UTF8.self)
                lines += rest.split(separator: "\n").map { LogLine(stream: .stdout, text: String($0)) }
                break
            }
            let stream: LogLine.Stream = bytes[index] == 2 ? .stderr : .stdout
            let chunk = pending[stream, default: ""] + String(decoding: bytes[(index + 8)..<(index + 8 + length)], as: UTF8.self)
            var parts = chunk.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            pending[stream] = parts.removeLast()
            lines += parts.map { LogLine(stream: stream, text: $0) }
            index += 8 + length
        }
        for stream in [LogLine.Stream.stdout, .stderr] {
            if let rest = pending[stream], !rest.isEmpty { lines.append(LogLine(stream: stream, text: rest)) }
        }
        return lines
    }

    /// The payload length of the frame at `index`, or nil when no valid frame header is there.
    private static func frameLength(_ bytes: [UInt8], at index: Int) -> Int? {
        guard index + 8 <= bytes.count, bytes[index] <= 2, bytes[index + 1] == 0, bytes[index + 2] == 0, bytes[index + 3] == 0 else { return nil }
        let length = Int(bytes[index + 4]) << 24 | Int(bytes[index + 5]) << 16 | Int(bytes[index + 6]) << 8 | Int(bytes[index + 7])
        return index + 8 + length <= bytes.count ? length : nil
    }
}
