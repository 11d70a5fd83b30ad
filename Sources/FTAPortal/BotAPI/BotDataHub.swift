import FTACore
import FTAStore
import Foundation

/// The fan-in in front of the bridge: each bot is asked a question (a path) once, however many
/// pages ask it at the same time or within `freshFor`.
///
/// A hundred open dashboards used to cost each bot a hundred `/profit` requests every refresh;
/// now they cost one. Answers are kept per bot start (`startedAt`): a restarted bot is asked
/// afresh. Errors are shared by the callers of the one request that failed, never kept.
/// A control on a bot (`invalidate`) drops its answers, so the next read shows the change.
public actor BotDataHub {
    /// How a question reaches the bot: the bridge, with its dry-run guard.
    let fetch: @Sendable (BotRecord, String) async throws -> JSONValue
    /// How long an answer is served to everyone without asking the bot again: below the pages'
    /// refresh (5 s) and Freqtrade's own cadence (it re-evaluates once per loop, every 5 s).
    let freshFor: Duration
    private var entries: [Key: Entry] = [:]
    private let clock = ContinuousClock()

    struct Key: Hashable {
        var bot: BotID
        var path: String
    }

    enum Entry {
        case loading(Task<JSONValue, any Error>, startedAt: Date?)
        case ready(JSONValue, at: ContinuousClock.Instant, startedAt: Date?)
    }

    /// Entries beyond which the stale ones are dropped: bounded memory with many bots and pairs.
    static let maxEntries = 512

    public init(bridge: FreqtradeBridge, freshFor: Duration = .seconds(2)) {
        self.init(freshFor: freshFor) { bot, path in try await bridge.call(bot, path) }
    }

    init(freshFor: Duration, fetch: @escaping @Sendable (BotRecord, String) async throws -> JSONValue) {
        self.fetch = fetch
        self.freshFor = freshFor
    }

    /// The bot's answer to GET `path`, fresh within `freshFor`.
    public func get(_ bot: BotRecord, _ path: String) async throws -> JSONValue {
        let key = Key(bot: bot.id, path: path)
        switch entries[key] {
        case .ready(let value, let at, let startedAt) where startedAt == bot.startedAt && clock.now - at < freshFor:
            return value
        case .loading(let task, let startedAt) where startedAt == bot.startedAt:
            return try await task.value
        default:
            break
        }
        let fetch = self.fetch
        let task = Task { try await fetch(bot, path) }
        entries[key] = .loading(task, startedAt: bot.startedAt)
        do {
            let value = try await task.value
            if case .loading(let current, _) = entries[key], current == task {
                entries[key] = .ready(value, at: clock.now, startedAt: bot.startedAt)
            }
            prune()
            return value
        } catch {
            if case .loading(let current, _) = entries[key], current == task { entries[key] = nil }
            throw error
        }
    }

    /// Drops every answer of `bot`: after a control, the next read asks the bot.
    public func invalidate(_ bot: BotID) {
        entries = entries.filter { $0.key.bot != bot }
    }

    private func prune() {
        guard entries.count > Self.maxEntries else { return }
        let now = clock.now
        entries = entries.filter { _, entry in
            if case .ready(_, let at, _) = entry { return now - at < freshFor }
            return true
        }
    }
}
