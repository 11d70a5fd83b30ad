import DockerEngine
import FTACore
import FTARuntime
import Foundation

/// The container spec of a one-shot lab job (validation, data download, backtest): the bots'
/// hardening, one-shot, and the shared market-data cache instead of a bot's volume.
///
/// What differs from a bot, and why:
/// - no restart (`RestartPolicy no`): a job that fails has failed; the lab reports why.
/// - no swap (`MemorySwap == Memory`): a backtest that outgrows its limit is killed at once
///   instead of slowing the host's bots down by swapping.
/// - a validation gets no network at all (`none`): loading a strategy needs no exchange, and an
///   upload that runs code at import can reach nothing.
/// - a download mounts its data set writable, a backtest read-only: a client's strategy can
///   never change the data another client's backtest reads.
/// The socket proxy checks each of these on the create body (compose/haproxy/create-bodies.lua).
public enum HardenedJobContainer {
    public static let pidsLimit: Int64 = 128
    public static let stopGraceSeconds = 5
    public static let namePrefix = "fta-job-"
    public static let dataPrefix = "fta-data-"
    public static let jobLabel = "fta.job"
    public static let kindLabel = "fta.kind"
    public static let dataLabel = "fta.data"

    public static func containerName(_ id: String) -> String { namePrefix + id }
    public static func volumeName(_ key: String) -> String { dataPrefix + key }

    /// Writes the runner, config, strategy and params from the environment into the tmpfs, drops
    /// them from the environment, and runs the runner. As for bots, no value is ever part of the
    /// script text.
    static let script = """
        set -eu
        umask 077
        mkdir -p /tmp/fta/strategies /tmp/fta/user_data
        printf '%s' "$FTA_LAB_RUNNER" > /tmp/fta/fta_lab.py
        printf '%s' "$FTA_CONFIG" > /tmp/fta/config.json
        printf '%s' "$FTA_STRATEGY_SOURCE" > "/tmp/fta/strategies/$FTA_STRATEGY.py"
        if [ -n "${FTA_STRATEGY_PARAMS:-}" ]; then printf '%s' "$FTA_STRATEGY_PARAMS" > "/tmp/fta/strategies/$FTA_STRATEGY.json"; fi
        unset FTA_LAB_RUNNER FTA_CONFIG FTA_STRATEGY_SOURCE FTA_STRATEGY_PARAMS
        exec python3 /tmp/fta/fta_lab.py "$FTA_JOB_KIND"
        """

    public static func labels(_ job: LabJobSpec) -> [String: String] {
        [FTALabel.managed: "true", jobLabel: job.id, FTALabel.client: job.client.rawValue, kindLabel: job.kind.rawValue]
    }

    /// The `POST /containers/create` body for a job.
    public static func spec(for job: LabJobSpec) -> ContainerCreate {
        var host = HostConfig()
        host.ReadonlyRootfs = true
        host.CapDrop = ["ALL"]
        host.SecurityOpt = ["no-new-privileges:true"]
        host.PidsLimit = pidsLimit
        host.Memory = Int64(job.memoryMB) << 20
        host.MemorySwap = Int64(job.memoryMB) << 20
        host.NanoCpus = job.nanoCPUs
        host.Tmpfs = HardenedBotContainer.tmpfs
        host.LogConfig = LogConfig(Type: "json-file", Config: HardenedBotContainer.logOptions)
        host.RestartPolicy = RestartPolicy(Name: "no")
        host.Init = true
        var networking: NetworkingConfig?
        switch job.kind {
        case .validate:
            host.NetworkMode = "none"
        case .download, .backtest:
            host.NetworkMode = job.client.networkName
            networking = NetworkingConfig(EndpointsConfig: [job.client.networkName: EmptyObject()])
            if let key = job.dataSet {
                host.Mounts = [Mount(Type: "volume", Source: volumeName(key), Target: LabPaths.dataDir, ReadOnly: job.kind == .backtest)]
            }
        }
        var env = [
            "FTA_JOB_KIND=" + job.kind.rawValue,
            "FTA_LAB_RUNNER=" + job.runner,
            "FTA_CONFIG=" + job.config,
            "FTA_STRATEGY=" + job.strategyClass,
            "FTA_STRATEGY_SOURCE=" + job.strategySource,
            "FTA_LAB_ARGS=" + job.arguments,
            "HOME=/tmp",
            "PYTHONDONTWRITEBYTECODE=1",
        ]
        if let params = job.strategyParams { env.append("FTA_STRATEGY_PARAMS=" + params) }
        if let protections = job.protections { env.append("FTA_PROTECTIONS=" + protections) }
        return ContainerCreate(
            Image: job.image,
            User: HardenedBotContainer.user,
            Entrypoint: ["/bin/sh", "-c"],
            Cmd: [script],
            Env: env,
            Labels: labels(job),
            StopTimeout: stopGraceSeconds,
            HostConfig: host,
            NetworkingConfig: networking
        )
    }
}

