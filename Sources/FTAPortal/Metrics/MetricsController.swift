import FTAStore
import Foundation
import Hummingbird
import NIOCore

/// `GET /metrics`: Prometheus' text format, for a scraper on the host itself.
///
/// Loopback only: the portal listens on loopback, and nginx always sets `X-Forwarded-For`, so a
/// request that came through nginx (from the internet) carries it and is answered 404, like any
/// unknown path. A local Prometheus scrapes `http://127.0.0.1:<FTA_PORT>/metrics` directly. The
/// figures hold no secret, but bot ids and host sizes are nobody else's business.
struct MetricsController {
    let services: PortalServices

    var endpoints: RouteCollection<PortalContext> {
        let routes = RouteCollection(context: PortalContext.self)
        routes.get("metrics", use: metrics)
        return routes
    }

    @Sendable func metrics(_ request: Request, context: PortalContext) async throws -> Response {
        guard Self.isLocalScrape(request, context) else { throw HTTPError(.notFound) }
        let text = services.metrics.exposition(await snapshot())
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func isLocalScrape(_ request: Request, _ context: PortalContext) -> Bool {
        guard context.peerIsLoopback else { return false }
        return request.headers[.xForwardedFor] == nil && request.headers[.xRealIP] == nil && request.headers[.forwarded] == nil
    }

    func snapshot() async -> PortalMetrics.Snapshot {
        let configuration = services.configuration
        let bots = (try? await services.database.bots()) ?? []
        var byState: [String: Int] = [:]
        for bot in bots { byState[bot.state.rawValue, default: 0] += 1 }
        let path = configuration.databasePath
        let databaseBytes = ["", "-wal"].reduce(0) { sum, suffix in
            sum + ((try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size] as? Int) ?? 0)
        }
        var disks: [String: DiskSpace] = [:]
        disks["database"] = DiskSpace.of(services.doctor.dataDir)
        if configuration.botDiskMB != nil { disks["bots"] = DiskSpace.of(configuration.botStore) }
        let backups = ScheduledBackups.list(configuration.backupDirectory)
        return PortalMetrics.Snapshot(
            version: FTAVersion.current,
            botsByState: byState,
            budget: try? await services.admission.currentAccount(database: services.database),
            databaseBytes: databaseBytes,
            disks: disks,
            backupAgeSeconds: backups.first.map { Date().timeIntervalSince($0.date) },
            backups: backups.count
        )
    }
}

/// Times every request for `fta_http_request_duration_seconds`, by the route it matched (the
/// pattern, never the raw path, so that the labels stay few).
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = PortalContext
    let metrics: PortalMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        func route() -> String {
            context.endpointPath ?? (StaticFilesMiddleware.isUnderAPI(request.uri.path) ? "unmatched" : "static")
        }
        do {
            let response = try await next(request, context)
            metrics.request(route: route(), method: request.method.rawValue, status: response.status.code, duration: ContinuousClock.now - started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.request(route: route(), method: request.method.rawValue, status: status, duration: ContinuousClock.now - started)
            throw error
        }
    }
}
