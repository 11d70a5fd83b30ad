import FTACore
import FTARuntime
import FTAStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The parts `buildApplication` wires together. The runtime comes from the caller: the `fta`
/// executable chooses it from the configuration, tests bring a fake or the real Docker one.
public struct PortalServices: Sendable {
    public let configuration: PortalConfiguration
    public let database: AppDatabase
    public let runtime: any BotRuntime
    public let lifecycle: BotLifecycle
    public let reconciler: Reconciler
    public let bridge: FreqtradeBridge
    /// The bots' data, fetched once for every page that watches (BotDataHub).
    public let hub: BotDataHub
    /// The open pages' live streams (LiveHub).
    public let live: LiveHub
    let summaries: BotSummaries
    public let audit: AuditTrail
    public let sessions: SessionManager
    public let hasher: PasswordHasher
    public let accounts: AccountService
    public let throttle: LoginThrottle
    public let admission: Admission
    public let doctor: Doctor
    public let lockdown: Lockdown
    public let metrics: PortalMetrics
    /// The strategy lab: validations, market data and backtests, one job at a time.
    public let lab: StrategyLab
    /// The API description file, read once here: a file changed later is served from the next start.
    public let apiDescription: APIDescription
    public let logger: Logger

    /// Builds every service from the configuration, in dependency order.
    /// `labRuntime`: where lab jobs run when not on `runtime` itself (tests bring a scripted one).
    public init(configuration: PortalConfiguration, database: AppDatabase, runtime: any BotRuntime, logger: Logger,
                labRuntime: (any LabJobRuntime)? = nil) throws {
        guard let secretBox = configuration.secretBox else {
            throw ConfigurationError(variable: "FTA_SECRET_KEY", problem: "must be 64 hex characters (32 bytes)")
        }
        self.configuration = configuration
        self.database = database
        self.logger = logger
        self.runtime = runtime
        metrics = PortalMetrics()
        admission = Admission(policy: configuration.memoryPolicy, defaultMaxBots: configuration.maxBotsPerClient,
                              gauge: MemoryGauge(runtime: runtime, logger: logger))
        audit = AuditTrail(database: database, logger: logger)
        lifecycle = BotLifecycle(database: database, runtime: self.runtime, secretBox: secretBox, admission: admission,
                                 image: configuration.botImage, exchangeOverride: configuration.exchangeOverride,
                                 allowTestStrategies: configuration.allowTestStrategies, metrics: metrics, logger: logger)
        bridge = FreqtradeBridge(lifecycle: lifecycle, audit: audit, logger: logger, metrics: metrics)
        hub = BotDataHub(bridge: bridge)
        live = LiveHub()
        summaries = BotSummaries(database: database, hub: hub)
        reconciler = Reconciler(database: database, runtime: self.runtime, lifecycle: lifecycle, audit: audit, bridge: bridge, logger: logger)
        // One clock for sessions and lockouts, never behind the newest session activity on disk.
        let clock = PortalClock(floor: try database.newestSessionActivity())
        sessions = SessionManager(database: database, configuration: configuration, clock: clock)
        hasher = PasswordHasher(cost: configuration.bcryptCost)
        accounts = AccountService(database: database, hasher: hasher, audit: audit)
        throttle = LoginThrottle(maxFailures: configuration.loginMaxFailures, window: configuration.loginWindow, lockout: configuration.loginLockout,
                                 metrics: metrics, clock: clock)
        doctor = Doctor(configuration: configuration, runtime: runtime, database: database, lifecycle: lifecycle, bridge: bridge)
        lockdown = Lockdown(database: database, lifecycle: lifecycle, audit: audit, logger: logger)
        // The lab runs its jobs on the bots' runtime when that runtime can run jobs; without, its
        // endpoints answer that the runtime is unavailable.
        lab = StrategyLab(database: database, runtime: labRuntime ?? runtime as? any LabJobRuntime, lifecycle: lifecycle, admission: admission, audit: audit,
                          bridge: bridge, image: configuration.botImage, exchangeOverride: configuration.exchangeOverride,
                          settings: configuration.lab, logger: logger)
        apiDescription = APIDescription.load(webRoot: configuration.webRoot)
    }
}

