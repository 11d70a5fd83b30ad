import FTACore
import FTAStore
import Foundation

/// The client dashboard's figures: one row per bot (profit, win rate, drawdown, trades, open
/// exposure) and the combined equity over time, from the bots' own answers through the fan-in.
struct BotSummaries: Sendable {
    let database: AppDatabase
    let hub: BotDataHub

    struct Row: Codable, Sendable {
        var id: String
        var clientId: String
        var name: String
        var state: String
        var strategy: String
        var stakeCurrency: String
        var profitAbs: Double?
        var profitRatio: Double?
        var winrate: Double?
        var maxDrawdown: Double?
        var tradeCount: Int?
        var closedTradeCount: Int?
        var openTrades: Int?
        var openExposure: Double?
        var error: String?
    }

    struct Point: Codable, Sendable {
        var date: String
        var value: Double
    }

    struct Rows: Codable, Sendable {
        var bots: [Row]
    }

    struct Dashboard: Codable, Sendable {
        var bots: [Row]
        var equity: [Point]
        var equityByBot: [String: [Point]]
        var generatedAt: Date
    }

    /// How many days the equity curve covers.
    static let equityDays = 90

    func rows(scope: ClientID?) async throws -> Rows {
        Rows(bots: try await collect(scope: scope, equity: false).rows)
    }

    func dashboard(scope: ClientID?) async throws -> Dashboard {
        let (rows, curves) = try await collect(scope: scope, equity: true)
        // Combined: each day's closed profit summed over the bots, then accumulated.
        var byDate: [String: Double] = [:]
        for days in curves.values { for day in days { byDate[day.date, default: 0] += day.value } }
        var total = 0.0
        let equity = byDate.keys.sorted().map { date -> Point in
            total += byDate[date]!
            return Point(date: date, value: total)
        }
        let byBot = curves.mapValues { days -> [Point] in
            var sum = 0.0
            return days.sorted { $0.date < $1.date }.map { sum += $0.value; return Point(date: $0.date, value: sum) }
        }
        return Dashboard(bots: rows, equity: equity, equityByBot: byBot, generatedAt: Date())
    }

    /// Rows, and each running bot's daily closed profit when `equity`, asked of all bots at once.
    private func collect(scope: ClientID?, equity: Bool) async throws -> (rows: [Row], curves: [String: [Point]]) {
        let bots = try await database.bots(ofClient: scope).filter { $0.state != .deleting }
        let hub = self.hub
        return await withTaskGroup(of: (Int, Row, [Point]?).self) { group in
            for (index, bot) in bots.enumerated() {
                group.addTask {
                    var row = Row(id: bot.id.rawValue, clientId: bot.clientId.rawValue, name: bot.name, state: bot.state.rawValue,
                                  strategy: bot.strategy, stakeCurrency: bot.stakeCurrency)
                    guard bot.state == .running else { return (index, row, nil) }
                    var days: [Point]?
                    do {
                        async let profit = hub.get(bot, "/api/v1/profit")
                        async let status = hub.get(bot, "/api/v1/status")
                        let (p, s) = try await (profit, status)
                        row.profitAbs = p["profit_all_coin"]?.doubleValue
                        row.profitRatio = p["profit_all_ratio"]?.doubleValue
                        row.winrate = p["winrate"]?.doubleValue
                        row.maxDrawdown = p["max_drawdown"]?.doubleValue
                        row.tradeCount = p["trade_count"]?.doubleValue.map { Int($0) }
                        row.closedTradeCount = p["closed_trade_count"]?.doubleValue.map { Int($0) }
                        let open = s.arrayValue ?? []
                        row.openTrades = open.count
                        row.openExposure = open.reduce(0) { $0 + ($1["stake_amount"]?.doubleValue ?? 0) }
                        if equity {
                            let daily = try await hub.get(bot, "/api/v1/daily?timescale=\(Self.equityDays)")
                            days = (daily["data"]?.arrayValue ?? []).compactMap { day in
                                guard let date = day["date"]?.stringValue else { return nil }
                                return Point(date: date, value: day["abs_profit"]?.doubleValue ?? 0)
                            }
                        }
                    } catch {
                        row.error = (error as? DomainError)?.message ?? "The bot's data could not be read."
                    }
                    return (index, row, days)
                }
            }
            var rows = [Row?](repeating: nil, count: bots.count)
            var curves: [String: [Point]] = [:]
            for await (index, row, days) in group {
                rows[index] = row
                if let days { curves[row.id] = days }
            }
            return (rows.compactMap { $0 }, curves)
        }
    }
}
