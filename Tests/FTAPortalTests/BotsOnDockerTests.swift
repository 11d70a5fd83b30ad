import DockerRuntime
import FTACore
import FTAHTTP
import FTAPortal
import FTARuntime
import FTAStore
import FTATestSupport
import HTTPTypes
import Foundation
import Logging
import Testing

/// A portal's services on the real runtime, with a unique suffix for every name.
struct DockerFixture {
    let services: PortalServices
    let suffix: String

    init(budgetMB: Int = 4096, swap: Bool = false, image: String = TestEnvironment.testImage) async throws {
        _ = try #require(TestEnvironment.dockerURL, "FTA_TEST_DOCKER_URL is not set: scripts/test starts the proxy")
        suffix = String(TestEnvironment.uniqueID("").suffix(6))
        let configuration = try testConfiguration(["FTA_MEMORY_BUDGET_MB": String(budgetMB), "FTA_BOT_SWAP": swap ? "on" : "off", "FTA_BOT_IMAGE": image])
        let runtime = try DockerBotRuntime(proxyURL: configuration.dockerURL, options: .init(image: configuration.botImage, botSwap: configuration.botSwap),
                                           logger: Logger(label: "test"))
        services = try PortalServices(configuration: configuration, database: try AppDatabase.inMemory(), runtime: runtime, logger: Logger(label: "test"))
    }

    func client(_ name: String) async throws -> ClientRecord {
        let record = ClientRecord(id: ClientID("\(name)\(suffix)")!, name: name)
        #expect(try await services.database.createClient(record) == .created)
        return record
    }

    func bot(_ name: String, of client: ClientRecord, start: Bool = true) async throws -> BotRecord {
        try await services.lifecycle.create(id: BotID("\(name)\(suffix)")!, client: client, settings: try validSettings(), start: start)
    }

    /// Removes everything this fixture may have left behind, directly on the engine.
    func cleanUp() async {
        if let bots = try? await services.database.bots() {
            for bot in bots { try? await services.lifecycle.delete(bot.id) }
        }
        let names = try? TestEnvironment.docker(["ps", "-aq", "--filter", "name=\(suffix)"]).output
        for id in (names ?? "").split(separator: "\n") { _ = try? TestEnvironment.docker(["rm", "-f", String(id)]) }
        let networks = try? TestEnvironment.docker(["network", "ls", "-q", "--filter", "name=\(suffix)"]).output
        for id in (networks ?? "").split(separator: "\n") { _ = try? TestEnvironment.docker(["network", "rm", String(id)]) }
    }

    /// Runs `body`, then cleans up whether it passed or not.
    func run(_ body: () async throws -> Void) async throws {
        do { try await body() } catch {
            await cleanUp()
            throw error
        }
        await cleanUp()
    }
}

