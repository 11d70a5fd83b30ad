import DockerRuntime
import FTACore
import FTARuntime
import Foundation
import Logging

/// The ECS/Fargate runtime: one Fargate task per bot, from a task definition translated from the
/// Docker runtime's hardened spec (HardenedFargateTask). Around each bot it owns what Docker's
/// runtime owns around a container:
///
/// | Docker | Fargate |
/// | --- | --- |
/// | container `fta-bot-<bot>` | task definition family `fta-bot-<bot>` (the instance) and its latest task (its run) |
/// | volume `fta-bot-<bot>` | EFS access point tagged `fta.bot=<bot>`, root `/fta/bots/<bot>`, uid/gid 1000 |
/// | network `fta-client-<client>` | security group `fta-client-<client>` in the configured VPC |
/// | json-file log | CloudWatch log group `/fta/bots/<bot>`, with a retention |
///
/// Every object carries the `fta.managed`, `fta.client` and `fta.bot` tags, for the inventory and
/// orphan cleanup. moto (the local stand-in the tests use) runs no containers: its tasks go
/// straight to RUNNING, so what a real container does is not proven there (docs/aws.md).
public struct FargateBotRuntime: BotRuntime {
    /// Where bots run in the account, from the FTA_AWS_* settings.
    public struct Options: Sendable {
        public var cluster: String
        public var vpcID: String
        public var subnets: [String]
        /// The EFS file system the bots' access points are made on.
        public var fileSystemID: String
        /// The role ECS uses to pull the image and write logs; the bot itself gets no role.
        public var executionRoleARN: String?
        /// The portal's security group: the only source bots accept connections from (TCP 8080).
        public var portalSecurityGroup: String?
        /// The EFS mount targets' group: bots may reach NFS (TCP 2049) there and nowhere else.
        public var storageSecurityGroup: String?
        /// Whether tasks get a public IPv4 address (a subnet without a NAT gateway needs it to reach the exchanges).
        public var assignPublicIP: Bool
        public var logRetentionDays: Int
        /// The image of a bot pinned to none (BotPlacement.image).
        public var image: String
        public var cpuArchitecture: String

        public init(cluster: String, vpcID: String, subnets: [String], fileSystemID: String, executionRoleARN: String? = nil,
                    portalSecurityGroup: String? = nil, storageSecurityGroup: String? = nil, assignPublicIP: Bool = false,
                    logRetentionDays: Int = 7, image: String, cpuArchitecture: String = "X86_64") {
            self.cluster = cluster
            self.vpcID = vpcID
            self.subnets = subnets
            self.fileSystemID = fileSystemID
            self.executionRoleARN = executionRoleARN.flatMap { $0.isEmpty ? nil : $0 }
            self.portalSecurityGroup = portalSecurityGroup.flatMap { $0.isEmpty ? nil : $0 }
            self.storageSecurityGroup = storageSecurityGroup.flatMap { $0.isEmpty ? nil : $0 }
            self.assignPublicIP = assignPublicIP
            self.logRetentionDays = logRetentionDays
            self.image = image
            self.cpuArchitecture = cpuArchitecture
        }
    }

    /// The TCP ports bots may open connections to on the internet: the exchanges' HTTPS and
    /// websockets, and plain HTTP. Security groups only allow, so private ranges cannot be
    /// excluded as the single host's firewall does (docs/aws.md says what takes its place).
    public static let egressPorts = [443, 80]
    /// How long after its registration a revision without its task counts as a launch in
    /// progress: far beyond the few calls between RegisterTaskDefinition and RunTask.
    static let launchWindow: TimeInterval = 120
    /// What fta writes as the reason of a task it stops: how a stop on request is told from a crash.
    static let stopReason = "fta: stopped on request"

    let aws: AWSClient
    let options: Options
    let logger: Logger
    let gate = ClientGate()

    public var name: String { "fargate" }

    public init(aws: AWSClient, options: Options, logger: Logger) {
        self.aws = aws
        self.options = options
        self.logger = logger
    }

    public func isReachable() async -> Bool {
        (try? await cluster()) != nil
    }

    public func launch(_ launch: BotLaunch) async throws(RuntimeError) {
        do { try await launchTask(launch) } catch { throw Self.runtimeError(error) }
    }

