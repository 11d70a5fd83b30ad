import DockerEngine
import FTARuntime
import FTACore
import Foundation

/// The hardened container spec of a bot, in one place: how it is built, and how a running
/// container is checked against it (by the reconciler and `fta doctor`).
///
/// Boundary 4 of the design: a bot gets no capabilities, a read-only root, no host ports, no
/// Docker socket, its client's network only, resource limits and no exchange secrets.
public enum HardenedBotContainer {
    public static let user = "1000:1000"
    public static let pidsLimit: Int64 = 256
    public static let tmpfs = ["/tmp": "rw,noexec,nosuid,nodev,size=64m"]
    public static let logOptions = ["max-size": "10m", "max-file": "3"]

    /// The bot volume's driver options: its cap, as Docker's local driver takes it (`size`, which
    /// it turns into an XFS project quota). The proxy admits this one key, with a bounded value.
    public static func volumeOptions(diskMB: Int?) -> [String: String]? {
        diskMB.map { ["size": "\($0)m"] }
    }
    /// Restarts after a crash, but not forever: a bot that keeps crashing ends up `failed`.
    public static let maxRestarts = 5
    public static let stopGraceSeconds = 20

    /// The start script: writes the rendered config and the strategy (with its params file when
    /// parameters are tuned) into the tmpfs, drops them from the environment, and runs Freqtrade
    /// with `--dry-run` (the second of the three dry-run locks). Values come from the environment,
    /// never from the script text, so no input is ever interpreted by the shell. With tuned
    /// protections, which Freqtrade no longer takes from the config, the launcher starts
    /// Freqtrade and hands them to the loaded strategy (docs/strategy-lab.md).
    static let startScript = """
        set -eu
        umask 077
        mkdir -p /tmp/fta/strategies /freqtrade/user_data/logs
        printf '%s' "$FTA_CONFIG" > /tmp/fta/config.json
        printf '%s' "$FTA_STRATEGY_SOURCE" > "/tmp/fta/strategies/$FTA_STRATEGY.py"
        if [ -n "${FTA_STRATEGY_PARAMS:-}" ]; then printf '%s' "$FTA_STRATEGY_PARAMS" > "/tmp/fta/strategies/$FTA_STRATEGY.json"; fi
        unset FTA_CONFIG FTA_STRATEGY_SOURCE FTA_STRATEGY_PARAMS
        set -- trade --dry-run --config /tmp/fta/config.json --userdir /freqtrade/user_data --strategy-path /tmp/fta/strategies --strategy "$FTA_STRATEGY"
        if [ -n "${FTA_PROTECTIONS:-}" ]; then exec python3 -c "$FTA_LAUNCHER" "$@"; fi
        exec freqtrade "$@"
        """

    static let healthProbe = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/api/v1/ping', timeout=4)"

    public static func labels(bot: BotID, client: ClientID) -> [String: String] {
        [FTALabel.managed: "true", FTALabel.client: client.rawValue, FTALabel.bot: bot.rawValue]
    }

    /// The `POST /containers/create` body for a bot. `swap`: whether the bot's cold pages may go
    /// to swap (`FTA_BOT_SWAP`), which gives it its size's swapping limits instead of all-RAM ones.
    public static func spec(for launch: BotLaunch, swap: Bool = false) -> ContainerCreate {
        let config = renderFreqtradeConfig(botID: launch.botID, settings: launch.settings, secrets: launch.secrets,
                                           exchangeOverride: launch.exchangeOverride, walletGeneration: launch.walletGeneration)
        var host = HostConfig()
        host.ReadonlyRootfs = true
        host.CapDrop = ["ALL"]
        host.SecurityOpt = ["no-new-privileges:true"]
        host.PidsLimit = pidsLimit
        // Memory is the RAM limit; MemorySwap is RAM and swap together. Equal, nothing of the bot
        // can leave RAM; above it, the kernel moves the bot's coldest pages (imported modules it
        // never touches again) to swap when the bot reaches its RAM limit.
        let limits = launch.settings.size.memoryLimits(swap: swap)
        host.Memory = Int64(limits.ramMB) << 20
        host.MemorySwap = Int64(limits.ramAndSwapMB) << 20
        host.NanoCpus = Int64(launch.settings.size.nanoCPUs)
        host.Tmpfs = tmpfs
        host.Mounts = [Mount(Type: "volume", Source: launch.botID.volumeName, Target: BotPaths.userData)]
        host.NetworkMode = launch.clientID.networkName
        host.LogConfig = LogConfig(Type: "json-file", Config: logOptions)
        host.RestartPolicy = RestartPolicy(Name: "on-failure", MaximumRetryCount: maxRestarts)
        host.Init = true
        var env = [
            "FTA_CONFIG=" + String(decoding: config, as: UTF8.self),
            "FTA_STRATEGY=" + launch.settings.strategy.className,
            "FTA_STRATEGY_SOURCE=" + launch.strategySource,
            // Read-only root: Python and Freqtrade write caches under HOME.
            "HOME=/tmp",
            "PYTHONDONTWRITEBYTECODE=1",
        ]
        if let params = launch.settings.tuning?.paramsFile(className: launch.settings.strategy.className) {
            env.append("FTA_STRATEGY_PARAMS=" + params)
        }
        if let protections = launch.settings.tuning?.protectionsJSON {
            env += ["FTA_PROTECTIONS=" + protections, "FTA_LAUNCHER=" + launch.launcher]
        }
        return ContainerCreate(
            Image: launch.image,
            User: user,
            Entrypoint: ["/bin/sh", "-c"],
            Cmd: [startScript],
            Env: env,
            Labels: labels(bot: launch.botID, client: launch.clientID),
            Healthcheck: HealthConfig(
                Test: ["CMD", "python3", "-c", healthProbe],
                Interval: 30_000_000_000, Timeout: 5_000_000_000, Retries: 3, StartPeriod: 120_000_000_000
            ),
            StopTimeout: stopGraceSeconds,
            HostConfig: host,
            NetworkingConfig: NetworkingConfig(EndpointsConfig: [launch.clientID.networkName: EmptyObject()])
        )
    }

