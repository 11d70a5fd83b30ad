import FTACore
import FTAPortal
import FTARuntimeTesting
import Foundation
import Testing

/// A bot's API credentials are new for every container (issue 14, part 5): what an old instance
/// held, or anyone who read its environment, opens nothing once the bot is started again.
@Suite("bot API credentials rotate with every container")
struct BotCredentialRotationTests {
    @Test("each start stores fresh credentials before launching, launches with exactly those, and the bridge signs in with them")
    func freshCredentialsPerContainer() async throws {
        let harness = try await Harness()
        let id = BotID("acme-bot")!
        let lifecycle = harness.services.lifecycle
        let created = try await lifecycle.secrets(of: id)
        var seen = [created]
        for _ in 0..<2 {
            _ = try await lifecycle.start(id)
            let stored = try await lifecycle.secrets(of: id)
            #expect(await harness.runtime.launchedSecrets(id) == stored)
            for earlier in seen {
                #expect(stored.apiPassword != earlier.apiPassword && stored.jwtSecretKey != earlier.jwtSecretKey && stored.wsToken != earlier.wsToken)
            }
            #expect(stored.apiUsername.count >= 8 && stored.apiPassword.count >= 24)
            seen.append(stored)
            _ = try await lifecycle.stop(id)
        }
    }

    @Test("on demand: a stopped bot gets new stored credentials with no launch, a running one is relaunched with new ones, a quarantined one is refused")
    func onDemand() async throws {
        let harness = try await Harness()
        let id = BotID("acme-bot")!
        let lifecycle = harness.services.lifecycle
        let before = try await lifecycle.secrets(of: id)
        let launches = await harness.runtime.launchCount()
        _ = try await lifecycle.rotateCredentials(id)
        let stored = try await lifecycle.secrets(of: id)
        #expect(stored.apiPassword != before.apiPassword && stored.jwtSecretKey != before.jwtSecretKey && stored.wsToken != before.wsToken)
        #expect(await harness.runtime.launchCount() == launches, "a stopped bot was launched to rotate its credentials")

        _ = try await lifecycle.start(id)
        let running = try await lifecycle.secrets(of: id)
        let rotated = try await lifecycle.rotateCredentials(id)
        let after = try await lifecycle.secrets(of: id)
        #expect(rotated.state == .running && rotated.desiredState == .running)
        #expect(after.apiPassword != running.apiPassword && after.wsToken != running.wsToken)
        #expect(await harness.runtime.launchedSecrets(id) == after, "the running instance does not hold the new credentials")

        try await lifecycle.quarantine(id, reason: "test")
        await #expect(throws: DomainError.self) { try await lifecycle.rotateCredentials(id) }
    }
}
