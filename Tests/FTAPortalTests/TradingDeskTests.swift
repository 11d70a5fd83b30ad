import FTACore
import FTAStore
import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import FTAPortal

/// The trading desk's parts that need no bot: the fan-in, the live stream's tenant routing, the
/// event feed's store and mapping, the CSV export, the "restart to apply" state. The bot-facing
/// behaviour is proven against real Freqtrade in Tests/system/freqtrade/test_trading_desk.py.
@Suite("trading desk")
struct TradingDeskTests {
    static func bot(_ id: String = "acme-bot", client: String = "acme") throws -> BotRecord {
        var bot = BotRecord(id: BotID(id)!, clientID: ClientID(client)!, settings: try validSettings(), desiredState: .running)
        bot.state = .running
        bot.startedAt = Date(timeIntervalSince1970: 1_000_000)
        return bot
    }

    @Test("a hundred pages asking a bot the same question at once cost the bot one request")
    func fanIn() async throws {
        let calls = NIOLockedValueBox(0)
        let hub = BotDataHub(freshFor: .seconds(60)) { _, path in
            calls.withLockedValue { $0 += 1 }
            try await Task.sleep(for: .milliseconds(200))
            return .object(["path": .string(path)])
        }
        let bot = try Self.bot()
        let answers = try await withThrowingTaskGroup(of: JSONValue.self) { group in
            for _ in 0..<100 { group.addTask { try await hub.get(bot, "/api/v1/profit") } }
            return try await group.reduce(into: [JSONValue]()) { $0.append($1) }
        }
        #expect(answers.count == 100)
        #expect(answers.allSatisfy { $0["path"]?.stringValue == "/api/v1/profit" })
        #expect(calls.withLockedValue { $0 } == 1, "one request to the bot for 100 concurrent readers")
        // Within freshFor: still no new request; another question is its own request.
        _ = try await hub.get(bot, "/api/v1/profit")
        _ = try await hub.get(bot, "/api/v1/status")
        #expect(calls.withLockedValue { $0 } == 2)
    }

    @Test("a control, a new start of the bot, and age each make the next read ask the bot again; errors are not kept")
    func fanInFreshness() async throws {
        let calls = NIOLockedValueBox(0)
        let failNext = NIOLockedValueBox(false)
        let hub = BotDataHub(freshFor: .milliseconds(300)) { _, _ in
            calls.withLockedValue { $0 += 1 }
            if failNext.withLockedValue({ let f = $0; $0 = false; return f }) { throw DomainError.botTimeout }
            return .number(Double(calls.withLockedValue { $0 }))
        }
        var bot = try Self.bot()
        #expect(try await hub.get(bot, "/p") == .number(1))
        await hub.invalidate(bot.id)
        #expect(try await hub.get(bot, "/p") == .number(2), "a control drops the cached answer")
        bot.startedAt = Date(timeIntervalSince1970: 2_000_000)
        #expect(try await hub.get(bot, "/p") == .number(3), "a new start of the bot is asked afresh")
        try await Task.sleep(for: .milliseconds(400))
        failNext.withLockedValue { $0 = true }
        await #expect(throws: DomainError.self) { try await hub.get(bot, "/p") }
        #expect(try await hub.get(bot, "/p") == .number(5), "a failure is not served to the next reader")
    }

    @Test("a live stream gets its own client's events only; an admin's all-clients stream gets every client's")
    func liveStreamTenancy() async throws {
        let live = LiveHub()
        let (_, acme) = try #require(await live.subscribe(scope: ClientID("acme")!, user: 1))
        let (_, globex) = try #require(await live.subscribe(scope: ClientID("globex")!, user: 2))
        let (_, admin) = try #require(await live.subscribe(scope: nil, user: 3))
        var event = BotEventRecord(clientId: ClientID("globex")!, botId: BotID("globex-bot")!, kind: "entry_fill", title: "Bought BTC/USDT")
        event.id = 7
        await live.publish(event)
        await live.finishAll()
        let acmeGot = await acme.reduce(into: [String]()) { $0.append($1) }
        let globexGot = await globex.reduce(into: [String]()) { $0.append($1) }
        let adminGot = await admin.reduce(into: [String]()) { $0.append($1) }
        #expect(acmeGot.isEmpty, "another client's event reached acme's stream: \(acmeGot)")
        #expect(globexGot.count == 1 && globexGot[0].hasPrefix("event: event\ndata: {") && globexGot[0].contains("\"botId\":\"globex-bot\""))
        #expect(adminGot == globexGot)
    }

