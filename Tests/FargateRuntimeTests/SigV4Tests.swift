@testable import FargateRuntime
import Foundation
import Testing

/// The signer against vectors AWS publishes in its Signature Version 4 test suite
/// (aws-sig-v4-test-suite): the inputs and the expected signature, nothing else, taken over.
@Suite("SigV4 signing")
struct SigV4Tests {
    static let suite = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    /// 2015-08-30T12:36:00Z, the suite's fixed time.
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)
    let signer = SigV4Signer(credentials: SigV4Tests.suite, region: "us-east-1", service: "service")

    func authorization(_ headers: [(String, String)]) -> String? { headers.first { $0.0 == "Authorization" }?.1 }

    @Test("get-vanilla: the canonical request hashes to the published value and the signature matches")
    func getVanilla() throws {
        let request = SigV4Signer.Request(method: "GET", host: "example.amazonaws.com")
        let headers = signer.sign(request, at: Self.suiteDate)
        #expect(headers.first { $0.0 == "X-Amz-Date" }?.1 == "20150830T123600Z")
        #expect(authorization(headers) == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        let canonical = signer.canonicalRequest(request, headers: [("host", "example.amazonaws.com"), ("x-amz-date", "20150830T123600Z")], signedNames: "host;x-amz-date")
        #expect(canonical == "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SigV4Signer.hex(SHA256Digest(canonical)) == "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63")
    }

    @Test("post-vanilla: the method is part of what is signed")
    func postVanilla() {
        let headers = signer.sign(SigV4Signer.Request(method: "POST", host: "example.amazonaws.com"), at: Self.suiteDate)
        #expect(authorization(headers)?.hasSuffix("Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b") == true)
    }

    @Test("a wrong secret, region or body gives another signature: the signature really depends on them")
    func keyed() {
        let request = SigV4Signer.Request(method: "GET", host: "example.amazonaws.com")
        let reference = authorization(signer.sign(request, at: Self.suiteDate))
        var other = signer
        other.credentials.secretAccessKey = "another"
        #expect(authorization(other.sign(request, at: Self.suiteDate)) != reference)
        other = signer
        other.region = "eu-west-1"
        #expect(authorization(other.sign(request, at: Self.suiteDate)) != reference)
        var withBody = request
        withBody.body = Data("{}".utf8)
        #expect(authorization(signer.sign(withBody, at: Self.suiteDate)) != reference)
    }

    @Test("a session token is sent and signed; the secret never appears in any header")
    func sessionToken() {
        var tokenSigner = signer
        tokenSigner.credentials.sessionToken = "TOKEN123"
        let headers = tokenSigner.sign(SigV4Signer.Request(method: "POST", host: "ecs.eu-west-1.amazonaws.com",
                                                           headers: [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "A.B")]),
                                       at: Self.suiteDate)
        #expect(headers.contains { $0 == ("X-Amz-Security-Token", "TOKEN123") })
        #expect(authorization(headers)?.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target") == true)
        #expect(!headers.contains { $0.1.contains(Self.suite.secretAccessKey) })
        #expect(!"\(tokenSigner.credentials)".contains(Self.suite.secretAccessKey))
    }

    @Test("query names and values are escaped as RFC 3986 wants and sorted")
    func query() {
        #expect(SigV4Signer.escape("a b/c~d*=") == "a%20b%2Fc~d%2A%3D")
        let request = SigV4Signer.Request(method: "GET", host: "h", query: [("b", "2"), ("a", "x y")])
        #expect(signer.canonicalRequest(request, headers: [], signedNames: "").split(separator: "\n", omittingEmptySubsequences: false)[2] == "a=x%20y&b=2")
    }
}

import Crypto

/// SHA-256 of a text (for the vector's intermediate value).
func SHA256Digest(_ text: String) -> [UInt8] { Array(SHA256.hash(data: Data(text.utf8))) }
