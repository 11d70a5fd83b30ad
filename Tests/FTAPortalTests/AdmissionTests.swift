import FTACore
import FTAPortal
import FTARuntime
import FTARuntimeTesting
import FTAStore
import FTATestSupport
import Foundation
import Logging
import Testing

/// A bot record of `size` in `state`, wanting `desired`, started `startedAgo` seconds ago.
private func record(_ id: String, size: String = "small", state: BotState = .running, desired: DesiredState = .running,
                    startedAgo: TimeInterval? = 600, now: Date) throws -> BotRecord {
    var bot = BotRecord(id: BotID(id)!, clientID: ClientID("acme")!, settings: try validSettings(size: size), desiredState: desired)
    bot.state = state
    bot.startedAt = startedAgo.map { now.addingTimeInterval(-$0) }
    return bot
}

private let oneGiB = HostMemory(totalMB: 1024, availableMB: 700, swapTotalMB: 0, swapFreeMB: 0)
private let controlPlane = ControlPlaneUsage(processes: ["fta": 48, "dockerd": 50, "containerd": 20, "haproxy": 15, "nginx": 5])

@Suite("admission: the budget arithmetic")
struct AdmissionArithmeticTests {
    let now = Date()
    func admission(_ policy: MemoryPolicy) -> Admission {
        Admission(policy: policy, defaultMaxBots: 3, gauge: MemoryGauge(runtime: InMemoryBotRuntime(), logger: Logger(label: "test")))
    }

    @Test("the budget is host memory less the measured control plane and the margin")
    func derivedBudget() throws {
        let snapshot = MemorySnapshot(host: oneGiB, controlPlane: controlPlane, bots: [:], takenAt: now)
        let account = admission(MemoryPolicy()).account(of: [], snapshot: snapshot, now: now)
        #expect(account.controlPlaneMB == 138 && account.marginMB == 64 && account.swapCreditMB == 0)
        #expect(account.budgetMB == 1024 - 138 - 64)
        #expect(account.freeMB == account.budgetMB)
        // A larger host keeps 1/16 of itself as margin.
        #expect(MemoryPolicy.defaultMarginMB(hostMB: 16384) == 1024)
    }

    @Test("measured bots count with their peak, unmeasured or warming ones with their reservation, stopped ones not at all")
    func charges() throws {
        let snapshot = MemorySnapshot(host: oneGiB, controlPlane: controlPlane,
                                      bots: [BotID("warm")!: 210, BotID("fresh")!: 40], takenAt: now)
        let bots = [
            try record("warm", now: now),                                  // measured, warmed up: 210
            try record("fresh", startedAgo: 30, now: now),                 // measured too early: 320
            try record("silent", size: "medium", now: now),                // the runtime said nothing: 512
            try record("off", state: .stopped, desired: .stopped, now: now),
            try record("caged", state: .quarantined, desired: .running, now: now),
        ]
        let policy = admission(MemoryPolicy())
        #expect(policy.chargeMB(of: bots[0], in: snapshot, now: now) == 210)
        #expect(policy.chargeMB(of: bots[1], in: snapshot, now: now) == 320)
        #expect(policy.account(of: bots, snapshot: snapshot, now: now).botsMB == 210 + 320 + 512)
        #expect(policy.account(of: bots, excluding: BotID("silent"), snapshot: snapshot, now: now).botsMB == 210 + 320)
    }