    @Test("one user cannot hold more than ten live streams")
    func liveStreamLimit() async throws {
        let live = LiveHub()
        for _ in 0..<LiveHub.maxPerUser { #expect(await live.subscribe(scope: nil, user: 9) != nil) }
        #expect(await live.subscribe(scope: nil, user: 9) == nil)
        #expect(await live.subscribe(scope: nil, user: 10) != nil, "another user is not affected")
    }

    @Test("the feed keeps a client's newest events only, and never prunes another client's")
    func eventsAreBounded() async throws {
        let database = try AppDatabase.inMemory()
        let acme = ClientID("acme")!, globex = ClientID("globex")!
        _ = try await database.recordEvent(BotEventRecord(clientId: globex, botId: BotID("g-bot")!, kind: "status", title: "g"))
        for index in 0..<(AppDatabase.eventsPerClient + 5) {
            _ = try await database.recordEvent(BotEventRecord(clientId: acme, botId: BotID("a-bot")!, kind: "status", title: "a\(index)"))
        }
        let kept = try await database.events(ofClient: acme, limit: 5000)
        #expect(kept.count == AppDatabase.eventsPerClient)
        #expect(kept.first?.title == "a\(AppDatabase.eventsPerClient + 4)", "the newest is kept")
        #expect(try await database.events(ofClient: globex, limit: 10).count == 1)
        // Old events go whatever their number.
        _ = try await database.recordEvent(BotEventRecord(clientId: globex, botId: BotID("g-bot")!, at: Date().addingTimeInterval(-40 * 86_400),
                                                          kind: "status", title: "old"))
        _ = try await database.recordEvent(BotEventRecord(clientId: globex, botId: BotID("g-bot")!, kind: "status", title: "new"))
        #expect(try await database.events(ofClient: globex, limit: 10).map(\.title) == ["new", "g"])
    }

    @Test("Freqtrade's websocket messages become feed events; unknown types and subscriptions' noise are dropped")
    func eventMapping() throws {
        let bot = try Self.bot()
        let fill = try #require(BotEventMapping.event(from: #"{"type":"entry_fill","pair":"BTC/USDT","amount":0.0015,"open_rate":65000.5,"stake_amount":97.5,"stake_currency":"USDT"}"#, bot: bot))
        #expect(fill.kind == "entry_fill" && fill.title == "Bought BTC/USDT")
        #expect(fill.detail == "0.0015 at 65000.5, stake 97.5 USDT")
        let exit = try #require(BotEventMapping.event(from: #"{"type":"exit_fill","pair":"ETH/USDT","profit_ratio":0.0123,"profit_amount":1.2,"exit_reason":"roi"}"#, bot: bot))
        #expect(exit.title == "Sold ETH/USDT" && exit.detail == "profit 1.23% (1.2 USDT), reason roi")
        #expect(BotEventMapping.event(from: #"{"type":"analyzed_df","data":{}}"#, bot: bot) == nil)
        #expect(BotEventMapping.event(from: "not json", bot: bot) == nil)
        let warning = try #require(BotEventMapping.event(from: #"{"type":"warning","status":"line1\nline2\u0007"}"#, bot: bot))
        #expect(warning.detail == "line1line2", "control characters a bot sends never reach the feed")
    }

    @Test("fills the websocket could not report are read back from the bot's trades, dated when they happened")
    func catchUpFills() throws {
        let bot = try Self.bot()
        let closed = JSONValue.object([
            "pair": .string("ETH/USDT"), "is_open": .bool(false), "amount": .number(0.5), "open_rate": .number(3000), "stake_amount": .number(1500),
            "open_timestamp": .number(1_700_000_000_000), "close_timestamp": .number(1_700_000_180_000), "profit_ratio": .number(0.01),
            "profit_abs": .number(15), "exit_reason": .string("roi"),
        ])
        let events = BotEventMapping.fills(of: closed, bot: bot)
        #expect(events.map(\.kind) == ["entry_fill", "exit_fill"])
        #expect(events.map(\.at) == [Date(timeIntervalSince1970: 1_700_000_000), Date(timeIntervalSince1970: 1_700_000_180)])
        #expect(events[0].title == "Bought ETH/USDT" && events[1].detail == "profit 1% (15 USDT), reason roi")
        let open = JSONValue.object(["pair": .string("BTC/USDT"), "is_open": .bool(true), "open_timestamp": .number(1_700_000_000_000)])
        #expect(BotEventMapping.fills(of: open, bot: bot).map(\.kind) == ["entry_fill"], "an open trade has no exit yet")
    }

    @Test("the CSV export quotes what needs it and defuses formulas in the texts a strategy chose")
    func tradesCSV() {
        let csv = TradesCSV.render([
            .object(["trade_id": .number(3), "pair": .string("BTC/USDT"), "is_open": .bool(false), "open_rate": .number(65000.5),
                     "profit_abs": .number(-1.25), "exit_reason": .string("=HYPERLINK(\"x\")"), "enter_tag": .string("a,b")]),
        ])
        let lines = csv.components(separatedBy: "\r\n")
        #expect(lines[0] == TradesCSV.columns.joined(separator: ","))
        #expect(lines[1] == #"3,BTC/USDT,false,,,65000.5,,,,,-1.25,"'=HYPERLINK(""x"")","a,b""#)
        #expect(lines.count == 3 && lines[2].isEmpty)
    }

    @Test("settings edited while the bot runs wait for its next start, and say so until then")
    func pendingRestart() throws {
        var bot = try Self.bot()
        #expect(!bot.pendingRestart)
        bot.settingsChangedAt = bot.startedAt!.addingTimeInterval(10)
        #expect(bot.pendingRestart)
        bot.startedAt = bot.settingsChangedAt!.addingTimeInterval(1)
        #expect(!bot.pendingRestart, "a start after the edit applied it")
        bot.state = .stopped
        bot.settingsChangedAt = Date.distantFuture
        #expect(!bot.pendingRestart, "a stopped bot gets the settings when it starts: nothing is pending")
    }

    @Test("a wallet reset moves the bot to a new trade database and leaves the old one as the archive")
    func walletGenerations() {
        #expect(BotPaths.database(generation: 0) == BotPaths.database)
        #expect(BotPaths.database(generation: 2) == "sqlite:////freqtrade/user_data/tradesv3.dryrun.wallet2.sqlite")
        #expect(BotPaths.databaseFile(generation: 0) == "tradesv3.dryrun.sqlite")
        let config = renderFreqtradeConfig(botID: BotID("acme-bot")!, settings: try! validSettings(), secrets: BotSecrets.generate(), walletGeneration: 1)
        let object = try! JSONDecoder().decode(JSONValue.self, from: config)
        #expect(object["db_url"]?.stringValue == "sqlite:////freqtrade/user_data/tradesv3.dryrun.wallet1.sqlite")
        #expect(object["dry_run"] == .bool(true))
    }
}