    public func stop(bot: BotID) async throws(RuntimeError) {
        do { try await stopTasks(of: bot, wait: true) } catch { throw Self.runtimeError(error) }
    }

    public func remove(bot: BotID, client: ClientID) async throws(RuntimeError) {
        do { try await removeBot(bot, client: client) } catch { throw Self.runtimeError(error) }
    }

    public func status(of placement: BotPlacement) async throws(RuntimeError) -> BotRuntimeStatus? {
        do { return try await taskStatus(placement) } catch { throw Self.runtimeError(error) }
    }

    /// Nil: Fargate reports a task's memory only to the task itself (the task metadata endpoint)
    /// or through Container Insights metrics a minute late, and a task's memory is its own,
    /// reserved by AWS, not a share of a host fta must fit bots into. Admission then counts the
    /// bot with its size, which is what Fargate reserves for it.
    public func usage(of placement: BotPlacement) async throws(RuntimeError) -> BotUsage? { nil }

    public func logs(bot: BotID, tail: Int) async throws(RuntimeError) -> [String] {
        do { return try await taskLogs(bot, tail: tail) } catch { throw Self.runtimeError(error) }
    }

    public func inventory() async throws(RuntimeError) -> RuntimeInventory {
        do { return try await awsInventory() } catch { throw Self.runtimeError(error) }
    }

    // MARK: Launch

    private func launchTask(_ launch: BotLaunch) async throws(AWSCallError) {
        let bot = launch.botID, client = launch.clientID
        await gate.enter(client.rawValue)
        let registered: String
        let group: String
        do throws(AWSCallError) {
            group = try await ensureSecurityGroup(client)
            let accessPoint = try await ensureAccessPoint(bot: bot, client: client)
            try await ensureLogGroup(bot: bot, client: client)
            // Launching replaces: the old run ends first, as Docker's old container is removed.
            try await stopTasks(of: bot, wait: false)
            let definition: TaskDefinition
            do {
                definition = try HardenedFargateTask.taskDefinition(for: launch, placement: .init(
                    fileSystemID: options.fileSystemID, accessPointID: accessPoint, executionRoleARN: options.executionRoleARN,
                    region: aws.settings.region, cpuArchitecture: options.cpuArchitecture))
            } catch { throw AWSCallError.malformed(error.description) }
            registered = try await registerTaskDefinition(definition)
            try await deregisterRevisions(of: bot, except: registered)
        } catch {
            await gate.leave(client.rawValue)
            throw error
        }
        await gate.leave(client.rawValue)

        struct RunTask: Encodable {
            var cluster: String
            var taskDefinition: String
            var launchType = "FARGATE"
            var count = 1
            var startedBy = "fta"
            var enableExecuteCommand = false
            var networkConfiguration: NetworkConfiguration
            var tags: [Tag]
            struct NetworkConfiguration: Encodable { var awsvpcConfiguration: AwsVpc }
            struct AwsVpc: Encodable {
                var subnets: [String]
                var securityGroups: [String]
                var assignPublicIp: String
            }
        }
        struct RunTaskAnswer: Decodable {
            var tasks: [ECSTask]?
            var failures: [Failure]?
            struct Failure: Decodable { var reason: String?; var detail: String? }
        }
        let answer = try await aws.json(.ecs, target: Self.ecsTarget("RunTask"), RunTask(
            cluster: options.cluster, taskDefinition: registered,
            networkConfiguration: .init(awsvpcConfiguration: .init(subnets: options.subnets, securityGroups: [group],
                                                                   assignPublicIp: options.assignPublicIP ? "ENABLED" : "DISABLED")),
            tags: Self.tags(bot: bot, client: client)), as: RunTaskAnswer.self)
        if let failure = answer.failures?.first {
            throw .aws(AWSError(status: 400, code: "RunTaskFailure", message: [failure.reason, failure.detail].compactMap { $0 }.joined(separator: ": ")))
        }
        guard answer.tasks?.isEmpty == false else { throw .malformed("RunTask started no task") }
    }

    private func registerTaskDefinition(_ definition: TaskDefinition) async throws(AWSCallError) -> String {
        struct Answer: Decodable { var taskDefinition: TaskDefinition }
        let answer = try await aws.json(.ecs, target: Self.ecsTarget("RegisterTaskDefinition"), definition, as: Answer.self)
        guard let arn = answer.taskDefinition.taskDefinitionArn else { throw .malformed("RegisterTaskDefinition returned no ARN") }
        return arn
    }

