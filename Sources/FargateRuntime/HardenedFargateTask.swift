import DockerEngine
import DockerRuntime
import FTACore
import FTARuntime
import Foundation

/// A bot's Fargate task definition, translated from the Docker runtime's hardened container
/// spec (`HardenedBotContainer.spec`): the same start script, environment, user, limits and
/// labels, so that the two runtimes cannot drift apart. Each Docker property has a named
/// Fargate equivalent, or a stated reason why Fargate cannot express it (`mapping`, and the
/// table in docs/aws.md).
public enum HardenedFargateTask {
    /// The one container of the task.
    public static let containerName = "bot"
    /// The task volume playing the bot volume's part (EFS, through the bot's access point).
    public static let storageVolume = "bot-storage"
    /// Fargate has no tmpfs: `/tmp` is a volume on the task's own ephemeral storage instead.
    public static let scratchVolume = "scratch"
    public static let awslogsStreamPrefix = "fta"
    /// The EFS access point's owner and root: the bot's uid and gid, one directory per bot.
    public static let storageUID = 1000
    public static func storageRoot(_ bot: BotID) -> String { "/fta/bots/\(bot.rawValue)" }
    public static func family(_ bot: BotID) -> String { "fta-bot-\(bot.rawValue)" }
    public static func logGroup(_ bot: BotID) -> String { "/fta/bots/\(bot.rawValue)" }

    /// Where the task's pieces live in AWS, from the runtime's configuration.
    public struct Placement: Sendable, Equatable {
        public var fileSystemID: String
        public var accessPointID: String
        public var executionRoleARN: String?
        public var region: String
        public var cpuArchitecture: String

        public init(fileSystemID: String, accessPointID: String, executionRoleARN: String?, region: String, cpuArchitecture: String = "X86_64") {
            self.fileSystemID = fileSystemID
            self.accessPointID = accessPointID
            self.executionRoleARN = executionRoleARN
            self.region = region
            self.cpuArchitecture = cpuArchitecture
        }
    }

    /// A task size Fargate accepts: CPU units and MiB.
    public struct TaskSize: Sendable, Equatable {
        public var cpu: Int
        public var memoryMB: Int
    }

    /// Fargate's valid CPU and memory pairs (Linux): for each CPU value, the memory range and its step.
    static let validSizes: [(cpu: Int, memory: ClosedRange<Int>, step: Int)] = [
        (256, 512...2048, 512), (512, 1024...4096, 1024), (1024, 2048...8192, 1024),
        (2048, 4096...16384, 1024), (4096, 8192...30720, 1024), (8192, 16384...61440, 4096), (16384, 32768...122880, 8192),
    ]

    /// The smallest Fargate task that holds a container of `cpuUnits` and `memoryMB`. Fargate
    /// sells fixed pairs only, so the task is rounded up (a small bot's 0.5 vCPU and 320 MiB
    /// become a 0.5 vCPU, 1 GiB task); the container's own limits stay the bot's size, so the bot
    /// is killed at the same memory as on Docker, and the rest of the task is headroom AWS bills.
    public static func taskSize(cpuUnits: Int, memoryMB: Int) -> TaskSize? {
        for size in validSizes where size.cpu >= cpuUnits {
            var memory = size.memory.lowerBound
            while memory < memoryMB { memory += size.step }
            if memory <= size.memory.upperBound { return TaskSize(cpu: size.cpu, memoryMB: memory) }
        }
        return nil
    }

    /// CPU units (1024 per vCPU) of a nano-CPU limit, rounded up.
    static func cpuUnits(nanoCPUs: Int64) -> Int { Int((nanoCPUs * 1024 + 999_999_999) / 1_000_000_000) }

    /// The task definition of a bot, from its Docker spec. The spec is rendered without swap:
    /// Fargate has none, so the size's all-in-RAM limits are the only ones it can keep.
    public static func taskDefinition(for launch: BotLaunch, placement: Placement) throws(TranslationError) -> TaskDefinition {
        try translate(HardenedBotContainer.spec(for: launch, swap: false), bot: launch.botID, client: launch.clientID, placement: placement)
    }

