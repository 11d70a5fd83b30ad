@testable import DockerRuntime
import DockerEngine
@testable import FargateRuntime
import FTACore
import FTARuntime
import FTARuntimeTesting
import FTATestSupport
import Foundation
import Logging
import Testing

/// The runtimes the contract runs against. The in-memory one always; Docker wherever the
/// test engine is known, Fargate wherever moto is (FTA_TEST_MOTO), and both always under CI,
/// where a missing engine or moto fails the test.
enum RuntimeUnderTest: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case inMemory = "in-memory"
    case docker
    /// The ECS/Fargate runtime against moto in server mode: every call's shape and the
    /// lifecycle, not real containers (moto runs none; its tasks start RUNNING).
    case fargate

    var testDescription: String { rawValue }

    static var available: [RuntimeUnderTest] {
        [.inMemory] + (TestEnvironment.runsDockerTests ? [.docker] : []) + (TestEnvironment.runsMotoTests ? [.fargate] : [])
    }

    func make() throws -> any BotRuntime {
        switch self {
        case .inMemory: return InMemoryBotRuntime()
        case .docker:
            let url = try #require(TestEnvironment.dockerURL, "FTA_TEST_DOCKER_URL is not set: scripts/test starts the proxy")
            return try DockerBotRuntime(proxyURL: url, options: .init(image: TestEnvironment.testImage), logger: Logger(label: "test"))
        case .fargate:
            let moto = try MotoServer.shared()
            return Self.fargate(moto, endpoint: moto.endpoint)
        }
    }

    /// The Fargate runtime on moto's fixture (MotoServer), through `endpoint`.
    static func fargate(_ moto: MotoServer, endpoint: String) -> FargateBotRuntime {
        let credentials = AWSCredentialChain(environment: ["AWS_ACCESS_KEY_ID": MotoServer.accessKeyID, "AWS_SECRET_ACCESS_KEY": MotoServer.secretAccessKey])
        return FargateBotRuntime(
            aws: AWSClient(settings: AWSSettings(region: moto.region, endpoint: endpoint), credentials: credentials, logger: Logger(label: "test")),
            options: .init(cluster: moto.cluster, vpcID: moto.vpc, subnets: [moto.subnet], fileSystemID: moto.fileSystem,
                           executionRoleARN: "arn:aws:iam::123456789012:role/fta-bot-execution", portalSecurityGroup: moto.portalGroup,
                           storageSecurityGroup: moto.storageGroup, image: TestEnvironment.testImage),
            logger: Logger(label: "test"))
    }

    /// The same runtime with nothing answering behind it.
    func makeUnreachable() async throws -> any BotRuntime {
        switch self {
        case .inMemory:
            let runtime = InMemoryBotRuntime()
            await runtime.setReachable(false)
            return runtime
        case .docker:
            // Port 9 (discard) on loopback: nothing listens there.
            return try DockerBotRuntime(proxyURL: "http://127.0.0.1:9", options: .init(image: TestEnvironment.testImage), logger: Logger(label: "test"))
        case .fargate:
            return Self.fargate(try MotoServer.shared(), endpoint: "http://127.0.0.1:9")
        }
    }
}

/// Unique names for one test, and the launch plan of a bot.
struct ContractNames {
    let suffix = String(TestEnvironment.uniqueID("").suffix(6))
    func client(_ name: String) -> ClientID { ClientID("rt\(name)\(suffix)")! }
    func bot(_ name: String) -> BotID { BotID("rt\(name)\(suffix)")! }

    func launch(_ bot: BotID, of client: ClientID) throws -> BotLaunch {
        let settings = try BotDraft(name: "Contract bot", exchange: "binance", pairs: ["BTC/USDT"], stakeCurrency: "USDT", stakeAmount: "50",
                                    dryRunWallet: 1000, maxOpenTrades: 1, timeframe: "5m", strategy: "FtaRsi", size: "small")
            .validated(allowTestStrategies: false)
        return BotLaunch(botID: bot, clientID: client, settings: settings, secrets: BotSecrets.generate(),
                         image: TestEnvironment.testImage, exchangeOverride: nil)
    }

