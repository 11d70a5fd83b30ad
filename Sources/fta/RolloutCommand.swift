import ArgumentParser
import FTAPortal
import Foundation

/// `fta rollout`: a new Freqtrade image for the existing bots, one bot at a time, each verified,
/// each rolled back on failure (docs/operations.md, "Upgrade"). The work is `ImageRollout`'s.
struct RolloutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Move running bots to a new Freqtrade image one by one, verifying each; roll back on failure.",
        discussion: """
            Each running bot is restarted on the image and must run, answer its API and report \
            dry_run: true within --timeout; a bot that does not goes back to its previous image \
            (checked the same way) and the rollout stops, exit status 1. Stopped bots take the \
            image for their next start once every running bot took it. New bots use FTA_BOT_IMAGE.
            """
    )
    @OptionGroup var common: CommonOptions
    @Option(help: "The image (default: FTA_BOT_IMAGE).") var image: String?
    @Option(help: "Seconds each bot has to become healthy on the new image.") var timeout: Int = 120
    @Flag(help: "Only list what would move.") var dryRun = false

    func validate() throws {
        if !(5...1800).contains(timeout) { throw ValidationError("--timeout must be between 5 and 1800 seconds") }
        if let image, image.isEmpty || image.count > 256 || image.contains(where: { $0.isWhitespace }) {
            throw ValidationError("--image must be an image reference (no spaces, at most 256 characters)")
        }
    }

    func run() async throws {
        tightenUmask()
        let services = try common.portalServices()
        let target = image ?? services.configuration.botImage
        let bots = try await services.database.bots().filter { services.lifecycle.image(of: $0) != target && $0.state != .deleting }
        if dryRun || bots.isEmpty {
            print(bots.isEmpty ? "every bot already runs \(target)" : "would move \(bots.count) bots to \(target): "
                  + bots.map { "\($0.id) (\(services.lifecycle.image(of: $0)), \($0.state.rawValue))" }.joined(separator: ", "))
            return
        }
        print("rolling out \(target) to \(bots.count) bots, one at a time")
        let steps = try await ImageRollout(services: services).run(to: target, timeout: .seconds(timeout)) { step in
            print("  \(step.bot): \(step.outcome.rawValue) (\(String(format: "%.1f", step.seconds)) s): \(step.detail)")
        }
        guard let last = steps.last, last.outcome == .rolled || last.outcome == .pinned else {
            let stopped = steps.last.map { "\($0.bot) \($0.outcome.rawValue)" } ?? "nothing moved"
            FileHandle.standardError.write(Data("fta: rollout stopped: \(stopped); the bots after it keep their image (see the audit trail, action bot.image_rollout)\n".utf8))
            throw ExitCode.failure
        }
        print("done: \(steps.filter { $0.outcome == .rolled }.count) restarted on \(target) and verified, \(steps.filter { $0.outcome == .pinned }.count) will start on it")
    }
}
