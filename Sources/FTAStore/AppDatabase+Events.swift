import FTACore
import Foundation
import GRDB

/// The activity feed's store: what bots reported, per client, bounded.
extension AppDatabase {
    /// How many events a client keeps: the feed is for what happened lately, and a bot that
    /// floods its websocket (warnings every candle) must not grow the database without bound.
    public static let eventsPerClient = 2000
    /// Events older than this are pruned whatever their number.
    public static let eventRetention: TimeInterval = 30 * 86_400

    /// Stores `event` (with its id) and, in the same transaction, drops the client's events
    /// beyond the newest `eventsPerClient` and those older than `eventRetention`.
    @discardableResult
    public func recordEvent(_ event: BotEventRecord) async throws -> BotEventRecord {
        try await writer.write { db in
            var event = event
            try event.insert(db)
            let cutoff = Date().addingTimeInterval(-Self.eventRetention)
            try db.execute(sql: """
                DELETE FROM botEvents WHERE clientId = ? AND (at < ? OR id <= (
                    SELECT id FROM botEvents WHERE clientId = ? ORDER BY id DESC LIMIT 1 OFFSET ?))
                """, arguments: [event.clientId.rawValue, cutoff, event.clientId.rawValue, Self.eventsPerClient])
            return event
        }
    }

    /// Events, newest first: of one client (nil: all, for an admin), of one bot if given.
    public func events(ofClient client: ClientID?, bot: BotID? = nil, before: Int64? = nil, limit: Int) async throws -> [BotEventRecord] {
        try await writer.read { db in
            var request = BotEventRecord.order(Column("id").desc).limit(limit)
            if let client { request = request.filter(Column("clientId") == client.rawValue) }
            if let bot { request = request.filter(Column("botId") == bot.rawValue) }
            if let before { request = request.filter(Column("id") < before) }
            return try request.fetchAll(db)
        }
    }
}
