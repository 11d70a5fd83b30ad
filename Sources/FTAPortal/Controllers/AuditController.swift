import FTAStore
import Foundation
import Hummingbird

/// `GET /audit`: the audit trail for admins, newest first, filtered. Read-only: there is no
/// route that edits or deletes an entry, and the schema refuses it anyway.
struct AuditController {
    let database: AppDatabase

    var endpoints: RouteCollection<PortalContext> {
        let routes = RouteCollection(context: PortalContext.self)
        routes.get("audit", use: list)
        return routes
    }

    struct Entries: ResponseCodable {
        var entries: [AuditEntry]
    }

    @Sendable func list(_ request: Request, context: PortalContext) async throws -> Entries {
        _ = try context.requireAdmin()
        let query = request.uri.queryParameters
        var filter = AuditFilter()
        filter.actor = query["actor"].map(String.init)
        filter.action = query["action"].map(String.init)
        filter.clientId = query["clientId"].map(String.init)
        if let outcome = query["outcome"] {
            guard let value = AuditOutcome(rawValue: String(outcome)) else {
                throw APIError.validation(.init("outcome", "must be success, failure or denied"))
            }
            filter.outcome = value
        }
        if let before = query["before"] {
            guard let value = Int64(before), value > 0 else { throw APIError.validation(.init("before", "must be an entry id")) }
            filter.before = value
        }
        if let limit = query["limit"] {
            guard let value = Int(limit), (1...500).contains(value) else { throw APIError.validation(.init("limit", "must be between 1 and 500")) }
            filter.limit = value
        }
        return Entries(entries: try await database.auditEntries(filter))
    }
}
