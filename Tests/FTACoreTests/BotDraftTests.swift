import FTACore
import Foundation
import Testing

let validDraft = BotDraft(
    name: "My EMA bot", exchange: "binance", pairs: ["BTC/USDT", "ETH/USDT"], stakeCurrency: "USDT", stakeAmount: "100",
    dryRunWallet: 1000, maxOpenTrades: 3, timeframe: "5m", strategy: "FtaEmaCross", size: "small"
)

@Suite("bot validation")
struct BotDraftTests {
    @Test("a complete draft becomes settings")
    func valid() throws {
        let settings = try validDraft.validated()
        #expect(settings.pairs == ["BTC/USDT", "ETH/USDT"])
        #expect(settings.stakeAmount == .fixed(100))
        #expect(settings.strategy == .shipped(.emaCross))
    }

    @Test("every missing field is reported by name at once")
    func missing() {
        #expect(throws: FieldErrors.self) { try BotDraft().validated() }
        do { _ = try BotDraft().validated() } catch {
            #expect(Set(error.messages.keys) == ["name", "exchange", "pairs", "stakeCurrency", "stakeAmount", "dryRunWallet", "maxOpenTrades", "timeframe", "strategy", "size"])
        }
    }

    @Test("bad values are refused with field messages", arguments: [
        ("exchange", "binance-futures"), ("stakeCurrency", "DOGE"), ("timeframe", "7m"), ("strategy", "os.system('id')"),
        ("strategy", "FtaQuickTest"), ("size", "huge"), ("stakeAmount", "1e9"), ("stakeAmount", "-5"), ("stakeAmount", "5000"),
        ("stakeAmount", "nan"), ("name", ""), ("name", "bad\u{0}name"),
    ])
    func refused(field: String, value: String) {
        var draft = validDraft
        switch field {
        case "exchange": draft.exchange = value
        case "stakeCurrency": draft.stakeCurrency = value
        case "timeframe": draft.timeframe = value
        case "strategy": draft.strategy = value
        case "size": draft.size = value
        case "stakeAmount": draft.stakeAmount = value
        default: draft.name = value
        }
        do {
            _ = try draft.validated()
            Issue.record("\(value) was accepted for \(field)")
        } catch {
            #expect(error.messages[field] != nil)
        }
    }

    @Test("pairs must be BASE/QUOTE in the stake currency, bounded, unique", arguments: [
        [], ["btc/usdt"], ["BTC-USDT"], ["BTC/EUR"], ["BTC/USDT", "BTC/USDT"], ["BTC/USDT\"}"],
        (0..<21).map { "C\($0)/USDT" },
    ])
    func pairs(_ pairs: [String]) {
        var draft = validDraft
        draft.pairs = pairs
        #expect(throws: FieldErrors.self) { try draft.validated() }
    }

    @Test("test strategies only when the operator allows them")
    func testStrategies() throws {
        var draft = validDraft
        draft.strategy = "FtaQuickTest"
        #expect(throws: FieldErrors.self) { try draft.validated() }
        #expect(try draft.validated(allowTestStrategies: true).strategy == .shipped(.quickTest))
    }

    @Test("ids follow the one rule", arguments: ["a", "acme", "a-1", "0abc", String(repeating: "a", count: 31)])
    func validIDs(_ id: String) {
        #expect(BotID(id) != nil)
        #expect(ClientID(id) != nil)
    }

    @Test("ids outside the rule are refused", arguments: ["", "-a", "A", "a_b", "a.b", "a/b", "../x", String(repeating: "a", count: 32), "é", "a b"])
    func invalidIDs(_ id: String) {
        #expect(BotID(id) == nil)
        #expect(ClientID(id) == nil)
    }

    @Test("Docker names follow the contract")
    func names() {
        #expect(BotID("b1")!.containerName == "fta-bot-b1")
        #expect(BotID("b1")!.volumeName == "fta-bot-b1")
        #expect(ClientID("acme")!.networkName == "fta-client-acme")
    }
}

@Suite("bot state machine")
struct BotStateTests {
    @Test("the normal life of a bot is allowed")
    func normalLife() throws {
        var state = BotState.created
        for next in [BotState.starting, .running, .stopping, .stopped, .starting, .running, .deleting] {
            state = try state.moving(to: next)
        }
        #expect(state == .deleting)
    }

    @Test("illegal moves are errors", arguments: [
        (BotState.quarantined, BotState.starting), (.deleting, .running), (.stopped, .running), (.created, .running), (.quarantined, .stopped),
    ])
    func illegal(from: BotState, to: BotState) {
        #expect(throws: IllegalTransition.self) { try from.moving(to: to) }
    }

    @Test("every state may be retried in place")
    func retry() {
        for state in BotState.allCases { #expect(state.canMove(to: state)) }
    }
}

@Suite("passwords")
struct PasswordPolicyTests {
    @Test("weak passwords are refused", arguments: ["short", "carter", "freqtrader12", "aaaaaaaaaaaaaaaa", String(repeating: "é", count: 40)])
    func weak(_ password: String) {
        #expect(PasswordPolicy.problem(with: password, username: "freqtrader") != nil)
    }

    @Test("a long varied password is accepted")
    func strong() {
        #expect(PasswordPolicy.problem(with: "correct horse battery staple", username: "alice") == nil)
    }
}