    /// Every ACTIVE revision of the bot's family. ECS matches `familyPrefix` as a prefix, so the
    /// family is compared exactly: `fta-bot-ab` must not take `fta-bot-abc`'s revisions.
    private func activeRevisions(of bot: BotID) async throws(AWSCallError) -> [String] {
        struct Request: Encodable { var familyPrefix: String; var status = "ACTIVE"; var nextToken: String? }
        struct Answer: Decodable { var taskDefinitionArns: [String]?; var nextToken: String? }
        let family = HardenedFargateTask.family(bot)
        var arns: [String] = [], token: String?
        repeat {
            let page = try await aws.json(.ecs, target: Self.ecsTarget("ListTaskDefinitions"), Request(familyPrefix: family, nextToken: token), as: Answer.self)
            arns += (page.taskDefinitionArns ?? []).filter { Self.family(ofDefinition: $0) == family }
            token = page.nextToken
        } while token != nil
        return arns
    }

    private func deregisterRevisions(of bot: BotID, except kept: String?) async throws(AWSCallError) {
        struct Request: Encodable { var taskDefinition: String }
        for arn in try await activeRevisions(of: bot) where arn != kept {
            do {
                _ = try await aws.json(.ecs, target: Self.ecsTarget("DeregisterTaskDefinition"), Request(taskDefinition: arn), as: Ignored.self)
            } catch where error.code == "ClientException" {
                // Already inactive (a concurrent removal): fine.
            }
        }
    }

    // MARK: Tasks

    private func taskARNs(of bot: BotID, desired: String) async throws(AWSCallError) -> [String] {
        struct Request: Encodable { var cluster: String; var family: String; var desiredStatus: String; var nextToken: String? }
        struct Answer: Decodable { var taskArns: [String]?; var nextToken: String? }
        var arns: [String] = [], token: String?
        repeat {
            let page: Answer
            do {
                page = try await aws.json(.ecs, target: Self.ecsTarget("ListTasks"),
                                          Request(cluster: options.cluster, family: HardenedFargateTask.family(bot), desiredStatus: desired, nextToken: token),
                                          as: Answer.self)
            } catch where error.code == "ClusterNotFoundException" {
                throw error
            }
            arns += page.taskArns ?? []
            token = page.nextToken
        } while token != nil
        return arns
    }

    private func describeTasks(_ arns: [String]) async throws(AWSCallError) -> [ECSTask] {
        guard !arns.isEmpty else { return [] }
        struct Request: Encodable { var cluster: String; var tasks: [String]; var include = ["TAGS"] }
        struct Answer: Decodable { var tasks: [ECSTask]? }
        var tasks: [ECSTask] = []
        // DescribeTasks takes at most 100 tasks per call.
        for start in stride(from: 0, to: arns.count, by: 100) {
            let chunk = Array(arns[start..<min(arns.count, start + 100)])
            tasks += try await aws.json(.ecs, target: Self.ecsTarget("DescribeTasks"), Request(cluster: options.cluster, tasks: chunk), as: Answer.self).tasks ?? []
        }
        // Only tasks this runtime started for the bot: the family is fta's, but a task someone
        // else ran from it is not the bot's instance.
        return tasks
    }

    /// The bot's current run: the one ECS keeps running, else the latest that ended (ECS forgets
    /// stopped tasks after about an hour).
    private func latestTask(of bot: BotID) async throws(AWSCallError) -> ECSTask? {
        let running = try await describeTasks(try await taskARNs(of: bot, desired: "RUNNING"))
        if let task = running.max(by: { ($0.createdAt ?? 0) < ($1.createdAt ?? 0) }) { return task }
        let stopped = try await describeTasks(try await taskARNs(of: bot, desired: "STOPPED"))
        return stopped.max(by: { ($0.createdAt ?? 0) < ($1.createdAt ?? 0) })
    }

