import FTACore
import Foundation
import Testing

/// JSONValue's own reader and writer (JSONValue+Text.swift) against Foundation's: the same values
/// for valid JSON, a refusal for what is not JSON, and a bound on nesting.
@Suite("JSON text")
struct JSONTextTests {
    static let samples = [
        #"{"a":1,"b":[true,false,null],"c":"x\"y\\z\/","d":-0.5e-3,"e":{},"f":[],"g":1.5E+10,"h":0}"#,
        #"[1, 2.25, -3, "\u00e9\ud83d\ude00\n\t", {"k": [ {"z": null} ]}]"#,
        #"  "just a string"  "#,
        #"{"trade_id":12,"pair":"BTC/USDT","open_rate":65000.123456789,"profit_ratio":-0.0123,"is_open":false,"orders":[{"amount":0.0015}]}"#,
        "123456789012",
        #"{"dup":1,"dup":2}"#,
    ]

    @Test("valid JSON reads as Foundation's decoder reads it", arguments: samples)
    func sameAsFoundation(text: String) throws {
        let ours = try JSONValue.parse(Data(text.utf8))
        let theirs = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(ours == theirs)
        // And it writes back to text that reads as the same value.
        #expect(try JSONValue.parse(ours.jsonText()) == ours)
    }

    @Test("what is not JSON is refused", arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "tru", "01", "1.", "-", "1e", "\"\u{01}\"", "\"abc", "[1] x", "{'a':1}", "\"\\q\"", "NaN", "[\"\\u12\"]",
    ])
    func refused(text: String) {
        #expect(throws: JSONTextError.self) { try JSONValue.parse(Data(text.utf8)) }
    }

    @Test("nesting deeper than the bound is refused, not a crash")
    func depthBound() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONTextError.self) { try JSONValue.parse(Data(deep.utf8)) }
        let fine = String(repeating: "[", count: JSONValue.maxDepth) + String(repeating: "]", count: JSONValue.maxDepth)
        #expect(try JSONValue.parse(Data(fine.utf8)) != .null)
    }

    @Test("the writer sorts keys, escapes what JSON needs, writes whole numbers without a fraction and non-finite ones as null")
    func writer() {
        let value = JSONValue.object(["b": .number(2), "a": .string("q\"\n\u{01}"), "c": .number(0.5), "d": .number(.infinity)])
        #expect(String(decoding: value.jsonText(), as: UTF8.self) == #"{"a":"q\"\n\u0001","b":2,"c":0.5,"d":null}"#)
    }

    @Test("a Freqtrade-sized answer is read faster than with JSONDecoder (printed, not asserted)")
    func speed() throws {
        let trade = #"{"trade_id":1,"pair":"BTC/USDT","base_currency":"BTC","quote_currency":"USDT","is_open":false,"exchange":"binance","amount":0.0015,"stake_amount":97.5,"strategy":"FtaQuickTest","enter_tag":"quick_test","timeframe":1,"fee_open":0.001,"open_date":"2026-12-06 20:45:53","open_timestamp":1796000000000,"open_rate":65000.1,"close_date":"2026-12-06 20:48:53","close_rate":65100.2,"profit_ratio":0.0012,"profit_abs":0.11,"exit_reason":"exit_signal","orders":[{"amount":0.0015,"safe_price":65000.1,"ft_order_side":"buy","order_timestamp":1796000000000,"is_open":false}]}"#
        let page = Data(("{\"trades\":[" + Array(repeating: trade, count: 50).joined(separator: ",") + "],\"total_trades\":50}").utf8)
        let clock = ContinuousClock()
        let ours = try clock.measure { for _ in 0..<20 { _ = try JSONValue.parse(page) } }
        let theirs = try clock.measure { for _ in 0..<20 { _ = try JSONDecoder().decode(JSONValue.self, from: page) } }
        print("a 50-trade page (\(page.count) bytes), 20 reads: JSONValue.parse \(ours), JSONDecoder \(theirs)")
        #expect(try JSONValue.parse(page) == JSONDecoder().decode(JSONValue.self, from: page))
    }
}