    func placement(_ bot: BotID, of client: ClientID) -> BotPlacement { BotPlacement(bot: bot, client: client, size: .small) }
}

/// What every `BotRuntime` promises, written once and run against each runtime.
@Suite("the BotRuntime contract", .serialized)
struct BotRuntimeContractTests {
    @Test("a launched bot runs, complies with the hardened spec, has an address, and is in the inventory once",
          arguments: RuntimeUnderTest.available)
    func launchRuns(_ kind: RuntimeUnderTest) async throws {
        let runtime = try kind.make()
        let names = ContractNames()
        let client = names.client("a"), bot = names.bot("a")
        defer { Task { try? await runtime.remove(bot: bot, client: client) } }

        try await runtime.launch(try names.launch(bot, of: client))
        let status = try #require(try await runtime.status(of: names.placement(bot, of: client)))
        #expect(status.phase == .running)
        #expect(status.deviations.isEmpty, "deviations: \(status.deviations)")
        #expect(status.address != nil)

        // Launching again replaces the instance: still exactly one.
        try await runtime.launch(try names.launch(bot, of: client))
        let inventory = try await runtime.inventory()
        #expect(inventory.instances.filter { $0.bot == bot }.count == 1)
        #expect(inventory.storage.contains(bot))
        #expect(inventory.networks.contains(client))
        try await runtime.remove(bot: bot, client: client)
    }

    @Test("stop keeps the instance and its storage and reports stopped; stopping again is fine", arguments: RuntimeUnderTest.available)
    func stopKeeps(_ kind: RuntimeUnderTest) async throws {
        let runtime = try kind.make()
        let names = ContractNames()
        let client = names.client("s"), bot = names.bot("s")
        defer { Task { try? await runtime.remove(bot: bot, client: client) } }

        try await runtime.launch(try names.launch(bot, of: client))
        try await runtime.stop(bot: bot)
        let status = try #require(try await runtime.status(of: names.placement(bot, of: client)))
        #expect(status.phase == .stopped, "phase \(status.phase), reason \(status.reason ?? "-")")
        #expect(!status.phase.isAlive)
        #expect(try await runtime.inventory().storage.contains(bot))
        try await runtime.stop(bot: bot)
        try await runtime.remove(bot: bot, client: client)
    }

    @Test("remove takes the instance and storage away, and the network with the client's last bot; absent is fine",
          arguments: RuntimeUnderTest.available)
    func removeLeavesNothing(_ kind: RuntimeUnderTest) async throws {
        let runtime = try kind.make()
        let names = ContractNames()
        let client = names.client("r"), first = names.bot("r1"), second = names.bot("r2")
        defer { Task { try? await runtime.remove(bot: first, client: client); try? await runtime.remove(bot: second, client: client) } }

        try await runtime.launch(try names.launch(first, of: client))
        try await runtime.launch(try names.launch(second, of: client))
        // A stopped bot still holds its client's network.
        try await runtime.stop(bot: second)
        try await runtime.remove(bot: first, client: client)
        var inventory = try await runtime.inventory()
        #expect(!inventory.storage.contains(first))
        #expect(inventory.networks.contains(client), "the network went while a bot of the client still exists")
        #expect(try await runtime.status(of: names.placement(first, of: client)) == nil)

        try await runtime.remove(bot: second, client: client)
        inventory = try await runtime.inventory()
        #expect(!inventory.instances.contains { $0.bot == first || $0.bot == second })
        #expect(!inventory.storage.contains(second))
        #expect(!inventory.networks.contains(client))
        // Absent is fine, and an absent bot has no status and no logs.
        try await runtime.remove(bot: second, client: client)
        try await runtime.stop(bot: second)
        #expect(try await runtime.status(of: names.placement(second, of: client)) == nil)
        #expect(try await runtime.logs(bot: second, tail: 10).isEmpty)
    }

