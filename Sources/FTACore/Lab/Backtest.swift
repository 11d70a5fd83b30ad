import Foundation

/// A backtest's time window, in Freqtrade's `YYYYMMDD-YYYYMMDD` form (UTC days; the end day is
/// exclusive, as Freqtrade reads it).
public struct Timerange: Sendable, Equatable, Codable, CustomStringConvertible {
    public var start: Date
    public var end: Date

    public init(start: Date, end: Date) {
        self.start = start
        self.end = end
    }

    static let dayFormat: DateFormatter = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd"
        return f
    }()

    /// Parses `YYYYMMDD-YYYYMMDD`; nil for anything else (no open ends, no timestamps).
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 8 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let start = Self.dayFormat.date(from: String(parts[0])), let end = Self.dayFormat.date(from: String(parts[1])),
              Self.dayFormat.string(from: start) == parts[0], Self.dayFormat.string(from: end) == parts[1]
        else { return nil }
        self.start = start
        self.end = end
    }

    public var description: String { Self.dayFormat.string(from: start) + "-" + Self.dayFormat.string(from: end) }

    /// Freqtrade's form of a window given by instants (a bot's run): whole UTC days around them
    /// is too coarse for a replay, so this one uses epoch seconds (`<start>-<end>`).
    public static func seconds(from start: Date, to end: Date) -> String {
        "\(Int(start.timeIntervalSince1970))-\(Int(end.timeIntervalSince1970))"
    }

    /// How many candles of `timeframe` the window holds.
    public func candles(timeframe: String) -> Int {
        Int(end.timeIntervalSince(start) / 60) / max(1, BotCatalog.minutes(of: timeframe))
    }

    /// The most candles per pair a backtest may cover: what a small host loads in memory and
    /// runs through in a few minutes.
    public static let maxCandles = 20_000
}

extension BotCatalog {
    /// The length of a candle of `timeframe`, in minutes (1 for an unknown one).
    public static func minutes(of timeframe: String) -> Int {
        guard let unit = timeframe.last, let n = Int(timeframe.dropLast()) else { return 1 }
        switch unit {
        case "m": return n
        case "h": return n * 60
        case "d": return n * 1440
        default: return 1
        }
    }
}

/// A backtest's outcome as the lab runner reports it (docs/strategy-lab.md): metrics, per-pair and
/// per-exit-reason tables, the trade list and the equity curve. Decoded from the job's output,
/// which ran a client's code: every list is bounded and every text short before it is stored.
public struct BacktestResult: Sendable, Equatable, Codable {
    public struct Metrics: Sendable, Equatable, Codable {
        public var tradeCount: Int
        public var wins: Int
        public var losses: Int
        public var draws: Int
        public var winRate: Double?
        public var profitTotal: Double?
        public var profitTotalAbs: Double?
        public var cagr: Double?
        public var maxDrawdown: Double?
        public var maxDrawdownAbs: Double?
        public var sharpe: Double?
        public var sortino: Double?
        public var calmar: Double?
        public var profitFactor: Double?
        public var expectancy: Double?
        public var avgDurationMinutes: Double?
        public var startingBalance: Double?
        public var finalBalance: Double?
        public var backtestStart: String?
        public var backtestEnd: String?
        public var marketChange: Double?
    }

    public struct PairRow: Sendable, Equatable, Codable {
        public var pair: String
        public var trades: Int
        public var profitTotalAbs: Double?
        public var profitMean: Double?
        public var winRate: Double?
        public var avgDurationMinutes: Double?
    }

    public struct ExitReasonRow: Sendable, Equatable, Codable {
        public var reason: String
        public var trades: Int
        public var profitTotalAbs: Double?
        public var wins: Int?
        public var losses: Int?
        public var draws: Int?
    }

    public struct Trade: Sendable, Equatable, Codable {
        public var pair: String
        public var openDate: String
        public var closeDate: String?
        public var openRate: Double
        public var closeRate: Double?
        public var amount: Double?
        public var stakeAmount: Double?
        public var profitAbs: Double?
        public var profitRatio: Double?
        public var exitReason: String?
        public var enterTag: String?
        public var durationMinutes: Double?

        public init(pair: String, openDate: String, closeDate: String?, openRate: Double, closeRate: Double?, amount: Double? = nil,
                    stakeAmount: Double? = nil, profitAbs: Double?, profitRatio: Double? = nil, exitReason: String? = nil,
                    enterTag: String? = nil, durationMinutes: Double? = nil) {
            self.pair = pair
            self.openDate = openDate
            self.closeDate = closeDate
            self.openRate = openRate
            self.closeRate = closeRate
            self.amount = amount
            self.stakeAmount = stakeAmount
            self.profitAbs = profitAbs
            self.profitRatio = profitRatio
            self.exitReason = exitReason
            self.enterTag = enterTag
            self.durationMinutes = durationMinutes
        }
    }

    public struct EquityPoint: Sendable, Equatable, Codable {
        public var t: String
        public var balance: Double
    }

    public var metrics: Metrics
    public var pairs: [PairRow]
    public var exitReasons: [ExitReasonRow]
    public var trades: [Trade]
    public var equity: [EquityPoint]

