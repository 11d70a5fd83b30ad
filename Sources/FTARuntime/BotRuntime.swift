import FTACore

/// Everything a runtime needs to launch one bot: who it is, whose it is, what it runs.
///
/// Runtime-neutral: Docker turns it into a hardened container on the client's bridge network;
/// an ECS/Fargate runtime would turn the same facts into a task definition.
public struct BotLaunch: Sendable {
    public var botID: BotID
    public var clientID: ClientID
    public var settings: BotSettings
    public var secrets: BotSecrets
    public var image: String
    public var exchangeOverride: ExchangeOverride?
    /// Which paper wallet the bot trades in (BotRecord.walletResets, BotPaths.database(generation:)).
    public var walletGeneration: Int
    /// The strategy's whole source: a shipped one's from this release, a custom one's as stored
    /// for the exact version `settings.strategy` names.
    public var strategySource: String
    /// The Python that starts Freqtrade with tuned protections (docs/strategy-lab.md); used only
    /// when the settings tune protections.
    public var launcher: String = ""

    public init(botID: BotID, clientID: ClientID, settings: BotSettings, secrets: BotSecrets, image: String, exchangeOverride: ExchangeOverride?,
                walletGeneration: Int = 0, strategySource: String? = nil) {
        self.walletGeneration = walletGeneration
        if let strategySource {
            self.strategySource = strategySource
        } else if case .shipped(let shipped) = settings.strategy {
            self.strategySource = shipped.pythonSource
        } else {
            // A custom strategy's source comes from the store; a launch without it fails at import, loudly.
            self.strategySource = ""
        }
        self.botID = botID
        self.clientID = clientID
        self.settings = settings
        self.secrets = secrets
        self.image = image
        self.exchangeOverride = exchangeOverride
    }
}

/// Which bot a runtime question is about, with what the runtime needs to judge the answer
/// (the client's network, the size its limits must match, the image it must run).
public struct BotPlacement: Sendable, Hashable {
    public var bot: BotID
    public var client: ClientID
    public var size: BotSize
    /// The image the bot is pinned to (BotRecord.image); nil: the runtime's configured image.
    public var image: String?

    public init(bot: BotID, client: ClientID, size: BotSize, image: String? = nil) {
        self.bot = bot
        self.client = client
        self.size = size
        self.image = image
    }
}

/// Where a bot's instance is in its life, in words every runtime can map its own states to.
public enum BotPhase: String, Sendable, Codable, CaseIterable {
    /// Created or being scheduled, not running yet.
    case pending
    case running
    /// The runtime is restarting it after a crash (its own restart policy).
    case restarting
    /// Ended cleanly: stopped on request, or exited with status 0.
    case stopped
    /// Ended badly: a non-zero exit, an OOM kill, or the runtime gave up restarting it.
    case crashed
    /// A state fta has no word for (paused, being removed, ...).
    case unknown

    /// Whether the runtime still has it alive or coming back by itself.
    public var isAlive: Bool { self == .running || self == .restarting }
}

/// What a runtime reports about a bot's instance.
public struct BotRuntimeStatus: Sendable, Equatable {
    public var phase: BotPhase
    /// Why it is in that phase, for the user and the log (e.g. "exited with code 1",
    /// "killed: out of memory"); nil when there is nothing to say.
    public var reason: String?
    public var exitCode: Int?
    /// The kernel killed it for exceeding its memory limit.
    public var oomKilled: Bool
    /// The runtime's health verdict, when it runs a health check.
    public var health: String?
    public var startedAt: String?
    /// The bot's address on its client network: where the portal reaches its API.
    public var address: String?
    /// How the instance departs from the hardened spec; empty when it complies.
    public var deviations: [String]
    /// How often the runtime's restart policy restarted this instance.
    public var restartCount: Int
    /// When the instance's last run ended (the runtime's timestamp), nil when it never ended:
    /// with `oomKilled`, it names one OOM kill, so the reconciler records each kill once.
    public var lastExitAt: String?

    public init(phase: BotPhase, reason: String? = nil, exitCode: Int? = nil, oomKilled: Bool = false, health: String? = nil,
                startedAt: String? = nil, address: String? = nil, deviations: [String] = [], restartCount: Int = 0,
                lastExitAt: String? = nil) {
        self.phase = phase
        self.reason = reason
        self.exitCode = exitCode
        self.oomKilled = oomKilled
        self.health = health
        self.startedAt = startedAt
        self.address = address
        self.deviations = deviations
        self.restartCount = restartCount
        self.lastExitAt = lastExitAt
    }

    public var isRunning: Bool { phase == .running }
}

/// What a bot's instance holds in memory now, as its runtime measures it.
public struct BotUsage: Sendable, Equatable {
    /// Everything charged to the instance: its processes' memory and the page cache it caused.
    public var memoryBytes: Int64
    /// What it would not give back without swapping or faulting: memory less the inactive
    /// page cache (what `docker stats` and the kubelet call the working set).
    public var workingSetBytes: Int64
    /// How much of it is in swap, when the runtime says (nil: not reported).
    public var swapBytes: Int64?
    /// The instance's RAM limit, when it has one.
    public var limitBytes: Int64?

    public init(memoryBytes: Int64, workingSetBytes: Int64, swapBytes: Int64? = nil, limitBytes: Int64? = nil) {
        self.memoryBytes = memoryBytes
        self.workingSetBytes = workingSetBytes
        self.swapBytes = swapBytes
        self.limitBytes = limitBytes
    }

    public var workingSetMB: Int { Int((workingSetBytes + (1 << 20) - 1) >> 20) }
}

