import FTACore
import FTARuntime
import Foundation

/// Lab jobs that end at once with what a script says they printed: for tests of the lab's queue,
/// API and scoping without an engine. The real runner and containers are tested against Docker
/// and Freqtrade in Tests/system/freqtrade.
public final class ScriptedLabJobs: LabJobRuntime, @unchecked Sendable {
    /// What one job ends with.
    public struct Outcome: Sendable {
        public var result: String?
        public var exitCode: Int
        public var oomKilled: Bool
        /// Seconds the job runs before it ends (a cancellation or time limit can come first).
        public var runSeconds: Double

        public init(result: String?, exitCode: Int = 0, oomKilled: Bool = false, runSeconds: Double = 0) {
            self.result = result
            self.exitCode = exitCode
            self.oomKilled = oomKilled
            self.runSeconds = runSeconds
        }
    }

    actor State {
        var started: [LabJobSpec] = []
        var live: [String: (spec: LabJobSpec, outcome: Outcome, at: Date)] = [:]
        var removedDataSets: [String] = []
        func start(_ spec: LabJobSpec, _ outcome: Outcome) { started.append(spec); live[spec.id] = (spec, outcome, Date()) }
        func remove(_ id: String) { live[id] = nil }
        func removeData(_ key: String) { removedDataSets.append(key) }
    }

    let state = State()
    let script: @Sendable (LabJobSpec) -> Outcome

    public init(script: @escaping @Sendable (LabJobSpec) -> Outcome) { self.script = script }

    public func started() async -> [LabJobSpec] { await state.started }
    public func removedDataSets() async -> [String] { await state.removedDataSets }

    /// The runner's output lines for `json`: what the lab parses.
    public static func resultLines(_ json: String) -> [String] {
        let encoded = Data(json.utf8).base64EncodedString()
        let chunks = stride(from: 0, to: encoded.count, by: 8000).map { start -> String in
            let a = encoded.index(encoded.startIndex, offsetBy: start)
            let b = encoded.index(a, offsetBy: min(8000, encoded.count - start))
            return String(encoded[a..<b])
        }
        return chunks.enumerated().map { "FTA-RESULT-PART \($0.offset + 1) \(chunks.count) \($0.element)" }
    }

    public func startJob(_ job: LabJobSpec) async throws(RuntimeError) { await state.start(job, script(job)) }

    public func jobStatus(_ id: String) async throws(RuntimeError) -> BotRuntimeStatus? {
        guard let job = await state.live[id] else { return nil }
        if Date().timeIntervalSince(job.at) < job.outcome.runSeconds { return BotRuntimeStatus(phase: .running) }
        let o = job.outcome
        return BotRuntimeStatus(phase: o.exitCode == 0 && !o.oomKilled ? .stopped : .crashed,
                                reason: o.oomKilled ? "killed: out of memory" : o.exitCode == 0 ? nil : "exited with code \(o.exitCode)",
                                exitCode: o.exitCode, oomKilled: o.oomKilled)
    }

    public func jobOutput(_ id: String) async throws(RuntimeError) -> [LabJobOutputLine] {
        guard let job = await state.live[id], Date().timeIntervalSince(job.at) >= job.outcome.runSeconds, let result = job.outcome.result else {
            return [LabJobOutputLine(isStdout: true, text: "FTA-PROGRESS {\"phase\":\"backtesting\"}")]
        }
        return Self.resultLines(result).map { LabJobOutputLine(isStdout: true, text: $0) }
    }

    public func removeJob(_ id: String) async throws(RuntimeError) { await state.remove(id) }
    public func jobIDs() async throws(RuntimeError) -> [String] { Array(await state.live.keys) }
    public func removeDataSet(_ key: String) async throws(RuntimeError) { await state.removeData(key) }
}
