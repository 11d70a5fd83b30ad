import Foundation

/// moto in server mode, the local stand-in for AWS, started once per test process on a free
/// loopback port, with what the Fargate runtime expects to find in an account: a VPC and a
/// subnet, the portal's and the storage's security groups, an EFS file system and an ECS cluster.
///
/// moto runs no containers: its ECS tasks start RUNNING, with a made-up address (here from
/// TEST-NET-1, which nothing answers). By default it also moves a task one
/// state towards STOPPED at each DescribeTasks (to exercise waiters); that is switched off here,
/// so a task stays RUNNING until it is stopped, as a healthy bot does.
public struct MotoServer: Sendable, Decodable {
    public var endpoint: String
    public var region: String
    public var cluster: String
    public var vpc: String
    public var subnet: String
    public var portalGroup: String
    public var storageGroup: String
    public var fileSystem: String

    /// The server of this process, started at first use; it ends with the process (its stdin
    /// is this process's pipe: the server exits when that closes).
    public static func shared() throws -> MotoServer { try started.get() }

    private static let started: Result<MotoServer, any Error> = Result {
        guard let python = TestEnvironment.motoPython else { throw MotoError("FTA_TEST_MOTO is not set: scripts/test exports the test venv's python") }
        return try start(python: python)
    }

    /// Kept open for the life of the process: the server reads it and exits at its end.
    nonisolated(unsafe) private static var keepAlive: Pipe?

    static func start(python: String) throws -> MotoServer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", launcher]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        keepAlive = input
        // The first line is the fixture, once the server answers.
        var line = Data()
        while true {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        guard !line.isEmpty else { throw MotoError("moto did not start (is moto[server] installed in \(python)?)") }
        return try JSONDecoder().decode(MotoServer.self, from: line)
    }

    /// moto's ThreadedMotoServer is moto_server's own application in a thread: the same server
    /// mode, with the port chosen by the kernel (port 0) instead of guessed.
    static let launcher = #"""
    import json, random, sys, urllib.request
    import moto.ecs.models
    from moto.server import ThreadedMotoServer
    import boto3
    # A task's interface gets a TEST-NET-1 address (RFC 5737, never routed) instead of moto's
    # random 10.x.x.x, where something on the test machine may answer.
    moto.ecs.models.random_private_ip = lambda *args, **kwargs: f"192.0.2.{random.randint(1, 254)}"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    urllib.request.urlopen(urllib.request.Request(url + "/moto-api/state-manager/set-transition", method="POST",
        data=json.dumps({"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1000000000}}).encode())).read()
    kw = dict(endpoint_url=url, region_name="eu-west-1", aws_access_key_id="fta-test", aws_secret_access_key="fta-test-secret")
    ec2 = boto3.client("ec2", **kw)
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    # As ECS wants a VPC (and moto's awsvpc tasks need, to name their interface).
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24")["Subnet"]["SubnetId"]
    portal = ec2.create_security_group(GroupName="fta-portal", Description="the portal", VpcId=vpc)["GroupId"]
    storage = ec2.create_security_group(GroupName="fta-storage", Description="EFS mount targets", VpcId=vpc)["GroupId"]
    fs = boto3.client("efs", **kw).create_file_system(CreationToken="fta-test", Encrypted=True)["FileSystemId"]
    boto3.client("ecs", **kw).create_cluster(clusterName="fta-bots")
    print(json.dumps({"endpoint": url, "region": "eu-west-1", "cluster": "fta-bots", "vpc": vpc, "subnet": subnet,
                      "portalGroup": portal, "storageGroup": storage, "fileSystem": fs}), flush=True)
    sys.stdin.read()
    server.stop()
    """#

    /// The credentials the tests sign with: moto accepts any.
    public static let accessKeyID = "fta-test"
    public static let secretAccessKey = "fta-test-secret"
}

public struct MotoError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
