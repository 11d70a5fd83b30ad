import FTACore
import FTAHTTP
import Foundation
import Logging

/// Where the AWS calls go, and as whom.
public struct AWSSettings: Sendable {
    public var region: String
    /// One endpoint for every service (moto in server mode, a VPC endpoint proxy); nil: AWS's
    /// public endpoints of `region`.
    public var endpoint: String?

    public init(region: String, endpoint: String? = nil) {
        self.region = region
        self.endpoint = endpoint.flatMap { $0.isEmpty ? nil : ($0.hasSuffix("/") ? String($0.dropLast()) : $0) }
    }
}

/// An AWS service as fta calls it: its signing name and its host prefix.
public struct AWSService: Sendable {
    public var signingName: String
    public var hostPrefix: String

    public static let ecs = AWSService(signingName: "ecs", hostPrefix: "ecs")
    public static let logs = AWSService(signingName: "logs", hostPrefix: "logs")
    public static let efs = AWSService(signingName: "elasticfilesystem", hostPrefix: "elasticfilesystem")
    public static let ec2 = AWSService(signingName: "ec2", hostPrefix: "ec2")
}

/// An AWS answer that is an error: its code (`ClientException`, `InvalidGroup.NotFound`) and
/// message, as AWS wrote them. For logs only: the message may name resources, never secrets.
public struct AWSError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String

    public var description: String { "AWS \(status) \(code): \(message)" }

    /// Whether AWS refused the caller (IAM), rather than the request.
    var isDenied: Bool {
        status == 403 || ["AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException",
                          "InvalidClientTokenId", "AuthFailure", "ExpiredTokenException", "SignatureDoesNotMatch"].contains(code)
    }
}

/// How an AWS call failed.
public enum AWSCallError: Error, Sendable, Equatable, CustomStringConvertible {
    case transport(TransportError)
    case credentials(CredentialsError)
    case aws(AWSError)
    case malformed(String)

    public var description: String {
        switch self {
        case .transport(let e): "AWS unreachable: \(e)"
        case .credentials(let e): "AWS credentials: \(e)"
        case .aws(let e): e.description
        case .malformed(let m): "AWS answered something unexpected: \(m)"
        }
    }

    /// The AWS error code, when AWS answered with one.
    public var code: String? { if case .aws(let e) = self { e.code } else { nil } }

    var runtimeError: RuntimeErrorShape {
        switch self {
        case .transport(.timeout(let m)): .timedOut(m)
        case .transport(let e): .unavailable("\(e)")
        case .credentials(let e): .refused("no usable AWS credentials: \(e)")
        case .aws(let e) where e.isDenied: .refused(e.description)
        case .aws(let e) where e.status >= 500: .unavailable(e.description)
        case .aws(let e): .failed(e.description)
        case .malformed(let m): .failed(m)
        }
    }

    enum RuntimeErrorShape { case unavailable(String), timedOut(String), refused(String), failed(String) }
}

/// Signed calls to AWS over fta's own HTTP client, in the three protocols the Fargate runtime
/// needs: JSON 1.1 (ECS, CloudWatch Logs), REST-JSON (EFS) and Query with XML answers (EC2).
///
/// Request bodies are never logged: a task definition carries the bot's rendered config and API
/// credentials in its environment, exactly as the Docker container's create body does.
public struct AWSClient: Sendable {
    public let settings: AWSSettings
    let credentials: AWSCredentialChain
    let logger: Logger
    /// The clock the signature's date comes from (a test may pin it).
    let now: @Sendable () -> Date

    public init(settings: AWSSettings, credentials: AWSCredentialChain, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.settings = settings
        self.credentials = credentials
        self.logger = logger
        self.now = now
    }

    /// The service's base URL, e.g. `https://ecs.eu-west-1.amazonaws.com`.
    func baseURL(_ service: AWSService) -> String {
        settings.endpoint ?? "https://\(service.hostPrefix).\(settings.region).amazonaws.com"
    }

