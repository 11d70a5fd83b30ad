@testable import FTAPortal
import Foundation
import Testing

/// The rules of alerting, apart from any receiver: once when it starts, again only after the
/// repeat interval, one recovery; events hold for the quiet window (docs/operations.md, Alerts).
@Suite("Alert de-duplication, rate limit and recovery")
struct AlertBookTests {
    static let settings = AlertSettings(webhookURL: "http://127.0.0.1:9/hook", smtpURL: nil, emailFrom: nil, emailTo: [], smtpUser: nil,
                                        smtpPassword: nil, checkInterval: 30, repeatInterval: 3600)
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let engine = AlertCondition("engine.unreachable", summary: "The container engine does not answer")

    func at(_ seconds: TimeInterval) -> Date { Self.start.addingTimeInterval(seconds) }

    @Test("a lasting condition is sent once, again after the repeat interval, and resolved once")
    func lasting() {
        var book = AlertBook(settings: Self.settings, host: "h")
        #expect(book.evaluate([Self.engine], now: at(0)).map(\.state) == [.firing])
        for look in 1..<119 { #expect(book.evaluate([Self.engine], now: at(Double(look) * 30)).isEmpty) }
        #expect(book.evaluate([Self.engine], now: at(3600)).map(\.state) == [.firing])
        let resolved = book.evaluate([], now: at(3630))
        #expect(resolved.map(\.state) == [.resolved] && resolved.first?.key == "engine.unreachable")
        #expect(resolved.first?.detail == "Back to normal after 3630 s.")
        #expect(book.evaluate([], now: at(3660)).isEmpty)
    }

    @Test("two keys of one class are two alerts; an event lasts the quiet window, then resolves")
    func keysAndEvents() {
        var book = AlertBook(settings: Self.settings, host: "h")
        let a = AlertCondition("bot.failed", subject: "acme-a", summary: "a")
        let b = AlertCondition("bot.failed", subject: "acme-b", summary: "b")
        #expect(Set(book.evaluate([a, b], now: at(0)).map(\.key)) == ["bot.failed:acme-a", "bot.failed:acme-b"])
        #expect(book.evaluate([b], now: at(30)).map { "\($0.key) \($0.state)" } == ["bot.failed:acme-a resolved"])
        let oom = AlertCondition("bot.oom_killed", subject: "acme-b", summary: "killed")
        book.saw(oom, at: at(60))
        #expect(book.evaluate([b], now: at(60)).map(\.key) == ["bot.oom_killed:acme-b"])
        // Seen again within the window: still the same alert, nothing new sent.
        book.saw(oom, at: at(90))
        #expect(book.evaluate([b], now: at(120)).isEmpty)
        // Quiet window: 5 looks of 30 s after it was last seen.
        #expect(book.evaluate([b], now: at(239)).isEmpty)
        #expect(book.evaluate([b], now: at(240)).map { "\($0.key) \($0.state)" } == ["bot.oom_killed:acme-b resolved"])
    }

    @Test("an alert no receiver took is due again at the next look, and a recovery needs a sent alert")
    func undelivered() {
        var book = AlertBook(settings: Self.settings, host: "h")
        let first = book.evaluate([Self.engine], now: at(0))
        book.undelivered(first[0])
        #expect(book.evaluate([Self.engine], now: at(30)).map(\.state) == [.firing])
        var quiet = AlertBook(settings: Self.settings, host: "h")
        quiet.undelivered(quiet.evaluate([Self.engine], now: at(0))[0])
        #expect(quiet.evaluate([], now: at(30)).isEmpty)
    }

    @Test("bad alert and backup settings are refused at start, naming the variable")
    func badSettingsNameTheVariable() throws {
        let smtp = ["FTA_ALERT_SMTP_URL": "smtp://127.0.0.1:2525", "FTA_ALERT_EMAIL_FROM": "fta@example.test", "FTA_ALERT_EMAIL_TO": "ops@example.test"]
        #expect(try testConfiguration(smtp).alerts.emailTo == ["ops@example.test"])
        let cases: [([String: String], String)] = [
            (["FTA_ALERT_WEBHOOK_URL": "ftp://hooks.example.test/x"], "FTA_ALERT_WEBHOOK_URL"),
            (["FTA_ALERT_WEBHOOK_URL": "not a url"], "FTA_ALERT_WEBHOOK_URL"),
            (["FTA_ALERT_SMTP_URL": "http://relay.example.test"], "FTA_ALERT_SMTP_URL"),
            (smtp.merging(["FTA_ALERT_EMAIL_FROM": "nobody"]) { $1 }, "FTA_ALERT_EMAIL_FROM"),
            (smtp.merging(["FTA_ALERT_EMAIL_TO": "a@b.test, not an address"]) { $1 }, "FTA_ALERT_EMAIL_TO"),
            (["FTA_ALERT_CHECK_SECONDS": "0"], "FTA_ALERT_CHECK_SECONDS"),
            (["FTA_ALERT_REPEAT_MINUTES": "soon"], "FTA_ALERT_REPEAT_MINUTES"),
            (["FTA_BACKUP_DIR": "backups"], "FTA_BACKUP_DIR"),
            (["FTA_BACKUP_KEEP": "0"], "FTA_BACKUP_KEEP"),
            (["FTA_BACKUP_KEY_FILE": "key.hex"], "FTA_BACKUP_KEY_FILE"),
            (["FTA_BACKUP_HOOK": "rclone copy"], "FTA_BACKUP_HOOK"),
        ]
        for (values, variable) in cases {
            do {
                _ = try testConfiguration(values)
                Issue.record("accepted \(values)")
            } catch { #expect(error.variable == variable, "\(values)") }
        }
    }
}
