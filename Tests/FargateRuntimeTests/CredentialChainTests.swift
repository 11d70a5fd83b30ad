@testable import FargateRuntime
import FTATestSupport
import Foundation
import Testing

/// The credential chain against stand-ins for the two metadata endpoints: a small Python server
/// (the test venv's, FTA_TEST_MOTO) that answers as IMDSv2 and the ECS agent do, and refuses a
/// credentials request that lacks the IMDSv2 session token.
@Suite("AWS credential chain against stand-in metadata endpoints", .enabled(if: TestEnvironment.runsMotoTests))
struct CredentialChainTests {
    static let server = #"""
    import json, sys, threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    CREDS = json.dumps({"AccessKeyId": "ASIAROLE", "SecretAccessKey": "rolesecret", "Token": "roletoken", "Expiration": "2099-01-01T00:00:00Z"}).encode()
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args): pass
        def answer(self, status, body=b""):
            self.send_response(status); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
        def do_PUT(self):
            if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                return self.answer(200, b"SESSIONTOKEN")
            self.answer(400)
        def do_GET(self):
            if self.path == "/v2/credentials/task-1":
                return self.answer(200, CREDS.replace(b"ASIAROLE", b"ASIATASK"))
            if self.headers.get("X-aws-ec2-metadata-token") != "SESSIONTOKEN":
                return self.answer(401)  # IMDSv1 refused
            if self.path == "/latest/meta-data/iam/security-credentials/":
                return self.answer(200, b"fta-portal-role")
            if self.path == "/latest/meta-data/iam/security-credentials/fta-portal-role":
                return self.answer(200, CREDS)
            self.answer(404)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    """#

    /// Starts the stand-in; it ends when the returned pipe is closed (or the process ends).
    func start() throws -> (endpoint: String, stdin: Pipe, process: Process) {
        let python = try #require(TestEnvironment.motoPython, "FTA_TEST_MOTO is not set")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", Self.server]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        var line = Data()
        while true {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        let port = try #require(Int(String(decoding: line, as: UTF8.self)))
        return ("http://127.0.0.1:\(port)", input, process)
    }

    @Test("no keys in the environment: the instance role through IMDSv2 (a token by PUT, then GET with it)")
    func instanceRole() async throws {
        let (endpoint, stdin, process) = try start()
        defer { try? stdin.fileHandleForWriting.close(); process.waitUntilExit() }
        let chain = AWSCredentialChain(environment: [:], endpoints: .init(container: "http://127.0.0.1:9", instanceMetadata: endpoint))
        let credentials = try await chain.credentials()
        #expect(credentials == AWSCredentials(accessKeyID: "ASIAROLE", secretAccessKey: "rolesecret", sessionToken: "roletoken",
                                              expiration: Date(timeIntervalSince1970: 4_070_908_800)))
    }

    @Test("the ECS task role comes before the instance role")
    func taskRole() async throws {
        let (endpoint, stdin, process) = try start()
        defer { try? stdin.fileHandleForWriting.close(); process.waitUntilExit() }
        let chain = AWSCredentialChain(environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/task-1"],
                                       endpoints: .init(container: endpoint, instanceMetadata: endpoint))
        #expect(try await chain.credentials().accessKeyID == "ASIATASK")
    }
}
