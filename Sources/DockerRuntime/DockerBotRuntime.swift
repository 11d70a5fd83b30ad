import DockerEngine
import FTACore
import FTARuntime
import Foundation
import Logging

/// The Docker runtime: bots as hardened containers, each on its client's bridge network with a
/// volume of its own, driven only through the socket proxy.
public struct DockerBotRuntime: BotRuntime {
    /// What the Docker runtime needs to know about the host it checks.
    public struct Options: Sendable {
        /// The image of a bot pinned to none of its own (BotPlacement.image): a container on another image is out of spec.
        public var image: String
        /// The engine's own socket, which only the proxy may open (FTA_DOCKER_SOCKET).
        public var engineSocket: String
        /// The service user that must not be able to open `engineSocket`.
        public var serviceUser: String
        /// The daemon settings install.sh writes for an engine on its default socket.
        public var daemonConfigPath: String
        /// Whether bots' cold pages may go to swap (FTA_BOT_SWAP): their size's swapping limits.
        public var botSwap: Bool
        /// Each bot volume's cap in MiB (FTA_BOT_DISK_MB), which the engine enforces with a
        /// project quota; nil: volumes without a cap (an engine whose volumes have no quotas).
        public var botDiskMB: Int?
        /// Each market-data set's cap in MiB, as for bot volumes (FTA_LAB_DATA_CAP_MB); nil: no engine-side cap.
        public var dataDiskMB: Int?

        public init(image: String, engineSocket: String = "/var/run/docker.sock", serviceUser: String = "fta",
                    daemonConfigPath: String = "/etc/docker/daemon.json", botSwap: Bool = false, botDiskMB: Int? = nil, dataDiskMB: Int? = nil) {
            self.dataDiskMB = dataDiskMB
            self.image = image
            self.botSwap = botSwap
            self.botDiskMB = botDiskMB
            self.engineSocket = engineSocket.isEmpty ? "/var/run/docker.sock" : engineSocket
            self.serviceUser = serviceUser
            self.daemonConfigPath = daemonConfigPath
        }
    }

    let docker: DockerEngineClient
    let options: Options

    public var name: String { "docker" }

    public init(docker: DockerEngineClient, options: Options) {
        self.docker = docker
        self.options = options
    }

    /// The runtime for `url` (the socket proxy); a malformed URL is a configuration error.
    public init(proxyURL url: String, options: Options, logger: Logger) throws {
        self.init(docker: try DockerEngineClient(url: url, logger: logger), options: options)
    }

    public func isReachable() async -> Bool { await docker.ping() }

    public func launch(_ launch: BotLaunch) async throws(RuntimeError) {
        do { try await launchContainer(launch) } catch { throw Self.runtimeError(error) }
    }

    public func stop(bot: BotID) async throws(RuntimeError) {
        do { try await stopContainer(bot) } catch { throw Self.runtimeError(error) }
    }

    public func remove(bot: BotID, client: ClientID) async throws(RuntimeError) {
        do { try await removeBot(bot, client: client) } catch { throw Self.runtimeError(error) }
    }

    public func status(of placement: BotPlacement) async throws(RuntimeError) -> BotRuntimeStatus? {
        let inspect: ContainerInspect
        do {
            inspect = try await docker.inspectContainer(placement.bot.containerName)
        } catch .notFound {
            return nil
        } catch {
            throw Self.runtimeError(error)
        }
        let (phase, reason) = Self.phase(of: inspect.State)
        return BotRuntimeStatus(
            phase: phase,
            reason: reason,
            exitCode: inspect.State.ExitCode,
            oomKilled: inspect.State.OOMKilled == true,
            health: inspect.State.Health?.Status,
            startedAt: inspect.State.StartedAt,
            address: inspect.NetworkSettings.Networks?[placement.client.networkName]?.IPAddress.flatMap { $0.isEmpty ? nil : $0 },
            deviations: HardenedBotContainer.deviations(of: inspect, bot: placement.bot, client: placement.client,
                                                        size: placement.size, image: placement.image ?? options.image),
            restartCount: inspect.RestartCount ?? 0,
            lastExitAt: inspect.State.FinishedAt.flatMap { $0.hasPrefix("0001-") || $0.isEmpty ? nil : $0 }
        )
    }