/// The portal's router: static files, middleware, and the API under `/api/v1`.
public func buildRouter(_ services: PortalServices) -> Router<PortalContext> {
    let configuration = services.configuration
    let router = Router(context: PortalContext.self)
    router.add(middleware: RequestMetricsMiddleware(metrics: services.metrics))
    router.add(middleware: ResponseHardeningMiddleware(notFoundPage: configuration.webRoot + "/404.html"))
    router.add(middleware: ClientAddressMiddleware())
    // Static pages of web/: only GET/HEAD, no directory listing, ".." refused, index.html for "/",
    // and nothing under /api/ (web/api/openapi.json is served by the API only).
    router.add(middleware: StaticFilesMiddleware(webRoot: configuration.webRoot, logger: services.logger))

    router.addRoutes(MetricsController(services: services).endpoints)
    router.addRoutes(VendorController(directory: configuration.chartLibraryDirectory).endpoints)

    let api = router.group("api/v1")
        .add(middleware: CSRFMiddleware(allowedOrigins: Set([configuration.publicOrigin].compactMap { $0 }), audit: services.audit))
        .add(middleware: SessionMiddleware(sessions: services.sessions))
    api.addRoutes(SystemController(database: services.database, runtime: services.runtime, doctor: services.doctor, admission: services.admission).endpoints)
    api.addRoutes(OpenAPIController(document: services.apiDescription).endpoints)
    api.addRoutes(AuthController(database: services.database, sessions: services.sessions, hasher: services.hasher,
                                 throttle: services.throttle, audit: services.audit, admission: services.admission).endpoints)
    api.addRoutes(CatalogController(allowTestStrategies: configuration.allowTestStrategies).endpoints)
    api.addRoutes(ClientsController(database: services.database, accounts: services.accounts, hasher: services.hasher, audit: services.audit, admission: services.admission).endpoints)
    api.addRoutes(BotsController(database: services.database, lifecycle: services.lifecycle, bridge: services.bridge, hub: services.hub,
                                 audit: services.audit, allowTestStrategies: configuration.allowTestStrategies).endpoints)
    api.addRoutes(LabController(database: services.database, lab: services.lab, lifecycle: services.lifecycle, audit: services.audit,
                                allowTestStrategies: configuration.allowTestStrategies).endpoints)
    api.addRoutes(DashboardController(database: services.database, summaries: services.summaries, live: services.live, audit: services.audit).endpoints)
    api.addRoutes(AuditController(database: services.database).endpoints)
    return router
}

/// Builds `fta serve`: logger → database → services → router → `Application`, with the
/// reconciler and the session cleanup as services that stop on graceful shutdown.
public func buildApplication(_ configuration: PortalConfiguration, runtime: any BotRuntime, logger: Logger) throws -> some ApplicationProtocol {
    let database = try AppDatabase.open(path: configuration.databasePath)
    let services = try PortalServices(configuration: configuration, database: database, runtime: runtime, logger: logger)
    if case .unavailable(let reason) = services.apiDescription {
        logger.error("the API description cannot be served: /api/v1/openapi.json answers 503", metadata: ["reason": "\(reason)"])
    }
    var app = Application(
        router: buildRouter(services),
        configuration: .init(address: .hostname(configuration.listenAddress, port: configuration.port), serverName: nil),
        logger: logger
    )
    app.addServices(
        ReconcilerService(reconciler: services.reconciler, interval: .seconds(Int64(configuration.reconcileInterval)), metrics: services.metrics, logger: logger),
        SessionCleanupService(database: database, throttle: services.throttle, idleTimeout: configuration.sessionIdleTimeout,
                              clock: services.sessions.clock, logger: logger),
        StartupMemoryReleaseService(logger: logger),
        LiveService(hub: services.live, summaries: services.summaries, interval: .seconds(5), logger: logger),
        BotEventFeed(database: database, lifecycle: services.lifecycle, bridge: services.bridge, live: services.live, logger: logger),
        AlertService(services: services, logger: logger),
        StrategyLabService(lab: services.lab),
        AuditRetentionService(retention: AuditRetention(database: database, days: configuration.auditRetentionDays,
                                                        directory: configuration.auditArchiveDirectory),
                              audit: services.audit, logger: logger)
    )
    return app
}