    /// Stops the bot's running tasks. `wait`: until ECS reports them STOPPED, as `docker stop`
    /// returns once the container exited (the bot's stop grace and ECS's own deprovisioning).
    private func stopTasks(of bot: BotID, wait: Bool) async throws(AWSCallError) {
        struct Request: Encodable { var cluster: String; var task: String; var reason: String }
        let running = try await taskARNs(of: bot, desired: "RUNNING")
        for arn in running {
            do {
                _ = try await aws.json(.ecs, target: Self.ecsTarget("StopTask"), Request(cluster: options.cluster, task: arn, reason: Self.stopReason), as: Ignored.self)
            } catch where error.code == "InvalidParameterException" {
                // Stopped meanwhile.
            }
        }
        guard wait, !running.isEmpty else { return }
        let deadline = Date().addingTimeInterval(Double(HardenedBotContainer.stopGraceSeconds) + 90)
        while Date() < deadline {
            let tasks = try await describeTasks(running)
            if tasks.allSatisfy({ $0.lastStatus == "STOPPED" }) { return }
            try? await Task.sleep(for: .seconds(2))
        }
        logger.warning("tasks still stopping", metadata: ["bot": "\(bot)"])
    }

    private func taskStatus(_ placement: BotPlacement) async throws(AWSCallError) -> BotRuntimeStatus? {
        struct Request: Encodable { var taskDefinition: String; var include = ["TAGS"] }
        struct Answer: Decodable { var taskDefinition: TaskDefinition; var tags: [Tag]? }
        let latest: Answer
        do {
            latest = try await aws.json(.ecs, target: Self.ecsTarget("DescribeTaskDefinition"),
                                        Request(taskDefinition: HardenedFargateTask.family(placement.bot)), as: Answer.self)
        } catch where error.code == "ClientException" {
            return nil
        }
        // A family without an ACTIVE revision is a removed bot.
        guard latest.taskDefinition.status != "INACTIVE" else { return nil }
        let task = try await latestTask(of: placement.bot)
        // A launch registers the revision first and runs its task after: in between, the bot is
        // pending, as a Docker container created and not yet started is, so that the reconciler
        // does not launch it a second time.
        if task?.taskDefinitionArn != latest.taskDefinition.taskDefinitionArn,
           let registered = latest.taskDefinition.registeredAt, Date().timeIntervalSince1970 - registered < Self.launchWindow {
            return BotRuntimeStatus(phase: .pending, reason: "task definition registered, its task not started yet")
        }
        guard let task else {
            return BotRuntimeStatus(phase: .stopped, reason: "no task: ECS keeps a stopped task for about an hour")
        }
        var definition = latest.taskDefinition
        if let arn = task.taskDefinitionArn, arn != definition.taskDefinitionArn {
            definition = try await aws.json(.ecs, target: Self.ecsTarget("DescribeTaskDefinition"), Request(taskDefinition: arn), as: Answer.self).taskDefinition
        }
        let (phase, reason) = Self.phase(of: task)
        let container = task.containers?.first { $0.name == HardenedFargateTask.containerName }
        return BotRuntimeStatus(
            phase: phase,
            reason: reason,
            exitCode: container?.exitCode,
            oomKilled: Self.isOOM(task),
            health: (container?.healthStatus ?? task.healthStatus).flatMap { $0 == "UNKNOWN" ? nil : $0.lowercased() },
            startedAt: task.startedAt.map { Date(timeIntervalSince1970: $0).ISO8601Format() },
            address: task.privateAddress,
            deviations: HardenedFargateTask.deviations(of: definition, bot: placement.bot, client: placement.client, size: placement.size,
                                                       image: placement.image ?? options.image),
            // ECS's RunTask never restarts a task: fta's reconciler decides (docs/aws.md).
            restartCount: 0,
            lastExitAt: task.stoppedAt.map { Date(timeIntervalSince1970: $0).ISO8601Format() }
        )
    }

    // MARK: Logs

