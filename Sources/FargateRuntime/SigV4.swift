import Crypto
import Foundation

/// AWS Signature Version 4 for one request: the canonical request, the string to sign, the
/// signing key and the `Authorization` header, for every protocol fta speaks to AWS (JSON 1.1,
/// REST-JSON, Query) alike.
///
/// Only what fta sends is supported: a path without characters that need escaping, a query of
/// unreserved names and values, and a small set of headers. That keeps the canonical form
/// exact without a general URI normaliser.
public struct SigV4Signer: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// A request as the signer sees it.
    public struct Request: Sendable {
        public var method: String
        /// `host` or `host:port`, exactly as sent in the Host header.
        public var host: String
        public var path: String
        public var query: [(String, String)]
        /// Headers to sign besides host and x-amz-date (content-type, x-amz-target).
        public var headers: [(String, String)]
        public var body: Data

        public init(method: String, host: String, path: String = "/", query: [(String, String)] = [], headers: [(String, String)] = [], body: Data = Data()) {
            self.method = method
            self.host = host
            self.path = path
            self.query = query
            self.headers = headers
            self.body = body
        }
    }

    /// The headers to add to the request: x-amz-date, the session token when there is one, and
    /// Authorization.
    public func sign(_ request: Request, at date: Date) -> [(String, String)] {
        let (amzDate, day) = Self.timestamps(date)
        var signed = request.headers.map { ($0.0.lowercased(), $0.1.trimmingCharacters(in: .whitespaces)) }
        signed.append(("host", request.host))
        signed.append(("x-amz-date", amzDate))
        if let token = credentials.sessionToken { signed.append(("x-amz-security-token", token)) }
        signed.sort { $0.0 < $1.0 }
        let signedNames = signed.map(\.0).joined(separator: ";")
        let canonical = canonicalRequest(request, headers: signed, signedNames: signedNames)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.hex(SHA256.hash(data: Data(canonical.utf8)))].joined(separator: "\n")
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(day: day)))
        var out = [("X-Amz-Date", amzDate)]
        if let token = credentials.sessionToken { out.append(("X-Amz-Security-Token", token)) }
        out.append(("Authorization", "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedNames), Signature=\(signature)"))
        return out
    }

    /// The canonical request (exposed for the published test vectors' intermediate value).
    func canonicalRequest(_ request: Request, headers: [(String, String)], signedNames: String) -> String {
        let escaped: [(String, String)] = request.query.map { (Self.escape($0.0), Self.escape($0.1)) }
        let sorted = escaped.sorted { (a: (String, String), b: (String, String)) -> Bool in a.0 == b.0 ? a.1 < b.1 : a.0 < b.0 }
        let query = sorted.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        return [
            request.method,
            request.path.isEmpty ? "/" : request.path,
            query,
            headers.map { "\($0.0):\($0.1)\n" }.joined(),
            signedNames,
            Self.hex(SHA256.hash(data: request.body)),
        ].joined(separator: "\n")
    }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request").
    func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    /// `20150830T123600Z` and `20150830`, in UTC whatever the host's zone.
    static func timestamps(_ date: Date) -> (String, String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let day = String(format: "%04d%02d%02d", c.year!, c.month!, c.day!)
        return (day + String(format: "T%02d%02d%02dZ", c.hour!, c.minute!, c.second!), day)
    }

    /// RFC 3986 percent-encoding of everything but the unreserved characters, as SigV4 wants it
    /// (and as the Query protocol's form body is written).
    public static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
