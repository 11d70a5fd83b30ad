import FTACore
import FTARuntime
import FTAStore
import Foundation
import Logging

/// A new Freqtrade image, rolled out bot by bot (`fta rollout`; docs/operations.md, "Upgrade").
///
/// For each running bot in turn: its image is set to the new one and it is restarted; then it
/// must run, answer its own API, and report `dry_run: true` within the time limit. A bot that
/// does not is stopped, set back to its previous image, restarted and checked again, and the
/// rollout stops there: the bots after it keep their image. Stopped bots get the new image only
/// when every running bot took it (they start with it next time). Every step is audited.
public struct ImageRollout: Sendable {
    let database: AppDatabase
    let lifecycle: BotLifecycle
    let bridge: FreqtradeBridge
    let audit: AuditTrail
    let logger: Logger

    public init(services: PortalServices) {
        database = services.database
        lifecycle = services.lifecycle
        bridge = services.bridge
        audit = services.audit
        logger = services.logger
    }

    public enum Outcome: String, Sendable {
        /// Restarted on the new image and verified.
        case rolled
        /// Failed on the new image; back on its previous one (verified again).
        case rolledBack = "rolled back"
        /// Failed on the new image, and failed again on the previous one: an operator looks.
        case failed
        /// Not running: the new image applies at its next start.
        case pinned
    }

    public struct Step: Sendable {
        public var bot: BotID
        public var from: String
        public var outcome: Outcome
        public var detail: String
        public var seconds: Double
    }

    /// Rolls `target` out; `progress` hears each step as it ends. Returns every step; the last
    /// one is the failure when the rollout stopped early.
    public func run(to target: String, timeout: Duration = .seconds(120), progress: @Sendable (Step) -> Void = { _ in }) async throws -> [Step] {
        var steps: [Step] = []
        let bots = try await database.bots().sorted { $0.id.rawValue < $1.id.rawValue }
        for bot in bots where lifecycle.image(of: bot) != target && Self.isRunning(bot) {
            let from = lifecycle.image(of: bot)
            let started = ContinuousClock.now
            var step = Step(bot: bot.id, from: from, outcome: .rolled, detail: "", seconds: 0)
            if let problem = await move(bot.id, to: target, timeout: timeout) {
                // Back to what worked: the same path, checked the same way.
                if let again = await move(bot.id, to: from, timeout: timeout) {
                    step.outcome = .failed
                    step.detail = "on \(target): \(problem); back on \(from): \(again)"
                } else {
                    step.outcome = .rolledBack
                    step.detail = "on \(target): \(problem); back on \(from), verified"
                }
            } else {
                step.detail = "running, API answering, dry-run verified"
            }
            step.seconds = (ContinuousClock.now - started).seconds
            await record(step, target: target, client: bot.clientId)
            steps.append(step)
            progress(step)
            if step.outcome != .rolled { return steps }
        }
        for bot in try await database.bots() where lifecycle.image(of: bot) != target && !Self.isRunning(bot) && bot.state != .deleting {
            let from = lifecycle.image(of: bot)
            _ = try await database.updateBot(bot.id) { $0.image = target }
            let step = Step(bot: bot.id, from: from, outcome: .pinned, detail: "not running: starts on \(target) next time", seconds: 0)
            await record(step, target: target, client: bot.clientId)
            steps.append(step)
            progress(step)
        }
        return steps
    }

    static func isRunning(_ bot: BotRecord) -> Bool {
        bot.desiredState == .running && [.running, .starting].contains(bot.state)
    }

    /// Sets the bot's image, restarts it, and waits for it to run, answer and be in dry-run.
    /// Nil when it did; otherwise what went wrong (the bot is then stopped).
    func move(_ id: BotID, to image: String, timeout: Duration) async -> String? {
        do {
            _ = try await database.updateBot(id) { $0.image = image }
            _ = try await lifecycle.restart(id)
        } catch {
            return "the restart failed: \(error)"
        }
        let deadline = ContinuousClock.now + timeout
        var last = "no answer yet"
        while ContinuousClock.now < deadline {
            do {
                guard let bot = try await database.bot(id) else { return "the bot was deleted" }
                if bot.state == .quarantined { return "quarantined: \(bot.lastError ?? "")" }
                let status = try await lifecycle.status(of: bot)
                // A crash is final for the check: the runtime's restart policy would only hide it.
                if let status, [.crashed, .stopped, .restarting].contains(status.phase) || status.restartCount > 0 {
                    last = "its container \(status.phase == .running ? "restarted" : status.phase.rawValue) (exit code \(status.exitCode.map(String.init) ?? "none"))"
                    break
                }
                switch try await bridge.dryRunVerdict(bot) {
                case .dryRun: return nil
                case .live(let reported):
                    // Never left running: the bot said it would trade for real.
                    last = "it reported dry_run = \(reported)"
                    _ = try? await lifecycle.stop(id)
                    return last
                }
            } catch {
                last = "\(error)"
            }
            try? await Task.sleep(for: .seconds(1))
        }
        _ = try? await lifecycle.stop(id)
        return "not healthy within \(timeout): \(last)"
    }

    func record(_ step: Step, target: String, client: ClientID) async {
        let outcome: AuditOutcome = step.outcome == .rolled || step.outcome == .pinned ? .success : .failure
        await audit.record(AuditEntry(actor: "cli", clientId: client.rawValue, action: "bot.image_rollout", target: step.bot.rawValue,
                                      outcome: outcome, detail: "\(step.from) -> \(target): \(step.outcome.rawValue); \(step.detail)"))
    }
}
