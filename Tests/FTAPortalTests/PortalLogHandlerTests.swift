import FTAPortal
import Foundation
import Logging
import Testing

@Suite("log lines: one field stays one field")
struct PortalLogHandlerTests {
    static let date = Date(timeIntervalSince1970: 1_777_000_000)

    @Test("values and the message are quoted; quotes, backslashes and control characters are escaped")
    func rendering() {
        let line = PortalLogHandler.render(date: Self.date, level: .notice, label: "fta", message: "audit \"x\"",
                                           metadata: ["actor": "alice outcome=success actor=root", "target": "a\"b\\c\nd\u{1b}[2J\u{202e}",
                                                      "ip": "127.0.0.1", "count": .stringConvertible(3)])
        #expect(line == "2026-04-24T03:06:40.000Z notice fta: \"audit \\\"x\\\"\" actor=\"alice outcome=success actor=root\" count=\"3\" "
            + "ip=\"127.0.0.1\" target=\"a\\\"b\\\\c\\nd\\u{1b}[2J\\u{202e}\"\n")
    }

    @Test("keys and labels cannot break the shape; nested values stay inside one value")
    func keysAndNesting() {
        let line = PortalLogHandler.render(date: Self.date, level: .info, label: "f ta", message: "m",
                                           metadata: ["a b=\"c": "v", "list": ["x\" y=z", "w"], "map": ["k": "q=\"r"]])
        #expect(line == "2026-04-24T03:06:40.000Z info f_ta: \"m\" a_b__c=\"v\" list=\"[\\\"x\\\\\\\" y=z\\\", \\\"w\\\"]\" "
            + "map=\"[\\\"k\\\": \\\"q=\\\\\\\"r\\\"]\"\n")
    }

    @Test("a logger through the handler writes one complete line per entry, with its metadata")
    func throughLogger() {
        let lines = Lines()
        var logger = Logger(label: "fta") { label in PortalLogHandler(label: label, level: .debug) { line in lines.append(line) } }
        logger[metadataKey: "request"] = "r1"
        logger.info("line\none", metadata: ["user": "u\r\n2026 fake line"])
        logger.trace("below the level")
        let written = lines.all
        #expect(written.count == 1)
        #expect(written[0].hasSuffix(" info fta: \"line\\none\" request=\"r1\" user=\"u\\r\\n2026 fake line\"\n"))
        #expect(written[0].filter { $0 == "\n" }.count == 1)
    }
}

/// The lines a handler wrote, in order.
final class Lines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
