import FTACore
import FTARuntime

/// A runtime that keeps its bots in memory, for tests that need bots and not a container
/// engine. It honours the same contract as the real runtimes (`BotRuntimeContract` runs
/// against both), so what passes against it means something.
public final class InMemoryBotRuntime: BotRuntime, @unchecked Sendable {
    // Guarded by the actor below; the class only forwards, so that the protocol's
    // non-isolated requirements can be met without `nonisolated` gymnastics.
    private let state = State()

    public init() {}

    public var name: String { "in-memory" }

    /// How many launches happened: the API tests check that a refused start launched nothing.
    public func launchCount() async -> Int { await state.launches }
    /// The API credentials the bot's last instance got.
    public func launchedSecrets(_ bot: BotID) async -> BotSecrets? { await state.launchedSecrets[bot] }
    /// Whether the bot's instance exists and runs (nil: no instance).
    public func isRunning(_ bot: BotID) async -> Bool? { await state.instances[bot]?.running }
    /// Makes the next calls fail as if the runtime were down.
    public func setReachable(_ reachable: Bool) async { await state.setReachable(reachable) }
    /// What `usage(of:)` answers for a running bot: `usage` for `bot`, or for every bot without
    /// a value of its own when `bot` is nil; nil: not measured.
    public func setUsage(_ usage: BotUsage?, for bot: BotID? = nil) async { await state.setUsage(usage, for: bot) }
    /// The kernel killed the bot for running out of memory; `restarted`: the runtime's restart
    /// policy brought it back (running again, one more restart), otherwise it stays down.
    public func killForMemory(_ bot: BotID, restarted: Bool) async { await state.killForMemory(bot, restarted: restarted) }
    /// What the runtime's health check says of a running bot ("healthy", "unhealthy"), nil: no verdict.
    /// `startedAt`: when the instance's run began, as the runtime reports it (default: long ago).
    public func setHealth(_ bot: BotID, _ health: String?, startedAt: String? = nil) async { await state.setHealth(bot, health, startedAt: startedAt) }
    /// A slow host: from now on a launch creates the instance but answers `timedOut` before it
    /// runs (Docker's create done, its start still going); `finishSlowLaunches` lets them run.
    public func setLaunchesTimeOut(_ on: Bool) async { await state.setLaunchesTimeOut(on) }
    /// The slow starts complete: every pending instance runs.
    public func finishSlowLaunches() async { await state.finishSlowLaunches() }

    public func isReachable() async -> Bool { await state.reachable }

    public func launch(_ launch: BotLaunch) async throws(RuntimeError) {
        try await state.launch(launch)
    }

    public func stop(bot: BotID) async throws(RuntimeError) { try await state.stop(bot) }

    public func remove(bot: BotID, client: ClientID) async throws(RuntimeError) { try await state.remove(bot, client: client) }

    public func status(of placement: BotPlacement) async throws(RuntimeError) -> BotRuntimeStatus? {
        try await state.status(placement.bot)
    }

    public func usage(of placement: BotPlacement) async throws(RuntimeError) -> BotUsage? { try await state.usage(placement.bot) }

    public func logs(bot: BotID, tail: Int) async throws(RuntimeError) -> [String] { try await state.logs(bot, tail: tail) }

    public func inventory() async throws(RuntimeError) -> RuntimeInventory { try await state.inventory() }

    public func selfCheck(host: Bool) async -> [RuntimeCheck] {
        [RuntimeCheck(name: "runtime.in-memory", verdict: await state.reachable ? .pass : .fail, detail: "the in-memory runtime of the tests")]
    }