    public static let maxTrades = 5000
    public static let maxRows = 200
    static let maxText = 64

    /// The same result with every list and text within bounds.
    public func bounded() -> BacktestResult {
        func short(_ s: String) -> String { String(s.prefix(Self.maxText)) }
        var r = self
        r.pairs = Array(pairs.prefix(Self.maxRows)).map { var p = $0; p.pair = short(p.pair); return p }
        r.exitReasons = Array(exitReasons.prefix(Self.maxRows)).map { var e = $0; e.reason = short(e.reason); return e }
        r.trades = Array(trades.suffix(Self.maxTrades)).map { t in
            var t = t
            t.pair = short(t.pair)
            t.openDate = short(t.openDate)
            t.closeDate = t.closeDate.map(short)
            t.exitReason = t.exitReason.map(short)
            t.enterTag = t.enterTag.map(short)
            return t
        }
        r.equity = Array(equity.suffix(Self.maxTrades + 1)).map { EquityPoint(t: short($0.t), balance: $0.balance) }
        r.metrics.backtestStart = metrics.backtestStart.map(short)
        r.metrics.backtestEnd = metrics.backtestEnd.map(short)
        return r
    }
}

/// A dry run against its own backtest over the same window: the trades both made (same pair,
/// opened within one candle of each other), those only one of them made, and the profit delta.
public struct DryRunComparison: Sendable, Equatable, Codable {
    public struct Window: Sendable, Equatable, Codable {
        public var start: String
        public var end: String

        public init(start: String, end: String) {
            self.start = start
            self.end = end
        }
    }

    public struct Match: Sendable, Equatable, Codable {
        public var pair: String
        public var dryOpenDate: String
        public var backtestOpenDate: String
        public var dryOpenRate: Double
        public var backtestOpenRate: Double
        public var openRateDiff: Double
        public var dryCloseRate: Double?
        public var backtestCloseRate: Double?
        public var closeRateDiff: Double?
        public var dryProfitAbs: Double?
        public var backtestProfitAbs: Double?
    }

    public struct ProfitDelta: Sendable, Equatable, Codable {
        public var dry: Double
        public var backtest: Double
        public var delta: Double
    }

    public var window: Window
    public var matched: [Match]
    public var onlyDry: [BacktestResult.Trade]
    public var onlyBacktest: [BacktestResult.Trade]
    public var profitDelta: ProfitDelta

    /// Pairs each dry trade with the backtest trade of the same pair whose open time is nearest,
    /// within `toleranceSeconds` (one candle: a dry run enters during the candle after the
    /// signal, a backtest at that candle's open). Each backtest trade matches at most once.
    public static func compare(dry: [BacktestResult.Trade], backtest: [BacktestResult.Trade], window: Window,
                               toleranceSeconds: Double) -> DryRunComparison {
        func instant(_ s: String) -> Date? { ISO8601Parsing.date(s) }
        var unused = Array(backtest.indices)
        var matched: [Match] = []
        var onlyDry: [BacktestResult.Trade] = []
        for trade in dry.sorted(by: { $0.openDate < $1.openDate }) {
            guard let open = instant(trade.openDate) else { onlyDry.append(trade); continue }
            let best = unused.filter { backtest[$0].pair == trade.pair }
                .compactMap { i in instant(backtest[i].openDate).map { (i, abs($0.timeIntervalSince(open))) } }
                .filter { $0.1 <= toleranceSeconds }
                .min { $0.1 < $1.1 }
            guard let (index, _) = best else { onlyDry.append(trade); continue }
            unused.removeAll { $0 == index }
            let other = backtest[index]
            matched.append(Match(
                pair: trade.pair, dryOpenDate: trade.openDate, backtestOpenDate: other.openDate,
                dryOpenRate: trade.openRate, backtestOpenRate: other.openRate, openRateDiff: trade.openRate - other.openRate,
                dryCloseRate: trade.closeRate, backtestCloseRate: other.closeRate,
                closeRateDiff: trade.closeRate.flatMap { d in other.closeRate.map { d - $0 } },
                dryProfitAbs: trade.profitAbs, backtestProfitAbs: other.profitAbs))
        }
        let dryProfit = dry.compactMap(\.profitAbs).reduce(0, +)
        let backtestProfit = backtest.compactMap(\.profitAbs).reduce(0, +)
        return DryRunComparison(window: window, matched: matched, onlyDry: onlyDry,
                                onlyBacktest: unused.sorted().map { backtest[$0] },
                                profitDelta: ProfitDelta(dry: dryProfit, backtest: backtestProfit, delta: dryProfit - backtestProfit))
    }
}

/// ISO 8601 instants as Freqtrade and the runner write them, with or without fractional seconds
/// and with `Z` or an offset; Freqtrade's API also writes `2026-12-01 10:05:00` in UTC.
public enum ISO8601Parsing {
    public static func date(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let d = plain.date(from: text) { return d }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = fractional.date(from: text) { return d }
        let spaced = text.replacingOccurrences(of: " ", with: "T")
        if spaced != text, let d = plain.date(from: spaced.hasSuffix("Z") || spaced.contains("+") ? spaced : spaced + "Z") { return d }
        return nil
    }

    public static func string(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
}
