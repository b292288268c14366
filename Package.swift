// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "3tofu",
    // Linux only: the transports use Linux socket options (TCP_QUICKACK, SO_RCVLOWAT), Glibc and
    // Debian's libcurl and libssh2. No Apple platform is claimed.
    products: [
        .executable(name: "3tofu", targets: ["3tofu"]),
        .library(name: "ThreeTofu", targets: ["Commands"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        // The observation history (SQLite, Debian's libsqlite3-dev).
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        // System libraries: Debian's -dev packages provide headers and pkg-config files.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CSSH2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"])]
        ),

        // O_DIRECT's value from the C headers (Swift's Glibc does not export it).
        .target(name: "CDirectIO"),
        // Streaming file I/O in aligned buffers, with O_DIRECT where the file system takes it.
        .target(name: "DirectIO", dependencies: ["CDirectIO"]),

        // Pure values: references, digests, media types, manifests, platforms, challenges. No I/O.
        .target(name: "OCI"),
        // HTTP exchanges: the protocol every vantage speaks and the libcurl conformance.
        .target(
            name: "Transport",
            dependencies: ["CCurl", "DirectIO", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // SSH vantages: a libssh2 session (strict known_hosts) and HTTP exchanges run by curl on the remote.
        .target(
            name: "Remote",
            dependencies: ["CSSH2", "Transport", "DirectIO", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Distribution-spec client over any HTTPTransport.
        .target(
            name: "Registry",
            dependencies: ["OCI", "Transport", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Pure: observations, comparison, verdict.
        .target(name: "Agreement", dependencies: ["OCI"]),
        // Content store and output writers.
        .target(
            name: "Artifacts",
            dependencies: ["OCI", "DirectIO", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Vantages file (TOML) into validated values.
        .target(name: "Configuration", dependencies: ["TOMLKit", "Agreement", .product(name: "Crypto", package: "swift-crypto")]),
        // The agreement report: model, JSON, rendering.
        .target(name: "Report", dependencies: ["Agreement", "OCI", .product(name: "Crypto", package: "swift-crypto")]),
        // The observation history: every run's observations in SQLite, for the time rules, `history` and `watch`.
        .target(name: "History", dependencies: ["Agreement", "Report", .product(name: "GRDB", package: "GRDB.swift")]),
        // Runs the vantages, asks Agreement, lets Artifacts write, builds the report.
        .target(
            name: "Coordinator",
            dependencies: ["OCI", "DirectIO", "Transport", "Remote", "Registry", "Agreement", "Artifacts", "Configuration", "Report"]
        ),
        // The version and the commit built from, for `3tofu --version` (BuildCommit runs on every build).
        .target(name: "BuildInfo", plugins: ["BuildCommit"]),
        .plugin(name: "BuildCommit", capability: .buildTool()),
        .target(
            name: "Commands",
            dependencies: [
                "BuildInfo", "Coordinator", "Configuration", "OCI", "Artifacts", "Report", "Agreement", "Registry", "Remote", "History",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "3tofu", dependencies: ["Commands"]),

        // Fixtures for every test target: real servers on loopback, images, and a scripted transport.
        .target(
            name: "TestSupport",
            dependencies: ["OCI", "Transport", .product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "OCITests", dependencies: ["OCI"]),
        .testTarget(name: "DirectIOTests", dependencies: ["DirectIO"]),
        .testTarget(name: "TransportTests", dependencies: ["Transport", "TestSupport"]),
        .testTarget(name: "RemoteTests", dependencies: ["Remote", "Transport", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "Transport", "OCI", "TestSupport"]),
        .testTarget(name: "AgreementTests", dependencies: ["Agreement", "OCI"]),
        .testTarget(name: "ArtifactsTests", dependencies: ["Artifacts", "OCI", "TestSupport"]),
        .testTarget(name: "ConfigurationTests", dependencies: ["Configuration", "Agreement"]),
        .testTarget(name: "HistoryTests", dependencies: ["History", "Agreement", "Report"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Agreement", "TestSupport"]),
        .testTarget(
            name: "CoordinatorTests",
            dependencies: ["Coordinator", "Agreement", "Artifacts", "Configuration", "OCI", "Registry", "Report", "Transport", "TestSupport"]
        ),
        .testTarget(
            name: "CommandsTests",
            dependencies: [
                "Commands", "Coordinator", "Agreement", "Artifacts", "Configuration", "DirectIO", "OCI", "Registry", "Remote", "Report", "Transport",
            ]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Commands", "Coordinator", "Configuration", "OCI", "Report", "History", "TestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