    @Test("with swap, a bot reserves its RAM limit and the host adds a bounded swap credit")
    func swapCredit() throws {
        let swapHost = HostMemory(totalMB: 1024, availableMB: 700, swapTotalMB: 2048, swapFreeMB: 2000)
        let snapshot = MemorySnapshot(host: swapHost, controlPlane: controlPlane, bots: [:], takenAt: now)
        let swapping = admission(MemoryPolicy(botSwap: true))
        #expect(swapping.reservationMB(.small) == BotSize.small.swappingLimits.ramMB)
        #expect(swapping.account(of: [], snapshot: snapshot, now: now).swapCreditMB == 128)
        // Little free swap: at most half of it.
        let tight = MemorySnapshot(host: HostMemory(totalMB: 1024, availableMB: 700, swapTotalMB: 100, swapFreeMB: 60), controlPlane: controlPlane,
                                   bots: [:], takenAt: now)
        #expect(swapping.account(of: [], snapshot: tight, now: now).swapCreditMB == 30)
        // Bots that may not swap get no credit, whatever the host has.
        #expect(admission(MemoryPolicy(botSwap: false)).account(of: [], snapshot: snapshot, now: now).swapCreditMB == 0)
        #expect(admission(MemoryPolicy(botSwap: true, swapCreditMB: 300)).account(of: [], snapshot: snapshot, now: now).swapCreditMB == 300)
    }

    @Test("on a 1 GiB host today's settings admit one small bot; the measured budget admits more")
    func oneGiBHost() throws {
        // How many small bots start one after another until the first refusal.
        func admitted(_ admission: Admission, host: HostMemory = oneGiB) throws -> Int {
            let snapshot = MemorySnapshot(host: host, controlPlane: controlPlane, bots: [:], takenAt: now)
            var running: [BotRecord] = []
            for index in 0..<20 {
                let bot = try record("b\(index)", state: .stopped, desired: .stopped, now: now)
                if admission.refusal(toStart: bot, among: running, snapshot: snapshot, now: now) != nil { break }
                running.append(try record("b\(index)", startedAgo: nil, now: now))
            }
            return running.count
        }
        // Before: host memory minus 512 MiB, bots counted at their declared 320 MiB.
        #expect(try admitted(admission(MemoryPolicy(fixedBudgetMB: 1024 - 512))) == 1)
        #expect(try admitted(admission(MemoryPolicy())) == 2)
        // Bots that swap, on a host with the swap file install.sh makes (1 GiB VM: 1279 MiB):
        // 128 MiB of RAM each would let 7 in (160 MiB admitted 5); their cold pages, 192 MiB each,
        // fit 6 times in the swap less its margin. The VM ran 7 with swap full to the last MiB.
        let withSwap = HostMemory(totalMB: 1024, availableMB: 700, swapTotalMB: 1279, swapFreeMB: 1279)
        #expect(try admitted(admission(MemoryPolicy(botSwap: true)), host: withSwap) == 6)
        #expect(try admitted(admission(MemoryPolicy(botSwap: true, swapCreditMB: 0)), host: withSwap) == 6)
    }

