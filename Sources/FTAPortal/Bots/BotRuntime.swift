import DockerEngine
import FTACore
import Foundation

/// What a bot's container looks like from the runtime.
public struct BotContainerStatus: Sendable {
    public var running: Bool
    /// Docker's status word: created, running, restarting, exited, ...
    public var status: String
    public var exitCode: Int?
    public var health: String?
    public var startedAt: String?
    /// The bot's address on its client network: where the portal reaches its API.
    public var ipAddress: String?
    /// How the container departs from the hardened spec; empty when it complies.
    public var deviations: [String]

    public init(running: Bool, status: String, exitCode: Int?, health: String?, startedAt: String?, ipAddress: String?, deviations: [String]) {
        self.running = running
        self.status = status
        self.exitCode = exitCode
        self.health = health
        self.startedAt = startedAt
        self.ipAddress = ipAddress
        self.deviations = deviations
    }
}

/// A container labelled `fta.managed=true`, as listed by the runtime.
public struct ManagedContainer: Sendable {
    public var name: String
    public var botLabel: String?
    public var clientLabel: String?
    public var running: Bool

    public init(name: String, botLabel: String?, clientLabel: String?, running: Bool) {
        self.name = name
        self.botLabel = botLabel
        self.clientLabel = clientLabel
        self.running = running
    }
}

/// Where bots run. Docker today; the design keeps this small so that an ECS/Fargate runtime can
/// stand behind the same interface later.
public protocol BotRuntime: Sendable {
    /// Whether the runtime answers.
    func isReachable() async -> Bool
    func ensureClientNetwork(_ client: ClientID) async throws(DockerError)
    /// Removes the client's network; a network still in use is left alone.
    func removeClientNetwork(_ client: ClientID) async throws(DockerError)
    func ensureVolume(bot: BotID, client: ClientID) async throws(DockerError)
    func removeVolume(bot: BotID) async throws(DockerError)
    /// Creates the bot's container from `launch` (replacing any old one) and starts it.
    func launch(_ launch: BotLaunch) async throws(DockerError)
    func stop(bot: BotID) async throws(DockerError)
    /// Removes the bot's container, stopping it first; absent is fine.
    func remove(bot: BotID) async throws(DockerError)
    /// The container's state, or nil when there is none.
    func status(bot: BotID, client: ClientID, size: BotSize) async throws(DockerError) -> BotContainerStatus?
    func logs(bot: BotID, tail: Int) async throws(DockerError) -> [String]
    func managedContainers() async throws(DockerError) -> [ManagedContainer]
    /// Names of fta volumes and networks, for orphan reports.
    func managedVolumes() async throws(DockerError) -> [String]
    func managedNetworks() async throws(DockerError) -> [String]
}

/// The Docker runtime, through the socket proxy.
public struct DockerBotRuntime: BotRuntime {
    let docker: DockerEngineClient
    let image: String

    public init(docker: DockerEngineClient, image: String) {
        self.docker = docker
        self.image = image
    }

    public func isReachable() async -> Bool { await docker.ping() }

    public func ensureClientNetwork(_ client: ClientID) async throws(DockerError) {
        do {
            _ = try await docker.inspectNetwork(client.networkName)
        } catch .notFound {
            do {
                try await docker.createNetwork(NetworkCreate(
                    Name: client.networkName,
                    Labels: [FTALabel.managed: "true", FTALabel.client: client.rawValue],
                    // No traffic between containers of the same network: a client's bots cannot
                    // reach each other either, only the portal (on the host) reaches them.
                    Options: ["com.docker.network.bridge.enable_icc": "false"]
                ))
            } catch .conflict {
                // Created concurrently: fine.
            }
        }
    }

    public func removeClientNetwork(_ client: ClientID) async throws(DockerError) {
        do { try await docker.removeNetwork(client.networkName) } catch .notFound {} catch .conflict {}
    }

    public func ensureVolume(bot: BotID, client: ClientID) async throws(DockerError) {
        do {
            _ = try await docker.inspectVolume(bot.volumeName)
        } catch .notFound {
            try await docker.createVolume(VolumeCreate(
                Name: bot.volumeName,
                Labels: [FTALabel.managed: "true", FTALabel.client: client.rawValue, FTALabel.bot: bot.rawValue]
            ))
        }
    }

    public func removeVolume(bot: BotID) async throws(DockerError) {
        do { try await docker.removeVolume(bot.volumeName) } catch .notFound {}
    }

    public func launch(_ launch: BotLaunch) async throws(DockerError) {
        try await remove(bot: launch.botID)
        try await docker.createContainer(name: launch.botID.containerName, HardenedBotContainer.spec(for: launch))
        try await docker.startContainer(launch.botID.containerName)
    }

    public func stop(bot: BotID) async throws(DockerError) {
        do { try await docker.stopContainer(bot.containerName, grace: HardenedBotContainer.stopGraceSeconds) } catch .notFound {}
    }

    public func remove(bot: BotID) async throws(DockerError) {
        do { try await docker.removeContainer(bot.containerName, force: true) } catch .notFound {}
    }

    public func status(bot: BotID, client: ClientID, size: BotSize) async throws(DockerError) -> BotContainerStatus? {
        let inspect: ContainerInspect
        do { inspect = try await docker.inspectContainer(bot.containerName) } catch .notFound { return nil }
        return BotContainerStatus(
            running: inspect.State.Running,
            status: inspect.State.Status,
            exitCode: inspect.State.ExitCode,
            health: inspect.State.Health?.Status,
            startedAt: inspect.State.StartedAt,
            ipAddress: inspect.NetworkSettings.Networks?[client.networkName]?.IPAddress.flatMap { $0.isEmpty ? nil : $0 },
            deviations: HardenedBotContainer.deviations(of: inspect, bot: bot, client: client, size: size, image: image)
        )
    }

    public func logs(bot: BotID, tail: Int) async throws(DockerError) -> [String] {
        try await docker.logs(bot.containerName, tail: tail).map(\.text)
    }

    public func managedContainers() async throws(DockerError) -> [ManagedContainer] {
        try await docker.containers(label: "\(FTALabel.managed)=true").map {
            ManagedContainer(name: $0.name, botLabel: $0.Labels?[FTALabel.bot], clientLabel: $0.Labels?[FTALabel.client], running: $0.State == "running")
        }
    }

    public func managedVolumes() async throws(DockerError) -> [String] {
        try await docker.volumes(label: "\(FTALabel.managed)=true").map(\.Name)
    }

    public func managedNetworks() async throws(DockerError) -> [String] {
        try await docker.networks(label: "\(FTALabel.managed)=true").map(\.Name)
    }
}