    private func taskLogs(_ bot: BotID, tail: Int) async throws(AWSCallError) -> [String] {
        guard tail > 0, let task = try await latestTask(of: bot) else { return [] }
        struct Request: Encodable {
            var logGroupName: String
            var logStreamName: String
            var limit: Int
            var startFromHead = false
        }
        struct Answer: Decodable {
            var events: [Event]?
            struct Event: Decodable { var message: String? }
        }
        let stream = "\(HardenedFargateTask.awslogsStreamPrefix)/\(HardenedFargateTask.containerName)/\(task.id)"
        do {
            let answer = try await aws.json(.logs, target: Self.logsTarget("GetLogEvents"),
                                            Request(logGroupName: HardenedFargateTask.logGroup(bot), logStreamName: stream, limit: min(tail, 10_000)),
                                            as: Answer.self)
            return (answer.events ?? []).compactMap(\.message)
        } catch where error.code == "ResourceNotFoundException" {
            // The task never wrote (it did not start, or moto, which runs no container).
            return []
        }
    }

    // MARK: Removal

    private func removeBot(_ bot: BotID, client: ClientID) async throws(AWSCallError) {
        try await stopTasks(of: bot, wait: true)
        try await deregisterRevisions(of: bot, except: nil)
        for accessPoint in try await accessPoints() where accessPoint.tags[FTALabel.bot] == bot.rawValue {
            do {
                let _: Ignored = try await aws.rest(.efs, "DELETE", "/2015-02-01/access-points/\(accessPoint.id)", as: Ignored.self)
            } catch where error.code == "AccessPointNotFound" {}
        }
        struct DeleteLogGroup: Encodable { var logGroupName: String }
        do {
            _ = try await aws.json(.logs, target: Self.logsTarget("DeleteLogGroup"), DeleteLogGroup(logGroupName: HardenedFargateTask.logGroup(bot)), as: Ignored.self)
        } catch where error.code == "ResourceNotFoundException" {}

        // The group goes with the client's last bot. A stopped bot's family still names its
        // client, and its next start needs the group: so ask for families, not for tasks.
        await gate.enter(client.rawValue)
        do throws(AWSCallError) {
            let remaining = try await instances().filter { $0.clientLabel == client.rawValue }
            if remaining.isEmpty, let group = try await securityGroup(client) { try await deleteSecurityGroup(group) }
        } catch {
            await gate.leave(client.rawValue)
            throw error
        }
        await gate.leave(client.rawValue)
    }

    /// A task's network interface outlives the task by a little on real AWS, and the group cannot
    /// go while one still uses it: retry for a while (moto answers at once).
    private func deleteSecurityGroup(_ id: String) async throws(AWSCallError) {
        var attempt = 0
        while true {
            do {
                _ = try await aws.query(.ec2, action: "DeleteSecurityGroup", version: Self.ec2Version, [("GroupId", id)])
                return
            } catch where error.code == "InvalidGroup.NotFound" {
                return
            } catch where error.code == "DependencyViolation" && attempt < 20 {
                attempt += 1
                try? await Task.sleep(for: .seconds(5))
            }
        }
    }

    // MARK: Inventory

    private func awsInventory() async throws(AWSCallError) -> RuntimeInventory {
        var unrecognised: [String] = []
        var storage: [BotID] = []
        for accessPoint in try await accessPoints() {
            if let id = accessPoint.tags[FTALabel.bot].flatMap(BotID.init) { storage.append(id) } else { unrecognised.append(accessPoint.id) }
        }
        var networks: [ClientID] = []
        for group in try await securityGroups() {
            if let id = Self.id(in: group.name, prefix: "fta-client-", ClientID.init) { networks.append(id) } else { unrecognised.append(group.name) }
        }
        return RuntimeInventory(instances: try await instances(), storage: storage, networks: networks, unrecognised: unrecognised.sorted())
    }

    /// Every bot family with an ACTIVE revision, with its tags and whether a task of it runs.
    private func instances() async throws(AWSCallError) -> [ManagedBotInstance] {
        struct Request: Encodable { var familyPrefix = "fta-bot-"; var status = "ACTIVE"; var nextToken: String? }
        struct Answer: Decodable { var families: [String]?; var nextToken: String? }
        var families: [String] = [], token: String?
        repeat {
            let page = try await aws.json(.ecs, target: Self.ecsTarget("ListTaskDefinitionFamilies"), Request(nextToken: token), as: Answer.self)
            families += page.families ?? []
            token = page.nextToken
        } while token != nil
        struct Describe: Encodable { var taskDefinition: String; var include = ["TAGS"] }
        struct Described: Decodable { var taskDefinition: TaskDefinition; var tags: [Tag]? }
        var instances: [ManagedBotInstance] = []
        for family in families {
            let described: Described
            do {
                described = try await aws.json(.ecs, target: Self.ecsTarget("DescribeTaskDefinition"), Describe(taskDefinition: family), as: Described.self)
            } catch where error.code == "ClientException" {
                continue  // deregistered meanwhile
            }
            guard described.taskDefinition.status != "INACTIVE" else { continue }
            let tags = (described.tags ?? []).dictionary
            let bot = Self.id(in: family, prefix: "fta-bot-", BotID.init)
            var running = false
            if let bot { running = try await !taskARNs(of: bot, desired: "RUNNING").isEmpty }
            instances.append(ManagedBotInstance(name: family, namedBot: bot, botLabel: tags[FTALabel.bot], clientLabel: tags[FTALabel.client], running: running))
        }
        return instances
    }