    @Test("bots that swap: a start is refused when the swap left cannot take its cold pages, with the numbers")
    func swapRoom() throws {
        let policy = admission(MemoryPolicy(botSwap: true))
        #expect(policy.expectedSwapMB(.small) == 320 - 128)
        // Six bots warmed up and measured; their cold pages are already in swap: 250 MiB is left.
        let warm = (0..<6).map { BotID("w\($0)")! }
        let tight = MemorySnapshot(host: HostMemory(totalMB: 1024, availableMB: 90, swapTotalMB: 1279, swapFreeMB: 250),
                                   controlPlane: ControlPlaneUsage(processes: ["fta": 30]), bots: Dictionary(uniqueKeysWithValues: warm.map { ($0, 100) }),
                                   takenAt: now)
        let running = try warm.map { try record($0.rawValue, now: now) }
        let next = try record("next", state: .stopped, desired: .stopped, now: now)
        // RAM alone would take it: 6 x 100 + 128 is within 1024 + credit - 30 - 64.
        let refusal = try #require(policy.refusal(toStart: next, among: running, snapshot: tight, now: now))
        guard case .swapExceeded(let needed, let free, let margin, let starting) = refusal else {
            Issue.record("refused with \(refusal)")
            return
        }
        #expect(needed == 192 && free == 250 && margin == 79 && starting == 0)
        #expect(refusal.code == "memory_budget_exceeded")
        #expect(refusal.message.contains("about 192 MiB of swap") && refusal.message.contains("171 MiB is free")
                && refusal.message.contains("250 MiB of free swap, less 79 MiB kept free"))
        // With room in swap it starts; a bot still warming up counts with all of its 192 MiB.
        let roomy = MemorySnapshot(host: HostMemory(totalMB: 1024, availableMB: 90, swapTotalMB: 1279, swapFreeMB: 450),
                                   controlPlane: tight.controlPlane, bots: tight.bots, takenAt: now)
        #expect(policy.refusal(toStart: next, among: running, snapshot: roomy, now: now) == nil)
        let withFresh = running + [try record("fresh", startedAgo: 20, now: now)]
        guard case .swapExceeded(_, _, _, let pending)? = policy.refusal(toStart: next, among: withFresh, snapshot: roomy, now: now) else {
            Issue.record("a bot warming up did not count with its swap")
            return
        }
        #expect(pending == 192)
        // Without bot swap there is no swap dimension at all.
        #expect(admission(MemoryPolicy(botSwap: false)).refusal(toStart: next, among: running, snapshot: tight, now: now) == nil)
    }

    @Test("a refusal says what is needed, what is free, and where the memory went")
    func refusalMessage() throws {
        let snapshot = MemorySnapshot(host: oneGiB, controlPlane: controlPlane, bots: [:], takenAt: now)
        let bots = [try record("a", size: "medium", now: now), try record("b", state: .stopped, desired: .stopped, now: now)]
        let refusal = try #require(admission(MemoryPolicy()).refusal(toStart: bots[1], among: bots, snapshot: snapshot, now: now))
        guard case .memoryBudgetExceeded(let needed, let free, let budget, let account) = refusal else {
            Issue.record("refused with \(refusal)")
            return
        }
        #expect(needed == 320 && budget == 822 && free == 822 - 512 && account?.botsMB == 512)
        #expect(refusal.message.contains("needs 320 MiB") && refusal.message.contains("310 MiB of the 822 MiB"))
        #expect(refusal.message.contains("138 MiB for the control plane") && refusal.message.contains("64 MiB of margin")
                && refusal.message.contains("512 MiB for running bots"))
        #expect(refusal.message.count < 320)
    }

    @Test("the control plane is read from /proc: anonymous and shared PSS where the kernel splits PSS, else PSS, else RSS; fta included")
    func controlPlaneFromProc() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("proc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        func process(_ pid: String, comm: String, smaps: String?, status: String) throws {
            let dir = root.appendingPathComponent(pid)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try (comm + "\n").write(to: dir.appendingPathComponent("comm"), atomically: true, encoding: .utf8)
            if let smaps { try smaps.write(to: dir.appendingPathComponent("smaps_rollup"), atomically: true, encoding: .utf8) }
            try status.write(to: dir.appendingPathComponent("status"), atomically: true, encoding: .utf8)
        }
        try process("1", comm: "systemd", smaps: nil, status: "VmRSS:\t   9000 kB\n")
        try process("100", comm: "dockerd", smaps: "Rss:  60000 kB\nPss:  51200 kB\n", status: "VmRSS:\t  60000 kB\n")
        try process("101", comm: "containerd-shim", smaps: nil, status: "Name:\tcontainerd-shim\nVmRSS:\t  10240 kB\n")
        try process("102", comm: "containerd-shim", smaps: nil, status: "VmRSS:\t  10240 kB\n")
        // A newer kernel's rollup: only the anonymous and shared parts count, not the binary's pages.
        try process("104", comm: "containerd", smaps: "Rss:  52000 kB\nPss:  51200 kB\nPss_Anon:  20480 kB\nPss_File:  29696 kB\nPss_Shmem:  1024 kB\n",
                    status: "VmRSS:\t  52000 kB\n")
        try process("103", comm: "python3", smaps: nil, status: "VmRSS:\t 300000 kB\n")
        try process("self", comm: "fta", smaps: "Pss:  30720 kB\n", status: "VmRSS:\t  40000 kB\n")
        let usage = ControlPlaneUsage.measure(procRoot: root.path)
        #expect(usage.processes == ["fta": 30, "dockerd": 50, "containerd-shim": 20, "containerd": 21])
        #expect(!usage.othersHidden && usage.totalMB == 121)
        #expect(HostMemory.parse("MemTotal:        1004300 kB\nMemAvailable:     612000 kB\nSwapTotal:       2097148 kB\nSwapFree:        2097148 kB\n")
                == HostMemory(totalMB: 980, availableMB: 597, swapTotalMB: 2047, swapFreeMB: 2047))
    }

    @Test("FTA_BOT_SWAP: auto follows the host's swap; on, off; anything else names the variable")
    func swapSetting() throws {
        let key = ["FTA_SECRET_KEY": RandomBytes.hex(32)]
        let withSwap = HostMemory(totalMB: 1024, availableMB: 0, swapTotalMB: 2048, swapFreeMB: 2048)
        #expect(try PortalConfiguration.load(environment: key, host: withSwap).botSwap)
        #expect(try !PortalConfiguration.load(environment: key, host: oneGiB).botSwap)
        #expect(try PortalConfiguration.load(environment: key.merging(["FTA_BOT_SWAP": "on"]) { $1 }, host: oneGiB).botSwap)
        #expect(try !PortalConfiguration.load(environment: key.merging(["FTA_BOT_SWAP": "off"]) { $1 }, host: withSwap).botSwap)
        #expect(try PortalConfiguration.load(environment: key, host: oneGiB).memoryBudgetMB == nil)
        do {
            _ = try PortalConfiguration.load(environment: key.merging(["FTA_BOT_SWAP": "maybe"]) { $1 }, host: oneGiB)
            Issue.record("accepted FTA_BOT_SWAP=maybe")
        } catch { #expect(error.variable == "FTA_BOT_SWAP") }
    }
}

