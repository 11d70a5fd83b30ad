import DockerEngine
import FTATestSupport
import Foundation
import Testing

@Suite("Docker log stream")
struct LogStreamTests {
    func frame(_ stream: UInt8, _ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        let n = UInt32(bytes.count)
        return [stream, 0, 0, 0, UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + bytes
    }

    @Test("multiplexed frames become lines, split across frames, with their stream")
    func demultiplex() {
        let data = Data(frame(1, "one\ntw") + frame(1, "o\n") + frame(2, "err line\n") + frame(1, "last"))
        #expect(LogStream.lines(from: data) == [
            LogLine(stream: .stdout, text: "one"), LogLine(stream: .stdout, text: "two"),
            LogLine(stream: .stderr, text: "err line"), LogLine(stream: .stdout, text: "last"),
        ])
    }

    @Test("a raw (TTY) stream is read as plain lines")
    func raw() {
        #expect(LogStream.lines(from: Data("a\nb\n".utf8)).map(\.text) == ["a", "b"])
    }
}

@Suite("Docker client configuration and failures")
struct DockerClientTests {
    @Test("only unix:///abs/path and http(s) URLs are accepted", arguments: ["tcp://1.2.3.4:2375", "unix://relative", "/var/run/docker.sock", "ftp://x"])
    func badURLs(_ url: String) {
        #expect(throws: DockerConfigurationError.self) { try DockerEngineClient(url: url) }
    }

    @Test("a proxy that is not there is `unreachable`, quickly")
    func unreachable() async throws {
        let client = try DockerEngineClient(url: "unix:///nonexistent/fta-test.sock", timeout: .seconds(2))
        await #expect(throws: DockerError.self) { try await client.version() }
        do { _ = try await client.version() } catch {
            guard case .unreachable = error else { Issue.record("expected unreachable, got \(error)"); return }
        }
        #expect(await client.ping() == false)
    }
}

