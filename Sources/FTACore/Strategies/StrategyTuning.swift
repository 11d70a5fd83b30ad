import Foundation

/// What a client tunes of a strategy without editing its code: the ROI table, the stop-loss and
/// trailing stop, protections, and the values of its hyperoptable parameters.
///
/// None of it rewrites the strategy's source. ROI, stop-loss and trailing go into the rendered
/// Freqtrade config, which Freqtrade reads over the strategy's own attributes; parameter values
/// go into Freqtrade's own params file beside the strategy (`<Class>.json`); protections, which
/// Freqtrade 2026.9 refuses in the config, reach the loaded strategy object through the
/// launcher (`FTA_PROTECTIONS`, docs/strategy-lab.md). Every field is optional: absent, the
/// strategy's own value holds.
public struct StrategyTuning: Sendable, Equatable, Codable {
    /// Minutes held -> minimum profit ratio to take.
    public var minimalRoi: [String: Double]?
    public var stoploss: Double?
    public var trailingStop: Bool?
    public var trailingStopPositive: Double?
    public var trailingStopPositiveOffset: Double?
    public var trailingOnlyOffsetIsReached: Bool?
    public var protections: [Protection]?
    /// Space (`buy`, `sell`, `protection`) -> parameter name -> value.
    public var params: [String: [String: JSONValue]]?

    public init(minimalRoi: [String: Double]? = nil, stoploss: Double? = nil, trailingStop: Bool? = nil, trailingStopPositive: Double? = nil,
                trailingStopPositiveOffset: Double? = nil, trailingOnlyOffsetIsReached: Bool? = nil, protections: [Protection]? = nil,
                params: [String: [String: JSONValue]]? = nil) {
        self.minimalRoi = minimalRoi
        self.stoploss = stoploss
        self.trailingStop = trailingStop
        self.trailingStopPositive = trailingStopPositive
        self.trailingStopPositiveOffset = trailingStopPositiveOffset
        self.trailingOnlyOffsetIsReached = trailingOnlyOffsetIsReached
        self.protections = protections
        self.params = params
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case minimalRoi, stoploss, trailingStop, trailingStopPositive, trailingStopPositiveOffset, trailingOnlyOffsetIsReached, protections, params
    }

