import Foundation

/// Where things live inside a bot container. The volume holds what must survive a restart
/// (trade database, logs); the tmpfs holds what is rendered anew at every start.
public enum BotPaths {
    public static let userData = "/freqtrade/user_data"
    public static let runtimeDir = "/tmp/fta"
    public static let config = "/tmp/fta/config.json"
    public static let strategies = "/tmp/fta/strategies"
    public static let database = "sqlite:////freqtrade/user_data/tradesv3.dryrun.sqlite"
    /// The trade database of a bot's paper wallet after `generation` resets: the first is
    /// Freqtrade's usual name; each reset moves on to a new file and leaves the earlier ones in
    /// the volume, as the archive of that wallet's trades.
    public static func database(generation: Int) -> String {
        generation == 0 ? database : "sqlite:////freqtrade/user_data/" + databaseFile(generation: generation)
    }

    /// The file name (in the volume's user_data) of `database(generation:)`.
    public static func databaseFile(generation: Int) -> String {
        generation == 0 ? "tradesv3.dryrun.sqlite" : "tradesv3.dryrun.wallet\(generation).sqlite"
    }
    public static let logfile = "/freqtrade/user_data/logs/freqtrade.log"
    /// Freqtrade's REST API port inside the container; never published.
    public static let apiPort = 8080
}

/// An operator-only redirection of a bot's exchange to another endpoint (the test suite's local
/// market simulator). It comes from the server's environment, never from a client's input.
public struct ExchangeOverride: Sendable, Equatable, Codable {
    public var ccxtConfig: JSONValue
    public var ccxtAsyncConfig: JSONValue

    public init(ccxtConfig: JSONValue, ccxtAsyncConfig: JSONValue) {
        self.ccxtConfig = ccxtConfig
        self.ccxtAsyncConfig = ccxtAsyncConfig
    }
}

/// Renders a bot's Freqtrade configuration: the one place where fta decides what a bot may do.
///
/// Dry-run is forced here (and again by `--dry-run` on the command line, and at run time by the
/// portal's dry-run guard). Exchange credentials are always empty. The API server listens on the
/// container's own interface with per-bot random credentials; no port is ever published, and
/// only the portal, on the host, can route to the client's network.
public func renderFreqtradeConfig(
    botID: BotID,
    settings: BotSettings,
    secrets: BotSecrets,
    exchangeOverride: ExchangeOverride? = nil,
    walletGeneration: Int = 0
) -> Data {
    let config = FreqtradeConfig(
        botName: botID.containerName,
        dryRun: true,
        dryRunWallet: settings.dryRunWallet,
        maxOpenTrades: settings.maxOpenTrades,
        stakeCurrency: settings.stakeCurrency,
        stakeAmount: settings.stakeAmount,
        timeframe: settings.timeframe,
        initialState: "running",
        tradingMode: "spot",
        exchange: .init(
            name: settings.exchange,
            key: "",
            secret: "",
            ccxtConfig: exchangeOverride?.ccxtConfig ?? .object([:]),
            ccxtAsyncConfig: exchangeOverride?.ccxtAsyncConfig ?? .object([:]),
            pairWhitelist: settings.pairs,
            pairBlacklist: [],
            enableWebsockets: exchangeOverride == nil ? nil : false
        ),
        apiServer: .init(
            enabled: true,
            // Inside the container only: the bot's own network namespace, on a per-client
            // bridge with inter-container traffic off. See security review item 2.
            listenIPAddress: "0.0.0.0",
            listenPort: BotPaths.apiPort,
            verbosity: "error",
            enableOpenapi: false,
            jwtSecretKey: secrets.jwtSecretKey,
            wsToken: secrets.wsToken,
            corsOrigins: [],
            username: secrets.apiUsername,
            password: secrets.apiPassword
        ),
        strategy: settings.strategy.className,
        strategyPath: BotPaths.strategies,
        dbURL: BotPaths.database(generation: walletGeneration),
        logfile: BotPaths.logfile,
        userDataDir: BotPaths.userData,
        tuning: settings.tuning?.configKeys ?? [:]
    )
    return encodeConfig(config)
}

