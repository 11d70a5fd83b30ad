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
        var who = AuditActor(context)
        if let actor { who.name = actor }
        await record(by: who, action: action, target: target, clientId: clientId, outcome: outcome, detail: detail)
    }

    /// Records an entry for `actor`; `clientId` defaults to the actor's own client.
    public func record(by actor: AuditActor, action: String, target: String? = nil, clientId: String? = nil,
                       outcome: AuditOutcome, detail: String? = nil) async {
        await record(AuditEntry(
            actor: actor.name, actorUserId: actor.userID, clientId: clientId ?? actor.clientId,
            action: action, target: target, sourceIp: actor.sourceIP, outcome: outcome, detail: detail
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

/// Who did an audited action, as the trail names them: a signed-in user of the portal (or
/// "anonymous"), or the operator at the server's command line.
public struct AuditActor: Sendable, Equatable {
    public var name: String
    public var userID: Int64?
    /// The actor's own client, for client users.
    public var clientId: String?
    public var sourceIP: String?

    public init(name: String, userID: Int64? = nil, clientId: String? = nil, sourceIP: String?) {
        self.name = name
        self.userID = userID
        self.clientId = clientId
        self.sourceIP = sourceIP
    }

    /// The caller of a request.
    public init(_ context: PortalContext) {
        self.init(name: context.principal?.user.username ?? "anonymous", userID: context.principal?.userID,
                  clientId: context.principal?.user.clientId?.rawValue, sourceIP: context.sourceIP)
    }

    /// `fta` run on the server: whoever can run it already holds the database.
    public static let commandLine = AuditActor(name: "cli", sourceIP: "local")
}
