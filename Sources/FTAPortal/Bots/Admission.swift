import FTACore
import FTAStore
import Foundation

/// How admission counts memory, from the configuration (docs/density.md).
public struct MemoryPolicy: Sendable, Equatable {
    /// FTA_MEMORY_BUDGET_MB: the operator's budget for all bots, instead of one derived from the host.
    public var fixedBudgetMB: Int?
    /// FTA_BOT_SWAP, resolved: bots run with their size's swapping limits.
    public var botSwap: Bool
    /// FTA_MEMORY_MARGIN_MB; nil: `defaultMarginMB(hostMB:)`.
    public var marginMB: Int?
    /// FTA_SWAP_CREDIT_MB; nil: `defaultSwapCreditMB(host:)` when bots may swap.
    public var swapCreditMB: Int?
    /// How long after its start a bot counts with its reservation instead of what it holds: a
    /// Freqtrade bot imports, loads its markets and runs its first candle in about a minute
    /// and a half on a small host, and holds little before that.
    public var warmUp: TimeInterval

    public init(fixedBudgetMB: Int? = nil, botSwap: Bool = false, marginMB: Int? = nil, swapCreditMB: Int? = nil, warmUp: TimeInterval = 180) {
        self.fixedBudgetMB = fixedBudgetMB
        self.botSwap = botSwap
        self.marginMB = marginMB
        self.swapCreditMB = swapCreditMB
        self.warmUp = warmUp
    }

    /// What is kept free of bots for the rest of the system (kernel, systemd, sshd, page cache
    /// of the binaries) and for bots' spikes: 64 MiB, or 1/16 of a larger host's memory.
    public static func defaultMarginMB(hostMB: Int) -> Int { max(64, hostMB / 16) }

    /// How far bots may commit beyond RAM when they may swap: 1/8 of RAM, within the free swap.
    /// Bots' own limits already keep their cold pages in swap; the credit lets the kernel also
    /// swap out cold pages of the control plane and give that RAM to bots. It is small on
    /// purpose: working sets are measured in RAM, so a large credit would let measured bots
    /// crowd each other into thrashing instead of being refused.
    public static func defaultSwapCreditMB(host: HostMemory) -> Int { max(0, min(host.totalMB / 8, host.swapFreeMB / 2)) }

    /// The swap kept free of bots' cold pages: the kernel also swaps out the control plane's,
    /// and with no swap left a candle's allocation anywhere ends in the host's OOM killer.
    public static func swapMarginMB(host: HostMemory) -> Int { max(64, host.swapTotalMB / 16) }
}

/// Admission control for a small host: a per-client bot quota, checked at creation, and a
/// memory budget shared by every bot that should run, checked at each start.
///
/// The budget is what the host really has: its memory (and a swap credit when bots may swap)
/// less what the control plane holds and a safety margin, as measured. Against it count the
/// bots that should run: each with the highest working set its runtime reported over the last
/// minutes, or, while it is not measured yet (starting, warming up, its runtime silent), with
/// its size's reservation. FTA_MEMORY_BUDGET_MB replaces the derived budget by a fixed one.
public struct Admission: Sendable {
    public let policy: MemoryPolicy
    public let defaultMaxBots: Int
    /// What the host's memory holds: shared by the starts, the budget views and the reconciler.
    public let gauge: MemoryGauge
    /// What the strategy lab's running job holds: counted with the bots (StrategyLab).
    public let lab = LabMemoryHold()

    public init(policy: MemoryPolicy, defaultMaxBots: Int, gauge: MemoryGauge) {
        self.policy = policy
        self.defaultMaxBots = defaultMaxBots
        self.gauge = gauge
    }

    public func maxBots(for client: ClientRecord) -> Int { client.maxBots ?? defaultMaxBots }

    /// What a bot of `size` holds before it is measured: its RAM limit, the most it can hold in RAM.
    public func reservationMB(_ size: BotSize) -> Int { size.memoryLimits(swap: policy.botSwap).ramMB }

    /// Whether the bot holds its share of the budget: it should run, and nothing keeps it from it.
    public func holdsMemory(_ bot: BotRecord) -> Bool { bot.desiredState == .running && bot.state != .quarantined }

    /// What `bot` counts for: its measured peak once warmed up, its reservation before.
    public func chargeMB(of bot: BotRecord, in snapshot: MemorySnapshot, now: Date) -> Int {
        guard !isWarmingUp(bot, in: snapshot, now: now), let measured = snapshot.bots[bot.id] else { return reservationMB(bot.size) }
        return measured
    }