/// A bot instance found in the runtime, by its labels (tags, on other runtimes).
public struct ManagedBotInstance: Sendable, Equatable {
    /// The runtime's name for it (`fta-bot-<bot>` on Docker).
    public var name: String
    /// The bot its name stands for, when the name is a bot's: what `stop(bot:)` acts on.
    public var namedBot: BotID?
    /// The `fta.bot` and `fta.client` labels as found: a stray instance may carry anything.
    public var botLabel: String?
    public var clientLabel: String?
    public var running: Bool

    public init(name: String, namedBot: BotID?, botLabel: String?, clientLabel: String?, running: Bool) {
        self.name = name
        self.namedBot = namedBot
        self.botLabel = botLabel
        self.clientLabel = clientLabel
        self.running = running
    }

    /// The bot it is, when its name and its label agree; nil for anything else.
    public var bot: BotID? { namedBot.flatMap { $0.rawValue == botLabel ? $0 : nil } }
}

/// Everything fta-managed that a runtime holds, for the reconciler's orphan report.
public struct RuntimeInventory: Sendable, Equatable {
    public var instances: [ManagedBotInstance]
    /// Bots whose storage exists (volumes on Docker).
    public var storage: [BotID]
    /// Clients whose network exists.
    public var networks: [ClientID]
    /// Storage and networks whose names fta does not recognise as its own ids.
    public var unrecognised: [String]

    public init(instances: [ManagedBotInstance], storage: [BotID], networks: [ClientID], unrecognised: [String] = []) {
        self.instances = instances
        self.storage = storage
        self.networks = networks
        self.unrecognised = unrecognised
    }
}

/// One finding of a runtime's self-check, as `fta doctor` shows it.
public struct RuntimeCheck: Sendable, Equatable {
    public enum Verdict: String, Sendable { case pass, warn, fail }
    public var name: String
    public var verdict: Verdict
    public var detail: String
    /// What to do about it; empty on a pass.
    public var fix: String

    public init(name: String, verdict: Verdict, detail: String, fix: String = "") {
        self.name = name
        self.verdict = verdict
        self.detail = detail
        self.fix = fix
    }
}

/// How a runtime call failed, in terms the domain can act on. The associated texts come from
/// the backend (Docker, curl, AWS) and are for logs only, never for users.
public enum RuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The runtime (or the proxy in front of it) does not answer.
    case unavailable(String)
    /// The runtime took longer to answer than fta waits. Unlike `unavailable`, the call may have
    /// reached it and may still complete: a slow host starting several bots at once does this.
    case timedOut(String)
    /// The bot's image is not on this host and cannot be fetched.
    case imageMissing(String)
    /// The runtime's gatekeeper (the socket proxy, an IAM policy) refused the call.
    case refused(String)
    /// Anything else the runtime could not do.
    case failed(String)

    public var description: String {
        switch self {
        case .unavailable(let m): "runtime unavailable: \(m)"
        case .timedOut(let m): "runtime timed out: \(m)"
        case .imageMissing(let m): "image missing: \(m)"
        case .refused(let m): "refused by the runtime's gatekeeper: \(m)"
        case .failed(let m): "runtime failure: \(m)"
        }
    }
}

/// Where bots run. Docker today, through the socket proxy; the protocol holds nothing of
/// Docker's so that an ECS/Fargate (or Kubernetes) runtime can stand behind it.
///
/// A runtime owns whatever its backend needs around a bot: `launch` creates the client's
/// network and the bot's storage when missing, `remove` takes them away again. Every call is
/// idempotent: launching replaces an old instance, stopping or removing what is absent is fine.
public protocol BotRuntime: Sendable {
    /// A short name for logs and doctor ("docker").
    var name: String { get }
    /// Whether the runtime answers.
    func isReachable() async -> Bool
    /// Creates the bot's instance from `launch` (replacing any old one, creating its network
    /// and storage when missing) and starts it.
    func launch(_ launch: BotLaunch) async throws(RuntimeError)
    /// Stops the bot's instance, keeping it and its storage; absent is fine.
    func stop(bot: BotID) async throws(RuntimeError)
    /// Removes the bot's instance and its storage, and the client's network once no instance
    /// of that client is left; absent is fine.
    func remove(bot: BotID, client: ClientID) async throws(RuntimeError)
    /// The instance's state, or nil when there is none.
    func status(of placement: BotPlacement) async throws(RuntimeError) -> BotRuntimeStatus?
    /// What the bot's instance holds in memory now, or nil when there is no running instance
    /// (or the runtime cannot say): admission then counts the bot with its size's reservation.
    func usage(of placement: BotPlacement) async throws(RuntimeError) -> BotUsage?
    /// The last `tail` lines of the bot's output; empty when there is no instance.
    func logs(bot: BotID, tail: Int) async throws(RuntimeError) -> [String]
    /// Every fta-managed instance, storage and network.
    func inventory() async throws(RuntimeError) -> RuntimeInventory
    /// Checks the runtime's own safety promises (its gatekeeper refuses what it must, its
    /// settings are in place), for `fta doctor`. `host` adds checks that need root on the host.
    func selfCheck(host: Bool) async -> [RuntimeCheck]
}

extension RuntimeError {
    /// The domain's view of a runtime failure: the user learns what to do, not what broke.
    public var domainError: DomainError {
        switch self {
        case .unavailable, .timedOut: .runtimeUnavailable
        case .imageMissing: .imageMissing
        case .refused: .runtimeRefused
        case .failed: .runtimeFailed
        }
    }
}