    /// A JSON 1.1 call: `POST /` with `X-Amz-Target: <prefix>.<action>`.
    func json<Body: Encodable, Answer: Decodable>(_ service: AWSService, target: String, _ body: Body, as: Answer.Type) async throws(AWSCallError) -> Answer {
        let data = try encode(body)
        let answer = try await send(service, method: "POST", path: "/", query: [],
                                    headers: [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", target)], body: data)
        // Some actions (PutRetentionPolicy, DeleteLogGroup) answer with an empty body.
        return try decode(Answer.self, answer.isEmpty ? Data("{}".utf8) : answer)
    }

    /// A REST-JSON call: the method and path name the operation, the body is JSON.
    func rest<Answer: Decodable>(_ service: AWSService, _ method: String, _ path: String, query: [(String, String)] = [],
                                 body: (some Encodable)? = Optional<EmptyBody>.none, as: Answer.Type) async throws(AWSCallError) -> Answer {
        let data = try body.map { b throws(AWSCallError) in try encode(b) } ?? Data()
        let answer = try await send(service, method: method, path: path, query: query,
                                    headers: body == nil ? [] : [("Content-Type", "application/json")], body: data)
        return try decode(Answer.self, answer.isEmpty ? Data("{}".utf8) : answer)
    }

    /// A Query call (EC2): a form body with `Action` and `Version`; the answer is XML.
    func query(_ service: AWSService, action: String, version: String, _ parameters: [(String, String)]) async throws(AWSCallError) -> XMLNode {
        let form = ([("Action", action), ("Version", version)] + parameters)
            .map { "\(SigV4Signer.escape($0.0))=\(SigV4Signer.escape($0.1))" }.joined(separator: "&")
        let answer = try await send(service, method: "POST", path: "/", query: [],
                                    headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")], body: Data(form.utf8))
        guard let root = XMLNode.parse(answer) else { throw .malformed("\(action): not XML") }
        return root
    }

    private func send(_ service: AWSService, method: String, path: String, query: [(String, String)], headers: [(String, String)],
                      body: Data) async throws(AWSCallError) -> Data {
        let credentials: AWSCredentials
        do { credentials = try await self.credentials.credentials() } catch { throw .credentials(error) }
        let base = baseURL(service)
        guard let components = URLComponents(string: base), let host = components.host else { throw .malformed("endpoint \(base)") }
        let hostHeader = components.port.map { "\(host):\($0)" } ?? host
        let signer = SigV4Signer(credentials: credentials, region: settings.region, service: service.signingName)
        let signed = signer.sign(SigV4Signer.Request(method: method, host: hostHeader, path: path, query: query, headers: headers, body: body), at: now())
        let queryText = query.isEmpty ? "" : "?" + query.map { "\(SigV4Signer.escape($0.0))=\(SigV4Signer.escape($0.1))" }.joined(separator: "&")
        let request = HTTPRequest(method: method, url: base + path + queryText, headers: headers + signed,
                                  body: body.isEmpty && method != "POST" && method != "PUT" ? nil : body,
                                  timeout: .seconds(30), connectTimeout: .seconds(3))
        let response: HTTPResponse
        do { response = try await HTTPTransport.perform(request) } catch { throw .transport(error) }
        guard (200..<300).contains(response.status) else {
            let error = Self.error(status: response.status, body: response.body)
            logger.debug("AWS call refused", metadata: ["service": "\(service.signingName)", "code": "\(error.code)"])
            throw .aws(error)
        }
        return response.body
    }

    /// The error in an AWS answer, whichever protocol wrote it: JSON's `__type` (with its
    /// namespace before `#`), REST-JSON's `ErrorCode`/`code`, or Query's XML `<Code>`.
    static func error(status: Int, body: Data) -> AWSError {
        struct JSONError: Decodable {
            var __type: String?
            var code: String?
            var ErrorCode: String?
            var message: String?
            var Message: String?
        }
        if let json = try? JSONDecoder().decode(JSONError.self, from: body) {
            let code = (json.__type ?? json.ErrorCode ?? json.code ?? "").split(separator: "#").last.map(String.init) ?? ""
            return AWSError(status: status, code: code, message: json.message ?? json.Message ?? "")
        }
        if let xml = XMLNode.parse(body), let code = xml.first("Code")?.text {
            return AWSError(status: status, code: code, message: xml.first("Message")?.text ?? "")
        }
        return AWSError(status: status, code: "HTTP\(status)", message: String(decoding: body.prefix(200), as: UTF8.self))
    }

    private func encode(_ body: some Encodable) throws(AWSCallError) -> Data {
        do { return try JSONEncoder().encode(body) } catch { throw .malformed("cannot encode a request: \(error)") }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws(AWSCallError) -> T {
        do { return try JSONDecoder().decode(type, from: data) } catch { throw .malformed("\(T.self): \(error)") }
    }
}

/// A body-less REST call's body type.
struct EmptyBody: Codable, Sendable {}
/// An answer whose content fta does not need.
struct Ignored: Decodable, Sendable {}
