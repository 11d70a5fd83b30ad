import FTACore
import FTAStore

/// Admission control for a small host: a per-client bot quota, checked at creation, and a host
/// memory budget shared by every bot that should be running, checked at each start.
public struct Admission: Sendable {
    public let memoryBudgetMB: Int
    public let defaultMaxBots: Int

    public init(memoryBudgetMB: Int, defaultMaxBots: Int) {
        self.memoryBudgetMB = memoryBudgetMB
        self.defaultMaxBots = defaultMaxBots
    }

    public func maxBots(for client: ClientRecord) -> Int { client.maxBots ?? defaultMaxBots }

    /// Memory reserved by bots that should be running.
    public func usedMB(by bots: [BotRecord], excluding excluded: BotID? = nil) -> Int {
        bots.filter { $0.desiredState == .running && $0.state != .quarantined && $0.id != excluded }
            .reduce(0) { $0 + $1.size.memoryMB }
    }

    /// Why `bot` may not start now, or nil when it fits.
    public func refusal(toStart bot: BotRecord, among bots: [BotRecord]) -> DomainError? {
        let used = usedMB(by: bots, excluding: bot.id)
        let needed = bot.size.memoryMB
        guard used + needed <= memoryBudgetMB else {
            let free = max(0, memoryBudgetMB - used)
            return .memoryBudgetExceeded(neededMB: needed, freeMB: free, budgetMB: memoryBudgetMB)
        }
        return nil
    }
}
