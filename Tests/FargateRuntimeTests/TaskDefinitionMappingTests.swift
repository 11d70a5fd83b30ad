import DockerEngine
import DockerRuntime
@testable import FargateRuntime
import FTACore
import FTARuntime
import Foundation
import Testing

/// The rendered task definition, checked field by field against the Docker spec's hardening
/// (HardenedBotContainer.spec): each property has a named equivalent, or a stated reason.
@Suite("Fargate task definition: the Docker spec's hardening, property by property")
struct TaskDefinitionMappingTests {
    static let placement = HardenedFargateTask.Placement(fileSystemID: "fs-0123456789abcdef0", accessPointID: "fsap-0123456789abcdef0",
                                                          executionRoleARN: "arn:aws:iam::123456789012:role/fta-exec", region: "eu-west-1")

    static func launch(size: String = "small") throws -> BotLaunch {
        let settings = try BotDraft(name: "Mapped bot", exchange: "binance", pairs: ["BTC/USDT"], stakeCurrency: "USDT", stakeAmount: "50",
                                    dryRunWallet: 1000, maxOpenTrades: 1, timeframe: "5m", strategy: "FtaRsi", size: size)
            .validated(allowTestStrategies: false)
        return BotLaunch(botID: BotID("mapped1")!, clientID: ClientID("clienta")!, settings: settings, secrets: BotSecrets.generate(),
                         image: "freqtradeorg/freqtrade:2026.9", exchangeOverride: nil)
    }

