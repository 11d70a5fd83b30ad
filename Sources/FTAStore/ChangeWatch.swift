import Foundation
import GRDB

/// Whether the database may have changed since a moment: a stamp that moves with every commit,
/// by this process or any other (a CLI command such as `fta lockdown` while `fta serve` runs).
///
/// It lets the portal keep what a hot read returned (a session's user, the bot list) for as
/// long as nothing was committed, and know it at the cost of one pragma instead of the reads
/// themselves. Two sources, because each misses something alone:
/// - SQLite's `PRAGMA data_version`, on a connection of its own that never writes: it changes
///   when any other connection commits, in this process or another (file databases only);
/// - a count of this process's own commits, seen by a transaction observer on the writer (the
///   in-memory databases of the tests have no other connection).
public final class ChangeWatch: @unchecked Sendable {
    private let lock = NSLock()
    private var commits: Int64 = 0
    private let reader: DatabaseQueue?

    init(writer: any DatabaseWriter) {
        if let pool = writer as? DatabasePool {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(10)
            configuration.label = "fta.change-watch"
            reader = try? DatabaseQueue(path: pool.path, configuration: configuration)
        } else {
            reader = nil
        }
        writer.add(transactionObserver: CommitCounter(watch: self), extent: .databaseLifetime)
    }

    /// The stamp now. Equal stamps: nothing was committed in between.
    public func stamp() -> ChangeStamp {
        let local = lock.withLock { commits }
        let version = (try? reader?.inDatabase { db in try Int64.fetchOne(db, sql: "PRAGMA data_version") }) ?? nil
        return ChangeStamp(commits: local, dataVersion: version ?? 0)
    }

    fileprivate func committed() { lock.withLock { commits += 1 } }
}

/// See `ChangeWatch.stamp()`.
public struct ChangeStamp: Sendable, Equatable {
    var commits: Int64
    var dataVersion: Int64
}

/// Counts the writer's commits (any table).
private final class CommitCounter: TransactionObserver {
    weak var watch: ChangeWatch?
    init(watch: ChangeWatch) { self.watch = watch }
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { watch?.committed() }
    func databaseDidRollback(_ db: Database) {}
}
