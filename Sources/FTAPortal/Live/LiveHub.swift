import FTACore
import FTAStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The open pages' live connections (Server-Sent Events) and what is pushed to them.
///
/// Each subscriber watches one scope: a client (its users, or an admin who chose it) or every
/// client (an admin). Events go to the subscribers of their client; the bots' rows (the
/// dashboard's table) are computed once per scope and pass, from the fan-in, so a hundred open
/// pages cost each bot what one costs.
public actor LiveHub {
    struct Subscriber {
        var scope: ClientID?
        var user: Int64
        var continuation: AsyncStream<String>.Continuation
    }

    private var subscribers: [UUID: Subscriber] = [:]
    /// Per user: a page left open in many tabs is fine, a script opening thousands is not.
    static let maxPerUser = 10
    /// In all: each stream holds a connection and a little memory on a 1 GiB host.
    static let maxTotal = 500

    public init() {}

    public var count: Int { subscribers.count }

    /// A new subscriber's stream, or nil when the limits are reached.
    func subscribe(scope: ClientID?, user: Int64) -> (UUID, AsyncStream<String>)? {
        guard subscribers.count < Self.maxTotal, subscribers.values.filter({ $0.user == user }).count < Self.maxPerUser else { return nil }
        let id = UUID()
        // A slow reader keeps the newest messages, not an ever-growing queue.
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(64))
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unsubscribe(id) }
        }
        subscribers[id] = Subscriber(scope: scope, user: user, continuation: continuation)
        return (id, stream)
    }

    func unsubscribe(_ id: UUID) {
        subscribers.removeValue(forKey: id)?.continuation.finish()
    }

    /// The scopes someone watches now.
    func scopes() -> [ClientID?] {
        var seen: [ClientID?] = []
        for subscriber in subscribers.values where !seen.contains(subscriber.scope) { seen.append(subscriber.scope) }
        return seen
    }

    /// An event to every subscriber of its client, and to those who watch all clients.
    func publish(_ event: BotEventRecord) {
        guard let text = Self.message("event", EventView(event)) else { return }
        for subscriber in subscribers.values where subscriber.scope == nil || subscriber.scope == event.clientId {
            subscriber.continuation.yield(text)
        }
    }

    /// A message to the subscribers of exactly `scope`.
    func send(_ text: String, to scope: ClientID?) {
        for subscriber in subscribers.values where subscriber.scope == scope { subscriber.continuation.yield(text) }
    }

    /// A comment line to everyone: it keeps proxies from closing idle streams, and shows the
    /// portal a closed connection (the write fails) within this interval.
    func keepalive() {
        for subscriber in subscribers.values { subscriber.continuation.yield(": keepalive\n\n") }
    }

    func finishAll() {
        for subscriber in subscribers.values { subscriber.continuation.finish() }
        subscribers.removeAll()
    }

    /// One SSE message: `event: NAME` and the JSON on one `data:` line (JSON text has no raw
    /// newline, so one line always holds it).
    static func message(_ name: String, _ value: some Encodable) -> String? {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(value) else { return nil }
        return "event: \(name)\ndata: \(String(decoding: data, as: UTF8.self))\n\n"
    }
}

/// The pushes on a timer: every open scope's bot rows each `interval`, a keepalive now and then.
struct LiveService: Service {
    let hub: LiveHub
    let summaries: BotSummaries
    let interval: Duration
    let logger: Logger

    func run() async throws {
        var ticks = 0
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                // Graceful shutdown does not cancel tasks: without this, SIGTERM waits out the sleep.
                do { try await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) } } catch { break }
                ticks += 1
                for scope in await hub.scopes() {
                    guard let rows = try? await summaries.rows(scope: scope), let text = LiveHub.message("bots", rows) else { continue }
                    await hub.send(text, to: scope)
                }
                if ticks % 3 == 0 { await hub.keepalive() }
            }
        } onGracefulShutdown: {
            Task { await hub.finishAll() }
        }
        await hub.finishAll()
    }
}

/// An event as the API shows it.
struct EventView: Codable, Sendable {
    var id: Int64
    var botId: String
    var clientId: String
    var at: Date
    var kind: String
    var title: String
    var detail: String?

    init(_ event: BotEventRecord) {
        id = event.id ?? 0
        botId = event.botId.rawValue
        clientId = event.clientId.rawValue
        at = event.at
        kind = event.kind
        title = event.title
        detail = event.detail
    }
}