/// Where a lab job (validation, download, backtest) keeps its files: the strategy and config in
/// the tmpfs like a bot's, the market data in the shared cache volume (read-only to backtests).
public enum LabPaths {
    /// The data volume's mount point: Freqtrade's images own it as uid 1000 (bots write their
    /// trades there), so the engine gives a fresh data volume that ownership and the job can write.
    public static let dataDir = "/freqtrade/user_data"
    public static let userDir = "/tmp/fta/user_data"
}

/// The Freqtrade config of a lab job: the bot's trading settings and tuning, dry-run, no keys,
/// and no API server, trade database or log file (a one-shot job serves nothing and keeps nothing).
public func renderLabConfig(settings: BotSettings, exchangeOverride: ExchangeOverride? = nil) -> Data {
    let config = FreqtradeConfig(
        botName: "fta-lab",
        dryRun: true,
        dryRunWallet: settings.dryRunWallet,
        maxOpenTrades: settings.maxOpenTrades,
        stakeCurrency: settings.stakeCurrency,
        stakeAmount: settings.stakeAmount,
        timeframe: settings.timeframe,
        initialState: "running",
        tradingMode: "spot",
        exchange: .init(
            name: settings.exchange, key: "", secret: "",
            ccxtConfig: exchangeOverride?.ccxtConfig ?? .object([:]),
            ccxtAsyncConfig: exchangeOverride?.ccxtAsyncConfig ?? .object([:]),
            pairWhitelist: settings.pairs, pairBlacklist: [],
            enableWebsockets: exchangeOverride == nil ? nil : false
        ),
        apiServer: nil,
        strategy: settings.strategy.className,
        strategyPath: BotPaths.strategies,
        dbURL: nil,
        logfile: nil,
        userDataDir: LabPaths.userDir,
        datadir: LabPaths.dataDir,
        tuning: settings.tuning?.configKeys ?? [:]
    )
    return encodeConfig(config)
}

private func encodeConfig(_ config: FreqtradeConfig) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Every field is a plain value: encoding cannot fail.
    return try! encoder.encode(config)
}

/// The subset of Freqtrade's configuration fta writes. Anything not here takes Freqtrade's
/// default; nothing here is taken from free text.
struct FreqtradeConfig: Encodable {
    var botName: String
    var dryRun: Bool
    var dryRunWallet: Double
    var maxOpenTrades: Int
    var stakeCurrency: String
    var stakeAmount: StakeAmount
    var timeframe: String
    var initialState: String
    var tradingMode: String
    var exchange: Exchange
    var apiServer: APIServer?
    var strategy: String
    var strategyPath: String
    var dbURL: String?
    var logfile: String?
    var userDataDir: String
    var datadir: String? = nil
    /// ROI, stop-loss and trailing from the client's tuning (StrategyTuning.configKeys).
    var tuning: [String: JSONValue] = [:]

    struct DynamicKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    // Fixed settings Freqtrade's schema requires, with the values a paper-trading bot wants.
    // No fiat_display_currency: it makes Freqtrade call a price API at start and for reports.
    let tradableBalanceRatio = 0.99
    let cancelOpenOrdersOnExit = false
    let forceEntryEnable = false
    let unfilledtimeout = UnfilledTimeout()
    let entryPricing = Pricing(priceSide: "same", useOrderBook: true, orderBookTop: 1, priceLastBalance: 0)
    let exitPricing = Pricing(priceSide: "same", useOrderBook: true, orderBookTop: 1, priceLastBalance: nil)
    let pairlists = [["method": "StaticPairList"]]
    let telegram = Telegram()
    let internals = ["process_throttle_secs": 5]

    struct Exchange: Encodable {
        var name: String
        var key: String
        var secret: String
        var ccxtConfig: JSONValue
        var ccxtAsyncConfig: JSONValue
        var pairWhitelist: [String]
        var pairBlacklist: [String]
        /// Off when the exchange is redirected: Freqtrade's websockets would still go to the real
        /// exchange, which the URL override does not cover.
        var enableWebsockets: Bool?

        enum CodingKeys: String, CodingKey {
            case name, key, secret
            case enableWebsockets = "enable_ws"
            case ccxtConfig = "ccxt_config", ccxtAsyncConfig = "ccxt_async_config"
            case pairWhitelist = "pair_whitelist", pairBlacklist = "pair_blacklist"
        }
    }