/// A portal's services on the in-memory runtime with a database file (a real DatabasePool,
/// as in production), and `count` clients' small bots created stopped.
private struct ConcurrentStarts {
    let services: PortalServices
    let runtime = InMemoryBotRuntime()
    let directory: URL
    let bots: [BotID]

    init(count: Int, overrides: [String: String]) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fta-admission-\(UUID().uuidString)")
        let database = try AppDatabase.open(path: directory.appendingPathComponent("fta.sqlite").path)
        services = try PortalServices(configuration: try testConfiguration(overrides), database: database, runtime: runtime,
                                      logger: Logger(label: "test"))
        var bots: [BotID] = []
        for index in 0..<count {
            let client = ClientRecord(id: ClientID("c\(index)")!, name: "Client \(index)")
            try await database.createClient(client)
            let bot = try await services.lifecycle.create(id: BotID("bot\(index)")!, client: client, settings: try validSettings(), start: false)
            bots.append(bot.id)
        }
        self.bots = bots
    }

    /// Starts every bot at once; the refusals, by bot.
    func startAll() async -> [BotID: any Error] {
        let lifecycle = services.lifecycle
        return await withTaskGroup(of: (BotID, (any Error)?).self) { group in
            for bot in bots {
                group.addTask {
                    do { _ = try await lifecycle.start(bot); return (bot, nil) } catch { return (bot, error) }
                }
            }
            var refusals: [BotID: any Error] = [:]
            for await (bot, error) in group { if let error { refusals[bot] = error } }
            return refusals
        }
    }
}

