import FTACore
import FTATestSupport
import Foundation
import Testing

/// Rendered configs against real Freqtrade's own schema (`freqtrade show-config`, from PyPI,
/// installed by scripts/test). Enabled when FTA_TEST_FREQTRADE is set, and always in CI, where
/// a missing Freqtrade fails instead of skipping.
@Suite("rendered configs pass real Freqtrade's validation", .enabled(if: TestEnvironment.runsFreqtradeTests))
struct FreqtradeSchemaTests {
    static let inputs: [BotDraft] = {
        var drafts: [BotDraft] = []
        for strategy in ShippedStrategy.allCases {
            drafts.append(BotDraft(name: "s \(strategy.rawValue)", exchange: "binance", pairs: ["BTC/USDT", "ETH/USDT"], stakeCurrency: "USDT",
                                   stakeAmount: "100", dryRunWallet: 1000, maxOpenTrades: 3, timeframe: "5m", strategy: strategy.rawValue, size: "small"))
        }
        // A spread of the other choices.
        drafts.append(BotDraft(name: "kraken eur", exchange: "kraken", pairs: ["BTC/EUR"], stakeCurrency: "EUR", stakeAmount: "unlimited",
                               dryRunWallet: 10, maxOpenTrades: 1, timeframe: "1h", strategy: "FtaRsi", size: "large"))
        drafts.append(BotDraft(name: "okx many", exchange: "okx", pairs: (1...20).map { "C\($0)X/USDC" }, stakeCurrency: "USDC", stakeAmount: "0.5",
                               dryRunWallet: 1_000_000, maxOpenTrades: 20, timeframe: "1d", strategy: "FtaBollinger", size: "medium"))
        drafts.append(BotDraft(name: "btc quoted", exchange: "bybit", pairs: ["ETH/BTC"], stakeCurrency: "BTC", stakeAmount: "0.01",
                               dryRunWallet: 10, maxOpenTrades: 2, timeframe: "1m", strategy: "FtaEmaCross", size: "small"))
        return drafts
    }()

    @Test("show-config accepts it and reports dry_run true", arguments: inputs)
    func validates(_ draft: BotDraft) throws {
        let freqtrade = try #require(TestEnvironment.freqtradeExecutable, "FTA_TEST_FREQTRADE is not set: scripts/test installs Freqtrade")
        let settings = try draft.validated(allowTestStrategies: true)
        let rendered = renderFreqtradeConfig(botID: BotID("schema")!, settings: settings, secrets: .generate())
        var config = try #require(try JSONSerialization.jsonObject(with: rendered) as? [String: Any])
        #expect(config["dry_run"] as? Bool == true)

        let dir = NSTemporaryDirectory() + "fta-schema-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/user_data", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The one change: the log file and database point into this temporary directory instead
        // of the bot volume's /freqtrade/user_data, so the check writes nothing on the host.
        config["logfile"] = dir + "/user_data/freqtrade.log"
        config["db_url"] = "sqlite:///\(dir)/user_data/trades.sqlite"
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: freqtrade)
        process.arguments = ["show-config", "-c", dir + "/config.json", "--userdir", dir + "/user_data"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // show-config exits 0 even when the schema refuses the config: read what it says.
        #expect(process.terminationStatus == 0)
        #expect(!output.contains("Configuration error") && !output.contains(" - ERROR - "), "\(output.suffix(600))")
        let shown = try #require(output.range(of: "Your combined configuration is:"), "\(output.suffix(600))")
        #expect(output[shown.upperBound...].contains("\"dry_run\": true"))
    }
}