extension DockerBotRuntime: LabJobRuntime {
    public func startJob(_ job: LabJobSpec) async throws(RuntimeError) {
        do { try await startJobContainer(job) } catch { throw Self.runtimeError(error) }
    }

    public func jobStatus(_ id: String) async throws(RuntimeError) -> BotRuntimeStatus? {
        let inspect: ContainerInspect
        do {
            inspect = try await docker.inspectContainer(HardenedJobContainer.containerName(id))
        } catch .notFound {
            return nil
        } catch {
            throw Self.runtimeError(error)
        }
        // A job has no restart policy: "exited" with 0 is done, anything else a failure.
        var (phase, reason) = Self.phase(of: inspect.State)
        if phase == .stopped, inspect.State.ExitCode != 0 { (phase, reason) = (.crashed, "exited with code \(inspect.State.ExitCode ?? -1)") }
        return BotRuntimeStatus(phase: phase, reason: reason, exitCode: inspect.State.ExitCode, oomKilled: inspect.State.OOMKilled == true,
                                startedAt: inspect.State.StartedAt,
                                lastExitAt: inspect.State.FinishedAt.flatMap { $0.hasPrefix("0001-") || $0.isEmpty ? nil : $0 })
    }

    public func jobOutput(_ id: String) async throws(RuntimeError) -> [LabJobOutputLine] {
        do {
            // The proxy's logs route takes up to five digits: the runner prints far fewer lines.
            return try await docker.logs(HardenedJobContainer.containerName(id), tail: 99_999, timestamps: false)
                .map { LabJobOutputLine(isStdout: $0.stream == .stdout, text: $0.text) }
        } catch .notFound {
            return []
        } catch {
            throw Self.runtimeError(error)
        }
    }

    public func removeJob(_ id: String) async throws(RuntimeError) {
        do {
            try await docker.removeContainer(HardenedJobContainer.containerName(id), force: true)
        } catch .notFound {
        } catch {
            throw Self.runtimeError(error)
        }
    }

    public func jobIDs() async throws(RuntimeError) -> [String] {
        do {
            return try await docker.containers(label: "\(FTALabel.managed)=true").compactMap { summary in
                summary.name.hasPrefix(HardenedJobContainer.namePrefix) ? String(summary.name.dropFirst(HardenedJobContainer.namePrefix.count)) : nil
            }
        } catch {
            throw Self.runtimeError(error)
        }
    }

    public func removeDataSet(_ key: String) async throws(RuntimeError) {
        do {
            try await docker.removeVolume(HardenedJobContainer.volumeName(key))
        } catch .notFound {
        } catch {
            throw Self.runtimeError(error)
        }
    }

    private func startJobContainer(_ job: LabJobSpec) async throws(DockerError) {
        let name = HardenedJobContainer.containerName(job.id)
        do { try await docker.removeContainer(name, force: true) } catch .notFound {}
        if let key = job.dataSet, job.kind != .validate {
            do {
                _ = try await docker.inspectVolume(HardenedJobContainer.volumeName(key))
            } catch .notFound {
                try await docker.createVolume(VolumeCreate(
                    Name: HardenedJobContainer.volumeName(key),
                    Labels: [FTALabel.managed: "true", HardenedJobContainer.dataLabel: key],
                    DriverOpts: HardenedBotContainer.volumeOptions(diskMB: options.dataDiskMB)))
            }
        }
        if job.kind == .validate {
            _ = try await docker.createContainer(name: name, HardenedJobContainer.spec(for: job))
        } else {
            // Under the client's gate, like a bot: a removal of the client's last bot then sees
            // the job's container and leaves the network it runs on alone.
            let gate = ClientNetworkGate.shared
            await gate.enter(job.client.rawValue)
            do throws(DockerError) {
                try await ensureClientNetwork(job.client)
                _ = try await docker.createContainer(name: name, HardenedJobContainer.spec(for: job))
            } catch {
                await gate.leave(job.client.rawValue)
                throw error
            }
            await gate.leave(job.client.rawValue)
        }
        try await docker.startContainer(name)
    }
}