@Suite("admission: concurrent starts")
struct ConcurrentAdmissionTests {
    @Test("10 concurrent starts with a budget for 3: exactly 3 start, 7 are refused with the numbers, nothing else is launched",
          arguments: [["FTA_MEMORY_BUDGET_MB": "1000"], ["FTA_MEMORY_BUDGET_MB": ""]])
    func tenStartsBudgetForThree(_ overrides: [String: String]) async throws {
        var overrides = overrides
        if overrides["FTA_MEMORY_BUDGET_MB"] == "" {
            // The derived budget: margin and control plane are what this host has, so the margin
            // is set to what leaves room for exactly three small bots on top of them.
            let host = try #require(HostMemory.read())
            let controlPlane = ControlPlaneUsage.measure().totalMB
            overrides["FTA_MEMORY_MARGIN_MB"] = String(host.totalMB - controlPlane - 3 * 320 - 100)
        }
        let fixture = try await ConcurrentStarts(count: 10, overrides: overrides)
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        let refusals = await fixture.startAll()

        #expect(refusals.count == 7, "\(refusals)")
        for (_, error) in refusals {
            guard case DomainError.memoryBudgetExceeded(let needed, let free, _, _) = error else {
                Issue.record("refused with \(error) instead of the budget")
                continue
            }
            #expect(needed == 320 && free < 320)
            #expect((error as? DomainError)?.message.contains("needs 320 MiB") == true)
        }
        #expect(await fixture.runtime.launchCount() == 3)
        let bots = try await fixture.services.database.bots()
        #expect(bots.filter { $0.desiredState == .running }.count == 3)
        #expect(bots.filter { $0.state == .running }.count == 3)
        for bot in fixture.bots where refusals[bot] != nil {
            #expect(await fixture.runtime.isRunning(bot) == nil, "a refused bot was launched")
            #expect(try await fixture.services.database.bot(bot)?.state == .created)
        }
    }
}

/// A harness with its bot `acme-bot` started, and a reconciler over it. Without the bridge: the
/// in-memory bots' addresses are not to be dialled.
private func startedBotWithReconciler() async throws -> (Harness, Reconciler, BotID) {
    let harness = try await Harness()
    let services = harness.services
    let reconciler = Reconciler(database: services.database, runtime: services.runtime, lifecycle: services.lifecycle,
                                audit: services.audit, bridge: nil, logger: Logger(label: "test"))
    let id = BotID("acme-bot")!
    try await services.lifecycle.start(id)
    return (harness, reconciler, id)
}

@Suite("admission: an OOM-killed bot is shown as such")
struct OOMRecordingTests {
    @Test("a kill the runtime restarted sets lastError and one audit entry; a kill that stays down fails the bot")
    func recordsEachKillOnce() async throws {
        let (harness, reconciler, id) = try await startedBotWithReconciler()
        await harness.runtime.killForMemory(id, restarted: true)

        let first = try await reconciler.reconcileOnce()
        #expect(first.oomKilled == ["acme-bot"])
        var bot = try #require(try await harness.database.bot(id))
        #expect(bot.state == .running)
        #expect(bot.lastError?.contains("killed for running out of memory") == true)
        #expect(bot.lastError?.contains("restarted") == true)
        var entries = try await harness.database.auditEntries(AuditFilter(action: "bot.oom_killed"))
        #expect(entries.count == 1 && entries.first?.target == "acme-bot" && entries.first?.actor == "reconciler")

        // The runtime still reports the kill: the next pass records nothing new.
        #expect(try await reconciler.reconcileOnce().oomKilled.isEmpty)
        #expect(try await harness.database.auditEntries(AuditFilter(action: "bot.oom_killed")).count == 1)

        // Killed again, and the runtime gives up: failed, and a second entry.
        await harness.runtime.killForMemory(id, restarted: false)
        let last = try await reconciler.reconcileOnce()
        #expect(last.oomKilled == ["acme-bot"] && last.failed == ["acme-bot"])
        bot = try #require(try await harness.database.bot(id))
        #expect(bot.state == .failed)
        #expect(bot.lastError?.contains("killed for running out of memory") == true)
        entries = try await harness.database.auditEntries(AuditFilter(action: "bot.oom_killed"))
        #expect(entries.count == 2)
    }
}

