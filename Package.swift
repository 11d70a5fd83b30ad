// swift-tools-version:6.1
import PackageDescription

// Every library target is in Swift 6 language mode (strict concurrency); the upcoming
// features keep imports and existentials explicit, as the Hummingbird packages do.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "fta",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "fta", targets: ["fta"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // libcurl from the system (libcurl4-openssl-dev), with typed shims for its variadic setopt.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // Pure domain: ids, validation, bot spec, freqtrade config rendering. No I/O.
        .target(
            name: "FTACore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // SQLite through GRDB: migrations, records, queries, backups.
        .target(
            name: "FTAStore",
            dependencies: [
                "FTACore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // The general HTTP client over libcurl, off the event loop: the Docker Engine client and
        // the bridge to each bot's Freqtrade API both speak through it.
        .target(
            name: "FTAHTTP",
            dependencies: [
                "CCurl",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Docker Engine API client (unix socket or HTTP through the socket proxy): typed models, errors.
        .target(
            name: "DockerEngine",
            dependencies: [
                "FTAHTTP",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The runtime-neutral seam: where bots run, in words no backend owns (phase, errors, self-check).
        .target(
            name: "FTARuntime",
            dependencies: ["FTACore"],
            swiftSettings: swiftSettings
        ),
        // The Docker runtime: the hardened container spec and its checks, through DockerEngine.
        .target(
            name: "DockerRuntime",
            dependencies: [
                "FTACore",
                "FTARuntime",
                "DockerEngine",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The ECS/Fargate runtime: one task per bot from the Docker spec's hardened facts, AWS
        // calls signed with SigV4 over fta's own HTTP client.
        .target(
            name: "FargateRuntime",
            dependencies: [
                "FTACore",
                "FTARuntime",
                "FTAHTTP",
                // The task definition is translated from the Docker spec, so the two cannot drift.
                "DockerRuntime",
                "DockerEngine",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Hummingbird application: configuration, controllers, auth, bot lifecycle, services.
        .target(
            name: "FTAPortal",
            dependencies: [
                "FTACore",
                "FTAStore",
                "FTARuntime",
                "FTAHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                // The client side only: the portal subscribes to each bot's message websocket.
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // The thin executable: parses arguments, calls the libraries, and chooses the runtime.
        .executableTarget(
            name: "fta",
            dependencies: [
                "FTAPortal",
                "FTARuntime",
                "DockerRuntime",
                "FargateRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // What scripts/test hands the tests (engine and proxy addresses, images), read in one place.
        .target(name: "FTATestSupport", path: "Tests/FTATestSupport", swiftSettings: swiftSettings),
        // An in-memory runtime that keeps the BotRuntime contract, for tests that need bots, not an engine.
        .target(name: "FTARuntimeTesting", dependencies: ["FTACore", "FTARuntime"], path: "Tests/FTARuntimeTesting", swiftSettings: swiftSettings),
        .testTarget(name: "FTACoreTests", dependencies: ["FTACore", "FTATestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "FTAStoreTests", dependencies: ["FTAStore"], swiftSettings: swiftSettings),
        .testTarget(name: "DockerEngineTests", dependencies: ["DockerEngine", "FTAHTTP", "FTATestSupport"], swiftSettings: swiftSettings),
        // One contract, run against every runtime: the in-memory fake, the real Docker engine, and Fargate against moto.
        .testTarget(
            name: "FTARuntimeTests",
            dependencies: ["FTACore", "FTARuntime", "FTARuntimeTesting", "DockerRuntime", "DockerEngine", "FargateRuntime", "FTATestSupport"],
            swiftSettings: swiftSettings
        ),
        // SigV4 against AWS's published vectors, and the task definition against the Docker spec.
        .testTarget(
            name: "FargateRuntimeTests",
            dependencies: ["FargateRuntime", "FTARuntime", "FTACore", "DockerRuntime", "DockerEngine", "FTATestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FTAPortalTests",
            dependencies: [
                "FTAPortal",
                "FTARuntime",
                "FTARuntimeTesting",
                "DockerRuntime",
                "FTAHTTP",
                "FTATestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
