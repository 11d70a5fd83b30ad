import FTACore
import Hummingbird

/// `GET /catalog`: the choices a bot can be made of, for the create form.
struct CatalogController {
    let allowTestStrategies: Bool

    var endpoints: RouteCollection<PortalContext> {
        let routes = RouteCollection(context: PortalContext.self)
        routes.get("catalog", use: catalog)
        return routes
    }

    struct Strategy: Codable { var id, name, description: String }
    struct Size: Codable {
        var id: String
        var memoryMB: Int
        var cpus: Double
    }
    struct Limits: Codable { var maxPairs: Int }
    struct Catalog: ResponseCodable {
        var exchanges: [String]
        var strategies: [Strategy]
        var timeframes: [String]
        var sizes: [Size]
        var stakeCurrencies: [String]
        var limits: Limits
    }

    @Sendable func catalog(_ request: Request, context: PortalContext) async throws -> Catalog {
        _ = try context.requireUser()
        return Catalog(
            exchanges: BotCatalog.exchanges,
            strategies: ShippedStrategy.offered(allowTestStrategies: allowTestStrategies).map {
                Strategy(id: $0.rawValue, name: $0.displayName, description: $0.summary)
            },
            timeframes: BotCatalog.timeframes,
            sizes: BotSize.allCases.map { Size(id: $0.rawValue, memoryMB: $0.memoryMB, cpus: $0.cpus) },
            stakeCurrencies: BotCatalog.stakeCurrencies,
            limits: Limits(maxPairs: BotCatalog.maxPairs)
        )
    }
}