    /// Why a Docker spec could not become a task definition: a property Fargate cannot express
    /// and fta must not silently drop.
    public struct TranslationError: Error, Sendable, Equatable, CustomStringConvertible {
        public var problem: String
        public var description: String { "cannot run this bot spec on Fargate: \(problem)" }
    }

    /// The translation, property by property. Anything in the spec it does not know how to carry
    /// over is refused, so a new hardening property on Docker fails here instead of vanishing.
    public static func translate(_ spec: ContainerCreate, bot: BotID, client: ClientID, placement: Placement) throws(TranslationError) -> TaskDefinition {
        let host = spec.HostConfig
        func refuse(_ problem: String) -> TranslationError { TranslationError(problem: problem) }
        guard host.Privileged != true else { throw refuse("privileged") }
        guard (host.CapAdd ?? []).isEmpty else { throw refuse("adds capabilities") }
        guard (host.Binds ?? []).isEmpty, (host.Devices ?? []).isEmpty else { throw refuse("host paths or devices") }
        guard host.PublishAllPorts != true, (host.PortBindings ?? [:]).isEmpty, (spec.ExposedPorts ?? [:]).isEmpty else { throw refuse("published ports") }
        guard [host.PidMode, host.IpcMode, host.UsernsMode].allSatisfy({ $0 == nil || $0 == "" }) else { throw refuse("shared namespaces") }
        guard let memory = host.Memory, memory > 0, let nanoCPUs = host.NanoCpus, nanoCPUs > 0 else { throw refuse("no memory or CPU limit") }
        guard host.MemorySwap == nil || host.MemorySwap == memory else { throw refuse("swap (Fargate has none)") }
        let volumeMounts = host.Mounts ?? []
        guard volumeMounts.count == 1, let storage = volumeMounts.first, storage.Type == "volume", let storageTarget = storage.Target else {
            throw refuse("mounts other than the bot's one volume")
        }
        let memoryMB = Int(memory >> 20)
        let cpu = cpuUnits(nanoCPUs: nanoCPUs)
        guard let size = taskSize(cpuUnits: cpu, memoryMB: memoryMB) else { throw refuse("no Fargate size holds \(cpu) CPU units and \(memoryMB) MiB") }

        // Docker's tmpfs mounts become task-storage volumes (Fargate has no tmpfs).
        let scratch = (host.Tmpfs ?? [:]).keys.sorted()
        guard scratch.count <= 1 else { throw refuse("more than one tmpfs") }
        var mountPoints = [MountPoint(sourceVolume: storageVolume, containerPath: storageTarget, readOnly: storage.ReadOnly == true)]
        var volumes = [Volume(name: storageVolume, efsVolumeConfiguration: EFSVolumeConfiguration(
            fileSystemId: placement.fileSystemID, rootDirectory: "/", transitEncryption: "ENABLED",
            authorizationConfig: EFSAuthorization(accessPointId: placement.accessPointID, iam: "DISABLED")))]
        if let path = scratch.first {
            mountPoints.append(MountPoint(sourceVolume: scratchVolume, containerPath: path, readOnly: false))
            volumes.append(Volume(name: scratchVolume))
        }

        let labels = spec.Labels ?? [:]
        let environment = (spec.Env ?? []).map { entry -> KeyValue in
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return KeyValue(name: String(parts[0]), value: parts.count > 1 ? String(parts[1]) : "")
        }
        let health = spec.Healthcheck.flatMap { check -> HealthCheck? in
            guard let test = check.Test, !test.isEmpty else { return nil }
            return HealthCheck(command: test, interval: check.Interval.map { Int($0 / 1_000_000_000) },
                               timeout: check.Timeout.map { Int($0 / 1_000_000_000) }, retries: check.Retries,
                               // ECS allows at most 300 s of start period.
                               startPeriod: check.StartPeriod.map { min(300, Int($0 / 1_000_000_000)) })
        }
        let container = ContainerDefinition(
            name: containerName,
            image: spec.Image,
            essential: true,
            user: spec.User,
            readonlyRootFilesystem: host.ReadonlyRootfs == true,
            privileged: false,
            entryPoint: spec.Entrypoint,
            command: spec.Cmd,
            environment: environment,
            dockerLabels: labels,
            memory: memoryMB,
            cpu: cpu,
            linuxParameters: LinuxParameters(capabilities: Capabilities(add: nil, drop: host.CapDrop), initProcessEnabled: host.Init == true),
            // No cgroup pids limit on Fargate: RLIMIT_NPROC for the bot's uid is the nearest
            // thing (every process of the task runs as that uid, in the task's own VM).
            ulimits: host.PidsLimit.map { [Ulimit(name: "nproc", softLimit: Int($0), hardLimit: Int($0))] },
            mountPoints: mountPoints,
            portMappings: [],
            logConfiguration: LogConfiguration(logDriver: "awslogs", options: [
                "awslogs-group": logGroup(bot), "awslogs-region": placement.region, "awslogs-stream-prefix": awslogsStreamPrefix,
            ]),
            healthCheck: health,
            // ECS waits at most 120 s before it kills the container.
            stopTimeout: spec.StopTimeout.map { min(120, $0) }
        )
        return TaskDefinition(
            family: family(bot),
            requiresCompatibilities: ["FARGATE"],
            networkMode: "awsvpc",
            cpu: String(size.cpu),
            memory: String(size.memoryMB),
            executionRoleArn: placement.executionRoleARN,
            taskRoleArn: nil,
            runtimePlatform: RuntimePlatform(operatingSystemFamily: "LINUX", cpuArchitecture: placement.cpuArchitecture),
            containerDefinitions: [container],
            volumes: volumes,
            tags: labels.sorted { $0.key < $1.key }.map { Tag(key: $0.key, value: $0.value) }
        )
    }

