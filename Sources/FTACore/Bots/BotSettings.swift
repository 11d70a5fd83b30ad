import Foundation

/// How much of the wallet each trade stakes: a fixed amount, or Freqtrade's "unlimited"
/// (the wallet shared evenly across open trades).
public enum StakeAmount: Sendable, Equatable, Codable, CustomStringConvertible {
    case fixed(Double)
    case unlimited

    /// Parses the API's string form: a positive decimal, or `unlimited`.
    public init?(_ text: String) {
        if text == "unlimited" {
            self = .unlimited
            return
        }
        // Plain decimals only: no exponents, signs, "inf" or "nan" slipping through Double().
        let allowed = CharacterSet(charactersIn: "0123456789.")
        guard !text.isEmpty, text.count <= 16, text.unicodeScalars.allSatisfy(allowed.contains),
              text.filter({ $0 == "." }).count <= 1, let value = Double(text), value > 0
        else { return nil }
        self = .fixed(value)
    }

    public var description: String {
        switch self {
        case .unlimited: "unlimited"
        case .fixed(let v): v.rounded() == v ? String(Int(v)) : String(v)
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = StakeAmount(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "invalid stake amount"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// A bot's trading settings, every field validated. Only `BotDraft.validated` makes one.
public struct BotSettings: Sendable, Equatable, Codable {
    public var name: String
    public var exchange: String
    public var pairs: [String]
    public var stakeCurrency: String
    public var stakeAmount: StakeAmount
    public var dryRunWallet: Double
    public var maxOpenTrades: Int
    public var timeframe: String
    public var strategy: StrategyRef
    public var size: BotSize
    /// What the client tuned of the strategy (ROI, stop-loss, trailing, protections, parameters).
    public var tuning: StrategyTuning? = nil

    /// Settings fta makes itself (a validation probe); a client's always come from `BotDraft.validated`.
    public init(name: String, exchange: String, pairs: [String], stakeCurrency: String, stakeAmount: StakeAmount, dryRunWallet: Double,
                maxOpenTrades: Int, timeframe: String, strategy: StrategyRef, size: BotSize, tuning: StrategyTuning? = nil) {
        self.name = name
        self.exchange = exchange
        self.pairs = pairs
        self.stakeCurrency = stakeCurrency
        self.stakeAmount = stakeAmount
        self.dryRunWallet = dryRunWallet
        self.maxOpenTrades = maxOpenTrades
        self.timeframe = timeframe
        self.strategy = strategy
        self.size = size
        self.tuning = tuning
    }
}

/// What a client typed for a new bot, before validation. Every field is optional so that a
/// missing one is reported by name together with every other problem, not one at a time.
public struct BotDraft: Sendable, Equatable, Codable {
    public var name: String?
    public var exchange: String?
    public var pairs: [String]?
    public var stakeCurrency: String?
    public var stakeAmount: String?
    public var dryRunWallet: Double?
    public var maxOpenTrades: Int?
    public var timeframe: String?
    public var strategy: String?
    public var size: String?
    public var tuning: StrategyTuning?

    public init(
        name: String? = nil, exchange: String? = nil, pairs: [String]? = nil, stakeCurrency: String? = nil,
        stakeAmount: String? = nil, dryRunWallet: Double? = nil, maxOpenTrades: Int? = nil,
        timeframe: String? = nil, strategy: String? = nil, size: String? = nil, tuning: StrategyTuning? = nil
    ) {
        self.tuning = tuning
        self.name = name
        self.exchange = exchange
        self.pairs = pairs
        self.stakeCurrency = stakeCurrency
        self.stakeAmount = stakeAmount
        self.dryRunWallet = dryRunWallet
        self.maxOpenTrades = maxOpenTrades
        self.timeframe = timeframe
        self.strategy = strategy
        self.size = size
    }

    /// Validates every field and returns the settings, or every problem found, by field.
    /// - Parameter allowTestStrategies: whether test-only strategies may be chosen (operator setting).
    /// - Parameter custom: the client's validated custom strategies, which `custom:<Name>` resolves against.
    public func validated(allowTestStrategies: Bool = false, custom: CustomStrategyCatalog = .none) throws(FieldErrors) -> BotSettings {
        var errors = FieldErrors()
        func required<T>(_ value: T?, _ field: String) -> T? {
            if value == nil { errors.add(field, "is required") }
            return value
        }

        let name = required(self.name, "name").map { $0.trimmingCharacters(in: .whitespaces) }
        if let name {
            if name.isEmpty || name.count > BotCatalog.nameMaxLength {
                errors.add("name", "must be 1 to \(BotCatalog.nameMaxLength) characters")
            } else if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }) {
                errors.add("name", "must not contain control characters")
            }
        }

        let exchange = required(self.exchange, "exchange")
        if let exchange, !BotCatalog.exchanges.contains(exchange) {
            errors.add("exchange", "must be one of \(BotCatalog.exchanges.joined(separator: ", "))")
        }

        let stakeCurrency = required(self.stakeCurrency, "stakeCurrency")
        if let stakeCurrency, !BotCatalog.stakeCurrencies.contains(stakeCurrency) {
            errors.add("stakeCurrency", "must be one of \(BotCatalog.stakeCurrencies.joined(separator: ", "))")
        }

        let pairs = required(self.pairs, "pairs")
        if let pairs {
            if pairs.isEmpty || pairs.count > BotCatalog.maxPairs {
                errors.add("pairs", "must list 1 to \(BotCatalog.maxPairs) pairs")
            } else if let bad = pairs.first(where: { !Self.isPair($0) }) {
                errors.add("pairs", "'\(bad.prefix(32))' is not a pair like BTC/USDT (uppercase BASE/QUOTE)")
            } else if Set(pairs).count != pairs.count {
                errors.add("pairs", "must not repeat a pair")
            } else if let stakeCurrency, let bad = pairs.first(where: { !$0.hasSuffix("/\(stakeCurrency)") }) {
                errors.add("pairs", "'\(bad)' is not quoted in the stake currency \(stakeCurrency)")
            }
        }

        let wallet = required(self.dryRunWallet, "dryRunWallet")
        if let wallet, !BotCatalog.dryRunWalletRange.contains(wallet) {
            errors.add("dryRunWallet", "must be between \(Int(BotCatalog.dryRunWalletRange.lowerBound)) and \(Int(BotCatalog.dryRunWalletRange.upperBound))")
        }

        var stake: StakeAmount?
        if let text = required(self.stakeAmount, "stakeAmount") {
            stake = StakeAmount(text)
            switch stake {
            case nil:
                errors.add("stakeAmount", "must be a positive decimal like \"100\" or \"unlimited\"")
            case .fixed(let amount) where wallet != nil && amount > wallet!:
                errors.add("stakeAmount", "must not exceed the dry-run wallet")
            default: break
            }
        }

        let maxOpenTrades = required(self.maxOpenTrades, "maxOpenTrades")
        if let maxOpenTrades, !BotCatalog.maxOpenTradesRange.contains(maxOpenTrades) {
            errors.add("maxOpenTrades", "must be between \(BotCatalog.maxOpenTradesRange.lowerBound) and \(BotCatalog.maxOpenTradesRange.upperBound)")
        }

        let timeframe = required(self.timeframe, "timeframe")
        if let timeframe, !BotCatalog.timeframes.contains(timeframe) {
            errors.add("timeframe", "must be one of \(BotCatalog.timeframes.joined(separator: ", "))")
        }

        var strategy: StrategyRef?
        if let text = required(self.strategy, "strategy") {
            let offered = ShippedStrategy.offered(allowTestStrategies: allowTestStrategies)
            if text.hasPrefix(StrategyRef.customPrefix) {
                switch custom.resolve(text) {
                case .success(let ref): strategy = ref
                case .failure(let problem): errors.add("strategy", problem.message)
                }
            } else if let shipped = ShippedStrategy(rawValue: text), offered.contains(shipped) {
                strategy = .shipped(shipped)
            } else {
                errors.add("strategy", "must be one of \(offered.map(\.rawValue).joined(separator: ", ")), or custom:<YourStrategy>")
            }
        }

        if let tuning { for (field, message) in tuning.problems() { errors.add(field, message) } }

        var size: BotSize?
        if let text = required(self.size, "size") {
            size = BotSize(rawValue: text)
            if size == nil { errors.add("size", "must be one of \(BotSize.allCases.map(\.rawValue).joined(separator: ", "))") }
        }

        try errors.throwIfAny()
        return BotSettings(
            name: name!, exchange: exchange!, pairs: pairs!, stakeCurrency: stakeCurrency!, stakeAmount: stake!,
            dryRunWallet: wallet!, maxOpenTrades: maxOpenTrades!, timeframe: timeframe!, strategy: strategy!, size: size!,
            tuning: tuning.flatMap { $0.isEmpty ? nil : $0 }
        )
    }

    /// `BASE/QUOTE`, each 2 to 12 uppercase letters or digits.
    public static func isPair(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        return parts.allSatisfy { part in
            (2...12).contains(part.count) && part.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
        }
    }
}

extension BotDraft {
    /// A draft holding validated settings, to change some fields and validate again (an edit,
    /// a clone with a new name).
    public init(_ settings: BotSettings) {
        self.init(name: settings.name, exchange: settings.exchange, pairs: settings.pairs, stakeCurrency: settings.stakeCurrency,
                  stakeAmount: settings.stakeAmount.description, dryRunWallet: settings.dryRunWallet, maxOpenTrades: settings.maxOpenTrades,
                  timeframe: settings.timeframe, strategy: settings.strategy.rawValue, size: settings.size.rawValue, tuning: settings.tuning)
    }
}

extension ShippedStrategy {
    /// The strategies a client may choose.
    public static func offered(allowTestStrategies: Bool) -> [ShippedStrategy] {
        allCases.filter { allowTestStrategies || !$0.isTestOnly }
    }
}