    public func usage(of placement: BotPlacement) async throws(RuntimeError) -> BotUsage? {
        let stats: ContainerStats
        do {
            stats = try await docker.stats(placement.bot.containerName)
        } catch .notFound {
            return nil
        } catch {
            throw Self.runtimeError(error)
        }
        return Self.usage(of: stats)
    }

    /// The memory part of the engine's stats, for cgroup v1 and v2 alike; nil when the container
    /// does not run (the engine then reports no usage).
    static func usage(of stats: ContainerStats) -> BotUsage? {
        guard let memory = stats.memory_stats, let usage = memory.usage, usage > 0 else { return nil }
        let counters = memory.stats ?? [:]
        func counter(_ names: String...) -> Int64? {
            for name in names { if let value = counters[name], value <= UInt64(Int64.max) { return Int64(value) } }
            return nil
        }
        // v1 reports the hierarchy's totals as total_*, v2 has only the one level.
        let inactiveFile = counter("total_inactive_file", "inactive_file") ?? 0
        return BotUsage(memoryBytes: usage, workingSetBytes: max(0, usage - inactiveFile),
                        swapBytes: counter("total_swap", "swap"), limitBytes: memory.limit)
    }

    public func logs(bot: BotID, tail: Int) async throws(RuntimeError) -> [String] {
        do { return try await docker.logs(bot.containerName, tail: tail).map(\.text) } catch .notFound { return [] } catch {
            throw Self.runtimeError(error)
        }
    }

    public func inventory() async throws(RuntimeError) -> RuntimeInventory {
        do { return try await dockerInventory() } catch { throw Self.runtimeError(error) }
    }

    // MARK: Docker's own objects

    private func launchContainer(_ launch: BotLaunch) async throws(DockerError) {
        // The container is created under the client's gate: once it exists, a removal of the
        // client's last other bot sees it and leaves the network alone.
        let gate = ClientNetworkGate.shared
        await gate.enter(launch.clientID.rawValue)
        do throws(DockerError) {
            try await ensureClientNetwork(launch.clientID)
            try await ensureVolume(bot: launch.botID, client: launch.clientID)
            try await removeContainer(launch.botID)
            try await docker.createContainer(name: launch.botID.containerName, HardenedBotContainer.spec(for: launch, swap: options.botSwap))
        } catch {
            await gate.leave(launch.clientID.rawValue)
            throw error
        }
        await gate.leave(launch.clientID.rawValue)
        try await docker.startContainer(launch.botID.containerName)
    }

    private func stopContainer(_ bot: BotID) async throws(DockerError) {
        do { try await docker.stopContainer(bot.containerName, grace: HardenedBotContainer.stopGraceSeconds) } catch .notFound {}
    }

    private func removeBot(_ bot: BotID, client: ClientID) async throws(DockerError) {
        try await removeContainer(bot)
        do { try await docker.removeVolume(bot.volumeName) } catch .notFound {}
        // The network goes with the client's last container. A stopped container still
        // names its network, and Docker would let the network go under it: then that bot
        // could never start again. So ask for containers, not for active endpoints (filtered
        // here: the proxy lets fta list by its `fta.managed` label only).
        let gate = ClientNetworkGate.shared
        await gate.enter(client.rawValue)
        do throws(DockerError) {
            try await removeNetworkIfUnused(client)
        } catch {
            await gate.leave(client.rawValue)
            throw error
        }
        await gate.leave(client.rawValue)
    }

    private func removeNetworkIfUnused(_ client: ClientID) async throws(DockerError) {
        let remaining = try await docker.containers(label: "\(FTALabel.managed)=true").filter { $0.Labels?[FTALabel.client] == client.rawValue }
        if remaining.isEmpty {
            do { try await docker.removeNetwork(client.networkName) } catch .notFound {} catch .conflict {}
        }
    }