    /// Each property the Docker spec sets, by its Engine API name, and what stands for it on
    /// Fargate: a named equivalent, or why Fargate cannot express it. The mapping test fails on a
    /// spec property missing here; docs/aws.md shows the same table.
    public static let mapping: [(docker: String, fargate: String)] = [
        ("Image", "containerDefinitions[0].image (the same pinned image, from ECR or a registry the execution role can pull)"),
        ("User", "user \"1000:1000\""),
        ("Entrypoint", "entryPoint, unchanged"),
        ("Cmd", "command: the same start script (dry-run forced on the command line)"),
        ("Env", "environment: the same variables (rendered config with dry_run true, strategy, HOME); readable with ecs:DescribeTaskDefinition, like the container's with docker inspect"),
        ("Labels", "dockerLabels, and the same fta.managed/fta.client/fta.bot as tags on the task definition, task, access point, log group and security group"),
        ("Healthcheck", "healthCheck: the same probe; start period capped at ECS's 300 s"),
        ("StopTimeout", "stopTimeout (ECS's maximum is 120 s)"),
        ("HostConfig.ReadonlyRootfs", "readonlyRootFilesystem true"),
        ("HostConfig.CapDrop", "linuxParameters.capabilities.drop [\"ALL\"]; privileged false; nothing added"),
        ("HostConfig.SecurityOpt", "cannot: no-new-privileges has no task definition field (dockerSecurityOptions is not supported on Fargate). With every capability dropped and a non-root user, no setuid binary can gain one inside the task's own VM"),
        ("HostConfig.PidsLimit", "ulimits nproc 256 (soft and hard): the nearest Fargate has, per uid rather than per cgroup; every process of the task runs as uid 1000 in the task's own VM"),
        ("HostConfig.Memory", "container memory (hard limit) = the size's MiB, killed over it as on Docker; the task's memory is the smallest valid Fargate size above it, rounded up (small: 0.5 vCPU/1 GiB, medium and large: 1 vCPU/2 GiB)"),
        ("HostConfig.MemorySwap", "cannot: Fargate has no swap, so the size's all-in-RAM limits always apply (FTA_BOT_SWAP has no effect)"),
        ("HostConfig.NanoCpus", "container cpu units (1024 per vCPU, rounded up), within the task's rounded-up cpu"),
        ("HostConfig.Tmpfs", "cannot as tmpfs (Fargate has none): /tmp is a volume on the task's ephemeral storage, gone with the task, encrypted by Fargate, without noexec"),
        ("HostConfig.Mounts", "one EFS volume through the bot's own access point (uid/gid 1000, root /fta/bots/<bot>), transit encryption on, at /freqtrade/user_data"),
        ("HostConfig.NetworkMode", "networkMode awsvpc: the task's own network interface in the client's security group fta-client-<client>"),
        ("HostConfig.LogConfig", "logConfiguration awslogs into /fta/bots/<bot>, whose retention fta sets (FTA_AWS_LOG_RETENTION_DAYS) instead of json-file's 3 x 10 MB"),
        ("HostConfig.RestartPolicy", "none: a task started by RunTask is never restarted by ECS (an ECS service would restart forever, without Docker's limit of 5). fta's reconciler sees the crashed task and marks the bot failed with its last output; the owner starts it again"),
        ("HostConfig.Init", "linuxParameters.initProcessEnabled true"),
        ("NetworkingConfig", "the task's one network interface, in one security group: ingress TCP 8080 from the portal's group only"),
    ]