    actor State {
        struct Instance {
            var client: ClientID
            var running: Bool
            var address: String
            var oomKilled = false
            /// Created, not started yet (a launch that timed out).
            var pending = false
            var restarts = 0
            var lastExitAt: String?
            var health: String?
            var startedAt = "2026-01-01T00:00:00.000000000Z"
        }
        var instances: [BotID: Instance] = [:]
        var usages: [BotID: BotUsage] = [:]
        var defaultUsage: BotUsage?
        private var exits = 0
        var storage: Set<BotID> = []
        var networks: Set<ClientID> = []
        var launches = 0
        /// The credentials each bot's last instance was launched with.
        var launchedSecrets: [BotID: BotSecrets] = [:]
        var reachable = true
        var launchesTimeOut = false
        private var nextAddress = 2

        func setLaunchesTimeOut(_ on: Bool) { launchesTimeOut = on }

        func finishSlowLaunches() {
            for (bot, instance) in instances where instance.pending {
                instances[bot]?.pending = false
                instances[bot]?.running = true
            }
        }

        func setReachable(_ value: Bool) { reachable = value }

        func setUsage(_ usage: BotUsage?, for bot: BotID?) {
            if let bot { usages[bot] = usage } else { defaultUsage = usage }
        }

        func setHealth(_ bot: BotID, _ health: String?, startedAt: String?) {
            instances[bot]?.health = health
            if let startedAt { instances[bot]?.startedAt = startedAt }
        }

        func killForMemory(_ bot: BotID, restarted: Bool) {
            guard var instance = instances[bot] else { return }
            exits += 1
            instance.oomKilled = true
            instance.lastExitAt = "2026-01-01T00:00:\(String(format: "%02d", exits % 60)).000000000Z"
            instance.running = restarted
            if restarted { instance.restarts += 1 }
            instances[bot] = instance
        }

        func usage(_ bot: BotID) throws(RuntimeError) -> BotUsage? {
            try requireReachable()
            guard instances[bot]?.running == true else { return nil }
            return usages[bot] ?? defaultUsage
        }

        private func requireReachable() throws(RuntimeError) {
            guard reachable else { throw .unavailable("the in-memory runtime is set unreachable") }
        }

        func launch(_ launch: BotLaunch) throws(RuntimeError) {
            try requireReachable()
            networks.insert(launch.clientID)
            storage.insert(launch.botID)
            nextAddress += 1
            instances[launch.botID] = Instance(client: launch.clientID, running: !launchesTimeOut, address: "127.99.0.\(nextAddress % 250 + 2)",
                                               pending: launchesTimeOut, startedAt: "2026-01-01T00:\(String(format: "%02d", launches % 60)):00.000000000Z")
            launches += 1
            launchedSecrets[launch.botID] = launch.secrets
            if launchesTimeOut { throw .timedOut("the in-memory runtime is set slow: created, not started") }
        }

        func stop(_ bot: BotID) throws(RuntimeError) {
            try requireReachable()
            instances[bot]?.running = false
        }

        func remove(_ bot: BotID, client: ClientID) throws(RuntimeError) {
            try requireReachable()
            instances[bot] = nil
            storage.remove(bot)
            if !instances.values.contains(where: { $0.client == client }) { networks.remove(client) }
        }

        func status(_ bot: BotID) throws(RuntimeError) -> BotRuntimeStatus? {
            try requireReachable()
            guard let instance = instances[bot] else { return nil }
            if instance.pending { return BotRuntimeStatus(phase: .pending, restartCount: instance.restarts) }
            if !instance.running && instance.oomKilled {
                return BotRuntimeStatus(phase: .crashed, reason: "killed: out of memory", exitCode: 137, oomKilled: true,
                                        restartCount: instance.restarts, lastExitAt: instance.lastExitAt)
            }
            return BotRuntimeStatus(phase: instance.running ? .running : .stopped, exitCode: instance.running ? nil : 0,
                                    oomKilled: instance.oomKilled, health: instance.running ? instance.health : nil,
                                    startedAt: instance.startedAt, address: instance.running ? instance.address : nil,
                                    restartCount: instance.restarts, lastExitAt: instance.lastExitAt)
        }

        func logs(_ bot: BotID, tail: Int) throws(RuntimeError) -> [String] {
            try requireReachable()
            guard instances[bot] != nil else { return [] }
            return Array(["line one", "line two"].suffix(tail))
        }

        func inventory() throws(RuntimeError) -> RuntimeInventory {
            try requireReachable()
            return RuntimeInventory(
                instances: instances.map { ManagedBotInstance(name: $0.key.containerName, namedBot: $0.key, botLabel: $0.key.rawValue,
                                                              clientLabel: $0.value.client.rawValue, running: $0.value.running) },
                storage: storage.sorted { $0.rawValue < $1.rawValue },
                networks: networks.sorted { $0.rawValue < $1.rawValue }
            )
        }
    }
}
