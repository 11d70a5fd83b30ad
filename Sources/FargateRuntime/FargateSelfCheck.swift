import FTACore
import FTARuntime
import Foundation

extension FargateBotRuntime {
    /// What `fta doctor` shows for the Fargate runtime: the account answers with usable
    /// credentials, the cluster is active, the settings the bots' isolation rests on are there,
    /// and the bots' storage is an encrypted file system. `host` adds nothing: there is no host.
    public func selfCheck(host: Bool) async -> [RuntimeCheck] {
        var checks: [RuntimeCheck] = []
        do {
            let cluster = try await cluster()
            checks.append(RuntimeCheck(name: "fargate.cluster", verdict: .pass, detail: "cluster \(cluster.clusterName ?? options.cluster) is active"))
        } catch {
            checks.append(RuntimeCheck(name: "fargate.cluster", verdict: .fail, detail: "ECS does not show cluster \(options.cluster) as active (\(Self.runtimeError(error)))",
                                       fix: "Check FTA_AWS_REGION, FTA_AWS_CLUSTER and the credentials (environment, task role or instance role)."))
            return checks
        }
        if options.subnets.isEmpty || options.vpcID.isEmpty {
            checks.append(RuntimeCheck(name: "fargate.network", verdict: .fail, detail: "no VPC or subnets configured", fix: "Set FTA_AWS_VPC and FTA_AWS_SUBNETS."))
        } else {
            checks.append(RuntimeCheck(name: "fargate.network", verdict: .pass, detail: "bots run in \(options.subnets.count) subnet(s) of \(options.vpcID)"))
        }
        if options.portalSecurityGroup == nil {
            checks.append(RuntimeCheck(name: "fargate.portal-ingress", verdict: .warn, detail: "no portal security group: bots accept no connection at all, and the portal cannot reach their APIs",
                                       fix: "Set FTA_AWS_PORTAL_SECURITY_GROUP to the portal's group."))
        }
        if options.executionRoleARN == nil {
            checks.append(RuntimeCheck(name: "fargate.execution-role", verdict: .warn, detail: "no execution role: Fargate cannot pull a private image or write the bots' logs",
                                       fix: "Set FTA_AWS_EXECUTION_ROLE_ARN (a role with AmazonECSTaskExecutionRolePolicy)."))
        }
        struct FileSystems: Decodable {
            var FileSystems: [FileSystem]?
            struct FileSystem: Decodable { var Encrypted: Bool?; var LifeCycleState: String? }
        }
        do {
            let answer: FileSystems = try await aws.rest(.efs, "GET", "/2015-02-01/file-systems", query: [("FileSystemId", options.fileSystemID)], as: FileSystems.self)
            if let fs = answer.FileSystems?.first, fs.Encrypted == true {
                checks.append(RuntimeCheck(name: "fargate.storage", verdict: .pass, detail: "file system \(options.fileSystemID) is encrypted at rest"))
            } else {
                checks.append(RuntimeCheck(name: "fargate.storage", verdict: .fail, detail: "file system \(options.fileSystemID) is missing or not encrypted",
                                           fix: "Point FTA_AWS_EFS_FILE_SYSTEM at an encrypted EFS file system."))
            }
        } catch {
            checks.append(RuntimeCheck(name: "fargate.storage", verdict: .fail, detail: "EFS does not answer for \(options.fileSystemID) (\(Self.runtimeError(error)))",
                                       fix: "Check FTA_AWS_EFS_FILE_SYSTEM and the credentials' EFS permissions."))
        }
        return checks
    }
}
