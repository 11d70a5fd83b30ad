import DockerRuntime
import FTAPortal
import FTARuntime
import Logging

/// The one place that chooses where bots run. Docker, through the socket proxy, is the only
/// runtime today; a second one (ECS/Fargate) is chosen here from the configuration too.
func makeRuntime(_ configuration: PortalConfiguration, logger: Logger) throws -> any BotRuntime {
    try DockerBotRuntime(
        proxyURL: configuration.dockerURL,
        options: .init(image: configuration.botImage, engineSocket: configuration.engineSocket, botSwap: configuration.botSwap,
                       botDiskMB: configuration.botDiskMB,
                       // A data set gets the lab's whole cap where the store enforces volume caps.
                       dataDiskMB: configuration.botDiskMB == nil ? nil : min(configuration.lab.dataCapMB, 8192)),
        logger: logger
    )
}
