import FTACore

/// What a one-shot lab job does (docs/strategy-lab.md).
public enum LabJobKind: String, Sendable, Codable, CaseIterable {
    /// Loads a strategy in real Freqtrade and reports its settings and parameters, or why it fails:
    /// no network, no data.
    case validate
    /// Fills the shared market-data cache: the cache writable, the client's network.
    case download
    /// Runs a backtest: the cache read-only, the client's network (Freqtrade loads the exchange's markets).
    case backtest
}

/// Everything a runtime needs to run one lab job: who it is for, what it runs, what it may touch.
///
/// Runtime-neutral like `BotLaunch`: Docker makes a hardened one-shot container of it
/// (HardenedJobContainer); another runtime would make a one-off task.
public struct LabJobSpec: Sendable, Equatable {
    /// `[a-z0-9][a-z0-9-]{0,30}`: the container is `fta-job-<id>`.
    public var id: String
    public var client: ClientID
    public var kind: LabJobKind
    public var image: String
    /// The Freqtrade config, rendered by `renderLabConfig`.
    public var config: String
    /// The strategy's class name and source (a download job carries a shipped one it never loads).
    public var strategyClass: String
    public var strategySource: String
    /// Freqtrade's params file for the strategy, when parameters are tuned.
    public var strategyParams: String?
    /// Protections for the launcher (StrategyTuning.protectionsJSON).
    public var protections: String?
    /// The job's arguments (pairs, timeframe, timerange), JSON.
    public var arguments: String
    /// The Python that runs in the job (LabRunnerSource.runner).
    public var runner: String
    /// The market-data set the job mounts (`fta-data-<key>` on Docker), nil for none.
    public var dataSet: String?
    public var memoryMB: Int
    public var nanoCPUs: Int64

    public init(id: String, client: ClientID, kind: LabJobKind, image: String, config: String, strategyClass: String, strategySource: String,
                strategyParams: String? = nil, protections: String? = nil, arguments: String, runner: String, dataSet: String?,
                memoryMB: Int, nanoCPUs: Int64 = 1_000_000_000) {
        self.id = id
        self.client = client
        self.kind = kind
        self.image = image
        self.config = config
        self.strategyClass = strategyClass
        self.strategySource = strategySource
        self.strategyParams = strategyParams
        self.protections = protections
        self.arguments = arguments
        self.runner = runner
        self.dataSet = dataSet
        self.memoryMB = memoryMB
        self.nanoCPUs = nanoCPUs
    }

    /// Whether `text` can be a job id or a data-set key.
    public static func isName(_ text: String) -> Bool {
        guard (1...31).contains(text.count), let first = text.unicodeScalars.first,
              ("a"..."z").contains(first) || ("0"..."9").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }
}

/// One line a job printed, and on which stream.
public struct LabJobOutputLine: Sendable, Equatable {
    public var isStdout: Bool
    public var text: String

    public init(isStdout: Bool, text: String) {
        self.isStdout = isStdout
        self.text = text
    }
}

/// Where lab jobs run: the same backend as the bots, with the same hardening, but one-shot (no
/// restart), and with the shared market-data cache instead of a bot's volume.
public protocol LabJobRuntime: Sendable {
    /// Creates and starts the job (replacing a leftover of the same id).
    func startJob(_ job: LabJobSpec) async throws(RuntimeError)
    /// The job's state (`stopped`: it ended with 0; `crashed`: non-zero or killed), nil when it is gone.
    func jobStatus(_ id: String) async throws(RuntimeError) -> BotRuntimeStatus?
    /// Everything the job printed so far (bounded by the runtime's log limits).
    func jobOutput(_ id: String) async throws(RuntimeError) -> [LabJobOutputLine]
    /// Kills and removes the job; absent is fine.
    func removeJob(_ id: String) async throws(RuntimeError)
    /// The ids of every job instance that exists, for the clean-up after a restart.
    func jobIDs() async throws(RuntimeError) -> [String]
    /// Removes a market-data set (the operator's prune); absent is fine.
    func removeDataSet(_ key: String) async throws(RuntimeError)
}
