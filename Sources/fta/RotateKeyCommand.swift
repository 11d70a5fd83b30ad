import ArgumentParser
import FTACore
import FTAPortal
import FTAStore
import Foundation

/// `fta rotate-key`: re-seals every bot's secrets under the current FTA_SECRET_KEY.
///
/// The rotation is `fta-admin rotate-key`'s (root: it owns the env file): it generates the new
/// key, keeps the old one as FTA_SECRET_KEY_PREVIOUS, restarts the portal (which then opens
/// both and seals with the new one), runs this, and drops the old key. Each step can be run
/// again after a crash: this one re-seals in one transaction, so a crash part-way leaves every
/// secret as it was, and a second run finishes (docs/security.md, "Rotate").
struct RotateKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-key",
        abstract: "Re-seal every bot's secrets under FTA_SECRET_KEY (with FTA_SECRET_KEY_PREVIOUS, during fta-admin rotate-key).",
        discussion: "--check only counts the secrets each key opens; it exits 3 while any is not under the current key."
    )
    @OptionGroup var common: CommonOptions
    @Flag(help: "Only count which key opens each bot's secrets.") var check = false

    func run() async throws {
        tightenUmask()
        let configuration = try common.load(requireSecrets: true)
        guard let box = configuration.secretBox else { throw ValidationError("configuration: FTA_SECRET_KEY is not usable") }
        let database = try AppDatabase.open(path: configuration.databasePath)
        let counts = try await Self.count(database, box)
        if check {
            print("bot secrets: \(counts.current) under the current key, \(counts.previous) under the previous key, \(counts.neither) under neither")
            if counts.previous + counts.neither > 0 { throw ExitCode(3) }
            return
        }
        if counts.neither > 0 {
            throw ValidationError("\(counts.neither) bot secret(s) open with neither FTA_SECRET_KEY nor FTA_SECRET_KEY_PREVIOUS: nothing was changed")
        }
        // A fault-injection point for the crash test (Tests/system/operations): dies part-way
        // through the transaction, as a power cut or kill -9 would.
        let crashAfter = ProcessInfo.processInfo.environment["FTA_TEST_ROTATE_CRASH_AFTER"].flatMap(Int.init)
        let resealed = Counter()
        let changed = try await database.resealBotSecrets { record in
            guard box.opener(of: record.sealed, boundTo: SecretBox.owner(of: record.botId)) == .previous else { return nil }
            if let crashAfter, resealed.next() > crashAfter { kill(getpid(), SIGKILL) }
            return try box.reseal(record.sealed, boundTo: SecretBox.owner(of: record.botId))
        }
        print("re-sealed \(changed) bot secret(s) under the current key; \(counts.current) already were")
    }

    static func count(_ database: AppDatabase, _ box: SecretBox) async throws -> (current: Int, previous: Int, neither: Int) {
        var counts = (current: 0, previous: 0, neither: 0)
        for record in try await database.botSecrets() {
            switch box.opener(of: record.sealed, boundTo: SecretBox.owner(of: record.botId)) {
            case .current: counts.current += 1
            case .previous: counts.previous += 1
            case .neither: counts.neither += 1
            }
        }
        return counts
    }
}

/// A counter the re-seal closure can bump (it runs inside the database's write).
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
}