    @Test("every property the Docker spec sets has an entry in the mapping table")
    func everyPropertyMapped() throws {
        let spec = HardenedBotContainer.spec(for: try Self.launch())
        let json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(spec)) as? [String: Any])
        let host = try #require(json["HostConfig"] as? [String: Any])
        var set = Set(json.keys.filter { $0 != "HostConfig" && !(json[$0] is NSNull) })
        set.formUnion(host.keys.filter { !(host[$0] is NSNull) }.map { "HostConfig.\($0)" })
        let mapped = Set(HardenedFargateTask.mapping.map(\.docker))
        #expect(set.subtracting(mapped).isEmpty, "spec properties without a Fargate mapping: \(set.subtracting(mapped).sorted())")
        #expect(HardenedFargateTask.mapping.allSatisfy { !$0.fargate.isEmpty })
    }

    @Test("user, read-only root, no privilege, all capabilities dropped, init: as the Docker spec")
    func hardening() throws {
        let launch = try Self.launch()
        let spec = HardenedBotContainer.spec(for: launch)
        let definition = try HardenedFargateTask.taskDefinition(for: launch, placement: Self.placement)
        let container = try #require(definition.containerDefinitions.first)
        #expect(definition.containerDefinitions.count == 1)
        #expect(container.user == spec.User && container.user == "1000:1000")
        #expect(container.readonlyRootFilesystem == true && spec.HostConfig.ReadonlyRootfs == true)
        #expect(container.privileged == false)
        #expect(container.linuxParameters?.capabilities?.drop == ["ALL"] && spec.HostConfig.CapDrop == ["ALL"])
        #expect(container.linuxParameters?.capabilities?.add == nil)
        #expect(container.linuxParameters?.initProcessEnabled == true && spec.HostConfig.Init == true)
        // no-new-privileges: Fargate has no field for it (the mapping says why); nothing else may stand in its way.
        #expect(container.dockerSecurityOptions == nil)
        #expect(spec.HostConfig.SecurityOpt == ["no-new-privileges:true"])
        // The pids limit becomes the nproc limit of the same number.
        #expect(container.ulimits == [Ulimit(name: "nproc", softLimit: Int(HardenedBotContainer.pidsLimit), hardLimit: Int(HardenedBotContainer.pidsLimit))])
        // The bot gets no AWS credentials of its own.
        #expect(definition.taskRoleArn == nil)
        #expect(definition.executionRoleArn == Self.placement.executionRoleARN)
    }

    @Test("the same start script, environment (dry-run config) and labels as the Docker container")
    func sameProgram() throws {
        let launch = try Self.launch()
        let spec = HardenedBotContainer.spec(for: launch)
        let container = try #require(try HardenedFargateTask.taskDefinition(for: launch, placement: Self.placement).containerDefinitions.first)
        #expect(container.image == launch.image)
        #expect(container.entryPoint == spec.Entrypoint && container.command == spec.Cmd)
        #expect(container.command?.first?.contains("trade --dry-run") == true)
        #expect(container.environment?.map { "\($0.name)=\($0.value)" } == spec.Env)
        let config = try #require(container.environment?.first { $0.name == "FTA_CONFIG" }?.value)
        let rendered = try #require(try JSONSerialization.jsonObject(with: Data(config.utf8)) as? [String: Any])
        #expect(rendered["dry_run"] as? Bool == true)
        #expect(container.dockerLabels == spec.Labels)
        #expect(container.healthCheck?.command == spec.Healthcheck?.Test)
        #expect(container.healthCheck?.startPeriod == 120 && container.healthCheck?.interval == 30)
        #expect(container.stopTimeout == HardenedBotContainer.stopGraceSeconds)
    }

    @Test("memory and CPU from the size: the container keeps the bot's limits, the task rounds up to a valid Fargate size")
    func sizes() throws {
        let expected: [(String, BotSize, cpu: String, memory: String, units: Int)] = [
            ("small", .small, "512", "1024", 512), ("medium", .medium, "1024", "2048", 768), ("large", .large, "1024", "2048", 1024),
        ]
        for (name, size, cpu, memory, units) in expected {
            let definition = try HardenedFargateTask.taskDefinition(for: try Self.launch(size: name), placement: Self.placement)
            let container = try #require(definition.containerDefinitions.first)
            #expect(container.memory == size.memoryMB, "\(name)")
            #expect(container.cpu == units, "\(name)")
            #expect(definition.cpu == cpu && definition.memory == memory, "\(name): \(definition.cpu ?? "") / \(definition.memory ?? "")")
        }
        // Fargate's table: each answer is a valid pair, the smallest that holds the container.
        #expect(HardenedFargateTask.taskSize(cpuUnits: 256, memoryMB: 320) == .init(cpu: 256, memoryMB: 512))
        #expect(HardenedFargateTask.taskSize(cpuUnits: 256, memoryMB: 2100) == .init(cpu: 512, memoryMB: 3072))
        #expect(HardenedFargateTask.taskSize(cpuUnits: 1024, memoryMB: 9000) == .init(cpu: 2048, memoryMB: 9216))
        #expect(HardenedFargateTask.taskSize(cpuUnits: 20000, memoryMB: 512) == nil)
    }

    @Test("no ports; one storage mount (the bot's access point, encrypted in transit) and /tmp on task storage; awsvpc; awslogs")
    func storageNetworkLogs() throws {
        let definition = try HardenedFargateTask.taskDefinition(for: try Self.launch(), placement: Self.placement)
        let container = try #require(definition.containerDefinitions.first)
        #expect(container.portMappings == [])
        #expect(definition.networkMode == "awsvpc" && definition.requiresCompatibilities == ["FARGATE"])
        let storage = container.mountPoints?.filter { $0.containerPath == BotPaths.userData } ?? []
        #expect(storage.count == 1)
        let volume = try #require(definition.volumes?.first { $0.name == storage.first?.sourceVolume })
        #expect(volume.efsVolumeConfiguration?.authorizationConfig?.accessPointId == Self.placement.accessPointID)
        #expect(volume.efsVolumeConfiguration?.fileSystemId == Self.placement.fileSystemID)
        #expect(volume.efsVolumeConfiguration?.transitEncryption == "ENABLED")
        #expect(container.mountPoints?.map(\.containerPath).sorted() == ["/freqtrade/user_data", "/tmp"])
        #expect(definition.volumes?.first { $0.name == HardenedFargateTask.scratchVolume }?.efsVolumeConfiguration == nil)
        #expect(container.logConfiguration?.logDriver == "awslogs")
        #expect(container.logConfiguration?.options?["awslogs-group"] == "/fta/bots/mapped1")
        #expect(definition.tags?.dictionary == [FTALabel.managed: "true", FTALabel.client: "clienta", FTALabel.bot: "mapped1"])
    }

    @Test("the rendered definition has no deviations; each weakened copy is reported")
    func deviations() throws {
        let definition = try HardenedFargateTask.taskDefinition(for: try Self.launch(), placement: Self.placement)
        func check(_ d: TaskDefinition) -> [String] {
            HardenedFargateTask.deviations(of: d, bot: BotID("mapped1")!, client: ClientID("clienta")!, size: .small, image: "freqtradeorg/freqtrade:2026.9")
        }
        #expect(check(definition).isEmpty, "\(check(definition))")
        let mutations: [(String, (inout TaskDefinition) -> Void)] = [
            ("root", { $0.containerDefinitions[0].user = "0" }),
            ("writable", { $0.containerDefinitions[0].readonlyRootFilesystem = false }),
            ("privileged", { $0.containerDefinitions[0].privileged = true }),
            ("caps kept", { $0.containerDefinitions[0].linuxParameters?.capabilities?.drop = [] }),
            ("caps added", { $0.containerDefinitions[0].linuxParameters?.capabilities?.add = ["NET_ADMIN"] }),
            ("no init", { $0.containerDefinitions[0].linuxParameters?.initProcessEnabled = false }),
            ("memory", { $0.containerDefinitions[0].memory = 4096 }),
            ("cpu", { $0.containerDefinitions[0].cpu = 2048 }),
            ("no nproc", { $0.containerDefinitions[0].ulimits = nil }),
            ("port", { $0.containerDefinitions[0].portMappings = [PortMapping(containerPort: 8080, hostPort: 8080)] }),
            ("task role", { $0.taskRoleArn = "arn:aws:iam::1:role/x" }),
            ("host path", { $0.volumes?.append(Volume(name: "h", host: HostVolume(sourcePath: "/"))) }),
            ("other mount", { $0.containerDefinitions[0].mountPoints?.append(MountPoint(sourceVolume: "scratch", containerPath: "/etc")) }),
            ("no access point", { $0.volumes?[0].efsVolumeConfiguration?.authorizationConfig = nil }),
            ("plain NFS", { $0.volumes?[0].efsVolumeConfiguration?.transitEncryption = "DISABLED" }),
            ("bridge", { $0.networkMode = "bridge" }),
            ("second container", { $0.containerDefinitions.append($0.containerDefinitions[0]) }),
            ("image", { $0.containerDefinitions[0].image = "evil/freqtrade" }),
            ("labels", { $0.containerDefinitions[0].dockerLabels?[FTALabel.client] = "clientb" }),
            ("logs", { $0.containerDefinitions[0].logConfiguration = LogConfiguration(logDriver: "splunk", options: [:]) }),
            ("security options", { $0.containerDefinitions[0].dockerSecurityOptions = ["apparmor:unconfined"] }),
            ("pid mode", { $0.pidMode = "task" }),
        ]
        for (name, mutate) in mutations {
            var copy = definition
            mutate(&copy)
            #expect(!check(copy).isEmpty, "\(name) was not reported")
        }
    }

    @Test("a Docker spec property Fargate cannot carry is refused, not dropped")
    func refusesUntranslatable() throws {
        let launch = try Self.launch()
        let base = HardenedBotContainer.spec(for: launch)
        let mutations: [(inout ContainerCreate) -> Void] = [
            { $0.HostConfig.Privileged = true },
            { $0.HostConfig.CapAdd = ["SYS_ADMIN"] },
            { $0.HostConfig.Binds = ["/:/host"] },
            { $0.HostConfig.PublishAllPorts = true },
            { $0.HostConfig.PidMode = "host" },
            { $0.HostConfig.MemorySwap = ($0.HostConfig.Memory ?? 0) * 2 },
            { $0.HostConfig.Mounts = [] },
        ]
        for mutate in mutations {
            var spec = base
            mutate(&spec)
            #expect(throws: HardenedFargateTask.TranslationError.self) {
                try HardenedFargateTask.translate(spec, bot: launch.botID, client: launch.clientID, placement: Self.placement)
            }
        }
        // A host that lets bots swap still renders the all-in-RAM limits on Fargate.
        #expect(HardenedBotContainer.spec(for: launch, swap: true).HostConfig.MemorySwap != HardenedBotContainer.spec(for: launch, swap: true).HostConfig.Memory)
        #expect(try HardenedFargateTask.taskDefinition(for: launch, placement: Self.placement).containerDefinitions[0].memory == BotSize.small.memoryMB)
    }
}