    /// The memory account: the host's side from `snapshot`, the bots' from `bots` (all of them;
    /// only those that hold memory count, less `excluded`).
    public func account(of bots: [BotRecord], excluding excluded: BotID? = nil, snapshot: MemorySnapshot, now: Date = Date()) -> MemoryAccount {
        // A running lab job (backtest, download, validation) counts like a bot of its limit.
        let botsMB = bots.filter { holdsMemory($0) && $0.id != excluded }.reduce(0) { $0 + chargeMB(of: $1, in: snapshot, now: now) } + lab.heldMB
        if let fixed = policy.fixedBudgetMB { return .fixed(budgetMB: fixed, botsMB: botsMB) }
        // Without /proc/meminfo (not Linux) the host is taken for the 1 GiB it is made for.
        let host = snapshot.host ?? HostMemory(totalMB: 1024, availableMB: 0, swapTotalMB: 0, swapFreeMB: 0)
        let credit = policy.botSwap ? (policy.swapCreditMB ?? MemoryPolicy.defaultSwapCreditMB(host: host)) : 0
        return MemoryAccount(hostMB: host.totalMB, swapCreditMB: credit, controlPlaneMB: snapshot.controlPlane.totalMB,
                             marginMB: policy.marginMB ?? MemoryPolicy.defaultMarginMB(hostMB: host.totalMB), botsMB: botsMB)
    }

    /// The memory account now, from a recent measurement of the bots that hold memory.
    public func currentAccount(database: AppDatabase) async throws -> MemoryAccount {
        let bots = try await database.bots()
        let snapshot = await gauge.snapshot(of: bots.filter(holdsMemory))
        return account(of: bots, snapshot: snapshot)
    }

    /// Why `bot` may not start now, or nil when it fits.
    public func refusal(toStart bot: BotRecord, among bots: [BotRecord], snapshot: MemorySnapshot, now: Date = Date()) -> DomainError? {
        let account = account(of: bots, excluding: bot.id, snapshot: snapshot, now: now)
        let needed = reservationMB(bot.size)
        guard account.botsMB + needed <= account.budgetMB else {
            return .memoryBudgetExceeded(neededMB: needed, freeMB: account.freeMB, budgetMB: account.budgetMB, account: account)
        }
        return swapRefusal(toStart: bot, among: bots, snapshot: snapshot, now: now)
    }

    /// What a bot of `size` moves to swap when its RAM limit is below its footprint: the
    /// footprint (its no-swap limit) less its RAM. A small Freqtrade bot swapped 150–170 MiB in
    /// the 1 GiB VM; this says 192.
    public func expectedSwapMB(_ size: BotSize) -> Int {
        guard policy.botSwap else { return 0 }
        return max(0, size.memoryLimits(swap: false).ramMB - size.memoryLimits(swap: true).ramMB)
    }

    /// The second dimension of a host whose bots swap: RAM is counted by working sets, but the
    /// cold pages must fit in the swap that is left. In the 1 GiB VM the RAM budget alone let a
    /// seventh bot in with 100 MiB of swap free, and swap then ran full. Bots still warming up
    /// have not swapped all of theirs yet, so they count with their whole expected swap.
    func swapRefusal(toStart bot: BotRecord, among bots: [BotRecord], snapshot: MemorySnapshot, now: Date) -> DomainError? {
        guard policy.botSwap, policy.fixedBudgetMB == nil, let host = snapshot.host else { return nil }
        let needed = expectedSwapMB(bot.size)
        let starting = bots.filter { holdsMemory($0) && $0.id != bot.id && isWarmingUp($0, in: snapshot, now: now) }
            .reduce(0) { $0 + expectedSwapMB($1.size) }
        let margin = MemoryPolicy.swapMarginMB(host: host)
        guard host.swapFreeMB - margin - starting >= needed else {
            return .swapExceeded(neededMB: needed, freeMB: host.swapFreeMB, marginMB: margin, startingMB: starting)
        }
        return nil
    }

    /// Whether `bot` still counts with its reservation: not measured, or not running long enough.
    func isWarmingUp(_ bot: BotRecord, in snapshot: MemorySnapshot, now: Date) -> Bool {
        guard snapshot.bots[bot.id] != nil, let started = bot.startedAt else { return true }
        return snapshot.takenAt.timeIntervalSince(started) < policy.warmUp || now.timeIntervalSince(started) < policy.warmUp
    }
}
