import ArgumentParser
import FTAPortal
import FTAStore
import Foundation

/// `fta audit prune|verify`: the audit trail's retention by hand (fta serve prunes daily by
/// itself; docs/operations.md, "Retention"). The work is `AuditRetention`'s.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Prune the audit trail into checksummed archives, or verify an archive.",
        subcommands: [Prune.self, Verify.self]
    )

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Archive, then delete, audit entries older than FTA_AUDIT_RETENTION_DAYS.",
            discussion: """
                Entries go to FTA_AUDIT_ARCHIVE_DIR as audit-<first id>-<last id>.jsonl with a .sha256 \
                beside it, written and synced before anything is deleted; the deletion and an \
                audit.pruned entry naming the archive and its checksum are one transaction. \
                Entries younger than 30 days are never deleted, whatever the setting.
                """
        )
        @OptionGroup var common: CommonOptions
        @Option(help: "Keep this many days instead of FTA_AUDIT_RETENTION_DAYS (30 at least).") var days: Int?
        @Flag(help: "Only say what would be pruned.") var dryRun = false

        func validate() throws {
            if let days, !(30...36500).contains(days) { throw ValidationError("--days must be between 30 and 36500") }
        }

        func run() async throws {
            tightenUmask()
            let configuration = try common.load(requireSecrets: false)
            let retention = AuditRetention(database: try AppDatabase.open(path: configuration.databasePath),
                                           days: days ?? configuration.auditRetentionDays, directory: configuration.auditArchiveDirectory)
            if dryRun {
                let plan = try await retention.plan()
                if let first = plan.first, let last = plan.last {
                    print("would archive and prune \(plan.count) entries (ids \(first)-\(last)) older than \(retention.days) days into \(retention.directory)")
                } else {
                    print("nothing to prune: no entry is older than \(retention.days) days")
                }
                return
            }
            let done = try await retention.prune()
            if done.isEmpty { print("nothing to prune: no entry is older than \(retention.days) days") }
            for pruned in done {
                print("archived \(pruned.count) entries (ids \(pruned.firstId)-\(pruned.lastId)) to \(pruned.archive) (sha256 \(pruned.sha256)), then pruned them")
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check an audit archive against its .sha256 file and the checksum the audit trail recorded.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "An archive file, audit-<first>-<last>.jsonl.") var archive: String

        func run() async throws {
            let configuration = try common.load(requireSecrets: false)
            let retention = AuditRetention(database: try AppDatabase.open(path: configuration.databasePath),
                                           days: configuration.auditRetentionDays, directory: configuration.auditArchiveDirectory)
            do {
                let count = try await retention.verify(archive)
                print("\(archive): \(count) entries, checksum matches its .sha256 file and the audit trail's record")
            } catch {
                FileHandle.standardError.write(Data("fta: \(error)\n".utf8))
                throw ExitCode.failure
            }
        }
    }
}
