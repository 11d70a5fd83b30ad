/// Why an operation on fta's domain (bots, accounts, admission, the bridge to a bot) did not
/// happen, below any transport: the portal maps each case to an HTTP status in one place
/// (`APIError(domain:)`), the CLI prints its message, and the reconciler and doctor branch on
/// the case itself.
///
/// Every `message` is written for the user; backend details (Docker, curl, SQL) never reach
/// it: they go to the server log where the error is raised.
public enum DomainError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The thing named does not exist, or is not the caller's to see.
    case notFound(String)
    /// Input that fails validation, field by field.
    case invalid(FieldErrors)
    /// A state conflict: a name taken, a move the bot's state does not allow. `fields` names
    /// the input fields concerned, when there are some.
    case conflict(String, fields: [String: String]? = nil)
    /// The client's bot quota is reached.
    case quotaExceeded(count: Int, max: Int)
    /// The host cannot hold the bot: what it needs against what is free, and, when known, where
    /// the host's memory went.
    case memoryBudgetExceeded(neededMB: Int, freeMB: Int, budgetMB: Int, account: MemoryAccount? = nil)
    /// Bots may swap, and the host's swap cannot take this bot's cold pages: what it needs
    /// against what is free, the swap kept free, and what bots still starting will take.
    case swapExceeded(neededMB: Int, freeMB: Int, marginMB: Int, startingMB: Int)
    /// The bot reported live trading; it was stopped and quarantined.
    case quarantined
    /// The bot's trading data is only there while it runs.
    case botNotRunning(BotState)
    /// The bot's API cannot be reached (not running, not listening yet, refused the sign-in).
    case botUnreachable(String)
    /// The bot's API did not answer in time.
    case botTimeout
    /// The bot's API answered with an error or something unreadable.
    case botRefused(String)
    /// The runtime (the container engine, through its proxy) does not answer.
    case runtimeUnavailable
    /// The bot's image is not on this host.
    case imageMissing
    /// The runtime's gatekeeper refused the call.
    case runtimeRefused
    /// The runtime failed for another reason.
    case runtimeFailed
    /// Anything else: a bug or a broken store. The details are in the log.
    case `internal`

    /// The stable machine-readable code of the error (the API's `error.code`).
    public var code: String {
        switch self {
        case .notFound: "not_found"
        case .invalid: "validation_failed"
        case .conflict: "conflict"
        case .quotaExceeded: "quota_exceeded"
        // The same code as the memory budget: for a client both say "this host is full".
        case .memoryBudgetExceeded, .swapExceeded: "memory_budget_exceeded"
        case .quarantined: "quarantined"
        case .botNotRunning: "bot_not_running"
        case .botUnreachable: "bot_unreachable"
        case .botTimeout: "bot_timeout"
        case .botRefused: "bot_error"
        // The wire code predates the runtime seam; clients rely on it.
        case .runtimeUnavailable, .imageMissing: "docker_unavailable"
        case .runtimeRefused, .runtimeFailed, .internal: "internal"
        }
    }

    /// One sentence for the user that says what happened and what to do.
    public var message: String {
        switch self {
        case .notFound(let what): what
        case .invalid(let errors): "Some fields are not valid: \(errors.summary)"
        case .conflict(let message, _): message
        case .quotaExceeded(let count, let max):
            "This client already has \(count) of its \(max) bots. Delete one before creating another."
        case .memoryBudgetExceeded(let needed, let free, let budget, let account):
            "Not enough memory on this server to start this bot: it needs \(needed) MiB, and \(free) MiB of the \(budget) MiB bot budget is free"
                + (account.map { " (\($0.summary))" } ?? "") + ". Stop another bot or choose a smaller size."
        case .swapExceeded(let needed, let free, let margin, let starting):
            "Not enough memory on this server to start this bot: its cold pages need about \(needed) MiB of swap, and "
                + "\(max(0, free - margin - starting)) MiB is free (\(free) MiB of free swap, less \(margin) MiB kept free"
                + (starting > 0 ? " and \(starting) MiB for bots still starting" : "") + "). Stop another bot or choose a smaller size."
        case .quarantined:
            "This bot reported that it was not in dry-run. It has been stopped and quarantined; the operator has been told."
        case .botNotRunning(let state): "This bot is \(state.rawValue); its trading data is available while it runs."
        case .botUnreachable(let message): message
        case .botTimeout: "The bot did not answer in time. It may be busy; try again."
        case .botRefused(let message): message
        case .runtimeUnavailable: "The container engine is not reachable right now. Try again in a moment."
        case .imageMissing: "The bot image is not available on this server. The operator must pull or build it."
        case .runtimeRefused: "The container engine refused this operation. The operator can find details in the server log."
        case .runtimeFailed: "The container engine could not do this. The operator can find details in the server log."
        case .internal: "Something went wrong on the server. The operator can find details in the server log."
        }
    }

    /// Field-level messages, for a form to show beside each field.
    public var fields: [String: String]? {
        switch self {
        case .invalid(let errors): errors.messages
        case .conflict(_, let fields): fields
        default: nil
        }
    }

    public var description: String { "\(code): \(message)" }
}