    @Test("concurrent launches of one client's bots all run on one network, and concurrent removals leave none",
          arguments: RuntimeUnderTest.available)
    func concurrentLaunches(_ kind: RuntimeUnderTest) async throws {
        let runtime = try kind.make()
        let names = ContractNames()
        let client = names.client("c")
        let bots = (1...4).map { names.bot("c\($0)") }
        defer { Task { for bot in bots { try? await runtime.remove(bot: bot, client: client) } } }
        let launches = try bots.map { try names.launch($0, of: client) }

        // Before the client's network gate, two of these found no network and both made one:
        // Docker then refused every request naming it ("ambiguous"), and that bot never ran.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for launch in launches { group.addTask { try await runtime.launch(launch) } }
            try await group.waitForAll()
        }
        for bot in bots {
            #expect(try await runtime.status(of: names.placement(bot, of: client))?.phase == .running)
        }
        #expect(try await runtime.inventory().networks.filter { $0 == client }.count == 1)

        try await withThrowingTaskGroup(of: Void.self) { group in
            for bot in bots { group.addTask { try await runtime.remove(bot: bot, client: client) } }
            try await group.waitForAll()
        }
        let inventory = try await runtime.inventory()
        #expect(!inventory.networks.contains(client), "the client's network outlived its last bot")
        #expect(!inventory.instances.contains { instance in bots.contains { instance.namedBot == $0 } })
    }

    @Test("usage: nothing for an absent or stopped bot; a running one's working set is within what it holds",
          arguments: RuntimeUnderTest.available)
    func usage(_ kind: RuntimeUnderTest) async throws {
        let runtime = try kind.make()
        if let memory = runtime as? InMemoryBotRuntime {
            await memory.setUsage(BotUsage(memoryBytes: 40 << 20, workingSetBytes: 30 << 20, limitBytes: 320 << 20))
        }
        let names = ContractNames()
        let client = names.client("m"), bot = names.bot("m")
        defer { Task { try? await runtime.remove(bot: bot, client: client) } }
        #expect(try await runtime.usage(of: names.placement(bot, of: client)) == nil)

        try await runtime.launch(try names.launch(bot, of: client))
        if kind == .fargate {
            // Fargate reports no usage (FargateBotRuntime.usage says why): admission counts the size.
            #expect(try await runtime.usage(of: names.placement(bot, of: client)) == nil)
            try await runtime.remove(bot: bot, client: client)
            return
        }
        let usage = try #require(try await runtime.usage(of: names.placement(bot, of: client)))
        #expect(usage.workingSetBytes > 0 && usage.workingSetBytes <= usage.memoryBytes)
        #expect(usage.limitBytes == Int64(BotSize.small.memoryMB) << 20)
        try await runtime.stop(bot: bot)
        #expect(try await runtime.usage(of: names.placement(bot, of: client)) == nil)
        try await runtime.remove(bot: bot, client: client)
    }

    @Test("a runtime that does not answer says so: unavailable, and not reachable", arguments: RuntimeUnderTest.available)
    func unreachable(_ kind: RuntimeUnderTest) async throws {
        let runtime = try await kind.makeUnreachable()
        let names = ContractNames()
        #expect(await runtime.isReachable() == false)
        let launch = try names.launch(names.bot("u"), of: names.client("u"))
        await #expect {
            try await runtime.launch(launch)
        } throws: { error in
            guard let error = error as? RuntimeError, case .unavailable = error else { return false }
            return error.domainError == DomainError.runtimeUnavailable
        }
        #expect(await runtime.selfCheck(host: false).contains { $0.verdict == .fail })
    }
}

/// Docker's words mapped to the runtime's: the phase and reason of each container state.
@Suite("Docker runtime translation")
struct DockerTranslationTests {
    func state(_ status: String, exit: Int = 0, oom: Bool = false) throws -> ContainerState {
        try JSONDecoder().decode(ContainerState.self, from: Data("""
            {"Status":"\(status)","Running":\(status == "running"),"ExitCode":\(exit),"OOMKilled":\(oom)}
            """.utf8))
    }

