import ArgumentParser
import FTAPortal
import Foundation

/// `fta lockdown`: the operator's incident switch (docs/security.md, "Contain"). The work is
/// `Lockdown`'s, in FTAPortal; this command reads arguments and prints.
struct LockdownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lockdown",
        abstract: "Stop every bot and refuse every client sign-in (admins still sign in); --lift ends it.",
        discussion: """
            Client users' sessions end at once, every bot is stopped and stays stopped (nothing \
            restarts it), and nothing is deleted: the audit trail, accounts, bots and volumes stay. \
            Running it again while in force applies it again. With --lift, clients can sign in \
            again; bots stay stopped until their owners start them. Exits 1 when a bot could not \
            be stopped now (the reconciler of fta serve stops it as soon as the engine answers).
            """
    )
    @OptionGroup var common: CommonOptions
    @Option(help: "Why, for the audit trail and fta doctor (at most 200 characters).") var reason: String?
    @Flag(help: "End the lockdown.") var lift = false

    func validate() throws {
        if lift && reason != nil { throw ValidationError("--reason is for starting a lockdown, not for --lift") }
        if let reason, reason.trimmingCharacters(in: .whitespaces).isEmpty || reason.count > 200 {
            throw ValidationError("--reason must be 1 to 200 characters")
        }
    }

    func run() async throws {
        tightenUmask()
        let services = try common.portalServices()
        if lift {
            guard let lifted = try await services.lockdown.lift(by: .commandLine) else {
                print("no lockdown in force")
                return
            }
            print("lockdown lifted (it was in force since \(Lockdown.time(lifted.since))): clients can sign in; bots stay stopped until their owners start them")
            return
        }
        let report = try await services.lockdown.begin(by: .commandLine, reason: reason)
        print(report.wasAlreadyInForce
              ? "lockdown already in force since \(Lockdown.time(report.lockdown.since)); applied again"
              : "lockdown in force: client sign-in refused, admins still sign in")
        print("\(report.sessionsEnded) client sessions ended, \(report.stopped.count) bots stopped\(report.stopped.isEmpty ? "" : ": " + report.stopped.joined(separator: ", "))")
        for (bot, problem) in report.notStopped.sorted(by: { $0.key < $1.key }) {
            FileHandle.standardError.write(Data("fta: bot \(bot) is not stopped yet: \(problem)\n".utf8))
        }
        print("lift it with: fta lockdown --lift")
        if !report.notStopped.isEmpty { throw ExitCode.failure }
    }
}