    private func dockerInventory() async throws(DockerError) -> RuntimeInventory {
        let managed = "\(FTALabel.managed)=true"
        // Lab jobs are one-shot containers the lab owns and cleans up itself (StrategyLab), and
        // market-data sets are shared by no bot: neither is a bot's instance or storage.
        let instances = try await docker.containers(label: managed).filter { !$0.name.hasPrefix(HardenedJobContainer.namePrefix) }.map { summary in
            ManagedBotInstance(name: summary.name, namedBot: Self.id(in: summary.name, prefix: "fta-bot-", BotID.init),
                               botLabel: summary.Labels?[FTALabel.bot],
                               clientLabel: summary.Labels?[FTALabel.client], running: summary.State == "running")
        }
        var unrecognised: [String] = []
        var storage: [BotID] = []
        for name in try await docker.volumes(label: managed).map(\.Name) {
            if let id = Self.id(in: name, prefix: "fta-bot-", BotID.init) { storage.append(id) }
            else if !name.hasPrefix(HardenedJobContainer.dataPrefix) { unrecognised.append(name) }
        }
        var networks: [ClientID] = []
        for name in try await docker.networks(label: managed).map(\.Name) {
            if let id = Self.id(in: name, prefix: "fta-client-", ClientID.init) { networks.append(id) } else { unrecognised.append(name) }
        }
        return RuntimeInventory(instances: instances, storage: storage, networks: networks, unrecognised: unrecognised.sorted())
    }

    func ensureClientNetwork(_ client: ClientID) async throws(DockerError) {
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

    private func ensureVolume(bot: BotID, client: ClientID) async throws(DockerError) {
        do {
            _ = try await docker.inspectVolume(bot.volumeName)
        } catch .notFound {
            try await docker.createVolume(VolumeCreate(Name: bot.volumeName, Labels: HardenedBotContainer.labels(bot: bot, client: client),
                                                       DriverOpts: HardenedBotContainer.volumeOptions(diskMB: options.botDiskMB)))
        }
    }

    private func removeContainer(_ bot: BotID) async throws(DockerError) {
        do { try await docker.removeContainer(bot.containerName, force: true) } catch .notFound {}
    }

    // MARK: Translation

    /// Docker's failures in the runtime's terms.
    static func runtimeError(_ error: DockerError) -> RuntimeError {
        switch error {
        case .unreachable(let m): .unavailable(m)
        case .timeout(let m): .timedOut(m)
        // The one 404 a launch can meet once its network and volume exist is the image's.
        case .notFound(let m): .imageMissing(m)
        case .deniedByProxy(let m): .refused(m)
        default: .failed(error.description)
        }
    }

    /// Exit statuses of a process that ended because it was asked to: 0, and 143 (128 + SIGTERM,
    /// what the init process reports when `docker stop` ends the bot). Docker does not say who
    /// stopped a container; anything else is a crash.
    static let orderlyExitCodes: Set<Int> = [0, 143]

    /// Docker's status word, exit code and OOM flag as a phase and a reason.
    static func phase(of state: ContainerState) -> (BotPhase, String?) {
        let code = state.ExitCode ?? 0
        switch state.Status {
        case "created": return (.pending, nil)
        case "running": return (.running, nil)
        case "restarting" where state.OOMKilled == true: return (.restarting, "restarting after being killed: out of memory")
        case "restarting": return (.restarting, "restarting after exit code \(code)")
        case "exited" where state.OOMKilled == true: return (.crashed, "killed: out of memory")
        case "exited" where !orderlyExitCodes.contains(code): return (.crashed, "exited with code \(code)")
        case "exited": return (.stopped, nil)
        case "dead": return (.crashed, "the engine could not stop or remove it (dead)")
        default: return (.unknown, "Docker reports '\(state.Status)'")
        }
    }

    private static func id<ID>(in name: String, prefix: String, _ make: (String) -> ID?) -> ID? {
        name.hasPrefix(prefix) ? make(String(name.dropFirst(prefix.count))) : nil
    }
}
