/// The choices a bot can be made of. Everything a client picks comes from these lists, so no
/// free text ever reaches the rendered Freqtrade config except validated names and pairs.
public enum BotCatalog {
    /// Exchanges Freqtrade supports for spot trading that work in dry-run with public market data only.
    public static let exchanges = ["binance", "bitget", "bybit", "gate", "htx", "kraken", "kucoin", "okx"]
    public static let stakeCurrencies = ["USDT", "USDC", "BTC", "ETH", "EUR", "USD"]
    public static let timeframes = ["1m", "5m", "15m", "30m", "1h", "4h", "1d"]
    /// A small whitelist keeps a bot's memory and its exchange request rate modest on a 1 GiB host.
    public static let maxPairs = 20
    public static let maxOpenTradesRange = 1...20
    public static let dryRunWalletRange = 10.0...1_000_000.0
    public static let nameMaxLength = 64
}

/// A bot's resource preset: the container's memory limit (with swap equal to it) and CPU share.
public enum BotSize: String, Codable, Sendable, CaseIterable {
    case small, medium, large

    /// Freqtrade with a handful of pairs idles near 200 MiB RSS; small leaves headroom for
    /// pandas spikes at each candle, larger presets for more pairs or heavier strategies.
    public var memoryMB: Int {
        switch self {
        case .small: 320
        case .medium: 512
        case .large: 768
        }
    }

    /// CPU share in nano-CPUs (1e9 = one core).
    public var nanoCPUs: Int {
        switch self {
        case .small: 500_000_000
        case .medium: 750_000_000
        case .large: 1_000_000_000
        }
    }

    public var cpus: Double { Double(nanoCPUs) / 1e9 }
}
