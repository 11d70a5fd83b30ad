import FTACore
import FTAPortal
import FTARuntime
import FTARuntimeTesting
import FTAStore
import Foundation
import Logging
import Testing

/// A small host starting several bots at once answers late: in the 1 GiB test VM, Docker took
/// more than 30 s to start a container while five others started, fta answered 503 and marked the
/// bot failed, and the container ran anyway (issue 11). A late answer is not a failure.
@Suite("a slow runtime: a launch that times out is finished, not failed")
struct SlowRuntimeTests {
    func reconciler(_ harness: Harness) -> Reconciler {
        // Without the bridge: the in-memory bots' addresses are not to be dialled.
        Reconciler(database: harness.database, runtime: harness.services.runtime, lifecycle: harness.services.lifecycle,
                   audit: harness.services.audit, bridge: nil, logger: Logger(label: "test"))
    }

    @Test("a launch answered late leaves the bot starting with no error; a later pass sees it running, launching nothing again")
    func lateLaunchIsFinishedByTheReconciler() async throws {
        let harness = try await Harness()
        await harness.runtime.setLaunchesTimeOut(true)
        try await harness.test { client in
            let alice = try await client.signIn("alice")
            let created = try await client.call(.post, "/api/v1/bots", cookie: alice, json: botBody("slow-bot"))
            #expect(created.status == .created, "\(created.text)")
            let bot = try #require(created.json["bot"] as? [String: Any])
            #expect(bot["state"] as? String == "starting")
            #expect(bot["lastError"] == nil || bot["lastError"] is NSNull)
        }
        let id = BotID("slow-bot")!
        var record = try #require(try await harness.database.bot(id))
        #expect(record.state == .starting && record.desiredState == .running && record.lastError == nil)
        #expect(await harness.runtime.launchCount() == 1)

        // Still pending in the runtime: the pass waits instead of removing it and starting over.
        let reconciler = reconciler(harness)
        let waiting = try await reconciler.reconcileOnce()
        #expect(waiting.recreated.isEmpty && waiting.errors.isEmpty)
        #expect(await harness.runtime.launchCount() == 1)
        #expect(try await harness.database.bot(id)?.state == .starting)

        // The runtime's start completes; the next pass records it.
        await harness.runtime.finishSlowLaunches()
        _ = try await reconciler.reconcileOnce()
        record = try #require(try await harness.database.bot(id))
        #expect(record.state == .running && record.lastError == nil)
        #expect(await harness.runtime.launchCount() == 1)
        #expect(await harness.runtime.isRunning(id) == true)
    }

    @Test("a launch still pending after the grace period is launched again")
    func stalePendingLaunchIsRetried() async throws {
        let harness = try await Harness()
        let id = BotID("acme-bot")!
        await harness.runtime.setLaunchesTimeOut(true)
        let started = try await harness.services.lifecycle.start(id)
        #expect(started.state == .starting)
        // The start was lost (the engine restarted, say): pending far beyond any real start.
        _ = try await harness.database.updateBot(id) { $0.startedAt = Date().addingTimeInterval(-(Reconciler.pendingLaunchGrace + 60)) }
        await harness.runtime.setLaunchesTimeOut(false)
        let pass = try await reconciler(harness).reconcileOnce()
        #expect(pass.recreated == ["acme-bot"])
        #expect(await harness.runtime.launchCount() == 2)
        #expect(try await harness.database.bot(id)?.state == .running)
    }

    @Test("a runtime that does not answer at all still fails the start, with the user's message")
    func unreachableStillFails() async throws {
        let harness = try await Harness()
        await harness.runtime.setReachable(false)
        try await harness.test { client in
            let alice = try await client.signIn("alice")
            let response = try await client.call(.post, "/api/v1/bots/acme-bot/start", cookie: alice)
            #expect(response.status == .serviceUnavailable, "\(response.text)")
        }
        let record = try #require(try await harness.database.bot(BotID("acme-bot")!))
        #expect(record.state == .failed && record.lastError?.contains("not reachable") == true)
    }
}
