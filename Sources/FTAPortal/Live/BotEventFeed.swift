import FTACore
import FTAStore
import Foundation
import HummingbirdWSClient
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// The activity feed's source: the portal subscribes to each running bot's message websocket
/// (`/api/v1/message/ws`, with the bot's `ws_token`) and keeps what it reports, per client,
/// in the database (bounded), pushing each event to the open pages (`LiveHub`).
///
/// One subscription per running bot, opened only after the dry-run guard checked the bot's
/// container; it is dropped when the bot stops and opened again when it starts anew. A bot that
/// stays unreachable while it should run is an event too ("unreachable"), once, and so is its
/// return ("reachable").
struct BotEventFeed: Service {
    let database: AppDatabase
    let lifecycle: BotLifecycle
    let bridge: FreqtradeBridge
    let live: LiveHub
    let logger: Logger
    /// How often the set of running bots is compared with the open subscriptions.
    var interval: Duration = .seconds(5)

    /// The websocket messages kept, by Freqtrade's RPCMessageType.
    static let topics = ["entry_fill", "exit_fill", "entry_cancel", "exit_cancel", "protection_trigger",
                         "protection_trigger_global", "warning", "exception", "status", "startup", "strategy_msg"]

    func run() async throws {
        var tasks: [BotID: (startedAt: Date?, task: Task<Void, Never>)] = [:]
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let running = ((try? await database.bots()) ?? []).filter { $0.state == .running && $0.desiredState == .running }
                let wanted = Dictionary(uniqueKeysWithValues: running.map { ($0.id, $0) })
                for (id, entry) in tasks where wanted[id]?.startedAt != entry.startedAt || wanted[id] == nil {
                    entry.task.cancel()
                    tasks[id] = nil
                }
                for bot in running where tasks[bot.id] == nil {
                    let subscription = Subscription(bot: bot, feed: self)
                    tasks[bot.id] = (bot.startedAt, Task { await subscription.run() })
                }
                do { try await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) } } catch { break }
            }
        } onGracefulShutdown: {}
        for entry in tasks.values { entry.task.cancel() }
    }

    /// Stores the event and pushes it to the pages watching its client.
    func record(_ event: BotEventRecord) async {
        do {
            let stored = try await database.recordEvent(event)
            await live.publish(stored)
        } catch {
            logger.warning("cannot store a bot event", metadata: ["bot": "\(event.botId)", "kind": "\(event.kind)"])
        }
    }

    /// One bot's subscription, for one start of it: reconnects with backoff until cancelled.
    struct Subscription: Sendable {
        let bot: BotRecord
        let feed: BotEventFeed

        func run() async {
            let down = NIOLockedValueBox(false)
            let everConnected = NIOLockedValueBox(false)
            var failures = 0
            while !Task.isCancelled {
                // A booting bot is left to the reconciler's check (and the pages' reads): the feed
                // does not knock on an API that is not up yet, which only fills the log with failed
                // logins. What it misses meanwhile, the catch-up reads back.
                if !everConnected.withLockedValue({ $0 }), Date().timeIntervalSince(bot.startedAt ?? .distantPast) < Self.bootTime,
                   !(await feed.bridge.isVerified(bot)) {
                    do { try await Task.sleep(for: .seconds(2)) } catch { return }
                    continue
                }
                let connected = NIOLockedValueBox(false)
                do {
                    let address = try await feed.bridge.verifiedAddress(of: bot)
                    let token = try await feed.lifecycle.secrets(of: bot.id).wsToken
                    let url = "ws://\(address):\(BotPaths.apiPort)/api/v1/message/ws?token=\(token)"
                    let subscribe = #"{"type":"subscribe","data":["# + Self.topicList + "]}"
                    try await WebSocketClient.connect(url: url, configuration: Self.configuration, logger: feed.logger) { inbound, outbound, _ in
                        try await outbound.write(.text(subscribe))
                        connected.withLockedValue { $0 = true }
                        everConnected.withLockedValue { $0 = true }
                        // Taken before "reachable" is recorded: fills since the last event are missed ones.
                        let since = await lastEvent()
                        if down.withLockedValue({ let was = $0; $0 = false; return was }) {
                            await feed.record(BotEventRecord(clientId: bot.clientId, botId: bot.id, kind: "reachable",
                                                             title: "The bot answers again", detail: nil))
                        }
                        // Fills while no websocket listened (the bot's first seconds, a lost
                        // connection) are not sent again by Freqtrade: read them from its trades.
                        await catchUp(since: since)
                        for try await message in inbound.messages(maxSize: 1 << 20) {
                            guard case .text(let text) = message, let event = BotEventMapping.event(from: text, bot: bot) else { continue }
                            await feed.record(event)
                        }
                    }
                } catch {
                    feed.logger.debug("bot websocket closed", metadata: ["bot": "\(bot.id)", "error": "\(error)"])
                }
                if Task.isCancelled { return }
                let wasConnected = connected.withLockedValue { $0 }
                // A closed stream may be a new container behind the same address (Docker's restart
                // policy): its data is served again only after the dry-run guard checked it.
                if wasConnected { await feed.bridge.forgetVerification(of: bot.id) }
                failures = wasConnected ? 1 : failures + 1
                // Still wanted running, same start: the bot itself is unreachable. Said once, after
                // a lost connection, or after three failed attempts once the bot has had the
                // minute a start takes (before, it is booting, not unreachable).
                let booting = !everConnected.withLockedValue({ $0 }) && Date().timeIntervalSince(bot.startedAt ?? .distantPast) < Self.bootTime
                if !booting, wasConnected || failures >= 3, !down.withLockedValue({ $0 }),
                   let current = try? await feed.database.bot(bot.id), current.state == .running, current.desiredState == .running,
                   current.startedAt == bot.startedAt {
                    down.withLockedValue { $0 = true }
                    await feed.record(BotEventRecord(clientId: bot.clientId, botId: bot.id, kind: "unreachable",
                                                     title: "The bot does not answer", detail: "Its message stream closed; the portal keeps trying."))
                }
                // A booting bot is tried every 2 s, so that its first fills are heard; then backoff.
                let backoff = booting ? 2 : min(30, 1 << min(failures, 5))
                do { try await Task.sleep(for: .seconds(backoff)) } catch { return }
            }
        }

        /// How long a bot's start may take before a failed connection means it is unreachable.
        static let bootTime: TimeInterval = 90

        /// When the feed last heard of this start of the bot: its newest event, or its start.
        func lastEvent() async -> Date {
            let newest = try? await feed.database.events(ofClient: bot.clientId, bot: bot.id, limit: 1).first?.at
            return max(newest ?? .distantPast, bot.startedAt ?? .distantPast)
        }

        /// Records the entry and exit fills of the bot's trades that happened after the last event
        /// the feed holds for this bot (or after this start of it), from its REST API: what the
        /// websocket could not report because nobody listened yet.
        func catchUp(since: Date) async {
            do {
                async let open = feed.bridge.call(bot, "/api/v1/status")
                async let closed = feed.bridge.call(bot, "/api/v1/trades?limit=100")
                let (openTrades, closedTrades) = try await (open, closed)
                let trades = (openTrades.arrayValue ?? []) + (closedTrades["trades"]?.arrayValue ?? [])
                var missed: [BotEventRecord] = []
                for trade in trades {
                    missed += BotEventMapping.fills(of: trade, bot: bot).filter { $0.at > since }
                }
                for event in missed.sorted(by: { $0.at < $1.at }) { await feed.record(event) }
            } catch {
                feed.logger.debug("bot feed catch-up failed", metadata: ["bot": "\(bot.id)", "error": "\(error)"])
            }
        }

        /// A ping every 10 s: a bot that hangs (frozen, paused, its host busy) but keeps the TCP
        /// connection open does not answer it, and the connection closes, so the feed says the bot
        /// is unreachable instead of waiting on a silent socket.
        static let configuration = WebSocketClientConfiguration(maxFrameSize: 1 << 20, closeTimeout: .seconds(5),
                                                                autoPing: .enabled(timePeriod: .seconds(10)))

        static let topicList = BotEventFeed.topics.map { "\"\($0)\"" }.joined(separator: ",")
    }
}

