import FTACore
@testable import FTAPortal
import FTARuntimeTesting
import FTAStore
import Foundation
import Logging
import Testing

/// Secrets never print: ServiceLifecycle names each service by `"\(service)"` in its logs and
/// errors ("service finished unexpectedly"), which by default prints every stored property down
/// to the configuration's key. Found when a service that returned early stopped the portal and
/// printed the key in the error.
@Suite("Redaction of keys and passwords in printed values")
struct RedactionTests {
    @Test("a service, the services, the configuration and the box print no key, no previous key, no relay password")
    func nothingSecretPrints() throws {
        let key = RandomBytes.hex(32), previous = RandomBytes.hex(32)
        let configuration = try testConfiguration(["FTA_SECRET_KEY": key, "FTA_SECRET_KEY_PREVIOUS": previous, "FTA_ALERT_SMTP_URL": "smtp://127.0.0.1:2525",
                                                   "FTA_ALERT_EMAIL_FROM": "a@b.test", "FTA_ALERT_EMAIL_TO": "c@d.test", "FTA_ALERT_SMTP_PASSWORD": "relay-pass-123"])
        let services = try PortalServices(configuration: configuration, database: try AppDatabase.inMemory(), runtime: InMemoryBotRuntime(),
                                          logger: Logger(label: "test"))
        let box = try #require(configuration.secretBox)
        let printed = [String(describing: services), String(reflecting: services), "\(configuration)", String(reflecting: configuration),
                       "\(box)", String(reflecting: box), "\(AlertService(services: services, logger: services.logger))",
                       "\(ReconcilerService(reconciler: services.reconciler, interval: .seconds(1), logger: services.logger))"]
        // The key as hex, and as the decimal bytes a default description prints.
        let keyBytes = stride(from: 0, to: 64, by: 2).map { String(UInt8(key.dropFirst($0).prefix(2), radix: 16)!) }.joined(separator: ", ")
        for text in printed {
            #expect(!text.contains(key) && !text.contains(previous) && !text.contains("relay-pass-123") && !text.contains(keyBytes), "\(text.prefix(300))")
        }
        #expect("\(AlertService(services: services, logger: services.logger))" == "AlertService")
    }
}
