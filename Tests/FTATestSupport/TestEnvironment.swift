import Foundation

/// What scripts/test hands the tests: where the real engine and proxy are, which images exist.
///
/// Docker-backed tests are enabled when the proxy is known, or whenever `CI=true`: in CI a
/// missing engine then fails the test (through `#require`) instead of skipping it.
public enum TestEnvironment {
    static var env: [String: String] { ProcessInfo.processInfo.environment }

    public static var isCI: Bool { env["CI"] == "true" }
    /// The socket proxy in front of the test engine (what fta uses).
    public static var dockerURL: String? { env["FTA_TEST_DOCKER_URL"].flatMap { $0.isEmpty ? nil : $0 } }
    /// The test engine itself, for checking state behind fta's back.
    public static var engineURL: String? { env["FTA_TEST_DOCKER_HOST"].flatMap { $0.isEmpty ? nil : $0 } }
    public static var testImage: String { env["FTA_TEST_IMAGE"] ?? "fta-test/busybox:latest" }
    public static var freqtradeExecutable: String? { env["FTA_TEST_FREQTRADE"].flatMap { $0.isEmpty ? nil : $0 } }
    /// The Python with moto installed (the test venv's), which runs moto in server mode as the
    /// local stand-in for AWS (MotoServer).
    public static var motoPython: String? { env["FTA_TEST_MOTO"].flatMap { $0.isEmpty ? nil : $0 } }

    /// Whether Docker-backed tests should run here.
    public static var runsDockerTests: Bool { isCI || dockerURL != nil }
    public static var runsFreqtradeTests: Bool { isCI || freqtradeExecutable != nil }
    /// Whether the Fargate runtime's tests against moto run here (under CI a missing moto fails them).
    public static var runsMotoTests: Bool { isCI || motoPython != nil }

    /// A short unique suffix for object names, so parallel tests never collide.
    public static func uniqueID(_ prefix: String) -> String {
        "\(prefix)\(UInt32.random(in: 0...UInt32.max) % 1_000_000)"
    }

    /// Runs `docker` against the test engine directly (behind fta's back) and returns stdout.
    @discardableResult
    public static func docker(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/docker")
        process.arguments = arguments
        var environment = env
        environment["DOCKER_HOST"] = engineURL ?? "unix:///run/fta-test/docker.sock"
        environment.merge(extra) { $1 }
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = Pipe()
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
