import FTAStore
import Foundation
import Logging

/// Writes the audit trail: who, when, what, target, source IP, outcome. Callers pass only
/// names and ids, never a password, token or secret.
public struct AuditTrail: Sendable {
    let database: AppDatabase
    let logger: Logger

    public init(database: AppDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Records an entry for the caller of `context`. An audit write that fails is logged, and
    /// does not fail the action it describes.
    public func record(_ context: PortalContext, action: String, target: String? = nil, clientId: String? = nil,
                       outcome: AuditOutcome, detail: String? = nil, actor: String? = nil) async {
        await record(AuditEntry(
            actor: actor ?? context.principal?.user.username ?? "anonymous",
            actorUserId: context.principal?.userID,
            clientId: clientId ?? context.principal?.user.clientId?.rawValue,
            action: action, target: target, sourceIp: context.sourceIP, outcome: outcome, detail: detail
        ))
    }

    public func record(_ entry: AuditEntry) async {
        // Actors and targets can be what an anonymous caller typed (a username at login): no
        // control character may reach the trail or the log, where it could forge lines.
        var entry = entry
        entry.actor = Self.printable(entry.actor)
        entry.target = entry.target.map(Self.printable)
        entry.detail = entry.detail.map(Self.printable)
        entry.sourceIp = entry.sourceIp.map(Self.printable)
        do {
            try await database.record(entry)
        } catch {
            logger.error("cannot write the audit trail", metadata: ["action": "\(entry.action)"])
        }
        // Security events go to the server log too, for the operator's log shipping.
        logger.notice("audit", metadata: [
            "action": "\(entry.action)", "actor": "\(entry.actor)", "target": "\(entry.target ?? "-")",
            "outcome": "\(entry.outcome.rawValue)", "ip": "\(entry.sourceIp ?? "-")",
        ])
    }

    /// `text` with every control or format character (newlines, escapes, bidi overrides)
    /// replaced by `?`, at most 200 characters.
    static func printable(_ text: String) -> String {
        let scalars = text.unicodeScalars.prefix(200).map { scalar -> Character in
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator: "?"
            default: Character(scalar)
            }
        }
        return String(scalars)
    }
}
