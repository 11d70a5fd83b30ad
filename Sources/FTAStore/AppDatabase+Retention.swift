import Foundation
import GRDB

/// Pruning the audit trail: the controlled path the schema's permit allows (see the
/// "v3-audit-retention" migration). The caller exports the entries first (AuditRetention).
extension AppDatabase {
    /// The oldest audit entries dated before `cutoff`, oldest id first, at most `limit`. By date,
    /// not as a run of ids: one entry written under a clock set far ahead must not hold back the
    /// pruning of everything after it.
    public func auditEntriesToPrune(before cutoff: Date, limit: Int) async throws -> [AuditEntry] {
        try await writer.read { db in
            try AuditEntry.filter(Column("at") < cutoff).order(Column("id")).limit(limit).fetchAll(db)
        }
    }

    /// How many audit entries are dated before `cutoff`, and their lowest and highest ids: what a
    /// prune would take, counted without reading them.
    public func auditPruneSummary(before cutoff: Date) async throws -> (count: Int, first: Int64?, last: Int64?) {
        try await writer.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT COUNT(*), MIN(id), MAX(id) FROM auditLog WHERE at < ?", arguments: [cutoff])
            return (row?[0] ?? 0, row?[1], row?[2])
        }
    }

    /// Deletes the entries dated before `cutoff` with ids up to `throughId` (which must be exactly
    /// the `expectedCount` exported) and appends `record`, in one transaction: the permit
    /// exists only inside it. Anything unexpected (a count that differs, an entry the trigger
    /// refuses) rolls the whole of it back.
    public func pruneAudit(throughId: Int64, before cutoff: Date, expectedCount: Int, record: AuditEntry) async throws {
        try await writer.write { db in
            try db.execute(sql: "INSERT INTO auditPrunePermit (id, throughId, before) VALUES (1, ?, ?)", arguments: [throughId, cutoff])
            try db.execute(sql: "DELETE FROM auditLog WHERE id <= ? AND at < ?", arguments: [throughId, cutoff])
            let deleted = db.changesCount
            try db.execute(sql: "DELETE FROM auditPrunePermit")
            guard deleted == expectedCount else { throw StoreError.auditPruneMismatch(expected: expectedCount, deleted: deleted) }
            var record = record
            try record.insert(db)
        }
    }

    /// The `audit.pruned` entries that name `archive` (a file name), newest first.
    public func auditPrunings(naming archive: String) async throws -> [AuditEntry] {
        try await writer.read { db in
            try AuditEntry.filter(Column("action") == "audit.pruned" && Column("target") == archive).order(Column("id").desc).fetchAll(db)
        }
    }
}
