import DockerEngine
import DockerRuntime
import FTACore
import FTARuntime
import FTARuntimeTesting
import FTAStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FTAPortal

/// The strategy lab's portal side with scripted jobs: uploads and their rules, the queue (data
/// once, then the backtest), failures, cancellation, "run as bot", and tenant isolation. The
/// jobs themselves (real Freqtrade in hardened containers) are proven in
/// Tests/system/freqtrade/test_strategy_lab.py and test_lab_runner.py.
@Suite("strategy lab")
struct StrategyLabTests {
    static let goodSource = """
        from freqtrade.strategy import IStrategy
        class AcmeCross(IStrategy):
            timeframe = "5m"
        """

    static let validation = #"{"ok":true,"message":"","info":{"className":"AcmeCross","timeframe":"5m","parameters":[]}}"#
    static let download = #"{"ok":true,"message":"","coverage":{"BTC/USDT":{"first":"2020-01-01T00:00:00Z","last":"2099-01-01T00:00:00Z","candles":100}},"sizeBytes":4096}"#
    static let backtest = #"""
        {"ok":true,"message":"","result":{"metrics":{"tradeCount":2,"wins":1,"losses":1,"draws":0,"winRate":0.5,"profitTotal":0.01,
        "profitTotalAbs":10,"cagr":0.2,"maxDrawdown":0.02,"maxDrawdownAbs":20,"sharpe":1,"sortino":1.5,"calmar":2,"avgDurationMinutes":30},
        "pairs":[{"pair":"BTC/USDT","trades":2,"profitTotalAbs":10}],"exitReasons":[{"reason":"roi","trades":2}],
        "trades":[{"pair":"BTC/USDT","openDate":"2026-12-01T10:00:00Z","closeDate":"2026-12-01T10:30:00Z","openRate":100,"closeRate":101,"profitAbs":1}],
        "equity":[{"t":"2026-12-01T10:30:00Z","balance":1001}]}}
        """#

    /// Every job succeeds with its kind's canned result.
    static func happyJobs() -> ScriptedLabJobs {
        ScriptedLabJobs { spec in
            switch spec.kind {
            case .validate: .init(result: validation)
            case .download: .init(result: download)
            case .backtest: .init(result: backtest)
            }
        }
    }

    static func backtestBody(_ extra: [String: Any] = [:]) -> [String: Any] {
        var body: [String: Any] = ["strategy": "FtaEmaCross", "pairs": ["BTC/USDT"], "timeframe": "5m", "timerange": "20261101-20261105",
                                   "dryRunWallet": 1000, "stakeAmount": "100", "maxOpenTrades": 2]
        body.merge(extra) { $1 }
        return body
    }

    /// Polls the backtest until it is finished.
    static func finished(_ client: any TestClientProtocol, _ id: String, cookie: String) async throws -> [String: Any] {
        for _ in 0..<80 {
            let body = try await client.call(.get, "/api/v1/backtests/\(id)", cookie: cookie).json["backtest"] as? [String: Any] ?? [:]
            if ["succeeded", "failed", "cancelled"].contains(body["status"] as? String ?? "") { return body }
            try await Task.sleep(for: .milliseconds(250))
        }
        Issue.record("backtest \(id) did not finish")
        return [:]
    }

    @Test("uploads: a viewer, a client not enabled, a bad file name, a shipped name and an oversize source are refused; nothing is stored")
    func uploadRules() async throws {
        let harness = try await Harness(labRuntime: Self.happyJobs())
        try await harness.test { client in
            let alice = try await client.signIn("alice")
            let victor = try await client.signIn("victor")
            let root = try await client.signIn("root")
            let upload: [String: Any] = ["fileName": "AcmeCross.py", "source": Self.goodSource]
            #expect(try await client.call(.post, "/api/v1/strategies", cookie: alice, json: upload).status == .forbidden, "not enabled for acme yet")
            let enable = try await client.call(.patch, "/api/v1/clients/acme", cookie: root, json: ["customStrategies": true])
            #expect(enable.status == .ok)
            #expect((enable.json["client"] as? [String: Any])?["customStrategies"] as? Bool == true)
            #expect(try await client.call(.post, "/api/v1/strategies", cookie: victor, json: upload).status == .forbidden, "a viewer cannot upload")
            #expect(try await client.call(.patch, "/api/v1/clients/acme", cookie: alice, json: ["customStrategies": false]).status == .forbidden)
            let badName = try await client.call(.post, "/api/v1/strategies", cookie: alice, json: ["fileName": "../x.py", "source": Self.goodSource])
            #expect(badName.status == .badRequest && badName.text.contains("fileName"))
            let shipped = try await client.call(.post, "/api/v1/strategies", cookie: alice, json: ["fileName": "FtaRsi.py", "source": "class FtaRsi(IStrategy):\n"])
            #expect(shipped.status == .badRequest)
            let big = String(repeating: "#", count: 40 * 1024) + "\nclass AcmeCross(IStrategy):\n"
            #expect(try await client.call(.post, "/api/v1/strategies", cookie: alice, json: ["fileName": "AcmeCross.py", "source": big]).status == .contentTooLarge)
            #expect(try await harness.database.strategies(of: nil).isEmpty, "no refused upload was stored")
            let accepted = try await client.call(.post, "/api/v1/strategies", cookie: alice, json: upload)
            #expect(accepted.status == .accepted)
            #expect((accepted.json["strategy"] as? [String: Any])?["status"] as? String == "validating")
        }
        let audit = try await harness.database.auditEntries(AuditFilter(limit: 200)).map(\.action)
        #expect(audit.contains("strategy.upload") && audit.contains("client.custom_strategies"))
    }

    @Test("a strategy is validated, backtested (data downloaded once, by a job that never gets the client's code), and run as a bot with the same settings")
    func wholeLoop() async throws {
        let jobs = Self.happyJobs()
        let harness = try await Harness(labRuntime: jobs)
        try await harness.database.setCustomStrategies(ClientID("acme")!, enabled: true)
        let queue = Task { await harness.services.lab.run() }
        defer { queue.cancel() }
        try await harness.test { client in
            let alice = try await client.signIn("alice")
            _ = try await client.call(.post, "/api/v1/strategies", cookie: alice, json: ["fileName": "AcmeCross.py", "source": Self.goodSource])
            var status = ""
            for _ in 0..<40 where status != "valid" {
                try await Task.sleep(for: .milliseconds(250))
                let list = try await client.call(.get, "/api/v1/strategies", cookie: alice).json
                status = ((list["custom"] as? [[String: Any]])?.first?["status"] as? String) ?? ""
            }
            #expect(status == "valid")

            let tuning: [String: Any] = ["stoploss": -0.05, "minimalRoi": ["0": 0.03], "protections": [["method": "CooldownPeriod", "stopDurationCandles": 2]]]
            let first = try await client.call(.post, "/api/v1/backtests", cookie: alice, json: Self.backtestBody(["strategy": "custom:AcmeCross", "tuning": tuning]))
            #expect(first.status == .accepted, "\(first.text)")
            let firstID = try #require((first.json["backtest"] as? [String: Any])?["id"] as? String)
            let done = try await Self.finished(client, firstID, cookie: alice)
            #expect(done["status"] as? String == "succeeded", "\(done)")
            #expect(((done["result"] as? [String: Any])?["metrics"] as? [String: Any])?["sharpe"] as? Double == 1)
            #expect(done["strategy"] as? String == "custom:AcmeCross")

            let second = try await client.call(.post, "/api/v1/backtests", cookie: alice, json: Self.backtestBody())
            let secondID = try #require((second.json["backtest"] as? [String: Any])?["id"] as? String)
            #expect(try await Self.finished(client, secondID, cookie: alice)["status"] as? String == "succeeded")

            let started = await jobs.started()
            #expect(started.map(\.kind) == [.validate, .download, .backtest, .backtest], "the cached data is not downloaded again")
            let download = try #require(started.first { $0.kind == .download })
            #expect(download.strategyClass == "FtaEmaCross" && !download.strategySource.contains("AcmeCross"),
                    "the job that writes the shared cache never runs the client's code")
            #expect(download.dataSet == "binance-5m" && started[2].dataSet == "binance-5m")
            #expect(started[2].strategySource == Self.goodSource && started[2].protections?.contains("CooldownPeriod") == true)
            #expect(started[2].config.contains("\"stoploss\":-0.05"))
            let spec = HardenedJobContainer.spec(for: started[2])
            #expect(spec.HostConfig.Mounts?.first?.ReadOnly == true, "a backtest reads the shared cache read-only")
            #expect(HardenedJobContainer.spec(for: started[0]).HostConfig.NetworkMode == "none", "validation has no network")

            let compare = try await client.call(.get, "/api/v1/backtests/compare?ids=\(firstID),\(secondID)", cookie: alice)
            #expect((compare.json["backtests"] as? [[String: Any]])?.map { $0["id"] as? String } == [firstID, secondID])

            let bot = try await client.call(.post, "/api/v1/backtests/\(firstID)/bot", cookie: alice, json: ["id": "acme-lab", "name": "From the lab", "start": false])
            #expect(bot.status == .created, "\(bot.text)")
            let record = try #require(try await harness.database.bot(BotID("acme-lab")!))
            let settings = try record.settings()
            #expect(settings.strategy.rawValue.hasPrefix("custom:AcmeCross@") && settings.tuning?.stoploss == -0.05 && settings.pairs == ["BTC/USDT"])
        }
    }

    @Test("another client can neither list, read, use nor delete a client's strategy or backtest; each attempt changes nothing")
    func isolation() async throws {
        let harness = try await Harness(labRuntime: Self.happyJobs())
        try await harness.database.setCustomStrategies(ClientID("acme")!, enabled: true)
        try await harness.database.setCustomStrategies(ClientID("globex")!, enabled: true)
        let queue = Task { await harness.services.lab.run() }
        defer { queue.cancel() }
        try await harness.test { client in
            let alice = try await client.signIn("alice")
            let gina = try await client.signIn("gina")
            _ = try await client.call(.post, "/api/v1/strategies", cookie: alice, json: ["fileName": "AcmeCross.py", "source": Self.goodSource])
            try await Task.sleep(for: .seconds(2))
            let created = try await client.call(.post, "/api/v1/backtests", cookie: alice, json: Self.backtestBody())
            let id = try #require((created.json["backtest"] as? [String: Any])?["id"] as? String)
            let before = try await harness.database.strategies(of: nil).count
            #expect(try await client.call(.get, "/api/v1/strategies/AcmeCross", cookie: gina).status == .notFound)
            #expect(try await client.call(.delete, "/api/v1/strategies/AcmeCross", cookie: gina).status == .notFound)
            #expect(try await client.call(.get, "/api/v1/strategies/AcmeCross/parameters", cookie: gina).status == .notFound)
            #expect(try await client.call(.get, "/api/v1/backtests/\(id)", cookie: gina).status == .notFound)
            #expect(try await client.call(.post, "/api/v1/backtests/\(id)/cancel", cookie: gina).status == .notFound)
            #expect(try await client.call(.post, "/api/v1/backtests/\(id)/bot", cookie: gina, json: ["id": "g1", "name": "x"]).status == .notFound)
            #expect(try await client.call(.get, "/api/v1/backtests/compare?ids=\(id),\(id)x", cookie: gina).status != .ok)
            let use = try await client.call(.post, "/api/v1/backtests", cookie: gina, json: Self.backtestBody(["strategy": "custom:AcmeCross"]))
            #expect(use.status == .badRequest && use.text.contains("strategy"), "\(use.text)")
            let bot = try await client.call(.post, "/api/v1/bots", cookie: gina, json: botBody("g2", ["strategy": "custom:AcmeCross"]))
            #expect(bot.status == .badRequest)
            let list = try await client.call(.get, "/api/v1/strategies", cookie: gina).json
            #expect((list["custom"] as? [Any])?.isEmpty == true)
            #expect((try await client.call(.get, "/api/v1/backtests", cookie: gina).json["backtests"] as? [Any])?.isEmpty == true)
            #expect(try await harness.database.strategies(of: nil).count == before)
            #expect(try await harness.database.backtest(id) != nil)
            #expect(try await harness.database.bot(BotID("g2")!) == nil)
        }
    }

    @Test("a job killed for memory, one over its time limit, and a cancelled one end the backtest with the reason, audited")
    func failures() async throws {
        let jobs = ScriptedLabJobs { spec in
            switch spec.kind {
            case .download: .init(result: Self.download)
            case .validate: .init(result: Self.validation)
            case .backtest where spec.config.contains("\"max_open_trades\":1"): .init(result: nil, exitCode: 137, oomKilled: true)
            case .backtest where spec.config.contains("\"max_open_trades\":2"): .init(result: Self.backtest, runSeconds: 120)
            case .backtest: .init(result: Self.backtest, runSeconds: 120)
            }
        }
        let harness = try await Harness(["FTA_LAB_BACKTEST_SECONDS": "60"], labRuntime: jobs)
        let queue = Task { await harness.services.lab.run() }
        defer { queue.cancel() }
        try await harness.test { client in
            let alice = try await client.signIn("alice")
            let oom = try await client.call(.post, "/api/v1/backtests", cookie: alice, json: Self.backtestBody(["maxOpenTrades": 1]))
            let oomID = try #require((oom.json["backtest"] as? [String: Any])?["id"] as? String)
            let failed = try await Self.finished(client, oomID, cookie: alice)
            #expect(failed["status"] as? String == "failed" && (failed["error"] as? String ?? "").contains("out of memory"), "\(failed)")

            let slow = try await client.call(.post, "/api/v1/backtests", cookie: alice, json: Self.backtestBody(["maxOpenTrades": 3]))
            let slowID = try #require((slow.json["backtest"] as? [String: Any])?["id"] as? String)
            try await Task.sleep(for: .seconds(2))
            let cancelled = try await client.call(.post, "/api/v1/backtests/\(slowID)/cancel", cookie: alice)
            #expect(cancelled.status == .ok)
            #expect(try await Self.finished(client, slowID, cookie: alice)["status"] as? String == "cancelled")
            #expect(try await client.call(.post, "/api/v1/backtests/\(slowID)/cancel", cookie: alice).status == .conflict)

            // A time limit of 2 s (the configuration's floor is 60 s; a record carries its own).
            let settings = try #require(try await harness.database.backtest(slowID)?.settingsValue)
            let limited = BacktestRecord(id: "btlimit", clientId: ClientID("acme")!, createdBy: "alice", settings: settings,
                                         timerange: "20261101-20261105", botId: nil, timeLimitSeconds: 2)
            try await harness.services.lab.submit(limited, by: AuditActor(name: "alice", sourceIP: nil))
            let timedOut = try await Self.finished(client, "btlimit", cookie: alice)
            #expect(timedOut["status"] as? String == "failed" && (timedOut["error"] as? String ?? "").contains("time limit"), "\(timedOut)")
            try await Task.sleep(for: .seconds(2))
            #expect(try await jobs.jobIDs().isEmpty, "no job is left behind")
        }
        let entries = try await harness.database.auditEntries(AuditFilter(limit: 200))
        #expect(entries.contains { $0.action == "backtest.failed" && ($0.detail ?? "").contains("out of memory") })
        #expect(entries.contains { $0.action == "backtest.cancel" })
        #expect(entries.contains { $0.action == "backtest.failed" && ($0.detail ?? "").contains("time limit") })
    }

    @Test("a portal stopping mid-job ends its queue at once, takes the job with it, and queues the backtest again for the next start")
    func stopMidJob() async throws {
        let jobs = ScriptedLabJobs { spec in
            spec.kind == .download ? .init(result: Self.download) : .init(result: Self.backtest, runSeconds: 300)
        }
        let harness = try await Harness(labRuntime: jobs)
        let queue = Task { await harness.services.lab.run() }
        let settings = try validSettings()
        let record = BacktestRecord(id: "btstop", clientId: ClientID("acme")!, createdBy: "alice", settings: settings,
                                    timerange: "20261101-20261105", botId: nil, timeLimitSeconds: 600)
        try await harness.services.lab.submit(record, by: AuditActor(name: "alice", sourceIP: nil))
        for _ in 0..<40 where try await harness.database.backtest("btstop")?.status != .running { try await Task.sleep(for: .milliseconds(100)) }
        #expect(try await harness.database.backtest("btstop")?.status == .running)
        let stopping = Date()
        queue.cancel()
        await queue.value
        #expect(Date().timeIntervalSince(stopping) < 3, "the queue must end promptly when the portal stops")
        #expect(try await jobs.jobIDs().isEmpty, "the running job went with the portal")
        let left = try #require(try await harness.database.backtest("btstop"))
        #expect(left.status == .running && left.error == nil, "an interrupted backtest is not a failed one")
        // The next start finds it and runs it again.
        let next = Task { await harness.services.lab.run() }
        defer { next.cancel() }
        for _ in 0..<40 where try await jobs.started().filter({ $0.id == "btstop" }).count < 2 { try await Task.sleep(for: .milliseconds(100)) }
        #expect(try await jobs.started().filter { $0.id == "btstop" }.count == 2)
    }

    @Test("the runner's output: a chunked result is reassembled, a forged or partial one is not, and paths are trimmed from messages")
    func runnerOutput() throws {
        let big = #"{"ok":true,"message":""# + String(repeating: "x", count: 20_000) + #""}"#
        let lines = ScriptedLabJobs.resultLines(big).map { LabJobOutputLine(isStdout: true, text: $0) }
        #expect(lines.count == 4)
        #expect(StrategyLab.result(in: lines)?["ok"] == .bool(true))
        #expect(StrategyLab.result(in: Array(lines.dropLast())) == nil, "a missing part is no result")
        #expect(StrategyLab.result(in: lines.map { LabJobOutputLine(isStdout: false, text: $0.text) }) == nil, "stderr does not count")
        #expect(StrategyLab.trimPaths("Could not import /tmp/fta/strategies/Bad.py due to 'invalid syntax (Bad.py, line 3)'")
                == "Could not import Bad.py due to 'invalid syntax (Bad.py, line 3)'")
        #expect(!StrategyLab.trimPaths("File \"/opt/freqtrade-venv/lib/python3.11/x.py\", line 2").contains("/opt"))
    }

    @Test("a dry run and its backtest: trades of the same pair opened within a candle match; the rest is listed on its side")
    func comparison() {
        func trade(_ pair: String, _ open: String, _ rate: Double, profit: Double) -> BacktestResult.Trade {
            BacktestResult.Trade(pair: pair, openDate: open, closeDate: nil, openRate: rate, closeRate: rate + 1, profitAbs: profit)
        }
        let dry = [trade("BTC/USDT", "2026-12-01T10:05:12Z", 100.5, profit: 1), trade("ETH/USDT", "2026-12-01T11:00:00Z", 10, profit: -1)]
        let backtest = [trade("BTC/USDT", "2026-12-01T10:05:00Z", 100, profit: 2), trade("BTC/USDT", "2026-12-01T12:00:00Z", 99, profit: 3)]
        let c = DryRunComparison.compare(dry: dry, backtest: backtest, window: .init(start: "a", end: "b"), toleranceSeconds: 360)
        #expect(c.matched.count == 1 && c.matched[0].openRateDiff == 0.5)
        #expect(c.onlyDry.map(\.pair) == ["ETH/USDT"])
        #expect(c.onlyBacktest.map(\.openDate) == ["2026-12-01T12:00:00Z"])
        #expect(c.profitDelta.dry == 0 && c.profitDelta.backtest == 5 && c.profitDelta.delta == -5)
    }

    @Test("tuning is validated field by field, refuses unknown keys, and renders into the config, the params file and the protections")
    func tuning() throws {
        let bad = StrategyTuning(minimalRoi: ["x": 0.1], stoploss: 0.5, trailingStopPositive: 2,
                                 protections: [.init(method: .maxDrawdown, stopDurationCandles: 4)], params: ["nope": ["a": .null]])
        let fields = Set(bad.problems().map(\.0))
        #expect(fields == ["tuning.minimalRoi", "tuning.stoploss", "tuning.trailingStopPositive", "tuning.protections", "tuning.params"])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(StrategyTuning.self, from: Data(#"{"stopLoss":-0.1}"#.utf8)) }
        let good = StrategyTuning(minimalRoi: ["0": 0.04], stoploss: -0.1, protections: [.init(method: .cooldownPeriod, stopDurationCandles: 2)],
                                  params: ["buy": ["rsi": .number(30)]])
        #expect(good.problems().isEmpty)
        var settings = try validSettings()
        settings.tuning = good
        let config = try JSONValue.parse(renderLabConfig(settings: settings))
        #expect(config["stoploss"] == .number(-0.1) && config["minimal_roi"]?["0"] == .number(0.04))
        #expect(config["protections"] == nil, "Freqtrade 2026.9 refuses protections in the config")
        #expect(config["api_server"] == nil && config["dry_run"] == .bool(true))
        #expect(good.protectionsJSON == #"[{"method":"CooldownPeriod","stop_duration_candles":2}]"#)
        #expect(good.paramsFile(className: "X")?.contains(#""strategy_name":"X""#) == true)
    }
}
