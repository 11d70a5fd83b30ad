import Foundation

// Typed models of the Docker Engine API (v1.41), limited to the fields fta writes or reads.
// Optional fields are omitted when nil, so a create body holds exactly what fta sets.

/// `POST /containers/create` body.
public struct ContainerCreate: Codable, Sendable, Equatable {
    public var Image: String
    public var User: String?
    public var Entrypoint: [String]?
    public var Cmd: [String]?
    public var Env: [String]?
    public var Labels: [String: String]?
    public var ExposedPorts: [String: EmptyObject]?
    public var Healthcheck: HealthConfig?
    public var StopTimeout: Int?
    public var HostConfig: HostConfig
    public var NetworkingConfig: NetworkingConfig?

    public init(Image: String, User: String? = nil, Entrypoint: [String]? = nil, Cmd: [String]? = nil, Env: [String]? = nil,
                Labels: [String: String]? = nil, Healthcheck: HealthConfig? = nil, StopTimeout: Int? = nil,
                HostConfig: HostConfig, NetworkingConfig: NetworkingConfig? = nil) {
        self.Image = Image
        self.User = User
        self.Entrypoint = Entrypoint
        self.Cmd = Cmd
        self.Env = Env
        self.Labels = Labels
        self.Healthcheck = Healthcheck
        self.StopTimeout = StopTimeout
        self.HostConfig = HostConfig
        self.NetworkingConfig = NetworkingConfig
    }
}

/// `{}` in JSON.
public struct EmptyObject: Codable, Sendable, Equatable {
    public init() {}
}

public struct HealthConfig: Codable, Sendable, Equatable {
    public var Test: [String]?
    /// Nanoseconds, as Docker wants them.
    public var Interval: Int64?
    public var Timeout: Int64?
    public var Retries: Int?
    public var StartPeriod: Int64?

    public init(Test: [String], Interval: Int64, Timeout: Int64, Retries: Int, StartPeriod: Int64) {
        self.Test = Test
        self.Interval = Interval
        self.Timeout = Timeout
        self.Retries = Retries
        self.StartPeriod = StartPeriod
    }
}

/// The host-level settings of a container: both what fta asks for and what inspect reports.
public struct HostConfig: Codable, Sendable, Equatable {
    public var ReadonlyRootfs: Bool?
    public var Privileged: Bool?
    public var CapAdd: [String]?
    public var CapDrop: [String]?
    public var SecurityOpt: [String]?
    public var PidsLimit: Int64?
    public var Memory: Int64?
    public var MemorySwap: Int64?
    public var NanoCpus: Int64?
    public var Tmpfs: [String: String]?
    public var Mounts: [Mount]?
    public var Binds: [String]?
    public var NetworkMode: String?
    public var PidMode: String?
    public var IpcMode: String?
    public var UsernsMode: String?
    public var PortBindings: [String: [PortBinding]?]?
    public var PublishAllPorts: Bool?
    public var Devices: [DeviceMapping]?
    public var LogConfig: LogConfig?
    public var RestartPolicy: RestartPolicy?
    public var Init: Bool?

    public init() {}
}

public struct Mount: Codable, Sendable, Equatable {
    public var `Type`: String
    public var Source: String?
    public var Target: String?
    public var ReadOnly: Bool?

    public init(Type: String, Source: String, Target: String, ReadOnly: Bool? = nil) {
        self.Type = Type
        self.Source = Source
        self.Target = Target
        self.ReadOnly = ReadOnly
    }
}

public struct PortBinding: Codable, Sendable, Equatable {
    public var HostIp: String?
    public var HostPort: String?
}

public struct DeviceMapping: Codable, Sendable, Equatable {
    public var PathOnHost: String?
    public var PathInContainer: String?
}

public struct LogConfig: Codable, Sendable, Equatable {
    public var `Type`: String
    public var Config: [String: String]?

    public init(Type: String, Config: [String: String]) {
        self.Type = Type
        self.Config = Config
    }
}

public struct RestartPolicy: Codable, Sendable, Equatable {
    public var Name: String
    public var MaximumRetryCount: Int?

    public init(Name: String, MaximumRetryCount: Int? = nil) {
        self.Name = Name
        self.MaximumRetryCount = MaximumRetryCount
    }
}

public struct NetworkingConfig: Codable, Sendable, Equatable {
    public var EndpointsConfig: [String: EmptyObject]

    public init(EndpointsConfig: [String: EmptyObject]) {
        self.EndpointsConfig = EndpointsConfig
    }
}

/// `GET /containers/{id}/json`.
public struct ContainerInspect: Codable, Sendable {
    public var Id: String
    public var Name: String
    public var State: ContainerState
    public var Config: ContainerConfig
    public var HostConfig: HostConfig
    public var NetworkSettings: NetworkSettings
    public var Mounts: [MountPoint]?
    /// How often the restart policy restarted the container (since it was created).
    public var RestartCount: Int?
}