    // MARK: Storage (EFS access points)

    struct AccessPoint { var id: String; var tags: [String: String] }

    private func accessPoints() async throws(AWSCallError) -> [AccessPoint] {
        struct Answer: Decodable {
            var AccessPoints: [Point]?
            var NextToken: String?
            struct Point: Decodable { var AccessPointId: String; var Tags: [EFSTag]?; var LifeCycleState: String? }
        }
        var points: [AccessPoint] = [], token: String?
        repeat {
            var query = [("FileSystemId", options.fileSystemID)]
            if let token { query.append(("NextToken", token)) }
            let page: Answer = try await aws.rest(.efs, "GET", "/2015-02-01/access-points", query: query, as: Answer.self)
            for point in page.AccessPoints ?? [] where point.LifeCycleState != "deleting" && point.LifeCycleState != "deleted" {
                let tags = Dictionary((point.Tags ?? []).map { ($0.Key, $0.Value) }, uniquingKeysWith: { $1 })
                if tags[FTALabel.managed] == "true" { points.append(AccessPoint(id: point.AccessPointId, tags: tags)) }
            }
            token = page.NextToken
        } while token != nil
        return points
    }

    /// The bot's access point, made when missing: its own directory, owned by the bot's uid,
    /// entered as that uid whatever the client says (EFS enforces the POSIX user).
    private func ensureAccessPoint(bot: BotID, client: ClientID) async throws(AWSCallError) -> String {
        if let existing = try await accessPoints().first(where: { $0.tags[FTALabel.bot] == bot.rawValue }) { return existing.id }
        struct Request: Encodable {
            var ClientToken: String
            var FileSystemId: String
            var PosixUser: Posix
            var RootDirectory: Root
            var Tags: [EFSTag]
            struct Posix: Encodable { var Uid: Int; var Gid: Int }
            struct Root: Encodable { var Path: String; var CreationInfo: Creation }
            struct Creation: Encodable { var OwnerUid: Int; var OwnerGid: Int; var Permissions: String }
        }
        struct Answer: Decodable { var AccessPointId: String }
        let uid = HardenedFargateTask.storageUID
        let tags = [EFSTag(Key: "Name", Value: bot.volumeName)] + Self.tags(bot: bot, client: client).map { EFSTag(Key: $0.key, Value: $0.value) }
        let answer: Answer = try await aws.rest(.efs, "POST", "/2015-02-01/access-points", body: Request(
            // The same token for the same bot: a retried creation returns the same access point.
            ClientToken: bot.volumeName, FileSystemId: options.fileSystemID, PosixUser: .init(Uid: uid, Gid: uid),
            RootDirectory: .init(Path: HardenedFargateTask.storageRoot(bot), CreationInfo: .init(OwnerUid: uid, OwnerGid: uid, Permissions: "0700")),
            Tags: tags), as: Answer.self)
        return answer.AccessPointId
    }

    // MARK: Logs (groups)

    private func ensureLogGroup(bot: BotID, client: ClientID) async throws(AWSCallError) {
        struct Create: Encodable { var logGroupName: String; var tags: [String: String] }
        struct Retention: Encodable { var logGroupName: String; var retentionInDays: Int }
        let name = HardenedFargateTask.logGroup(bot)
        do {
            _ = try await aws.json(.logs, target: Self.logsTarget("CreateLogGroup"), Create(logGroupName: name, tags: Self.tags(bot: bot, client: client).dictionary), as: Ignored.self)
        } catch where error.code == "ResourceAlreadyExistsException" {}
        // Set on every launch: a retention changed in the configuration reaches existing groups.
        _ = try await aws.json(.logs, target: Self.logsTarget("PutRetentionPolicy"), Retention(logGroupName: name, retentionInDays: options.logRetentionDays), as: Ignored.self)
    }