@Suite("reconciler: a bot that runs but whose API does not answer is shown as such")
struct UnhealthyRecordingTests {
    @Test("unhealthy sets lastError with the bot's output and one audit entry per run; healthy again clears it")
    func recordsEachRunOnce() async throws {
        let (harness, reconciler, id) = try await startedBotWithReconciler()
        let services = harness.services
        // Starting and then healthy: nothing to say.
        await harness.runtime.setHealth(id, "starting")
        #expect(try await reconciler.reconcileOnce().unhealthy.isEmpty)
        await harness.runtime.setHealth(id, "healthy")
        #expect(try await reconciler.reconcileOnce().unhealthy.isEmpty)
        #expect(try await harness.database.bot(id)?.lastError == nil)

        // A run younger than the grace (a slow start on a loaded host) is not recorded yet;
        // Docker's timestamps have nanoseconds.
        let recent = ISO8601Parsing.string(Date().addingTimeInterval(-(Reconciler.unhealthyGrace - 60)))
        let nanos = ISO8601Parsing.string(Date().addingTimeInterval(-60)).replacingOccurrences(of: "Z", with: ".123456789Z")
        for started in [recent, nanos] {
            await harness.runtime.setHealth(id, "unhealthy", startedAt: started)
            #expect(try await reconciler.reconcileOnce().unhealthy.isEmpty, "recorded a run started at \(started)")
        }
        #expect(Reconciler.runtimeDate(nanos) != nil)
        #expect(try await harness.database.bot(id)?.lastError == nil)

        await harness.runtime.setHealth(id, "unhealthy", startedAt: "2026-01-01T00:00:00.987654321Z")
        #expect(try await reconciler.reconcileOnce().unhealthy == ["acme-bot"])
        var bot = try #require(try await harness.database.bot(id))
        // Left running (its limits bound it), with why and its last output for the owner.
        #expect(bot.state == .running && bot.desiredState == .running)
        #expect(await harness.runtime.isRunning(id) == true)
        #expect(bot.lastError?.hasPrefix("Freqtrade's API stopped answering the health check") == true)
        #expect(bot.lastError?.contains("Its last output:\nline one\nline two") == true)
        var entries = try await harness.database.auditEntries(AuditFilter(action: "bot.unhealthy"))
        #expect(entries.count == 1 && entries.first?.target == "acme-bot" && entries.first?.outcome == .failure)
        #expect(entries.first?.detail?.contains("strategy \(bot.strategy)") == true)

        // Still unhealthy: the same run is not recorded twice.
        #expect(try await reconciler.reconcileOnce().unhealthy.isEmpty)
        #expect(try await harness.database.auditEntries(AuditFilter(action: "bot.unhealthy")).count == 1)

        // Healthy again: the message goes, the entry stays.
        await harness.runtime.setHealth(id, "healthy")
        _ = try await reconciler.reconcileOnce()
        bot = try #require(try await harness.database.bot(id))
        #expect(bot.lastError == nil)

        // A new run (a restart) that goes unhealthy is a new entry; another message is kept as it is.
        _ = try await services.lifecycle.stop(id)
        _ = try await reconciler.reconcileOnce()
        try await services.lifecycle.start(id)
        await harness.runtime.setHealth(id, "unhealthy")
        #expect(try await reconciler.reconcileOnce().unhealthy == ["acme-bot"])
        entries = try await harness.database.auditEntries(AuditFilter(action: "bot.unhealthy"))
        #expect(entries.count == 2 && Set(entries.compactMap(\.detail)).count == 2)
        _ = try await harness.database.updateBot(id) { $0.lastError = "something else" }
        await harness.runtime.setHealth(id, "healthy")
        _ = try await reconciler.reconcileOnce()
        #expect(try await harness.database.bot(id)?.lastError == "something else")
    }
}