public struct ContainerState: Codable, Sendable {
    public var Status: String
    public var Running: Bool
    public var ExitCode: Int?
    public var Error: String?
    public var StartedAt: String?
    /// When the last run ended; Docker's zero time ("0001-01-01T00:00:00Z") when it never did.
    public var FinishedAt: String?
    public var OOMKilled: Bool?
    public var Health: Health?

    public struct Health: Codable, Sendable {
        public var Status: String
    }
}

public struct ContainerConfig: Codable, Sendable {
    public var Image: String?
    public var User: String?
    public var Labels: [String: String]?
    public var ExposedPorts: [String: EmptyObject]?
    public var Healthcheck: HealthConfig?
    public var Entrypoint: [String]?
    public var Cmd: [String]?
}

public struct NetworkSettings: Codable, Sendable {
    public var Ports: [String: [PortBinding]?]?
    public var Networks: [String: EndpointSettings]?
}

public struct EndpointSettings: Codable, Sendable {
    public var IPAddress: String?
    public var NetworkID: String?
}

public struct MountPoint: Codable, Sendable {
    public var `Type`: String?
    public var Name: String?
    public var Source: String?
    public var Destination: String?
    public var RW: Bool?
}

/// An entry of `GET /containers/json`.
public struct ContainerSummary: Codable, Sendable {
    public var Id: String
    public var Names: [String]
    public var Image: String?
    public var State: String?
    public var Status: String?
    public var Labels: [String: String]?

    /// The name without Docker's leading slash.
    public var name: String { (Names.first ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "/")) }
}

/// `POST /networks/create` body.
public struct NetworkCreate: Codable, Sendable, Equatable {
    public var Name: String
    public var Driver: String
    public var CheckDuplicate: Bool
    public var Internal: Bool
    public var Labels: [String: String]
    public var Options: [String: String]

    public init(Name: String, Driver: String = "bridge", CheckDuplicate: Bool = true, Internal: Bool = false,
                Labels: [String: String], Options: [String: String]) {
        self.Name = Name
        self.Driver = Driver
        self.CheckDuplicate = CheckDuplicate
        self.Internal = Internal
        self.Labels = Labels
        self.Options = Options
    }
}

/// `GET /networks/{id}` and entries of `GET /networks`.
public struct NetworkInspect: Codable, Sendable {
    public var Id: String
    public var Name: String
    public var Driver: String?
    public var Labels: [String: String]?
    public var Options: [String: String]?
    public var Containers: [String: NetworkContainer]?
    public var IPAM: IPAM?

    public struct NetworkContainer: Codable, Sendable {
        public var Name: String?
        public var IPv4Address: String?
    }

    public struct IPAM: Codable, Sendable {
        public var Config: [IPAMConfig]?
    }

    public struct IPAMConfig: Codable, Sendable {
        public var Subnet: String?
        public var Gateway: String?
    }
}

/// `POST /volumes/create` body.
public struct VolumeCreate: Codable, Sendable, Equatable {
    public var Name: String
    public var Driver: String
    public var Labels: [String: String]
    /// The local driver's options; fta sets only `size`, the volume's project-quota cap.
    public var DriverOpts: [String: String]?

    public init(Name: String, Driver: String = "local", Labels: [String: String], DriverOpts: [String: String]? = nil) {
        self.Name = Name
        self.Driver = Driver
        self.Labels = Labels
        self.DriverOpts = DriverOpts
    }
}

/// `GET /volumes/{name}` and entries of `GET /volumes`.
public struct VolumeInspect: Codable, Sendable {
    public var Name: String
    public var Driver: String?
    public var Labels: [String: String]?
    public var Options: [String: String]?
}

struct VolumeList: Codable, Sendable {
    var Volumes: [VolumeInspect]?
}

/// `GET /version`.
public struct EngineVersion: Codable, Sendable {
    public var Version: String
    public var ApiVersion: String
    public var MinAPIVersion: String?
}

/// `GET /containers/{id}/stats?stream=false`, the fields fta shows.
public struct ContainerStats: Codable, Sendable {
    public var memory_stats: MemoryStats?
    public var pids_stats: PidsStats?

    public struct MemoryStats: Codable, Sendable {
        public var usage: Int64?
        public var limit: Int64?
        /// The cgroup's memory.stat, as the engine passes it on: cgroup v1 names
        /// (`total_inactive_file`, `swap`, ...) or cgroup v2 names (`inactive_file`, `anon`, ...).
        public var stats: [String: UInt64]?
    }

    public struct PidsStats: Codable, Sendable {
        public var current: Int?
    }
}

/// One line of a container's log.
public struct LogLine: Sendable, Equatable {
    public enum Stream: Sendable, Equatable { case stdout, stderr }
    public var stream: Stream
    public var text: String

    public init(stream: Stream, text: String) {
        self.stream = stream
        self.text = text
    }
}

struct CreateResponse: Codable {
    var Id: String
}

struct ErrorResponse: Codable {
    var message: String
}