    struct APIServer: Encodable {
        var enabled: Bool
        var listenIPAddress: String
        var listenPort: Int
        var verbosity: String
        var enableOpenapi: Bool
        var jwtSecretKey: String
        var wsToken: String
        var corsOrigins: [String]
        var username: String
        var password: String

        enum CodingKeys: String, CodingKey {
            case enabled, verbosity, username, password
            case listenIPAddress = "listen_ip_address", listenPort = "listen_port"
            case enableOpenapi = "enable_openapi", jwtSecretKey = "jwt_secret_key", wsToken = "ws_token"
            case corsOrigins = "CORS_origins"
        }
    }

    struct UnfilledTimeout: Encodable {
        let entry = 10
        let exit = 10
        let exitTimeoutCount = 0
        let unit = "minutes"
        enum CodingKeys: String, CodingKey {
            case entry, exit, unit
            case exitTimeoutCount = "exit_timeout_count"
        }
    }

    struct Pricing: Encodable {
        let priceSide: String
        let useOrderBook: Bool
        let orderBookTop: Int
        let priceLastBalance: Double?
        enum CodingKeys: String, CodingKey {
            case priceSide = "price_side", useOrderBook = "use_order_book", orderBookTop = "order_book_top"
            case priceLastBalance = "price_last_balance"
        }
    }

    struct Telegram: Encodable {
        let enabled = false
        let token = ""
        let chatID = ""
        enum CodingKeys: String, CodingKey {
            case enabled, token
            case chatID = "chat_id"
        }
    }

    enum CodingKeys: String, CodingKey {
        case botName = "bot_name", dryRun = "dry_run", dryRunWallet = "dry_run_wallet"
        case maxOpenTrades = "max_open_trades", stakeCurrency = "stake_currency", stakeAmount = "stake_amount"
        case timeframe, strategy, logfile, exchange, pairlists, telegram, internals, unfilledtimeout
        case initialState = "initial_state", tradingMode = "trading_mode", apiServer = "api_server"
        case strategyPath = "strategy_path", dbURL = "db_url", userDataDir = "user_data_dir", datadir
        case tradableBalanceRatio = "tradable_balance_ratio"
        case cancelOpenOrdersOnExit = "cancel_open_orders_on_exit", forceEntryEnable = "force_entry_enable"
        case entryPricing = "entry_pricing", exitPricing = "exit_pricing"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(botName, forKey: .botName)
        try c.encode(dryRun, forKey: .dryRun)
        try c.encode(dryRunWallet, forKey: .dryRunWallet)
        try c.encode(maxOpenTrades, forKey: .maxOpenTrades)
        try c.encode(stakeCurrency, forKey: .stakeCurrency)
        // Freqtrade wants a number or the string "unlimited".
        switch stakeAmount {
        case .unlimited: try c.encode("unlimited", forKey: .stakeAmount)
        case .fixed(let v): try c.encode(v, forKey: .stakeAmount)
        }
        try c.encode(timeframe, forKey: .timeframe)
        try c.encode(initialState, forKey: .initialState)
        try c.encode(tradingMode, forKey: .tradingMode)
        try c.encode(exchange, forKey: .exchange)
        try c.encodeIfPresent(apiServer, forKey: .apiServer)
        try c.encode(strategy, forKey: .strategy)
        try c.encode(strategyPath, forKey: .strategyPath)
        try c.encodeIfPresent(dbURL, forKey: .dbURL)
        try c.encodeIfPresent(logfile, forKey: .logfile)
        try c.encode(userDataDir, forKey: .userDataDir)
        try c.encodeIfPresent(datadir, forKey: .datadir)
        var tuned = encoder.container(keyedBy: DynamicKey.self)
        for (key, value) in tuning { try tuned.encode(value, forKey: DynamicKey(stringValue: key)) }
        try c.encode(tradableBalanceRatio, forKey: .tradableBalanceRatio)
        try c.encode(cancelOpenOrdersOnExit, forKey: .cancelOpenOrdersOnExit)
        try c.encode(forceEntryEnable, forKey: .forceEntryEnable)
        try c.encode(unfilledtimeout, forKey: .unfilledtimeout)
        try c.encode(entryPricing, forKey: .entryPricing)
        try c.encode(exitPricing, forKey: .exitPricing)
        try c.encode(pairlists, forKey: .pairlists)
        try c.encode(telegram, forKey: .telegram)
        try c.encode(internals, forKey: .internals)
    }
}