/// ECS's words mapped to the runtime's.
@Suite("Fargate runtime translation")
struct FargateTranslationTests {
    func task(_ last: String, desired: String = "RUNNING", exit: Int? = nil, reason: String? = nil, containerReason: String? = nil, stopCode: String? = nil) -> ECSTask {
        ECSTask(taskArn: "arn:aws:ecs:eu-west-1:1:task/c/abc", lastStatus: last, desiredStatus: desired, stopCode: stopCode, stoppedReason: reason,
                containers: [ECSContainer(name: "bot", lastStatus: last, exitCode: exit, reason: containerReason)])
    }

    @Test("each ECS task state maps to one phase; a crash, an OOM kill and a stop on request are told apart")
    func phases() {
        for state in ["PROVISIONING", "PENDING", "ACTIVATING"] { #expect(FargateBotRuntime.phase(of: task(state)).0 == .pending) }
        #expect(FargateBotRuntime.phase(of: task("RUNNING")).0 == .running)
        #expect(FargateBotRuntime.phase(of: task("STOPPED", exit: 0)) == (.stopped, nil))
        #expect(FargateBotRuntime.phase(of: task("STOPPED", exit: 2)) == (.crashed, "exited with code 2"))
        #expect(FargateBotRuntime.phase(of: task("STOPPED", exit: 137, containerReason: "OutOfMemoryError: Container killed due to memory usage")) == (.crashed, "killed: out of memory"))
        #expect(FargateBotRuntime.isOOM(task("STOPPED", exit: 137, containerReason: "OutOfMemoryError: Container killed due to memory usage")))
        #expect(FargateBotRuntime.phase(of: task("STOPPED", exit: 143, reason: FargateBotRuntime.stopReason)).0 == .stopped)
        #expect(FargateBotRuntime.phase(of: task("STOPPED", exit: 143, stopCode: "UserInitiated")).0 == .stopped)
        #expect(FargateBotRuntime.phase(of: task("STOPPED", reason: "CannotPullContainerError: pull access denied", stopCode: "TaskFailedToStart")).0 == .crashed)
        #expect(FargateBotRuntime.phase(of: task("DEPROVISIONING", exit: 1)).0 == .crashed)
        #expect(FargateBotRuntime.phase(of: task("SOMETHING")).0 == .unknown)
    }

    @Test("AWS errors of each protocol are read: JSON __type, REST-JSON ErrorCode, Query XML")
    func errors() {
        #expect(AWSClient.error(status: 400, body: Data(#"{"__type":"com.amazonaws.ecs#ClientException","message":"no"}"#.utf8)) == AWSError(status: 400, code: "ClientException", message: "no"))
        #expect(AWSClient.error(status: 404, body: Data(#"{"ErrorCode":"AccessPointNotFound","Message":"gone"}"#.utf8)).code == "AccessPointNotFound")
        let xml = "<Response><Errors><Error><Code>InvalidGroup.NotFound</Code><Message>The group does not exist</Message></Error></Errors><RequestID>1</RequestID></Response>"
        #expect(AWSClient.error(status: 400, body: Data(xml.utf8)) == AWSError(status: 400, code: "InvalidGroup.NotFound", message: "The group does not exist"))
        #expect(FargateBotRuntime.runtimeError(.aws(AWSError(status: 400, code: "AccessDeniedException", message: ""))) == .refused("AWS 400 AccessDeniedException: "))
        #expect(FargateBotRuntime.runtimeError(.transport(.unreachable("x"))) == .unavailable("unreachable(\"x\")"))
        #expect(FargateBotRuntime.runtimeError(.transport(.timeout("x"))) == .timedOut("x"))
    }

    @Test("task definition ARNs name their family exactly")
    func families() {
        #expect(FargateBotRuntime.family(ofDefinition: "arn:aws:ecs:eu-west-1:1:task-definition/fta-bot-ab:3") == "fta-bot-ab")
        #expect(FargateBotRuntime.family(ofDefinition: "arn:aws:ecs:eu-west-1:1:task-definition/fta-bot-abc:12") != "fta-bot-ab")
    }

    @Test("credentials: the environment first, the secret hidden; role answers decoded with their expiry")
    func credentials() async throws {
        let chain = AWSCredentialChain(environment: ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_SESSION_TOKEN": "TOK",
                                                     "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/x"],
                                       endpoints: .init(container: "http://127.0.0.1:9", instanceMetadata: "http://127.0.0.1:9"))
        let found = try await chain.credentials()
        #expect(found == AWSCredentials(accessKeyID: "AKID", secretAccessKey: "SECRET", sessionToken: "TOK"))
        #expect(!found.description.contains("SECRET"))
        let role = try AWSCredentialChain.decodeRoleCredentials(Data(#"{"AccessKeyId":"ASIA","SecretAccessKey":"S","Token":"T","Expiration":"2030-01-02T03:04:05Z"}"#.utf8), source: "test")
        #expect(role.sessionToken == "T" && role.expiration == Date(timeIntervalSince1970: 1_893_553_445))
        // Nothing anywhere: a clear "none", not a hang (nothing listens on port 9).
        let empty = AWSCredentialChain(environment: [:], endpoints: .init(container: "http://127.0.0.1:9", instanceMetadata: "http://127.0.0.1:9"))
        await #expect(throws: CredentialsError.self) { try await empty.credentials() }
    }
}
