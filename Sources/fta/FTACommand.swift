import ArgumentParser
import FTACore
import FTAPortal
import FTAStore
import Foundation
import Logging

/// `fta`: the Freqtrade bot-as-a-service appliance. This executable only parses arguments and
/// calls the libraries.
@main
struct FTACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fta",
        abstract: "Freqtrade bots as a service: a portal, a SQLite store, hardened dry-run bots.",
        discussion: "Configuration comes from FTA_* environment variables (see .env.example); flags override them.",
        version: FTAVersion.current,
        subcommands: [Serve.self, Migrate.self, Config.self, Admin.self, Client.self, Backup.self, Restore.self, Doctor.self, Reconcile.self,
                      LockdownCommand.self, RotateKeyCommand.self, AuditCommand.self, RolloutCommand.self]
    )
}

/// Flags shared by the commands that open the database; each overrides its variable.
struct CommonOptions: ParsableArguments {
    @Option(help: "SQLite database file (FTA_DATABASE).")
    var database: String?

    @Option(help: "Docker socket proxy URL (FTA_DOCKER_URL).")
    var dockerURL: String?

    var overrides: [String: String] {
        var values: [String: String] = [:]
        values["FTA_DATABASE"] = database
        values["FTA_DOCKER_URL"] = dockerURL
        return values
    }

    /// Loads the configuration, or exits with the message naming the bad variable.
    func load(_ extra: [String: String] = [:], requireSecrets: Bool) throws -> PortalConfiguration {
        do {
            return try PortalConfiguration.load(environment: ProcessInfo.processInfo.environment,
                                                overrides: overrides.merging(extra) { $1 }, requireSecrets: requireSecrets)
        } catch {
            throw ValidationError("configuration: \(error)")
        }
    }
}

extension CommonOptions {
    /// The portal's services, for a command that acts as the portal does (`reconcile`,
    /// `lockdown`): the configuration with its secrets, the migrated database, the runtime.
    func portalServices() throws -> PortalServices {
        let configuration = try load(requireSecrets: true)
        let logger = makeLogger(configuration.logLevel)
        return try PortalServices(configuration: configuration, database: try AppDatabase.open(path: configuration.databasePath),
                                  runtime: try makeRuntime(configuration, logger: logger), logger: logger)
    }
}

/// The process's logger. Every value in a line is quoted and escaped (`PortalLogHandler`): a
/// username or path a caller typed cannot add fields or lines to the log.
func makeLogger(_ level: String) -> Logger {
    PortalLogHandler.bootstrap(level: level)
    return Logger(label: "fta")
}

/// Every file fta creates is private to its user (database, backups, lock).
func tightenUmask() { umask(0o077) }

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the portal on a loopback address until SIGTERM or SIGINT.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Address to bind: loopback only (FTA_LISTEN).") var listen: String?
    @Option(help: "Port to bind (FTA_PORT).") var port: Int?
    @Option(help: "Directory of the web pages (FTA_WEB_ROOT).") var webRoot: String?

    func run() async throws {
        tightenUmask()
        var extra: [String: String] = [:]
        extra["FTA_LISTEN"] = listen
        extra["FTA_PORT"] = port.map(String.init)
        extra["FTA_WEB_ROOT"] = webRoot
        let configuration = try common.load(extra, requireSecrets: true)
        let logger = makeLogger(configuration.logLevel)
        // Held for the server's lifetime: `fta restore` refuses to run while it is held.
        let lock = try ServerLock(databasePath: configuration.databasePath)
        guard try lock.tryAcquire() else {
            throw ValidationError("another fta serve is using \(configuration.databasePath)")
        }
        logger.info("fta serve starting", metadata: ["address": "\(configuration.listenAddress):\(configuration.port)"])
        try refuseDamagedDatabase(configuration)
        let app = try buildApplication(configuration, runtime: try makeRuntime(configuration, logger: logger), logger: logger)
        try await app.runService()
        lock.release()
    }
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a consistent copy of the database (safe while fta serve runs).",
        discussion: """
        fta backup FILE: one copy to FILE. fta backup --scheduled: a copy in FTA_BACKUP_DIR named by its UTC \
        time, encrypted when FTA_BACKUP_KEY_FILE is set, the newest FTA_BACKUP_KEEP kept, then FTA_BACKUP_HOOK \
        run with its path (the daily timer runs this). fta backup --drill: restore the newest scheduled backup \
        into a scratch file and check it (the live database is never touched).
        """
    )
    @OptionGroup var common: CommonOptions
    @Flag(help: "A scheduled backup into FTA_BACKUP_DIR, with retention and the hook.") var scheduled = false
    @Flag(help: "Prove the newest scheduled backup restores: into a scratch file, checked, rows counted.") var drill = false
    @Argument(help: "The backup file to write (mode 0600).") var file: String?

    func validate() throws {
        if scheduled && drill { throw ValidationError("--scheduled and --drill are two different runs") }
        if (scheduled || drill) == (file != nil) { throw ValidationError(file == nil ? "name the backup FILE, or use --scheduled or --drill" : "FILE is for a one-off backup; --scheduled and --drill use FTA_BACKUP_DIR") }
    }

    func run() async throws {
        tightenUmask()
        let configuration = try common.load(requireSecrets: false)
        let started = Date()
        let seconds = { String(format: "%.2f", Date().timeIntervalSince(started)) }
        let backups = ScheduledBackups(configuration: configuration)
        do {
            if scheduled {
                let outcome = try backups.run()
                print("backup written to \(outcome.file) (\(outcome.bytes) bytes, integrity ok\(outcome.sealed ? ", encrypted" : ""), \(seconds()) s)")
                print("kept \(outcome.kept) of at most \(backups.keep)" + (outcome.deleted.isEmpty ? "" : "; deleted \(outcome.deleted.joined(separator: ", "))"))
                if let hook = outcome.hook {
                    guard hook.status == 0 else {
                        throw ValidationError("the backup is written, but FTA_BACKUP_HOOK exited \(hook.status): \(hook.output)")
                    }
                    print("FTA_BACKUP_HOOK done")
                }
            } else if drill {
                let report = try backups.drill()
                let rows = report.rows.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                print("restore drill: \(report.file) (\(ISO8601DateFormatter().string(from: report.date))\(report.sealed ? ", encrypted" : "")) restores: integrity ok, \(rows) (\(seconds()) s)")
            } else if let file {
                try DatabaseBackup.backup(databaseAt: configuration.databasePath, to: file)
                print("backup written to \(file) (integrity ok, \(seconds()) s)")
            }
        } catch let error as ScheduledBackups.BackupError {
            throw ValidationError("\(error)")
        } catch let error as StoreError {
            throw ValidationError("\(error)")
        }
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Replace the database with a backup (fta serve must be stopped).")
    @OptionGroup var common: CommonOptions
    @Argument(help: "The backup file to restore.") var file: String

    func run() async throws {
        tightenUmask()
        let configuration = try common.load(requireSecrets: false)
        do {
            // An encrypted scheduled backup is opened with FTA_BACKUP_KEY_FILE into a private
            // scratch file first; the restore then reads that as any backup.
            var source = file
            let scratch = NSTemporaryDirectory() + "fta-restore-\(getpid()).sqlite"
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            if try ScheduledBackups.isSealed(file) {
                try ScheduledBackups.writePrivate(try ScheduledBackups(configuration: configuration).open(file), to: scratch)
                source = scratch
            }
            let aside = try DatabaseBackup.restore(from: source, to: configuration.databasePath)
            print("restored \(file) into \(configuration.databasePath)")
            if let aside { print("the previous database is kept at \(aside)") }
        } catch let error as StoreError {
            throw ValidationError("\(error)")
        } catch let error as ScheduledBackups.BackupError {
            throw ValidationError("\(error)")
        }
    }
}

struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check the installation; exits non-zero on any failure.")
    @OptionGroup var common: CommonOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let configuration = try common.load(requireSecrets: false)
        let logger = makeLogger("error")
        let database = FileManager.default.fileExists(atPath: configuration.databasePath) ? try? AppDatabase.open(path: configuration.databasePath, migrate: false) : nil
        let runtime = try makeRuntime(configuration, logger: logger)
        let services = configuration.secretBox != nil && database != nil
            ? try? PortalServices(configuration: configuration, database: database!, runtime: runtime, logger: logger) : nil
        let doctor = services?.doctor ?? FTAPortal.Doctor(configuration: configuration, runtime: runtime, database: nil, lifecycle: nil, bridge: nil)
        let checks = await doctor.run(hostChecks: true)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(["checks": checks]), as: UTF8.self))
        } else {
            for check in checks {
                print("[\(check.status.rawValue.uppercased())] \(check.name): \(check.detail)" + (check.fix.isEmpty ? "" : "\n       fix: \(check.fix)"))
            }
            let counts = Dictionary(grouping: checks, by: \.status).mapValues(\.count)
            print("\(counts[.pass] ?? 0) passed, \(counts[.warn] ?? 0) warnings, \(counts[.fail] ?? 0) failed")
        }
        if checks.contains(where: { $0.status == .fail }) { throw ExitCode(1) }
    }
}

struct Reconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run one reconcile pass now and print what it did.")
    @OptionGroup var common: CommonOptions

    func run() async throws {
        tightenUmask()
        let report = try await common.portalServices().reconciler.reconcileOnce()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
        print(report.summary)
    }
}

/// A damaged database (truncated, overwritten, a bad disk) is refused at start with what to do,
/// before anything reads or writes it: SQLite alone would open a truncated file and fail later,
/// on whichever request first touches a missing page. A missing file is not damage: it is created.
func refuseDamagedDatabase(_ configuration: PortalConfiguration) throws {
    let path = configuration.databasePath
    guard FileManager.default.fileExists(atPath: path) else { return }
    do {
        try DatabaseBackup.checkBeforeServing(path)
    } catch {
        let newest = ScheduledBackups.list(configuration.backupDirectory).first?.path ?? "<a backup file>"
        FileHandle.standardError.write(Data("""
            Error: the database \(path) is damaged and was not opened: \(error)
            Restore the newest backup: sudo systemctl stop fta; sudo fta-admin backup --drill; sudo fta-admin restore \(newest); sudo systemctl start fta
            (fta restore keeps the damaged file aside as \(path).before-restore-<time>.)

            """.utf8))
        // Not a usage error: no usage text. Exit status 2 tells a supervisor it is a failure.
        throw ExitCode(2)
    }
}

