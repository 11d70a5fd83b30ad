import FTACore
import FTAStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The client's dashboard (the bots compared), the activity feed, and the live stream.
///
/// Scope as everywhere: a client user sees their own client, whatever they ask; an admin sees
/// every client or the one named by `?client=`.
struct DashboardController {
    let database: AppDatabase
    let summaries: BotSummaries
    let live: LiveHub
    let audit: AuditTrail

    var endpoints: RouteCollection<PortalContext> {
        let routes = RouteCollection(context: PortalContext.self)
        routes.get("dashboard", use: dashboard)
        routes.get("events", use: events)
        routes.get("stream", use: stream)
        return routes
    }

    private func scope(_ request: Request, _ context: PortalContext) throws -> ClientID? {
        let principal = try context.requireUser()
        guard principal.isAdmin else { return principal.clientID }
        guard let raw = request.uri.queryParameters["client"] else { return nil }
        guard let id = ClientID(String(raw)) else { throw APIError.validation(.init("client", Identifier.rule)) }
        return id
    }

    @Sendable func dashboard(_ request: Request, context: PortalContext) async throws -> DashboardView {
        DashboardView(value: try await summaries.dashboard(scope: try scope(request, context)))
    }

    struct EventsView: ResponseEncodable { var events: [EventView] }

    @Sendable func events(_ request: Request, context: PortalContext) async throws -> EventsView {
        let scope = try scope(request, context)
        let query = request.uri.queryParameters
        let limit = try BotsController.integer(request, "limit", 1...500, default: 100)
        var before: Int64?
        if let raw = query["before"] {
            guard let value = Int64(raw), value > 0 else { throw APIError.validation(.init("before", "must be an event id")) }
            before = value
        }
        var bot: BotID?
        if let raw = query["bot"] {
            // Another client's bot, or none: a 404, as for every bot path.
            guard let id = BotID(String(raw)),
                  let found = scope == nil ? try await database.bot(id) : try await database.bot(id, ofClient: scope!) else {
                throw APIError.notFound("No such bot.")
            }
            bot = found.id
        }
        let events = try await database.events(ofClient: scope, bot: bot, before: before, limit: limit)
        return EventsView(events: events.map(EventView.init))
    }

    /// Server-Sent Events: the bots' rows at once and every 5 s, each new event as it happens.
    @Sendable func stream(_ request: Request, context: PortalContext) async throws -> Response {
        let principal = try context.requireUser()
        let scope = try scope(request, context)
        guard let (id, messages) = await live.subscribe(scope: scope, user: principal.userID) else {
            throw APIError(.tooManyRequests, "too_many_streams", "Too many live connections are open; close some pages and reload.")
        }
        let live = self.live
        let summaries = self.summaries
        let body = ResponseBody { writer in
            defer { Task { await live.unsubscribe(id) } }
            // Reconnect after 5 s if the connection drops; then the first rows without waiting.
            try await writer.write(ByteBuffer(string: "retry: 5000\n\n"))
            if let rows = try? await summaries.rows(scope: scope), let text = LiveHub.message("bots", rows) {
                try await writer.write(ByteBuffer(string: text))
            }
            for await text in messages {
                try await writer.write(ByteBuffer(string: text))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [
            .contentType: "text/event-stream; charset=utf-8",
            // nginx passes the stream through as it comes instead of buffering it.
            HTTPField.Name("X-Accel-Buffering")!: "no",
        ], body: body)
    }
}

struct DashboardView: ResponseEncodable {
    var value: BotSummaries.Dashboard
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}

/// Debian's Chart.js (libjs-chart.js), served from the distribution's files rather than a copy
/// in the repository: GET /vendor/chart.js/chart.min.js. Read once, then kept in memory.
struct VendorController {
    let directory: String

    var endpoints: RouteCollection<PortalContext> {
        let routes = RouteCollection(context: PortalContext.self)
        let file = VendorFile(path: directory + "/chart.min.js")
        routes.get("vendor/chart.js/chart.min.js") { _, _ -> Response in
            guard let data = await file.contents() else { throw APIError.notFound("The chart library (Debian's libjs-chart.js) is not installed.") }
            return Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "public, max-age=86400"],
                            body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        return routes
    }
}

actor VendorFile {
    let path: String
    private var data: Data?
    init(path: String) { self.path = path }

    func contents() -> Data? {
        if let data { return data }
        // Read only while small: a stray huge file is not loaded into a 1 GiB host's memory.
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = (attributes[.size] as? NSNumber)?.intValue, size < 4 << 20,
              let read = FileManager.default.contents(atPath: path) else { return nil }
        data = read
        return read
    }
}
