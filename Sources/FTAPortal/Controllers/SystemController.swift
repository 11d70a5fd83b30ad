import FTARuntime
import FTAStore
import Foundation
import Hummingbird

/// `GET /health` for anyone, `GET /system` for admins.
struct SystemController {
    let database: AppDatabase
    let runtime: any BotRuntime
    let doctor: Doctor
    let admission: Admission

    var endpoints: RouteCollection<PortalContext> {
        let routes = RouteCollection(context: PortalContext.self)
        routes.get("health", use: health)
        routes.get("system", use: system)
        return routes
    }

    struct Health: ResponseCodable {
        var status: String
        var checks: [String: String]
    }

    /// Database and Docker-proxy reachability, and the disk alarm, as ok/fail; no versions,
    /// paths, sizes or error text.
    @Sendable func health(_ request: Request, context: PortalContext) async throws -> Health {
        let databaseOK = await database.isHealthy()
        let dockerOK = await runtime.isReachable()
        let diskOK = doctor.diskIsAmple()
        return Health(status: databaseOK && dockerOK && diskOK ? "ok" : "degraded",
                      checks: ["database": databaseOK ? "ok" : "fail", "docker": dockerOK ? "ok" : "fail", "disk": diskOK ? "ok" : "low"])
    }

    struct System: ResponseCodable {
        struct Docker: Codable { var reachable: Bool }
        struct Bots: Codable { var total: Int; var running: Int }
        /// The operator's lockdown (`fta lockdown`): in force or not, and since when, by whom, why.
        struct LockdownState: Codable {
            var active: Bool
            var since: Date?
            var by: String?
            var reason: String?
        }
        struct Backups: Codable {
            var count: Int
            var keep: Int
            var newest: Date?
            var encrypted: Bool?
        }
        var version: String
        var checks: [DoctorCheck]
        var budget: BudgetView
        var docker: Docker
        var bots: Bots
        var lockdown: LockdownState
        var backups: Backups
    }

    @Sendable func system(_ request: Request, context: PortalContext) async throws -> System {
        _ = try context.requireAdmin()
        let bots = try await database.bots()
        let backups = ScheduledBackups(configuration: doctor.configuration).list()
        return System(
            version: FTAVersion.current,
            checks: await doctor.run(hostChecks: false),
            budget: BudgetView(try await admission.currentAccount(database: database)),
            docker: .init(reachable: await runtime.isReachable()),
            bots: .init(total: bots.count, running: bots.filter { $0.state == .running }.count),
            lockdown: try await database.lockdown().map { System.LockdownState(active: true, since: $0.since, by: $0.by, reason: $0.reason) }
                ?? System.LockdownState(active: false),
            backups: .init(count: backups.count, keep: doctor.configuration.backupKeep, newest: backups.first?.date, encrypted: backups.first?.sealed)
        )
    }
}
