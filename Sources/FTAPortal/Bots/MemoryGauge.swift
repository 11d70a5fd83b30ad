import FTACore
import FTARuntime
import FTAStore
import Foundation
import Logging

/// What was measured of the host's memory at one moment: the host, the control plane, and the
/// peak working set of each bot the runtime reported on.
public struct MemorySnapshot: Sendable, Equatable {
    public var host: HostMemory?
    public var controlPlane: ControlPlaneUsage
    /// Each measured bot's highest working set over the gauge's window, in MiB.
    public var bots: [BotID: Int]
    public var takenAt: Date

    public init(host: HostMemory?, controlPlane: ControlPlaneUsage, bots: [BotID: Int], takenAt: Date) {
        self.host = host
        self.controlPlane = controlPlane
        self.bots = bots
        self.takenAt = takenAt
    }
}

/// Measures what the host's memory holds, for admission and the budget the portal shows.
///
/// A measurement asks the runtime about every bot that should run, so it is kept for `maxAge`:
/// dashboards ask for the budget every few seconds. A bot counts with the highest working set
/// seen over `window` (two 5-minute candles), not the last one: a bot measured between two
/// candles would otherwise look smaller than it is when the next candle's pandas work runs.
public actor MemoryGauge {
    let runtime: any BotRuntime
    let maxAge: TimeInterval
    let window: TimeInterval
    let readHost: @Sendable () -> HostMemory?
    let readControlPlane: @Sendable () -> ControlPlaneUsage
    let logger: Logger
    private var samples: [BotID: [(at: Date, mb: Int)]] = [:]
    private var last: MemorySnapshot?
    /// The measurement under way for `snapshot`, which every concurrent caller waits for: a
    /// hundred dashboards asking at once cost one round of `docker stats`, not a hundred (the
    /// load test measured 15 stats calls a second, which held the HTTP pool's threads).
    private var inFlight: Task<MemorySnapshot, Never>?

    public init(runtime: any BotRuntime, maxAge: TimeInterval = 5, window: TimeInterval = 600,
                readHost: @escaping @Sendable () -> HostMemory? = { HostMemory.read() },
                readControlPlane: @escaping @Sendable () -> ControlPlaneUsage = { ControlPlaneUsage.measure() },
                logger: Logger) {
        self.runtime = runtime
        self.maxAge = maxAge
        self.window = window
        self.readHost = readHost
        self.readControlPlane = readControlPlane
        self.logger = logger
    }

    /// A measurement at most `maxAge` old, of `bots` (those that hold memory).
    public func snapshot(of bots: [BotRecord], now: Date = Date()) async -> MemorySnapshot {
        // A bot started since the last measurement is simply not in it: it counts with its
        // reservation, which is what an unmeasured bot must count with anyway.
        if let last, now.timeIntervalSince(last.takenAt) < maxAge, now >= last.takenAt { return last }
        if let inFlight { return await inFlight.value }
        let task = Task { await self.measure(bots, now: now) }
        inFlight = task
        let snapshot = await task.value
        inFlight = nil
        return snapshot
    }

    /// Measures now, whatever the age of the last measurement (the reconciler, every pass).
    @discardableResult
    public func measure(_ bots: [BotRecord], now: Date = Date()) async -> MemorySnapshot {
        let runtime = self.runtime
        let measured = await withTaskGroup(of: (BotID, BotUsage?).self) { group in
            for bot in bots {
                let placement = BotPlacement(bot: bot.id, client: bot.clientId, size: bot.size, image: bot.image)
                group.addTask { (placement.bot, try? await runtime.usage(of: placement)) }
            }
            var usages: [BotID: BotUsage] = [:]
            for await (bot, usage) in group { if let usage { usages[bot] = usage } }
            return usages
        }
        let wanted = Set(bots.map(\.id))
        samples = samples.filter { wanted.contains($0.key) }
        for (bot, usage) in measured {
            samples[bot, default: []].append((now, usage.workingSetMB))
        }
        for (bot, list) in samples {
            samples[bot] = list.filter { now.timeIntervalSince($0.at) <= window }
        }
        let peaks = samples.compactMapValues { $0.map(\.mb).max() }.filter { measured[$0.key] != nil }
        let snapshot = MemorySnapshot(host: readHost(), controlPlane: readControlPlane(), bots: peaks, takenAt: now)
        last = snapshot
        return snapshot
    }

    /// Forgets a bot's samples: it was (re)started, so its old working set says nothing.
    public func forget(_ bot: BotID) {
        samples[bot] = nil
        last?.bots[bot] = nil
    }
}
