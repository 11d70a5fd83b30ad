import FTACore
import FTAStore
import Foundation
import Logging

/// The operator's incident switch, behind `fta lockdown` and `fta lockdown --lift`.
///
/// In force, it refuses every client user's sign-in and ends their sessions (admins still sign
/// in, to investigate), and stops every bot through the lifecycle the API uses, each stop
/// audited; every bot's desired state is stopped, so no reconciler starts one again, and the
/// lifecycle refuses any start. It removes nothing: the audit trail, accounts, bots and their
/// volumes stay as evidence. Lifting it lets clients sign in again; bots stay stopped until
/// their owners start them.
public struct Lockdown: Sendable {
    let database: AppDatabase
    let lifecycle: BotLifecycle
    let audit: AuditTrail
    let logger: Logger

    public init(database: AppDatabase, lifecycle: BotLifecycle, audit: AuditTrail, logger: Logger) {
        self.database = database
        self.lifecycle = lifecycle
        self.audit = audit
        self.logger = logger
    }

    /// What the sign-in page and a refused start tell a client user.
    public static let signInRefusal = "Sign-in is suspended: the operator has locked the portal down. Try again later, or ask your operator."
    public static let startRefusal = "The operator has locked the portal down: no bot can start until the lockdown is lifted."

    /// What `begin` did.
    public struct Report: Sendable, Equatable {
        public var lockdown: LockdownRecord
        public var wasAlreadyInForce: Bool
        public var sessionsEnded: Int
        /// Bots this call stopped.
        public var stopped: [String] = []
        /// Bots that could not be stopped now, with the reason. They are wanted stopped, so the
        /// reconciler stops them as soon as the runtime answers.
        public var notStopped: [String: String] = [:]
    }

    /// Puts the lockdown in force (again, when it already is: the stops and session ends are
    /// idempotent, and the first lockdown's time and reason are kept).
    public func begin(by actor: AuditActor, reason: String?) async throws -> Report {
        let begun = try await database.beginLockdown(LockdownRecord(by: actor.name, reason: reason))
        var report = Report(lockdown: begun.lockdown, wasAlreadyInForce: begun.wasAlreadyInForce, sessionsEnded: begun.sessionsEnded)
        // Recorded before the stops: the trail says when containment began, whatever follows.
        await audit.record(by: actor, action: "system.lockdown", outcome: .success,
                           detail: (begun.wasAlreadyInForce ? "already in force since \(Self.time(begun.lockdown.since)); applied again" : "reason: \(reason ?? "none given")")
                               + "; \(begun.sessionsEnded) client sessions ended")
        for bot in try await database.bots() where ![.stopped, .created, .quarantined, .deleting].contains(bot.state) {
            do {
                try await lifecycle.stop(bot.id)
                report.stopped.append(bot.id.rawValue)
                await audit.record(by: actor, action: "bot.stop", target: bot.id.rawValue, clientId: bot.clientId.rawValue, outcome: .success, detail: "lockdown")
            } catch {
                let reason = (error as? DomainError)?.message ?? "\(error)"
                report.notStopped[bot.id.rawValue] = reason
                logger.error("lockdown could not stop a bot", metadata: ["bot": "\(bot.id)", "error": "\(error)"])
                await audit.record(by: actor, action: "bot.stop", target: bot.id.rawValue, clientId: bot.clientId.rawValue, outcome: .failure, detail: "lockdown: \(reason)")
            }
        }
        return report
    }

    /// Ends the lockdown; returns the one that was in force, nil when there was none (then
    /// nothing is recorded).
    public func lift(by actor: AuditActor) async throws -> LockdownRecord? {
        guard let lifted = try await database.liftLockdown() else { return nil }
        await audit.record(by: actor, action: "system.lockdown_lift", outcome: .success,
                           detail: "in force since \(Self.time(lifted.since)) (by \(lifted.by)); bots stay stopped until their owners start them")
        return lifted
    }

    /// A time as the trail and the command line print it: ISO 8601, UTC.
    public static func time(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
}