/// Freqtrade's websocket messages (flat JSON objects with a `type`) as feed events.
enum BotEventMapping {
    static func event(from text: String, bot: BotRecord) -> BotEventRecord? {
        guard let message = try? JSONValue.parse(Data(text.utf8)) else { return nil }
        return event(from: message, bot: bot)
    }

    /// The entry fill of a trade of the bot's REST API (`/status`, `/trades`), and its exit
    /// fill when closed, dated when they happened, as the websocket would have reported them.
    static func fills(of trade: JSONValue, bot: BotRecord) -> [BotEventRecord] {
        guard case .object(var fields) = trade else { return [] }
        var events: [BotEventRecord] = []
        if let opened = trade["open_timestamp"]?.doubleValue {
            fields["type"] = .string("entry_fill")
            if var event = event(from: .object(fields), bot: bot) {
                event.at = Date(timeIntervalSince1970: opened / 1000)
                events.append(event)
            }
        }
        if trade["is_open"]?.boolValue == false, let closed = trade["close_timestamp"]?.doubleValue {
            fields["type"] = .string("exit_fill")
            fields["profit_amount"] = trade["profit_abs"] ?? .null
            if var event = event(from: .object(fields), bot: bot) {
                event.at = Date(timeIntervalSince1970: closed / 1000)
                events.append(event)
            }
        }
        return events
    }