    /// How a running container departs from the spec of its bot; empty when it complies.
    public static func deviations(of container: ContainerInspect, bot: BotID, client: ClientID, size: BotSize, image: String) -> [String] {
        var problems: [String] = []
        let host = container.HostConfig
        func expect(_ ok: Bool, _ problem: String) { if !ok { problems.append(problem) } }

        expect(container.Config.User == user, "runs as '\(container.Config.User ?? "")' instead of \(user)")
        expect(container.Config.Image == image, "runs image \(container.Config.Image ?? "?") instead of \(image)")
        expect(host.ReadonlyRootfs == true, "root filesystem is writable")
        expect(host.Privileged != true, "is privileged")
        expect((host.CapDrop ?? []).contains { $0.uppercased() == "ALL" || $0.uppercased() == "CAP_ALL" }, "does not drop all capabilities")
        expect((host.CapAdd ?? []).isEmpty, "adds capabilities \(host.CapAdd ?? [])")
        expect((host.SecurityOpt ?? []).contains { $0.hasPrefix("no-new-privileges") && !$0.hasSuffix("false") }, "lacks no-new-privileges")
        expect(!(host.SecurityOpt ?? []).contains { $0.contains("unconfined") }, "has an unconfined security profile")
        expect(host.PidsLimit == pidsLimit, "pids limit is \(host.PidsLimit.map(String.init) ?? "unset")")
        // Either of the size's two shapes is fta's own: FTA_BOT_SWAP may change between the
        // bot's start and this check, and that must not quarantine it.
        let memory = host.Memory.map { MemoryLimits(ramMB: Int($0 >> 20), ramAndSwapMB: Int((host.MemorySwap ?? 0) >> 20)) }
        let exact = host.Memory.map { $0 & ((1 << 20) - 1) == 0 } == true && host.MemorySwap.map { $0 & ((1 << 20) - 1) == 0 } == true
        expect(exact && memory.map { [size.residentLimits, size.swappingLimits].contains($0) } == true, "memory limit differs from its size")
        expect(host.NanoCpus == Int64(size.nanoCPUs), "CPU limit differs from its size")
        expect(host.Init == true, "runs without an init process")
        let published = (host.PortBindings ?? [:]).values.contains { !($0 ?? []).isEmpty }
            || (container.NetworkSettings.Ports ?? [:]).values.contains { !($0 ?? []).isEmpty }
        expect(!published && host.PublishAllPorts != true, "publishes ports")
        expect((host.Binds ?? []).isEmpty, "has bind mounts")
        expect((host.Devices ?? []).isEmpty, "has devices")
        let mounts = container.Mounts ?? []
        expect(mounts.count == 1 && mounts.first?.Type == "volume" && mounts.first?.Name == bot.volumeName
               && mounts.first?.Destination == BotPaths.userData, "mounts differ from its one volume")
        expect(host.NetworkMode == client.networkName, "network mode is \(host.NetworkMode ?? "?")")
        expect(Set((container.NetworkSettings.Networks ?? [:]).keys) == [client.networkName], "is attached to other networks")
        for mode in [host.PidMode, host.IpcMode, host.UsernsMode] {
            if let mode, mode == "host" || mode.hasPrefix("container:") { problems.append("shares a namespace (\(mode))") }
        }
        let labels = container.Config.Labels ?? [:]
        expect(labels[FTALabel.bot] == bot.rawValue && labels[FTALabel.client] == client.rawValue, "labels do not match its bot")
        return problems
    }
}