    @Test("each Docker state maps to one phase, with a reason for the bad ones")
    func phases() throws {
        #expect(DockerBotRuntime.phase(of: try state("created")).0 == .pending)
        #expect(DockerBotRuntime.phase(of: try state("running")).0 == .running)
        #expect(DockerBotRuntime.phase(of: try state("restarting", exit: 1)).0 == .restarting)
        #expect(DockerBotRuntime.phase(of: try state("exited")).0 == .stopped)
        #expect(DockerBotRuntime.phase(of: try state("exited", exit: 143)).0 == .stopped)
        #expect(DockerBotRuntime.phase(of: try state("exited", exit: 2)) == (.crashed, "exited with code 2"))
        #expect(DockerBotRuntime.phase(of: try state("exited", exit: 137, oom: true)) == (.crashed, "killed: out of memory"))
        #expect(DockerBotRuntime.phase(of: try state("restarting", exit: 137, oom: true)) == (.restarting, "restarting after being killed: out of memory"))
        #expect(DockerBotRuntime.phase(of: try state("dead")).0 == .crashed)
        #expect(DockerBotRuntime.phase(of: try state("paused")).0 == .unknown)
    }

    @Test("memory usage from the engine's stats, cgroup v1 and v2: usage less the inactive page cache")
    func usageFromStats() throws {
        func stats(_ json: String) throws -> ContainerStats { try JSONDecoder().decode(ContainerStats.self, from: Data(json.utf8)) }
        let v1 = try stats(#"{"memory_stats":{"usage":300000000,"limit":335544320,"stats":{"total_inactive_file":50000000,"inactive_file":1,"total_swap":7000000,"hierarchical_memory_limit":9223372036854771712}}}"#)
        #expect(DockerBotRuntime.usage(of: v1) == BotUsage(memoryBytes: 300_000_000, workingSetBytes: 250_000_000, swapBytes: 7_000_000, limitBytes: 335_544_320))
        let v2 = try stats(#"{"memory_stats":{"usage":200000000,"limit":167772160,"stats":{"inactive_file":20000000,"anon":150000000}}}"#)
        #expect(DockerBotRuntime.usage(of: v2) == BotUsage(memoryBytes: 200_000_000, workingSetBytes: 180_000_000, swapBytes: nil, limitBytes: 167_772_160))
        // A container that does not run: the engine sends empty stats.
        #expect(DockerBotRuntime.usage(of: try stats(#"{"memory_stats":{}}"#)) == nil)
    }

    @Test("Docker failures become runtime errors that say what to do, not what Docker said")
    func errors() {
        #expect(DockerBotRuntime.runtimeError(.unreachable("x")) == .unavailable("x"))
        #expect(DockerBotRuntime.runtimeError(.timeout("x")) == .timedOut("x"))
        #expect(DockerBotRuntime.runtimeError(.notFound("no such image")) == .imageMissing("no such image"))
        #expect(DockerBotRuntime.runtimeError(.deniedByProxy("403")) == .refused("403"))
        #expect(DockerBotRuntime.runtimeError(.server(status: 500, message: "boom")).domainError == .runtimeFailed)
    }
}

/// The Fargate runtime against moto, looked at from AWS's side: what each call left in the
/// account, asked with calls the runtime itself does not make for it.
@Suite("Fargate runtime against moto: what AWS holds", .serialized, .enabled(if: TestEnvironment.runsMotoTests))
struct FargateAccountTests {
    struct Look {
        let aws: AWSClient
        let moto: MotoServer

        func ecs<A: Decodable>(_ action: String, _ body: [String: String], as: A.Type) async throws -> A {
            try await aws.json(.ecs, target: FargateBotRuntime.ecsTarget(action), body, as: A.self)
        }
        func activeRevisions(_ bot: BotID) async throws -> [String] {
            struct A: Decodable { var taskDefinitionArns: [String] }
            return try await ecs("ListTaskDefinitions", ["familyPrefix": HardenedFargateTask.family(bot), "status": "ACTIVE"], as: A.self).taskDefinitionArns
        }
        func runningTasks() async throws -> [String] {
            struct A: Decodable { var taskArns: [String] }
            return try await ecs("ListTasks", ["cluster": moto.cluster, "desiredStatus": "RUNNING"], as: A.self).taskArns
        }
        func task(_ arn: String) async throws -> ECSTask? {
            struct R: Encodable { var cluster: String; var tasks: [String]; var include = ["TAGS"] }
            struct A: Decodable { var tasks: [ECSTask] }
            return try await aws.json(.ecs, target: FargateBotRuntime.ecsTarget("DescribeTasks"), R(cluster: moto.cluster, tasks: [arn]), as: A.self).tasks.first
        }
        func accessPoints() async throws -> [JSONValue] {
            let answer: JSONValue = try await aws.rest(.efs, "GET", "/2015-02-01/access-points", query: [("FileSystemId", moto.fileSystem)], as: JSONValue.self)
            return answer["AccessPoints"]?.arrayValue ?? []
        }
        func groups(named name: String) async throws -> [XMLNode] {
            try await aws.query(.ec2, action: "DescribeSecurityGroups", version: FargateBotRuntime.ec2Version,
                                [("Filter.1.Name", "group-name"), ("Filter.1.Value.1", name)]).items("securityGroupInfo")
        }
        func logGroups(_ prefix: String) async throws -> [JSONValue] {
            let answer = try await aws.json(.logs, target: FargateBotRuntime.logsTarget("DescribeLogGroups"), ["logGroupNamePrefix": prefix], as: JSONValue.self)
            return answer["logGroups"]?.arrayValue ?? []
        }
    }

    func setUp() throws -> (FargateBotRuntime, Look) {
        let moto = try MotoServer.shared()
        let runtime = RuntimeUnderTest.fargate(moto, endpoint: moto.endpoint)
        return (runtime, Look(aws: runtime.aws, moto: moto))
    }

    @Test("a launch leaves one tagged task on one active revision, an access point of the bot's own, a group per client, a log group with retention")
    func launchShapes() async throws {
        let (runtime, look) = try setUp()
        let names = ContractNames()
        let client = names.client("f"), bot = names.bot("f")
        defer { Task { try? await runtime.remove(bot: bot, client: client) } }
        try await runtime.launch(try names.launch(bot, of: client))
        try await runtime.launch(try names.launch(bot, of: client))

        // Launching twice: one active revision, one running task, of the latest revision.
        let revisions = try await look.activeRevisions(bot)
        #expect(revisions.count == 1)
        var mine: [ECSTask] = []
        for arn in try await look.runningTasks() { if let task = try await look.task(arn), task.taskDefinitionArn == revisions.first { mine.append(task) } }
        #expect(mine.count == 1)
        let task = try #require(mine.first)
        #expect(task.tags?.dictionary == [FTALabel.managed: "true", FTALabel.client: client.rawValue, FTALabel.bot: bot.rawValue])
        // The interface's address, as DescribeTasks reports it (MotoServer makes it a TEST-NET-1 one).
        #expect(task.privateAddress?.hasPrefix("192.0.2.") == true)

        let points = try await look.accessPoints().filter { point in
            point["Tags"]?.arrayValue?.contains { $0["Key"]?.stringValue == FTALabel.bot && $0["Value"]?.stringValue == bot.rawValue } == true
        }
        #expect(points.count == 1)
        let point = try #require(points.first)
        #expect(point["PosixUser"]?["Uid"]?.doubleValue == 1000 && point["PosixUser"]?["Gid"]?.doubleValue == 1000)
        #expect(point["RootDirectory"]?["Path"]?.stringValue == "/fta/bots/\(bot.rawValue)")
        #expect(point["RootDirectory"]?["CreationInfo"]?["Permissions"]?.stringValue == "0700")

        let groups = try await look.groups(named: client.networkName)
        #expect(groups.count == 1)
        let group = try #require(groups.first)
        // Ingress: TCP 8080 from the portal's group, nothing else (no other client's group, no CIDR).
        let ingress = group.items("ipPermissions")
        #expect(ingress.count == 1)
        #expect(ingress.first?.value("fromPort") == "8080" && ingress.first?.value("toPort") == "8080")
        #expect(ingress.first?.items("groups").compactMap { $0.value("groupId") } == [look.moto.portalGroup])
        #expect(ingress.first?.items("ipRanges").isEmpty == true)
        // Egress: the exchanges' ports to anywhere, NFS to the storage's group; the default allow-all is gone.
        let egress = group.items("ipPermissionsEgress")
        #expect(Set(egress.compactMap { $0.value("fromPort") }) == ["443", "80", "2049"], "\(egress.map { $0.value("ipProtocol") ?? "" })")
        #expect(!egress.contains { $0.value("ipProtocol") == "-1" })
        #expect(egress.first { $0.value("fromPort") == "2049" }?.items("groups").compactMap { $0.value("groupId") } == [look.moto.storageGroup])

        let logs = try await look.logGroups(HardenedFargateTask.logGroup(bot))
        #expect(logs.count == 1 && logs.first?["retentionInDays"]?.doubleValue == 7)
    }

    @Test("remove leaves nothing: no running task, no active revision, no access point, no group, no log group")
    func removeLeavesNothing() async throws {
        let (runtime, look) = try setUp()
        let names = ContractNames()
        let client = names.client("g"), bot = names.bot("g")
        try await runtime.launch(try names.launch(bot, of: client))
        let revision = try #require(try await look.activeRevisions(bot).first)
        try await runtime.remove(bot: bot, client: client)

        #expect(try await look.activeRevisions(bot).isEmpty)
        for arn in try await look.runningTasks() { #expect(try await look.task(arn)?.taskDefinitionArn != revision) }
        #expect(!(try await look.accessPoints()).contains { point in
            point["Tags"]?.arrayValue?.contains { $0["Value"]?.stringValue == bot.rawValue } == true
        })
        #expect(try await look.groups(named: client.networkName).isEmpty)
        #expect(try await look.logGroups(HardenedFargateTask.logGroup(bot)).isEmpty)
    }

    @Test("a bot whose name is another's prefix keeps its revisions when the other is removed")
    func prefixFamilies() async throws {
        let (runtime, look) = try setUp()
        let names = ContractNames()
        let client = names.client("p")
        let short = names.bot("p"), long = BotID(names.bot("p").rawValue + "x")!
        defer { Task { try? await runtime.remove(bot: short, client: client); try? await runtime.remove(bot: long, client: client) } }
        try await runtime.launch(try names.launch(short, of: client))
        try await runtime.launch(try names.launch(long, of: client))
        try await runtime.remove(bot: short, client: client)
        #expect(try await look.activeRevisions(long).count == 1)
        #expect(try await runtime.status(of: names.placement(long, of: client))?.phase == .running)
        #expect(try await look.groups(named: client.networkName).count == 1)
        try await runtime.remove(bot: long, client: client)
    }

    @Test("doctor: the cluster, network and encrypted storage pass; a missing cluster fails")
    func selfCheck() async throws {
        let (runtime, _) = try setUp()
        let checks = await runtime.selfCheck(host: false)
        #expect(checks.filter { $0.verdict == .fail }.isEmpty, "\(checks)")
        #expect(checks.contains { $0.name == "fargate.storage" && $0.verdict == .pass })
        var options = runtime.options
        options.cluster = "no-such-cluster"
        let missing = FargateBotRuntime(aws: runtime.aws, options: options, logger: runtime.logger)
        #expect(await missing.selfCheck(host: false).contains { $0.name == "fargate.cluster" && $0.verdict == .fail })
        #expect(await missing.isReachable() == false)
    }
}
