import Foundation

// The shapes of the ECS, EFS and CloudWatch Logs calls fta makes, as their JSON protocols
// name them. Only the fields fta sends or reads; everything optional that AWS may leave out.

/// A `RegisterTaskDefinition` request, and the part of a `DescribeTaskDefinition` answer fta checks.
public struct TaskDefinition: Codable, Sendable, Equatable {
    public var family: String
    public var taskDefinitionArn: String?
    public var revision: Int?
    public var status: String?
    /// When ECS registered this revision (seconds since 1970), in answers only.
    public var registeredAt: Double?
    public var requiresCompatibilities: [String]?
    public var networkMode: String?
    public var cpu: String?
    public var memory: String?
    public var executionRoleArn: String?
    /// Never set: a bot gets no AWS credentials of its own.
    public var taskRoleArn: String?
    public var runtimePlatform: RuntimePlatform?
    public var containerDefinitions: [ContainerDefinition]
    public var volumes: [Volume]?
    public var ephemeralStorage: EphemeralStorage?
    public var pidMode: String?
    public var ipcMode: String?
    /// Sent with the registration; read back through `DescribeTaskDefinition(include: TAGS)`.
    public var tags: [Tag]?
}

public struct RuntimePlatform: Codable, Sendable, Equatable {
    public var operatingSystemFamily: String?
    public var cpuArchitecture: String?
}

public struct EphemeralStorage: Codable, Sendable, Equatable {
    public var sizeInGiB: Int
}

public struct ContainerDefinition: Codable, Sendable, Equatable {
    public var name: String
    public var image: String
    public var essential: Bool?
    public var user: String?
    public var readonlyRootFilesystem: Bool?
    public var privileged: Bool?
    public var entryPoint: [String]?
    public var command: [String]?
    public var environment: [KeyValue]?
    public var dockerLabels: [String: String]?
    /// The container's hard memory limit (MiB): over it, the kernel kills the bot, as on Docker.
    public var memory: Int?
    /// CPU units (1024 = one vCPU).
    public var cpu: Int?
    public var linuxParameters: LinuxParameters?
    public var ulimits: [Ulimit]?
    public var mountPoints: [MountPoint]?
    public var portMappings: [PortMapping]?
    public var logConfiguration: LogConfiguration?
    public var healthCheck: HealthCheck?
    public var stopTimeout: Int?
    public var dockerSecurityOptions: [String]?
    public var links: [String]?
    public var volumesFrom: [VolumeFrom]?
}

public struct KeyValue: Codable, Sendable, Equatable {
    public var name: String
    public var value: String
}

public struct LinuxParameters: Codable, Sendable, Equatable {
    public var capabilities: Capabilities?
    public var initProcessEnabled: Bool?
    public var devices: [Device]?
    public var tmpfs: [Tmpfs]?
}

public struct Capabilities: Codable, Sendable, Equatable {
    public var add: [String]?
    public var drop: [String]?
}

public struct Device: Codable, Sendable, Equatable { public var hostPath: String? }
public struct Tmpfs: Codable, Sendable, Equatable { public var containerPath: String?; public var size: Int? }
public struct VolumeFrom: Codable, Sendable, Equatable { public var sourceContainer: String? }

public struct Ulimit: Codable, Sendable, Equatable {
    public var name: String
    public var softLimit: Int
    public var hardLimit: Int
}

public struct MountPoint: Codable, Sendable, Equatable {
    public var sourceVolume: String
    public var containerPath: String
    public var readOnly: Bool?
}

public struct PortMapping: Codable, Sendable, Equatable {
    public var containerPort: Int?
    public var hostPort: Int?
}

public struct LogConfiguration: Codable, Sendable, Equatable {
    public var logDriver: String
    public var options: [String: String]?
}

public struct HealthCheck: Codable, Sendable, Equatable {
    public var command: [String]
    public var interval: Int?
    public var timeout: Int?
    public var retries: Int?
    public var startPeriod: Int?
}

public struct Volume: Codable, Sendable, Equatable {
    public var name: String
    /// A task-storage volume when nil (Fargate's ephemeral storage, gone with the task).
    public var efsVolumeConfiguration: EFSVolumeConfiguration?
    public var host: HostVolume?
}

public struct HostVolume: Codable, Sendable, Equatable { public var sourcePath: String? }

public struct EFSVolumeConfiguration: Codable, Sendable, Equatable {
    public var fileSystemId: String
    public var rootDirectory: String?
    public var transitEncryption: String?
    public var authorizationConfig: EFSAuthorization?
}

public struct EFSAuthorization: Codable, Sendable, Equatable {
    public var accessPointId: String?
    public var iam: String?
}

/// ECS's and EFS's tag shape (`key`/`value` and `Key`/`Value` both occur: EFS capitalises).
public struct Tag: Codable, Sendable, Equatable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

public struct EFSTag: Codable, Sendable, Equatable {
    public var Key: String
    public var Value: String
}

extension Array where Element == Tag {
    var dictionary: [String: String] { Dictionary(map { ($0.key, $0.value) }, uniquingKeysWith: { $1 }) }
}

/// A task as `DescribeTasks` answers.
public struct ECSTask: Codable, Sendable, Equatable {
    public var taskArn: String
    public var taskDefinitionArn: String?
    public var lastStatus: String?
    public var desiredStatus: String?
    public var stopCode: String?
    public var stoppedReason: String?
    public var healthStatus: String?
    public var createdAt: Double?
    public var startedAt: Double?
    public var stoppedAt: Double?
    public var containers: [ECSContainer]?
    public var attachments: [Attachment]?
    public var tags: [Tag]?

    /// The last part of the ARN: what the awslogs stream name ends with.
    public var id: String { taskArn.split(separator: "/").last.map(String.init) ?? taskArn }

    /// The private IPv4 address of the task's own network interface (awsvpc).
    public var privateAddress: String? {
        for attachment in attachments ?? [] where attachment.type == "ElasticNetworkInterface" {
            if let value = attachment.details?.first(where: { $0.name == "privateIPv4Address" })?.value, !value.isEmpty { return value }
        }
        return containers?.compactMap { $0.networkInterfaces?.first?.privateIpv4Address }.first
    }
}

public struct ECSContainer: Codable, Sendable, Equatable {
    public var name: String?
    public var lastStatus: String?
    public var exitCode: Int?
    public var reason: String?
    public var healthStatus: String?
    public var networkInterfaces: [NetworkInterface]?
}

public struct NetworkInterface: Codable, Sendable, Equatable { public var privateIpv4Address: String? }

public struct Attachment: Codable, Sendable, Equatable {
    public var type: String?
    public var details: [KeyValueOptional]?
}

public struct KeyValueOptional: Codable, Sendable, Equatable {
    public var name: String?
    public var value: String?
}