    // MARK: Network (security groups)

    struct SecurityGroup { var id: String; var name: String }

    private func securityGroups() async throws(AWSCallError) -> [SecurityGroup] {
        let answer = try await aws.query(.ec2, action: "DescribeSecurityGroups", version: Self.ec2Version, [
            ("Filter.1.Name", "tag:\(FTALabel.managed)"), ("Filter.1.Value.1", "true"),
            ("Filter.2.Name", "vpc-id"), ("Filter.2.Value.1", options.vpcID),
        ])
        return answer.items("securityGroupInfo").compactMap { item in
            guard let id = item.value("groupId"), let name = item.value("groupName") else { return nil }
            return SecurityGroup(id: id, name: name)
        }
    }

    private func securityGroup(_ client: ClientID) async throws(AWSCallError) -> String? {
        try await securityGroups().first { $0.name == client.networkName }?.id
    }

    /// The client's group, made when missing: no ingress but TCP 8080 from the portal's group (so
    /// not from other clients' bots, nor from the client's own other bots: Docker's
    /// inter-container traffic off), and egress to the exchanges' ports and the bots' storage only.
    private func ensureSecurityGroup(_ client: ClientID) async throws(AWSCallError) -> String {
        if let existing = try await securityGroup(client) { return existing }
        let tags = [(FTALabel.managed, "true"), (FTALabel.client, client.rawValue), ("Name", client.networkName)]
        var parameters = [("GroupName", client.networkName), ("GroupDescription", "fta bots of client \(client.rawValue)"), ("VpcId", options.vpcID),
                          ("TagSpecification.1.ResourceType", "security-group")]
        for (index, tag) in tags.enumerated() {
            parameters += [("TagSpecification.1.Tag.\(index + 1).Key", tag.0), ("TagSpecification.1.Tag.\(index + 1).Value", tag.1)]
        }
        let id: String
        do throws(AWSCallError) {
            let created = try await aws.query(.ec2, action: "CreateSecurityGroup", version: Self.ec2Version, parameters)
            guard let groupID = created.first("groupId")?.text else { throw AWSCallError.malformed("CreateSecurityGroup returned no id") }
            id = groupID
        } catch where error.code == "InvalidGroup.Duplicate" {
            // Made by another portal process meanwhile.
            guard let existing = try await securityGroup(client) else { throw error }
            return existing
        }
        // A new group allows all egress: replace that with fta's rules.
        _ = try await aws.query(.ec2, action: "RevokeSecurityGroupEgress", version: Self.ec2Version, [
            ("GroupId", id), ("IpPermissions.1.IpProtocol", "-1"), ("IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0"),
        ])
        var egress: [(String, String)] = [("GroupId", id)]
        for (index, port) in Self.egressPorts.enumerated() {
            let p = "IpPermissions.\(index + 1)"
            egress += [("\(p).IpProtocol", "tcp"), ("\(p).FromPort", "\(port)"), ("\(p).ToPort", "\(port)"), ("\(p).IpRanges.1.CidrIp", "0.0.0.0/0")]
        }
        if let storage = options.storageSecurityGroup {
            let p = "IpPermissions.\(Self.egressPorts.count + 1)"
            egress += [("\(p).IpProtocol", "tcp"), ("\(p).FromPort", "2049"), ("\(p).ToPort", "2049"), ("\(p).Groups.1.GroupId", storage)]
        }
        _ = try await aws.query(.ec2, action: "AuthorizeSecurityGroupEgress", version: Self.ec2Version, egress)
        if let portal = options.portalSecurityGroup {
            _ = try await aws.query(.ec2, action: "AuthorizeSecurityGroupIngress", version: Self.ec2Version, [
                ("GroupId", id), ("IpPermissions.1.IpProtocol", "tcp"), ("IpPermissions.1.FromPort", "\(BotPaths.apiPort)"),
                ("IpPermissions.1.ToPort", "\(BotPaths.apiPort)"), ("IpPermissions.1.Groups.1.GroupId", portal),
            ])
        }
        return id
    }

