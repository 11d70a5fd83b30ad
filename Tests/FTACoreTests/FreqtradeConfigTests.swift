import FTACore
import Foundation
import Testing

func renderedConfig(_ settings: BotSettings, override: ExchangeOverride? = nil) throws -> [String: Any] {
    let data = renderFreqtradeConfig(botID: BotID("b1")!, settings: settings, secrets: .generate(), exchangeOverride: override)
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

@Suite("freqtrade config rendering")
struct FreqtradeConfigTests {
    @Test("dry-run is forced, exchange keys are empty, state is running")
    func dryRun() throws {
        let config = try renderedConfig(try validDraft.validated())
        #expect(config["dry_run"] as? Bool == true)
        #expect(config["initial_state"] as? String == "running")
        let exchange = try #require(config["exchange"] as? [String: Any])
        #expect(exchange["key"] as? String == "")
        #expect(exchange["secret"] as? String == "")
        #expect(exchange["pair_whitelist"] as? [String] == ["BTC/USDT", "ETH/USDT"])
        #expect(config["db_url"] as? String == "sqlite:////freqtrade/user_data/tradesv3.dryrun.sqlite")
        #expect((config["logfile"] as? String)?.hasPrefix("/freqtrade/user_data/") == true)
        // Nothing that calls a third-party price API.
        #expect(config["fiat_display_currency"] == nil)
        #expect(exchange["enable_ws"] == nil)
    }

    @Test("the API server has per-bot random credentials and no CORS origins")
    func apiServer() throws {
        let secretsA = BotSecrets.generate(), secretsB = BotSecrets.generate()
        #expect(secretsA != secretsB)
        #expect(secretsA.jwtSecretKey.count >= 64)  // 32 bytes, hex
        let data = renderFreqtradeConfig(botID: BotID("b1")!, settings: try validDraft.validated(), secrets: secretsA)
        let config = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let api = try #require(config["api_server"] as? [String: Any])
        #expect(api["enabled"] as? Bool == true)
        #expect(api["jwt_secret_key"] as? String == secretsA.jwtSecretKey)
        #expect(api["ws_token"] as? String == secretsA.wsToken)
        #expect(api["username"] as? String == secretsA.apiUsername)
        #expect(api["password"] as? String == secretsA.apiPassword)
        #expect((api["CORS_origins"] as? [String])?.isEmpty == true)
        #expect(api["listen_port"] as? Int == 8080)
        // The review's hardcoded values never appear.
        let text = String(decoding: data, as: UTF8.self)
        #expect(!text.contains("854f0599e644832a9396761d3f47de968fa4a2ff3484432d20bb743ed04099f4"))
        #expect(!text.contains("carter"))
    }

    @Test("an unlimited stake renders as Freqtrade's string")
    func unlimited() throws {
        var draft = validDraft
        draft.stakeAmount = "unlimited"
        #expect(try renderedConfig(try draft.validated())["stake_amount"] as? String == "unlimited")
    }

    @Test("the operator's exchange override lands in ccxt_config, nothing else changes")
    func override() throws {
        let override = ExchangeOverride(ccxtConfig: .object(["urls": .object(["api": .string("http://10.0.0.1:9")])]), ccxtAsyncConfig: .object([:]))
        let config = try renderedConfig(try validDraft.validated(), override: override)
        let exchange = try #require(config["exchange"] as? [String: Any])
        #expect((exchange["ccxt_config"] as? [String: Any])?["urls"] != nil)
        #expect(exchange["enable_ws"] as? Bool == false)
        #expect(config["dry_run"] as? Bool == true)
    }
}

@Suite("secrets at rest")
struct SecretBoxTests {
    let box = SecretBox(hexKey: String(repeating: "ab", count: 32))!

    @Test("sealed secrets open for their bot only")
    func boundToBot() throws {
        let secrets = BotSecrets.generate()
        let sealed = try box.seal(secrets, for: BotID("b1")!)
        #expect(try box.openSecrets(sealed, for: BotID("b1")!) == secrets)
        #expect(throws: (any Error).self) { try box.openSecrets(sealed, for: BotID("b2")!) }
        #expect(!String(decoding: sealed, as: UTF8.self).contains(secrets.apiPassword))
    }

    @Test("another key cannot open them, and a tampered blob fails")
    func tamper() throws {
        var sealed = try box.seal(BotSecrets.generate(), for: BotID("b1")!)
        let other = SecretBox(hexKey: String(repeating: "cd", count: 32))!
        #expect(throws: (any Error).self) { try other.openSecrets(sealed, for: BotID("b1")!) }
        sealed[sealed.count / 2] ^= 1
        #expect(throws: (any Error).self) { try box.openSecrets(sealed, for: BotID("b1")!) }
    }

    @Test("keys must be 32 bytes of hex", arguments: ["", "abc", String(repeating: "z", count: 64), String(repeating: "a", count: 62)])
    func badKeys(_ key: String) {
        #expect(SecretBox(hexKey: key) == nil)
    }
}
