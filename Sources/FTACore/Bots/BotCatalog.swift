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

/// A bot's resource preset: its memory limits (with or without swap) and CPU share.
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

    /// The bot's memory limits when its cold pages may go to swap (`FTA_BOT_SWAP`): RAM close to
    /// what a bot really touches, and RAM plus swap at least its whole footprint.
    ///
    /// Why these numbers (docs/density.md): a Freqtrade 2026.9 dry-run bot with three pairs holds
    /// about 265 MiB PSS (234 MiB anonymous), but touches only about 80 MiB of it in two minutes:
    /// the rest is imported modules (pandas, ccxt, fastapi) that stay cold. A small bot's RAM is
    /// 1.6 times that touched set (128 MiB: six fit in a 1 GiB host's RAM beside the control
    /// plane; 160 MiB let only four or five in); RAM plus swap is the no-swap limit plus half of
    /// it, so that a bot that runs out of both is one that really outgrew its size. Measured on
    /// the 1 GiB VM with swap: docs/density.md.
    public var swappingLimits: MemoryLimits {
        switch self {
        case .small: MemoryLimits(ramMB: 128, ramAndSwapMB: 480)
        case .medium: MemoryLimits(ramMB: 256, ramAndSwapMB: 768)
        case .large: MemoryLimits(ramMB: 384, ramAndSwapMB: 1024)
        }
    }

    /// The bot's memory limits without swap: all of it in RAM, nothing can leave.
    public var residentLimits: MemoryLimits { MemoryLimits(ramMB: memoryMB, ramAndSwapMB: memoryMB) }

    /// The limits a bot of this size runs with, on a host that lets bots swap or not.
    public func memoryLimits(swap: Bool) -> MemoryLimits { swap ? swappingLimits : residentLimits }

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

/// How much memory a bot may hold: in RAM, and in RAM and swap together (its whole footprint).
public struct MemoryLimits: Sendable, Equatable, Hashable, Codable {
    public var ramMB: Int
    public var ramAndSwapMB: Int

    public init(ramMB: Int, ramAndSwapMB: Int) {
        self.ramMB = ramMB
        self.ramAndSwapMB = ramAndSwapMB
    }

    /// Whether any of the bot may be swapped out.
    public var allowsSwap: Bool { ramAndSwapMB > ramMB }
}