/// The bots' lifecycle against the real engine, through the real socket proxy, with the small
/// locally built test image standing in for Freqtrade.
@Suite("bots on the real engine", .enabled(if: TestEnvironment.runsDockerTests), .serialized)
struct BotsOnDockerTests {
    func inspect(_ name: String) throws -> [String: Any] {
        let output = try TestEnvironment.docker(["inspect", name]).output
        let array = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]])
        return try #require(array.first)
    }

    @Test("two clients' bots: every hardening field, no published port, one network each, isolated")
    func hardenedAndIsolated() async throws {
        let fixture = try await DockerFixture()
        try await fixture.run {
            let acme = try await fixture.client("a"), globex = try await fixture.client("g")
            let botA = try await fixture.bot("ba", of: acme), botB = try await fixture.bot("bb", of: globex)
            #expect(botA.state == .running && botB.state == .running)

            for (bot, client) in [(botA, acme), (botB, globex)] {
                let container = try inspect(bot.id.containerName)
                let config = try #require(container["Config"] as? [String: Any])
                let host = try #require(container["HostConfig"] as? [String: Any])
                #expect(config["User"] as? String == "1000:1000")
                #expect(config["Image"] as? String == TestEnvironment.testImage)
                #expect(host["ReadonlyRootfs"] as? Bool == true)
                #expect(host["Privileged"] as? Bool == false)
                #expect(host["CapDrop"] as? [String] == ["ALL"])
                #expect((host["CapAdd"] as? [String] ?? []).isEmpty)
                #expect(host["SecurityOpt"] as? [String] == ["no-new-privileges:true"])
                #expect(host["PidsLimit"] as? Int == 256)
                #expect(host["Memory"] as? Int == 320 << 20 && host["MemorySwap"] as? Int == 320 << 20)
                #expect(host["NanoCpus"] as? Int == 500_000_000)
                #expect(host["Init"] as? Bool == true)
                #expect((host["Tmpfs"] as? [String: String])?["/tmp"]?.contains("noexec") == true)
                #expect((host["Tmpfs"] as? [String: String])?["/tmp"]?.contains("nosuid") == true)
                #expect((host["PortBindings"] as? [String: Any] ?? [:]).isEmpty)
                #expect(host["PublishAllPorts"] as? Bool == false)
                #expect((host["Binds"] as? [String] ?? []).isEmpty)
                #expect(host["NetworkMode"] as? String == client.id.networkName)
                #expect((host["LogConfig"] as? [String: Any])?["Type"] as? String == "json-file")
                #expect(((host["LogConfig"] as? [String: Any])?["Config"] as? [String: String])?["max-size"] == "10m")
                let restart = try #require(host["RestartPolicy"] as? [String: Any])
                #expect(restart["Name"] as? String == "on-failure" && restart["MaximumRetryCount"] as? Int == 5)
                let labels = try #require(config["Labels"] as? [String: String])
                #expect(labels["fta.managed"] == "true" && labels["fta.client"] == client.id.rawValue && labels["fta.bot"] == bot.id.rawValue)
                #expect((config["Healthcheck"] as? [String: Any])?["Test"] != nil)
                let mounts = try #require(container["Mounts"] as? [[String: Any]])
                #expect(mounts.count == 1 && mounts[0]["Type"] as? String == "volume" && mounts[0]["Name"] as? String == bot.id.volumeName
                        && mounts[0]["Destination"] as? String == "/freqtrade/user_data")
                let networks = try #require((container["NetworkSettings"] as? [String: Any])?["Networks"] as? [String: Any])
                #expect(Array(networks.keys) == [client.id.networkName])
                let ports = (container["NetworkSettings"] as? [String: Any])?["Ports"] as? [String: Any] ?? [:]
                #expect(ports.values.allSatisfy { $0 is NSNull })
                // The network: bridge, inter-container traffic off, labelled.
                let network = try inspect(client.id.networkName)
                #expect(network["Driver"] as? String == "bridge")
                #expect((network["Options"] as? [String: String])?["com.docker.network.bridge.enable_icc"] == "false")
                // The command carries --dry-run and the secrets are not in it.
                let command = (config["Cmd"] as? [String] ?? []).joined(separator: " ")
                #expect(command.contains("--dry-run"))
                let secrets = try await fixture.services.lifecycle.secrets(of: bot.id)
                #expect(!command.contains(secrets.apiPassword))
            }
            let statusA = try #require(try await fixture.services.runtime.status(of: BotPlacement(bot: botA.id, client: acme.id, size: .small)))
            #expect(statusA.deviations.isEmpty, "\(statusA.deviations)")

            // Isolation. The portal's side (the host) reaches each bot's API: the control.
            let ipA = try #require(statusA.address)
            let ipB = try #require(try await fixture.services.runtime.status(of: BotPlacement(bot: botB.id, client: globex.id, size: .small))?.address)
            try await waitForPing(ip: ipB)
            // From bot A, bot B (another client's network) is unreachable.
            let probe = try TestEnvironment.docker(["exec", botA.id.containerName, "timeout", "3", "wget", "-q", "-O-", "http://\(ipB):8080/api/v1/ping"])
            #expect(probe.status != 0 && !probe.output.contains("pong"))
            // Two bots of the same client cannot reach each other either (inter-container traffic off).
            let sibling = try await fixture.bot("bc", of: acme)
            try await waitForPing(ip: ipA)
            let siblingProbe = try TestEnvironment.docker(["exec", sibling.id.containerName, "timeout", "3", "wget", "-q", "-O-", "http://\(ipA):8080/api/v1/ping"])
            #expect(siblingProbe.status != 0 && !siblingProbe.output.contains("pong"))
            // And a bot has no path to the socket proxy: no socket mounted, no Docker port on its gateway.
            let proxySocket = try TestEnvironment.docker(["exec", botA.id.containerName, "ls", "/run/fta-test/proxy/docker.sock", "/var/run/docker.sock"])
            #expect(proxySocket.status != 0)
            let gateway = try #require(((try inspect(acme.id.networkName))["IPAM"] as? [String: Any]).flatMap { ($0["Config"] as? [[String: Any]])?.first?["Gateway"] as? String })
            for port in ["2375", "2376", "23750"] {
                let tcp = try TestEnvironment.docker(["exec", botA.id.containerName, "timeout", "3", "wget", "-q", "-O-", "http://\(gateway):\(port)/_ping"])
                #expect(!tcp.output.contains("OK"))
            }
        }
    }

    func waitForPing(ip: String) async throws {
        for _ in 0..<50 {
            let request = HTTPRequest(method: "GET", url: "http://\(ip):8080/api/v1/ping", timeout: .seconds(1))
            if let response = try? await HTTPTransport.perform(request), response.status == 200 { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("the bot at \(ip) never answered its ping")
    }

    @Test("stop, start and delete: delete removes container and volume, and the network with the client's last container")
    func lifecycle() async throws {
        let fixture = try await DockerFixture()
        try await fixture.run {
            let client = try await fixture.client("l")
            let first = try await fixture.bot("l1", of: client), second = try await fixture.bot("l2", of: client)
            let lifecycle = fixture.services.lifecycle
            // A stopped bot keeps its container, and with it its claim on the network.
            #expect(try await lifecycle.stop(second.id).state == .stopped)
            #expect(try await lifecycle.stop(first.id).state == .stopped)
            #expect(try inspect(first.id.containerName)["State"].flatMap { ($0 as? [String: Any])?["Running"] as? Bool } == false)
            #expect(try await lifecycle.stop(first.id).state == .stopped)  // idempotent
            #expect(try await lifecycle.start(first.id).state == .running)
            #expect(try await lifecycle.restart(first.id).state == .running)
            #expect(try await lifecycle.logs(first.id, tail: 50).count >= 0)

            try await lifecycle.delete(first.id)
            #expect(try TestEnvironment.docker(["inspect", first.id.containerName]).status != 0)
            #expect(try TestEnvironment.docker(["volume", "inspect", first.id.volumeName]).status != 0)
            #expect(try TestEnvironment.docker(["network", "inspect", client.id.networkName]).status == 0)  // l2's stopped container still there
            try await lifecycle.delete(second.id)
            #expect(try TestEnvironment.docker(["network", "inspect", client.id.networkName]).status != 0)
            #expect(try await fixture.services.database.bots().isEmpty)
        }
    }

    @Test("the reconciler quarantines a container edited out of spec, recreates a deleted one, stops an orphan")
    func reconciler() async throws {
        let fixture = try await DockerFixture()
        try await fixture.run {
            let client = try await fixture.client("r")
            let tampered = try await fixture.bot("rt", of: client), published = try await fixture.bot("rp", of: client)
            let vanished = try await fixture.bot("rv", of: client)
            let network = client.id.networkName

            // Behind fta's back: recreate one bot's container with a capability, another with a published port.
            for (bot, extra) in [(tampered, ["--cap-add", "NET_ADMIN"]), (published, ["-p", "127.0.0.1::8080"])] {
                _ = try TestEnvironment.docker(["rm", "-f", bot.id.containerName])
                let run = try TestEnvironment.docker(["run", "-d", "--name", bot.id.containerName, "--network", network,
                                                      "--label", "fta.managed=true", "--label", "fta.client=\(client.id)", "--label", "fta.bot=\(bot.id)",
                                                      "--user", "1000:1000", "--init"] + extra + [TestEnvironment.testImage, "sleep", "600"])
                #expect(run.status == 0)
            }
            // Another container deleted outright, and an orphan claiming to be fta's.
            _ = try TestEnvironment.docker(["rm", "-f", vanished.id.containerName])
            let orphan = "fta-bot-orphan\(fixture.suffix)"
            _ = try TestEnvironment.docker(["run", "-d", "--init", "--name", orphan, "--label", "fta.managed=true", "--label", "fta.bot=ghost\(fixture.suffix)",
                                            TestEnvironment.testImage, "sleep", "600"])

            let report = try await fixture.services.reconciler.reconcileOnce()
            #expect(Set(report.quarantined) == [tampered.id.rawValue, published.id.rawValue], "\(report)")
            #expect(report.recreated == [vanished.id.rawValue])
            #expect(report.orphanContainers.contains(orphan))
            for bot in [tampered, published] {
                #expect(try await fixture.services.database.bot(bot.id)?.state == .quarantined)
                #expect(try inspect(bot.id.containerName)["State"].flatMap { ($0 as? [String: Any])?["Running"] as? Bool } == false)
            }
            #expect(try inspect(orphan)["State"].flatMap { ($0 as? [String: Any])?["Running"] as? Bool } == false)
            let recreated = try #require(try await fixture.services.runtime.status(of: BotPlacement(bot: vanished.id, client: client.id, size: .small)))
            #expect(recreated.isRunning && recreated.deviations.isEmpty)
            let audit = try await fixture.services.database.auditEntries(AuditFilter(action: "bot.quarantine"))
            #expect(Set(audit.compactMap(\.target)) == [tampered.id.rawValue, published.id.rawValue])
            // A quarantined bot is not restarted by the next pass, nor by its owner.
            let next = try await fixture.services.reconciler.reconcileOnce()
            #expect(next.recreated.isEmpty && next.quarantined.isEmpty)
            await #expect(throws: DomainError.self) { try await fixture.services.lifecycle.start(tampered.id) }
            _ = try? TestEnvironment.docker(["rm", "-f", orphan])
        }
    }

    @Test("admission control refuses the bot that would exceed the memory budget, and starts nothing")
    func admission() async throws {
        let fixture = try await DockerFixture(budgetMB: 600)
        try await fixture.run {
            let client = try await fixture.client("m")
            _ = try await fixture.bot("m1", of: client)
            _ = try await fixture.bot("m2", of: client, start: false)
            do {
                _ = try await fixture.services.lifecycle.start(BotID("m2\(fixture.suffix)")!)
                Issue.record("a bot over the budget started")
            } catch let error as DomainError {
                #expect(error.code == "memory_budget_exceeded")
                #expect(APIError(error).status == .conflict)
            }
            #expect(try TestEnvironment.docker(["inspect", "fta-bot-m2\(fixture.suffix)"]).status != 0)
        }
    }

    @Test("with FTA_BOT_SWAP on, a bot's RAM limit is below its RAM and swap; the proxy lets it through and it complies either way")
    func swappingLimits() async throws {
        let fixture = try await DockerFixture(swap: true)
        try await fixture.run {
            let client = try await fixture.client("s")
            let bot = try await fixture.bot("s1", of: client)
            #expect(bot.state == .running)
            let host = try #require(try inspect(bot.id.containerName)["HostConfig"] as? [String: Any])
            let limits = BotSize.small.swappingLimits
            #expect(host["Memory"] as? Int == limits.ramMB << 20 && host["MemorySwap"] as? Int == limits.ramAndSwapMB << 20)
            #expect(limits.ramMB < limits.ramAndSwapMB)
            let placement = BotPlacement(bot: bot.id, client: client.id, size: .small)
            #expect(try await fixture.services.runtime.status(of: placement)?.deviations == [])
            // A portal restarted with FTA_BOT_SWAP off must not take the bot for tampered with.
            let noSwap = try DockerBotRuntime(proxyURL: try #require(TestEnvironment.dockerURL), options: .init(image: TestEnvironment.testImage),
                                              logger: Logger(label: "test"))
            #expect(try await noSwap.status(of: placement)?.deviations == [])
            // The runtime measures what the bot holds, through the proxy's stats route.
            let usage = try #require(try await fixture.services.runtime.usage(of: placement))
            #expect(usage.workingSetBytes > 0 && usage.workingSetBytes <= usage.memoryBytes)
            #expect(usage.limitBytes == Int64(limits.ramMB) << 20)
        }
    }

    @Test("concurrent starts against the real engine: a budget for 2 starts exactly 2 of 4, and creates no other container")
    func concurrentAdmission() async throws {
        let fixture = try await DockerFixture(budgetMB: 700)
        try await fixture.run {
            let first = try await fixture.client("c"), second = try await fixture.client("d")
            var bots: [BotID] = []
            for (index, client) in [first, first, second, second].enumerated() {
                bots.append(try await fixture.bot("c\(index)", of: client, start: false).id)
            }
            let lifecycle = fixture.services.lifecycle
            let refusals = await withTaskGroup(of: (any Error)?.self) { group in
                for bot in bots { group.addTask { do { _ = try await lifecycle.start(bot); return nil } catch { return error } } }
                var errors: [any Error] = []
                for await error in group { if let error { errors.append(error) } }
                return errors
            }
            #expect(refusals.count == 2, "\(refusals)")
            #expect(refusals.allSatisfy { ($0 as? DomainError)?.code == "memory_budget_exceeded" })
            let containers = try TestEnvironment.docker(["ps", "-aq", "--filter", "name=fta-bot-c", "--filter", "label=fta.client=\(first.id)"]).output
                + "\n" + (try TestEnvironment.docker(["ps", "-aq", "--filter", "name=fta-bot-c", "--filter", "label=fta.client=\(second.id)"]).output)
            #expect(containers.split(separator: "\n").count == 2, "containers: \(containers)")
            #expect(try await fixture.services.database.bots().filter { $0.state == .running }.count == 2)
        }
    }

    /// The test image with a `freqtrade` that allocates without bound: the kernel kills it at
    /// its container's memory limit. Built on the test engine with the legacy builder (no registry).
    func memoryHogImage() throws -> String {
        let script = """
            #!/bin/sh
            # fta test only: a bot that outgrows any memory limit (an awk string doubling forever).
            echo "freqtrade stand-in: allocating until the kernel stops it"
            sleep 2
            exec awk 'BEGIN { s = "x"; while (1) s = s s }'
            """
        let dockerfile = "FROM \(TestEnvironment.testImage)\nCOPY freqtrade /usr/local/bin/freqtrade\nLABEL fta.test=memory-hog\n"
        let context = FileManager.default.temporaryDirectory.appendingPathComponent("fta-hog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: context, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: context) }
        try dockerfile.write(to: context.appendingPathComponent("Dockerfile"), atomically: true, encoding: .utf8)
        let stub = context.appendingPathComponent("freqtrade")
        try script.write(to: stub, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: stub.path)
        let tag = "fta-test/busybox-memory-hog:latest"
        let build = try TestEnvironment.docker(["build", "--force-rm", "-q", "-t", tag, context.path], environment: ["DOCKER_BUILDKIT": "0"])
        try #require(build.status == 0, "building the memory hog image failed: \(build.output)")
        return tag
    }

    @Test("a bot killed for running out of memory is shown as such: lastError and an audit entry while Docker restarts it, failed when it gives up")
    func oomKilled() async throws {
        let image = try memoryHogImage()
        let fixture = try await DockerFixture(image: image)
        try await fixture.run {
            let client = try await fixture.client("o")
            let bot = try await fixture.bot("o1", of: client)
            let name = bot.id.containerName
            func state() throws -> (oom: Bool, restarts: Int, status: String) {
                let container = try inspect(name)
                let state = try #require(container["State"] as? [String: Any])
                return (state["OOMKilled"] as? Bool ?? false, container["RestartCount"] as? Int ?? 0, state["Status"] as? String ?? "")
            }
            // Killed once and restarted by the engine's restart policy.
            var deadline = Date().addingTimeInterval(90)
            while try !(state().oom && state().restarts >= 1), Date() < deadline { try await Task.sleep(for: .milliseconds(300)) }
            let killed = try state()
            try #require(killed.oom, "the hog was never OOM-killed: \(killed)")
            let report = try await fixture.services.reconciler.reconcileOnce()
            #expect(report.oomKilled == [bot.id.rawValue], "\(report)")
            let shown = try #require(try await fixture.services.database.bot(bot.id))
            #expect(shown.lastError?.contains("killed for running out of memory") == true, "\(shown.lastError ?? "nil")")
            let audit = try await fixture.services.database.auditEntries(AuditFilter(action: "bot.oom_killed"))
            #expect(audit.contains { $0.target == bot.id.rawValue && $0.outcome == .failure })
            // Through the API's view too: what the owner's page shows.
            let status = try #require(try await fixture.services.runtime.status(of: BotPlacement(bot: bot.id, client: client.id, size: .small)))
            #expect(status.oomKilled)

            // After the policy's last restart the engine leaves it down: the bot is failed, for memory.
            deadline = Date().addingTimeInterval(120)
            while try state().status != "exited", Date() < deadline { try await Task.sleep(for: .milliseconds(500)) }
            let given = try state()
            try #require(given.status == "exited", "the engine kept restarting the hog: \(given)")
            _ = try await fixture.services.reconciler.reconcileOnce()
            let failed = try #require(try await fixture.services.database.bot(bot.id))
            #expect(failed.state == .failed)
            #expect(failed.lastError?.contains("killed for running out of memory") == true, "\(failed.lastError ?? "nil")")
            let entries = try await fixture.services.database.auditEntries(AuditFilter(action: "bot.oom_killed")).filter { $0.target == bot.id.rawValue }
            #expect(entries.count >= 2 && Set(entries.compactMap(\.detail)).count == entries.count)
        }
    }
}
