/// Where a bot is in its life. The portal records the intended state before it touches Docker,
/// so a crash halfway leaves a state the reconciler can finish from.
public enum BotState: String, Codable, Sendable, CaseIterable {
    case created, starting, running, stopping, stopped, failed, quarantined, deleting

    /// The states each state may move to. Staying in the same state is always allowed, so that
    /// every lifecycle operation can be retried after a crash.
    private static let transitions: [BotState: Set<BotState>] = [
        .created: [.starting, .stopped, .failed, .deleting],
        .starting: [.running, .stopping, .stopped, .failed, .quarantined, .deleting],
        .running: [.starting, .stopping, .stopped, .failed, .quarantined, .deleting],
        .stopping: [.stopped, .failed, .quarantined, .deleting],
        .stopped: [.starting, .failed, .quarantined, .deleting],
        .failed: [.starting, .stopping, .stopped, .quarantined, .deleting],
        // A quarantined bot reported something fta never allows (live trading, a container out
        // of spec). It stays stopped until an operator deletes it; nothing restarts it.
        .quarantined: [.deleting],
        .deleting: [],
    ]

    public func canMove(to next: BotState) -> Bool {
        next == self || Self.transitions[self, default: []].contains(next)
    }

    /// The state after `next`, or an error naming both when the move is not allowed.
    public func moving(to next: BotState) throws(IllegalTransition) -> BotState {
        guard canMove(to: next) else { throw IllegalTransition(from: self, to: next) }
        return next
    }
}

/// A lifecycle move that the state machine does not allow.
public struct IllegalTransition: Error, Sendable, Equatable, CustomStringConvertible {
    public let from: BotState
    public let to: BotState
    public var description: String { "a \(from.rawValue) bot cannot become \(to.rawValue)" }
}

/// What the owner asked for; the reconciler drives Docker toward it.
public enum DesiredState: String, Codable, Sendable {
    case running, stopped
}