    static func event(from message: JSONValue, bot: BotRecord) -> BotEventRecord? {
        guard let type = message["type"]?.stringValue, BotEventFeed.topics.contains(type) else { return nil }
        let pair = message["pair"]?.stringValue ?? ""
        let stake = message["stake_currency"]?.stringValue ?? bot.stakeCurrency
        func number(_ key: String) -> String { message[key]?.doubleValue.map { format($0) } ?? "?" }
        let title: String
        var detail: String?
        switch type {
        case "entry_fill":
            title = "Bought \(pair)"
            detail = "\(number("amount")) at \(number("open_rate")), stake \(number("stake_amount")) \(stake)"
        case "exit_fill":
            title = "Sold \(pair)"
            let ratio = message["profit_ratio"]?.doubleValue.map { format($0 * 100) + "%" } ?? "?"
            detail = "profit \(ratio) (\(number("profit_amount")) \(stake)), reason \(message["exit_reason"]?.stringValue ?? "?")"
        case "entry_cancel":
            title = "Entry cancelled: \(pair)"
            detail = message["reason"]?.stringValue
        case "exit_cancel":
            title = "Exit cancelled: \(pair)"
            detail = message["reason"]?.stringValue
        case "protection_trigger", "protection_trigger_global":
            title = pair.isEmpty ? "Protection: all pairs locked" : "Protection: \(pair) locked"
            detail = [message["reason"]?.stringValue, message["lock_end_time"]?.stringValue.map { "until \($0)" }].compactMap { $0 }.joined(separator: ", ")
        case "warning":
            title = "Warning"
            detail = message["status"]?.stringValue
        case "exception":
            title = "Error in the bot"
            detail = message["status"]?.stringValue
        case "status", "startup":
            title = type == "startup" ? "Started" : "Status"
            detail = message["status"]?.stringValue
        default:
            title = "Strategy message"
            detail = message["msg"]?.stringValue ?? message["status"]?.stringValue
        }
        // The bot chose these texts: bounded, and no control characters.
        let clean = { (text: String) in String(text.unicodeScalars.filter { $0.properties.generalCategory != .control }.prefix(500).map(Character.init)) }
        // The feed's kinds (docs/api.md): a start is a status change, a global protection a protection.
        let kind = type.hasPrefix("protection") ? "protection_trigger" : type == "startup" ? "status" : type == "strategy_msg" ? "status" : type
        return BotEventRecord(clientId: bot.clientId, botId: bot.id, kind: kind,
                              title: clean(title), detail: detail.map(clean))
    }

    static func format(_ value: Double) -> String {
        var text = String(format: "%.8f", value)
        while text.contains(".") && (text.hasSuffix("0") || text.hasSuffix(".")) { text.removeLast() }
        return text
    }
}