    /// How a registered task definition departs from the hardened one of its bot; empty when it complies.
    public static func deviations(of definition: TaskDefinition, bot: BotID, client: ClientID, size: BotSize, image: String) -> [String] {
        var problems: [String] = []
        func expect(_ ok: Bool, _ problem: String) { if !ok { problems.append(problem) } }
        expect(definition.containerDefinitions.count == 1, "has \(definition.containerDefinitions.count) containers instead of one")
        expect(definition.networkMode == "awsvpc", "network mode is \(definition.networkMode ?? "?")")
        expect(definition.taskRoleArn == nil || definition.taskRoleArn == "", "has a task role (AWS credentials inside the bot)")
        expect(definition.pidMode == nil && definition.ipcMode == nil, "shares a namespace")
        guard let container = definition.containerDefinitions.first else { return problems }
        expect(container.user == HardenedBotContainer.user, "runs as '\(container.user ?? "")' instead of \(HardenedBotContainer.user)")
        expect(container.image == image, "runs image \(container.image) instead of \(image)")
        expect(container.readonlyRootFilesystem == true, "root filesystem is writable")
        expect(container.privileged != true, "is privileged")
        let caps = container.linuxParameters?.capabilities
        expect((caps?.drop ?? []).contains { $0.uppercased() == "ALL" }, "does not drop all capabilities")
        expect((caps?.add ?? []).isEmpty, "adds capabilities \(caps?.add ?? [])")
        expect(container.linuxParameters?.initProcessEnabled == true, "runs without an init process")
        expect((container.linuxParameters?.devices ?? []).isEmpty, "has devices")
        expect((container.dockerSecurityOptions ?? []).isEmpty, "has security options of its own")
        expect(container.memory == size.memoryMB, "memory limit differs from its size")
        expect(container.cpu == cpuUnits(nanoCPUs: Int64(size.nanoCPUs)), "CPU limit differs from its size")
        expect(container.ulimits?.contains { $0.name == "nproc" && $0.hardLimit == Int(HardenedBotContainer.pidsLimit) } == true,
               "process limit is not \(HardenedBotContainer.pidsLimit)")
        expect((container.portMappings ?? []).isEmpty, "publishes ports")
        expect((container.links ?? []).isEmpty && (container.volumesFrom ?? []).isEmpty, "reaches into other containers")
        let volumes = Dictionary((definition.volumes ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let storageMounts = (container.mountPoints ?? []).filter { volumes[$0.sourceVolume]?.efsVolumeConfiguration != nil }
        let efs = storageMounts.first.flatMap { volumes[$0.sourceVolume]?.efsVolumeConfiguration }
        expect(storageMounts.count == 1 && storageMounts.first?.containerPath == BotPaths.userData
               && efs?.authorizationConfig?.accessPointId?.isEmpty == false && efs?.transitEncryption == "ENABLED",
               "storage differs from its one access point")
        expect((definition.volumes ?? []).allSatisfy { $0.host?.sourcePath == nil }, "mounts a host path")
        let others = (container.mountPoints ?? []).filter { volumes[$0.sourceVolume]?.efsVolumeConfiguration == nil }
        expect(others.allSatisfy { $0.containerPath == "/tmp" }, "mounts other volumes")
        expect(container.logConfiguration?.logDriver == "awslogs" && container.logConfiguration?.options?["awslogs-group"] == logGroup(bot),
               "logs elsewhere than its log group")
        let labels = container.dockerLabels ?? [:]
        expect(labels[FTALabel.bot] == bot.rawValue && labels[FTALabel.client] == client.rawValue, "labels do not match its bot")
        return problems
    }
}