/// Against the real test engine, through the real socket proxy.
@Suite("Docker engine through the socket proxy", .enabled(if: TestEnvironment.runsDockerTests))
struct DockerThroughProxyTests {
    func client() throws -> DockerEngineClient {
        try DockerEngineClient(url: try #require(TestEnvironment.dockerURL, "FTA_TEST_DOCKER_URL is not set: scripts/test starts the proxy"))
    }

    @Test("ping and version answer through the proxy")
    func version() async throws {
        let docker = try client()
        #expect(await docker.ping())
        let version = try await docker.version()
        #expect(!version.ApiVersion.isEmpty)
    }

    @Test("network, volume and a hardened container: create, start, inspect, logs, stats, stop, remove")
    func lifecycle() async throws {
        let docker = try client()
        let id = TestEnvironment.uniqueID("de")
        let network = "fta-client-\(id)", volume = "fta-bot-\(id)", container = "fta-bot-\(id)"
        let labels = ["fta.managed": "true", "fta.client": id, "fta.bot": id]
        defer {
            _ = try? TestEnvironment.docker(["rm", "-f", container])
            _ = try? TestEnvironment.docker(["volume", "rm", volume])
            _ = try? TestEnvironment.docker(["network", "rm", network])
        }
        try await docker.createNetwork(NetworkCreate(Name: network, Labels: ["fta.managed": "true", "fta.client": id], Options: ["com.docker.network.bridge.enable_icc": "false"]))
        let inspectedNetwork = try await docker.inspectNetwork(network)
        #expect(inspectedNetwork.Options?["com.docker.network.bridge.enable_icc"] == "false")
        try await docker.createVolume(VolumeCreate(Name: volume, Labels: labels))
        #expect(try await docker.inspectVolume(volume).Name == volume)
        #expect(try await docker.volumes(label: "fta.managed=true").contains { $0.Name == volume })

        var host = HostConfig()
        host.ReadonlyRootfs = true
        host.CapDrop = ["ALL"]
        host.SecurityOpt = ["no-new-privileges:true"]
        host.PidsLimit = 64
        host.Memory = 64 << 20
        host.MemorySwap = 64 << 20
        host.NanoCpus = 250_000_000
        host.Tmpfs = ["/tmp": "rw,noexec,nosuid,nodev,size=8m"]
        host.Mounts = [Mount(Type: "volume", Source: volume, Target: "/freqtrade/user_data")]
        host.NetworkMode = network
        host.Init = true
        // The proxy requires bounded json-file logs on every container (the hardened shape, issue 15).
        host.LogConfig = LogConfig(Type: "json-file", Config: ["max-size": "1m", "max-file": "1"])
        let spec = ContainerCreate(Image: TestEnvironment.testImage, User: "1000:1000", Entrypoint: ["/bin/sh", "-c"],
                                   Cmd: ["echo hello from $(id -u); echo to stderr >&2; exec sleep 300"], Labels: labels,
                                   HostConfig: host, NetworkingConfig: NetworkingConfig(EndpointsConfig: [network: EmptyObject()]))
        try await docker.createContainer(name: container, spec)
        await #expect(throws: DockerError.self) { try await docker.createContainer(name: container, spec) }  // 409: name taken
        try await docker.startContainer(container)
        try await docker.startContainer(container)  // already started: 304, not an error

        let inspected = try await docker.inspectContainer(container)
        #expect(inspected.State.Running)
        #expect(inspected.HostConfig.ReadonlyRootfs == true)
        #expect(inspected.HostConfig.CapDrop == ["ALL"])
        #expect(inspected.Config.User == "1000:1000")
        #expect(inspected.NetworkSettings.Networks?[network]?.IPAddress?.isEmpty == false)

        var lines: [LogLine] = []
        for _ in 0..<20 where lines.count < 2 {
            lines = try await docker.logs(container, tail: 10, timestamps: false)
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(lines.contains(LogLine(stream: .stdout, text: "hello from 1000")))
        #expect(lines.contains(LogLine(stream: .stderr, text: "to stderr")))
        let stats = try await docker.stats(container)
        #expect((stats.memory_stats?.limit ?? 0) <= 64 << 20)
        #expect(try await docker.containers(label: "fta.managed=true").map(\.name).contains(container))

        try await docker.stopContainer(container, grace: 1)
        #expect(try await docker.inspectContainer(container).State.Running == false)
        try await docker.removeContainer(container)
        do {
            _ = try await docker.inspectContainer(container)
            Issue.record("the removed container is still there")
        } catch {
            guard case .notFound = error else { Issue.record("expected notFound, got \(error)"); return }
        }
        try await docker.removeVolume(volume)
        try await docker.removeNetwork(network)
        #expect(try TestEnvironment.docker(["network", "ls", "-q", "--filter", "name=\(network)"]).output.isEmpty)
    }

    @Test("what the proxy refuses comes back as deniedByProxy and changes nothing")
    func denied() async throws {
        let docker = try client()
        // Other suites create containers in parallel on the same engine, so "nothing changed" is
        // checked on what this test tried to create: no container of that name, before or after.
        let evil = ["ps", "-aq", "--filter", "name=^/fta-bot-evil$"]
        #expect(try TestEnvironment.docker(evil).output.isEmpty)
        await #expect(throws: DockerError.self) { _ = try await docker.send("POST", "/containers/fta-bot-x/exec", body: ["Cmd": ["id"]]) }
        do { _ = try await docker.send("GET", "/images/json") } catch {
            guard case .deniedByProxy = error else { Issue.record("expected deniedByProxy, got \(error)"); return }
        }
        var host = HostConfig()
        host.Privileged = true
        host.NetworkMode = "fta-client-x"
        do {
            try await docker.createContainer(name: "fta-bot-evil", ContainerCreate(Image: TestEnvironment.testImage, HostConfig: host))
            Issue.record("a privileged container went through the proxy")
        } catch {
            guard case .deniedByProxy = error else { Issue.record("expected deniedByProxy, got \(error)"); return }
        }
        #expect(try TestEnvironment.docker(evil).output.isEmpty)
    }
}
