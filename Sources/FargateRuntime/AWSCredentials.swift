import FTAHTTP
import Foundation

/// One set of AWS credentials. The secret and token are never printed: `description` shows the
/// key id only.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// When temporary credentials run out; nil for long-term keys.
    public var expiration: Date?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken.flatMap { $0.isEmpty ? nil : $0 }
        self.expiration = expiration
    }

    public var description: String { "AWSCredentials(\(accessKeyID), secret hidden)" }
}

/// Where credentials came from, or why there are none: for `fta doctor` and the log, never with a secret.
public enum CredentialsError: Error, Sendable, Equatable {
    case none(String)
    case unreachable(String)
}

/// The standard credential chain, in AWS's order: the environment, then the ECS task role, then
/// the EC2 instance role through IMDSv2. Temporary credentials are kept until five minutes
/// before they expire, so a busy portal asks the metadata service about once an hour.
public actor AWSCredentialChain {
    public struct Endpoints: Sendable {
        /// The ECS agent's credentials endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is relative to it).
        public var container: String
        /// The EC2 instance metadata service.
        public var instanceMetadata: String

        public init(container: String = "http://169.254.170.2", instanceMetadata: String = "http://169.254.169.254") {
            self.container = container
            self.instanceMetadata = instanceMetadata
        }
    }

    let environment: [String: String]
    let endpoints: Endpoints
    private var cached: AWSCredentials?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, endpoints: Endpoints = Endpoints()) {
        self.environment = environment
        self.endpoints = endpoints
    }

    public func credentials() async throws(CredentialsError) -> AWSCredentials {
        if let cached, cached.expiration.map({ $0.timeIntervalSinceNow > 300 }) ?? true { return cached }
        let found = try await resolve()
        cached = found
        return found
    }

    private func resolve() async throws(CredentialsError) -> AWSCredentials {
        if let key = environment["AWS_ACCESS_KEY_ID"], !key.isEmpty, let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty {
            return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"])
        }
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], relative.hasPrefix("/") {
            let answer = try await get(endpoints.container + relative, headers: [])
            return try Self.decodeRoleCredentials(answer, source: "the ECS task role")
        }
        return try await instanceRole()
    }

    /// IMDSv2: a session token by PUT, then the role's name and its credentials by GET with it.
    /// The one-second connect timeout keeps a host that is no EC2 instance from waiting long.
    private func instanceRole() async throws(CredentialsError) -> AWSCredentials {
        let base = endpoints.instanceMetadata
        let tokenResponse: HTTPResponse
        do {
            tokenResponse = try await HTTPTransport.perform(HTTPRequest(method: "PUT", url: base + "/latest/api/token",
                                                                        headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")],
                                                                        body: Data(), timeout: .seconds(2), connectTimeout: .seconds(1)))
        } catch {
            throw .none("no credentials in the environment, no ECS task role, and no instance metadata service")
        }
        guard tokenResponse.status == 200 else { throw .none("the instance metadata service refused a session token (\(tokenResponse.status))") }
        let token = String(decoding: tokenResponse.body, as: UTF8.self)
        let header = [("X-aws-ec2-metadata-token", token)]
        let roles = String(decoding: try await get(base + "/latest/meta-data/iam/security-credentials/", headers: header), as: UTF8.self)
        guard let role = roles.split(separator: "\n").first.map(String.init), !role.isEmpty else {
            throw .none("the instance has no role")
        }
        return try Self.decodeRoleCredentials(try await get(base + "/latest/meta-data/iam/security-credentials/" + role, headers: header),
                                              source: "the instance role")
    }

    private func get(_ url: String, headers: [(String, String)]) async throws(CredentialsError) -> Data {
        do {
            let response = try await HTTPTransport.perform(HTTPRequest(method: "GET", url: url, headers: headers, timeout: .seconds(3), connectTimeout: .seconds(1)))
            guard response.status == 200 else { throw CredentialsError.none("\(url) answered \(response.status)") }
            return response.body
        } catch let error as CredentialsError {
            throw error
        } catch {
            throw .unreachable("\(url): \(error)")
        }
    }

    /// The JSON both the ECS agent and IMDS answer with.
    static func decodeRoleCredentials(_ data: Data, source: String) throws(CredentialsError) -> AWSCredentials {
        struct Answer: Decodable {
            var AccessKeyId: String
            var SecretAccessKey: String
            var Token: String?
            var Expiration: String?
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: data) else { throw .none("\(source) answered something that is not credentials") }
        let expiration = answer.Expiration.flatMap { try? Date.ISO8601FormatStyle().parse($0) }
        return AWSCredentials(accessKeyID: answer.AccessKeyId, secretAccessKey: answer.SecretAccessKey, sessionToken: answer.Token, expiration: expiration)
    }
}
