import DockerRuntime
import FargateRuntime
import FTAPortal
import FTARuntime
import Logging

/// The one place that chooses where bots run (FTA_RUNTIME): Docker through the socket proxy, the
/// default; or ECS/Fargate in the FTA_AWS_* account, with credentials from AWS's standard chain.
func makeRuntime(_ configuration: PortalConfiguration, logger: Logger) throws -> any BotRuntime {
    if configuration.runtime == .fargate, let aws = configuration.aws {
        return FargateBotRuntime(
            aws: AWSClient(settings: AWSSettings(region: aws.region, endpoint: aws.endpoint), credentials: AWSCredentialChain(), logger: logger),
            options: .init(cluster: aws.cluster, vpcID: aws.vpc, subnets: aws.subnets, fileSystemID: aws.fileSystem,
                           executionRoleARN: aws.executionRoleARN, portalSecurityGroup: aws.portalSecurityGroup,
                           storageSecurityGroup: aws.storageSecurityGroup, assignPublicIP: aws.publicIP,
                           logRetentionDays: aws.logRetentionDays, image: configuration.botImage),
            logger: logger
        )
    }
    return try DockerBotRuntime(
        proxyURL: configuration.dockerURL,
        options: .init(image: configuration.botImage, engineSocket: configuration.engineSocket, botSwap: configuration.botSwap,
                       botDiskMB: configuration.botDiskMB,
                       // A data set gets the lab's whole cap where the store enforces volume caps.
                       dataDiskMB: configuration.botDiskMB == nil ? nil : min(configuration.lab.dataCapMB, 8192)),
        logger: logger
    )
}
