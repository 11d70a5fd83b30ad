/// Where a host's memory goes, in MiB, as admission counts it: what the host has (RAM, and the
/// swap credit when bots may swap), what the control plane holds, the margin kept free, and
/// what the bots that should run hold or have reserved. `budgetMB` is what bots may use
/// together; `freeMB` what is left of it.
public struct MemoryAccount: Sendable, Equatable, Codable {
    public var hostMB: Int
    public var swapCreditMB: Int
    public var controlPlaneMB: Int
    public var marginMB: Int
    public var botsMB: Int
    /// The budget was set by the operator (FTA_MEMORY_BUDGET_MB), not derived from the host.
    public var fixed: Bool

    public init(hostMB: Int, swapCreditMB: Int, controlPlaneMB: Int, marginMB: Int, botsMB: Int, fixed: Bool = false) {
        self.hostMB = hostMB
        self.swapCreditMB = swapCreditMB
        self.controlPlaneMB = controlPlaneMB
        self.marginMB = marginMB
        self.botsMB = botsMB
        self.fixed = fixed
    }

    /// An operator's fixed budget: nothing of the host is derived.
    public static func fixed(budgetMB: Int, botsMB: Int) -> MemoryAccount {
        MemoryAccount(hostMB: budgetMB, swapCreditMB: 0, controlPlaneMB: 0, marginMB: 0, botsMB: botsMB, fixed: true)
    }

    public var budgetMB: Int { max(0, hostMB + swapCreditMB - controlPlaneMB - marginMB) }
    public var freeMB: Int { max(0, budgetMB - botsMB) }

    /// Where the memory went, in a few words for a refusal: empty for a fixed budget.
    public var summary: String {
        if fixed { return "set by the operator; bots hold \(botsMB) MiB" }
        let swap = swapCreditMB > 0 ? " and \(swapCreditMB) MiB of swap credit" : ""
        return "\(hostMB) MiB of memory\(swap), less \(controlPlaneMB) MiB for the control plane, \(marginMB) MiB of margin and \(botsMB) MiB for running bots"
    }
}