    /// Strict, like every API input: an unknown key (a typo such as `stopLoss`) is refused rather
    /// than silently leaving the strategy's own value in force.
    public init(from decoder: any Decoder) throws {
        try UnknownKeys.refuse(decoder, known: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        minimalRoi = try c.decodeIfPresent([String: Double].self, forKey: .minimalRoi)
        stoploss = try c.decodeIfPresent(Double.self, forKey: .stoploss)
        trailingStop = try c.decodeIfPresent(Bool.self, forKey: .trailingStop)
        trailingStopPositive = try c.decodeIfPresent(Double.self, forKey: .trailingStopPositive)
        trailingStopPositiveOffset = try c.decodeIfPresent(Double.self, forKey: .trailingStopPositiveOffset)
        trailingOnlyOffsetIsReached = try c.decodeIfPresent(Bool.self, forKey: .trailingOnlyOffsetIsReached)
        protections = try c.decodeIfPresent([Protection].self, forKey: .protections)
        params = try c.decodeIfPresent([String: [String: JSONValue]].self, forKey: .params)
    }

    /// One protection, in the four kinds fta offers, with Freqtrade's own fields.
    public struct Protection: Sendable, Equatable, Codable {
        public enum Method: String, Sendable, Codable, CaseIterable {
            case stoplossGuard = "StoplossGuard", maxDrawdown = "MaxDrawdown", cooldownPeriod = "CooldownPeriod", lowProfitPairs = "LowProfitPairs"
        }
        public var method: Method
        public var lookbackPeriodCandles: Int?
        public var tradeLimit: Int?
        public var stopDurationCandles: Int?
        public var onlyPerPair: Bool?
        public var maxAllowedDrawdown: Double?
        public var requiredProfit: Double?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case method, lookbackPeriodCandles, tradeLimit, stopDurationCandles, onlyPerPair, maxAllowedDrawdown, requiredProfit
        }

        public init(from decoder: any Decoder) throws {
            try UnknownKeys.refuse(decoder, known: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            method = try c.decode(Method.self, forKey: .method)
            lookbackPeriodCandles = try c.decodeIfPresent(Int.self, forKey: .lookbackPeriodCandles)
            tradeLimit = try c.decodeIfPresent(Int.self, forKey: .tradeLimit)
            stopDurationCandles = try c.decodeIfPresent(Int.self, forKey: .stopDurationCandles)
            onlyPerPair = try c.decodeIfPresent(Bool.self, forKey: .onlyPerPair)
            maxAllowedDrawdown = try c.decodeIfPresent(Double.self, forKey: .maxAllowedDrawdown)
            requiredProfit = try c.decodeIfPresent(Double.self, forKey: .requiredProfit)
        }

        public init(method: Method, lookbackPeriodCandles: Int? = nil, tradeLimit: Int? = nil, stopDurationCandles: Int? = nil,
                    onlyPerPair: Bool? = nil, maxAllowedDrawdown: Double? = nil, requiredProfit: Double? = nil) {
            self.method = method
            self.lookbackPeriodCandles = lookbackPeriodCandles
            self.tradeLimit = tradeLimit
            self.stopDurationCandles = stopDurationCandles
            self.onlyPerPair = onlyPerPair
            self.maxAllowedDrawdown = maxAllowedDrawdown
            self.requiredProfit = requiredProfit
        }

        /// Freqtrade's form: snake_case keys, only what is set.
        public var freqtrade: JSONValue {
            var o: [String: JSONValue] = ["method": .string(method.rawValue)]
            if let v = lookbackPeriodCandles { o["lookback_period_candles"] = .number(Double(v)) }
            if let v = tradeLimit { o["trade_limit"] = .number(Double(v)) }
            if let v = stopDurationCandles { o["stop_duration_candles"] = .number(Double(v)) }
            if let v = onlyPerPair { o["only_per_pair"] = .bool(v) }
            if let v = maxAllowedDrawdown { o["max_allowed_drawdown"] = .number(v) }
            if let v = requiredProfit { o["required_profit"] = .number(v) }
            return .object(o)
        }
    }

    public static let maxRoiSteps = 12
    public static let maxProtections = 8
    public static let maxParams = 48
    public static let spaces: Set<String> = ["buy", "sell", "protection"]

    /// Every problem, by field (prefixed `tuning.`), or nothing.
    public func problems() -> [(String, String)] {
        var errors: [(String, String)] = []
        func add(_ field: String, _ message: String) { errors.append(("tuning." + field, message)) }
        if let roi = minimalRoi {
            if roi.isEmpty || roi.count > Self.maxRoiSteps { add("minimalRoi", "must have 1 to \(Self.maxRoiSteps) steps") }
            for (minutes, ratio) in roi {
                guard let m = Int(minutes), m >= 0, m <= 525_600, String(m) == minutes else {
                    add("minimalRoi", "'\(minutes.prefix(12))' is not a whole number of minutes from 0 to 525600"); break
                }
                if !ratio.isFinite || ratio < -1 || ratio > 10 { add("minimalRoi", "ratios must be between -1 and 10"); break }
            }
        }
        if let s = stoploss, !s.isFinite || s < -1 || s > -0.0001 { add("stoploss", "must be between -1 and -0.0001 (a ratio, -0.1 is 10 %)") }
        for (name, value) in [("trailingStopPositive", trailingStopPositive), ("trailingStopPositiveOffset", trailingStopPositiveOffset)] {
            if let v = value, !v.isFinite || v < 0 || v > 1 { add(name, "must be a ratio between 0 and 1") }
        }
        if let p = trailingStopPositive, let o = trailingStopPositiveOffset, o > 0, p > o {
            add("trailingStopPositiveOffset", "must be at least trailingStopPositive")
        }
        if let list = protections {
            if list.count > Self.maxProtections { add("protections", "at most \(Self.maxProtections)") }
            for p in list {
                for (name, value) in [("lookbackPeriodCandles", p.lookbackPeriodCandles), ("tradeLimit", p.tradeLimit), ("stopDurationCandles", p.stopDurationCandles)] {
                    if let v = value, !(1...10_000).contains(v) { add("protections", "\(p.method.rawValue): \(name) must be 1 to 10000") }
                }
                if p.stopDurationCandles == nil { add("protections", "\(p.method.rawValue): stopDurationCandles is required") }
                switch p.method {
                case .cooldownPeriod: break
                case .stoplossGuard, .lowProfitPairs, .maxDrawdown:
                    if p.lookbackPeriodCandles == nil || p.tradeLimit == nil {
                        add("protections", "\(p.method.rawValue): lookbackPeriodCandles and tradeLimit are required")
                    }
                }
                if p.method == .maxDrawdown {
                    if let d = p.maxAllowedDrawdown { if !d.isFinite || d <= 0 || d > 1 { add("protections", "MaxDrawdown: maxAllowedDrawdown must be a ratio above 0, at most 1") } }
                    else { add("protections", "MaxDrawdown: maxAllowedDrawdown is required") }
                }
                if p.method == .lowProfitPairs, let r = p.requiredProfit, !r.isFinite || abs(r) > 10 {
                    add("protections", "LowProfitPairs: requiredProfit must be between -10 and 10")
                }
            }
        }
        if let params {
            var count = 0
            for (space, values) in params {
                if !Self.spaces.contains(space) { add("params", "'\(space.prefix(16))' is not a parameter space (buy, sell, protection)"); continue }
                for (name, value) in values {
                    count += 1
                    if !CustomStrategyName.isValid(name) { add("params", "'\(name.prefix(32))' is not a parameter name") }
                    switch value {
                    case .number(let n) where n.isFinite: break
                    case .bool: break
                    case .string(let s) where s.count <= 64: break
                    default: add("params", "\(name.prefix(32)): a value must be a number, a boolean or a short string")
                    }
                }
            }
            if count > Self.maxParams { add("params", "at most \(Self.maxParams) parameters") }
        }
        return errors
    }

    public var isEmpty: Bool { self == StrategyTuning() }

    /// The config keys Freqtrade reads over the strategy's own.
    public var configKeys: [String: JSONValue] {
        var o: [String: JSONValue] = [:]
        if let roi = minimalRoi { o["minimal_roi"] = .object(roi.mapValues { .number($0) }) }
        if let v = stoploss { o["stoploss"] = .number(v) }
        if let v = trailingStop { o["trailing_stop"] = .bool(v) }
        if let v = trailingStopPositive { o["trailing_stop_positive"] = .number(v) }
        if let v = trailingStopPositiveOffset { o["trailing_stop_positive_offset"] = .number(v) }
        if let v = trailingOnlyOffsetIsReached { o["trailing_only_offset_is_reached"] = .bool(v) }
        return o
    }

    /// Freqtrade's params file for `className` (`<Class>.json`), or nil when no value is set.
    public func paramsFile(className: String) -> String? {
        guard let params, params.values.contains(where: { !$0.isEmpty }) else { return nil }
        let value = JSONValue.object([
            "strategy_name": .string(className),
            "params": .object(params.mapValues { .object($0) }),
            "ft_stratparam_v": .number(1),
        ])
        return String(decoding: value.jsonText(), as: UTF8.self)
    }

    /// The protections in Freqtrade's own form, for the launcher; nil when none are set.
    public var protectionsJSON: String? {
        guard let protections else { return nil }
        return String(decoding: JSONValue.array(protections.map(\.freqtrade)).jsonText(), as: UTF8.self)
    }
}

/// Refuses an object with keys a type does not know, for strict decoding of nested inputs.
enum UnknownKeys {
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static func refuse(_ decoder: any Decoder, known: [String]) throws {
        let keys = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
        if let unknown = keys.first(where: { !known.contains($0) }) {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown field '\(unknown.prefix(40))'"))
        }
    }
}
