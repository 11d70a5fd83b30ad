import FTAStore
import Foundation
import Logging
import ServiceLifecycle

/// Audit trail retention: entries older than `days` leave the database, never unrecorded.
///
/// Each prune takes the oldest entries dated before the cutoff (a batch), writes them to
/// `audit-<first id>-<last id>.jsonl` (one JSON object per line, mode 0600, fsynced) with its
/// SHA-256 beside it in `sha256sum` format, and only then deletes exactly those entries through
/// the schema's pruning permit, appending an `audit.pruned` entry that names the file, the ids and
/// the checksum, in the same transaction. A crash before the delete leaves an archive of entries
/// still in the database (the next prune writes the same file again); the delete itself is all or
/// nothing. `verify` checks an archive against its checksum and against the database's record.
public struct AuditRetention: Sendable {
    let database: AppDatabase
    public let days: Int
    public let directory: String
    /// Entries per archive file: a year of a busy portal is a few files, each readable at once.
    static let batch = 50_000

    public init(database: AppDatabase, days: Int, directory: String) {
        self.database = database
        self.days = days
        self.directory = directory
    }

    /// One archive written and its entries pruned.
    public struct Pruned: Sendable, Equatable {
        public var archive: String
        public var firstId: Int64
        public var lastId: Int64
        public var count: Int
        public var sha256: String
    }

    public enum RetentionError: Error, CustomStringConvertible {
        case cannotWrite(String, String)
        case archiveMismatch(String)

        public var description: String {
            switch self {
            case .cannotWrite(let path, let why): "cannot write the audit archive \(path): \(why); nothing was pruned"
            case .archiveMismatch(let why): why
            }
        }
    }

    public func cutoff(now: Date) -> Date { now.addingTimeInterval(-TimeInterval(days) * 86400) }

    /// What a prune at `now` would take: the count and the id range, without writing anything.
    public func plan(now: Date = Date()) async throws -> (count: Int, first: Int64?, last: Int64?) {
        try await database.auditPruneSummary(before: cutoff(now: now))
    }

    /// Prunes every entry older than the cutoff, one archive per batch; returns what it did.
    public func prune(now: Date = Date()) async throws -> [Pruned] {
        let cutoff = cutoff(now: now)
        var done: [Pruned] = []
        while true {
            let entries = try await database.auditEntriesToPrune(before: cutoff, limit: Self.batch)
            guard let first = entries.first?.id, let last = entries.last?.id else { return done }
            let name = "audit-\(first)-\(last).jsonl"
            let path = directory + "/" + name
            let content = try Self.archive(entries)
            let sha = content.sha256Hex
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                try ScheduledBackups.writePrivate(content, to: path)
                try ScheduledBackups.writePrivate(Data("\(sha)  \(name)\n".utf8), to: path + ".sha256")
            } catch {
                throw RetentionError.cannotWrite(path, "\(error)")
            }
            let record = AuditEntry(actor: "retention", action: "audit.pruned", target: name, outcome: .success,
                                    detail: "entries \(first)-\(last) (\(entries.count)) older than \(days) days archived to \(path), sha256 \(sha)")
            try await database.pruneAudit(throughId: last, before: cutoff, expectedCount: entries.count, record: record)
            done.append(Pruned(archive: path, firstId: first, lastId: last, count: entries.count, sha256: sha))
        }
    }

    /// Checks an archive: its content against its `.sha256` file and against the checksum the
    /// database recorded when it pruned those entries. Returns the entry count; throws on any
    /// difference.
    public func verify(_ path: String) async throws -> Int {
        let name = (path as NSString).lastPathComponent
        guard let content = FileManager.default.contents(atPath: path) else { throw RetentionError.archiveMismatch("\(path) cannot be read") }
        let sha = content.sha256Hex
        let sidecar = FileManager.default.contents(atPath: path + ".sha256").flatMap { String(data: $0, encoding: .utf8) }
        guard let listed = sidecar?.split(separator: " ").first.map(String.init) else {
            throw RetentionError.archiveMismatch("\(path).sha256 is missing or empty")
        }
        guard listed == sha else { throw RetentionError.archiveMismatch("\(name) has SHA-256 \(sha), its .sha256 file says \(listed): the archive was changed") }
        let recorded = try await database.auditPrunings(naming: name)
        guard let entry = recorded.first else { throw RetentionError.archiveMismatch("the audit trail records no pruning into \(name)") }
        guard entry.detail?.hasSuffix("sha256 \(sha)") == true else {
            throw RetentionError.archiveMismatch("\(name) has SHA-256 \(sha), the audit trail recorded another (entry \(entry.id ?? 0)): the archive was changed")
        }
        return content.split(separator: UInt8(ascii: "\n")).count
    }

    /// One JSON object per line, keys sorted, times in ISO 8601 UTC: stable bytes for a checksum.
    static func archive(_ entries: [AuditEntry]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        var data = Data()
        for entry in entries {
            data.append(try encoder.encode(entry))
            data.append(UInt8(ascii: "\n"))
        }
        return data
    }
}

/// Prunes the audit trail once a day inside `fta serve` (and once shortly after start).
public struct AuditRetentionService: Service, CustomStringConvertible {
    let retention: AuditRetention
    let audit: AuditTrail
    let logger: Logger
    public var description: String { "AuditRetentionService" }

    public init(retention: AuditRetention, audit: AuditTrail, logger: Logger) {
        self.retention = retention
        self.audit = audit
        self.logger = logger
    }

    public func run() async throws {
        // A first look soon after start (cheap: one indexed query when nothing is due), then daily.
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(15)) }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                for pruned in try await retention.prune() {
                    logger.notice("audit entries archived and pruned", metadata: [
                        "archive": "\(pruned.archive)", "entries": "\(pruned.count)", "ids": "\(pruned.firstId)-\(pruned.lastId)"])
                }
            } catch {
                logger.error("pruning the audit trail failed", metadata: ["error": "\(error)"])
                await audit.record(AuditEntry(actor: "retention", action: "audit.pruned", outcome: .failure, detail: "\(error)"))
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(86400)) }
        }
    }
}