    // MARK: Cluster

    struct Cluster: Decodable { var clusterName: String?; var status: String? }

    func cluster() async throws(AWSCallError) -> Cluster {
        struct Request: Encodable { var clusters: [String] }
        struct Answer: Decodable { var clusters: [Cluster]? }
        let answer = try await aws.json(.ecs, target: Self.ecsTarget("DescribeClusters"), Request(clusters: [options.cluster]), as: Answer.self)
        guard let cluster = answer.clusters?.first(where: { $0.status == "ACTIVE" }) else {
            throw .aws(AWSError(status: 400, code: "ClusterNotFoundException", message: "cluster \(options.cluster) is not active"))
        }
        return cluster
    }

    // MARK: Translation

    static let ec2Version = "2016-11-15"
    static func ecsTarget(_ action: String) -> String { "AmazonEC2ContainerServiceV20141113.\(action)" }
    static func logsTarget(_ action: String) -> String { "Logs_20140328.\(action)" }

    static func tags(bot: BotID, client: ClientID) -> [Tag] {
        HardenedBotContainer.labels(bot: bot, client: client).sorted { $0.key < $1.key }.map { Tag(key: $0.key, value: $0.value) }
    }

    /// `arn:aws:ecs:region:account:task-definition/fta-bot-x:3` → `fta-bot-x`.
    static func family(ofDefinition arn: String) -> String {
        let last = arn.split(separator: "/").last.map(String.init) ?? arn
        return last.split(separator: ":").first.map(String.init) ?? last
    }

    /// AWS's failures in the runtime's terms.
    static func runtimeError(_ error: AWSCallError) -> RuntimeError {
        switch error.runtimeError {
        case .unavailable(let m): .unavailable(m)
        case .timedOut(let m): .timedOut(m)
        case .refused(let m): .refused(m)
        // The one failure a launch meets for a missing image is a stopped task, not an error.
        case .failed(let m): .failed(m)
        }
    }

    static func isOOM(_ task: ECSTask) -> Bool {
        (task.containers ?? []).contains { $0.reason?.contains("OutOfMemoryError") == true } || task.stoppedReason?.contains("OutOfMemoryError") == true
    }

    /// ECS's task states as a phase and a reason. A task ECS stops on fta's request (its reason
    /// is fta's, or ECS says the user stopped it) is stopped; one that ended by itself is stopped
    /// only with exit code 0.
    static func phase(of task: ECSTask) -> (BotPhase, String?) {
        switch task.lastStatus {
        case "PROVISIONING", "PENDING", "ACTIVATING": return (.pending, nil)
        case "RUNNING": return (.running, nil)
        case "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED":
            let container = task.containers?.first { $0.name == HardenedFargateTask.containerName }
            if isOOM(task) { return (.crashed, "killed: out of memory") }
            if task.stopCode == "UserInitiated" || task.stoppedReason == stopReason { return (.stopped, nil) }
            if let code = container?.exitCode {
                return code == 0 ? (.stopped, nil) : (.crashed, "exited with code \(code)")
            }
            return (.crashed, "ECS stopped the task: \(task.stoppedReason ?? task.stopCode ?? "no reason given")")
        default:
            return (.unknown, "ECS reports '\(task.lastStatus ?? "nothing")'")
        }
    }

    private static func id<ID>(in name: String, prefix: String, _ make: (String) -> ID?) -> ID? {
        name.hasPrefix(prefix) ? make(String(name.dropFirst(prefix.count))) : nil
    }
}

/// One client at a time creates or removes a client's security group (as Docker's runtime does
/// for networks): two concurrent launches must not both make one, and a removal must not take it
/// from under a launch.
actor ClientGate {
    private var busy: Set<String> = []
    private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    func enter(_ key: String) async {
        if busy.insert(key).inserted { return }
        await withCheckedContinuation { waiters[key, default: []].append($0) }
    }

    func leave(_ key: String) {
        if var queue = waiters[key], !queue.isEmpty {
            let next = queue.removeFirst()
            waiters[key] = queue.isEmpty ? nil : queue
            next.resume()  // the key stays busy: handed over
        } else {
            busy.remove(key)
        }
    }
}
