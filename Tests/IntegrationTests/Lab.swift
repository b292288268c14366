import Foundation
import TestSupport

/// A registry and the proxies for three vantages (direct, tinyproxy, microsocks with socks5h),
/// all on loopback, plus a scratch home for the 3tofu process.
final class Lab: Sendable {
    let registry: RegistryServer
    let httpProxy: TinyProxy
    let socksProxy: MicroSocks
    let home: TemporaryDirectory

    init(_ options: [RegistryServer.Option] = [.plainHTTP]) async throws {
        registry = try await RegistryServer(options)
        httpProxy = try await TinyProxy()
        socksProxy = try await MicroSocks()
        home = try TemporaryDirectory(prefix: "home")
        if let credentials = registry.credentials {
            let auth = Data("\(credentials.user):\(credentials.password)".utf8).base64EncodedString()
            try FileManager.default.createDirectory(atPath: home.file(".docker"), withIntermediateDirectories: true)
            try #"{"auths": {"\#(registry.host)": {"auth": "\#(auth)"}}}"#.write(toFile: home.file(".docker/config.json"), atomically: true, encoding: .utf8)
        }
    }

    /// Writes a vantages file with the three standard vantages plus `extra` TOML, returns its path.
    func vantagesFile(extra: String = "", includeStandard: Bool = true) throws -> String {
        var text = ""
        if includeStandard {
            text += """
                [[vantage]]
                name = "direct"
                kind = "local"

                [[vantage]]
                name = "http-proxy"
                kind = "proxy"
                proxy = "\(httpProxy.url)"

                [[vantage]]
                name = "socks"
                kind = "proxy"
                proxy = "\(socksProxy.url(h: true))"

                """
        }
        text += extra
        let path = home.file("vantages-\(UUID().uuidString.prefix(8)).toml")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Options every pull against this lab needs: the vantages, and how to trust the registry.
    func registryOptions() throws -> [String] {
        if let ca = registry.ca {
            return ["--ca-cert", ca.caCertPath]
        }
        return ["--insecure-registry", registry.host]
    }

    func run(
        _ arguments: [String], environment: [String: String] = [:], workingDirectory: String? = nil, timeout: Duration = .seconds(600), stdin: Data? = nil
    ) throws -> ThreeTofuCLI.Result {
        try ThreeTofuCLI.run(arguments, environment: environment, home: home.path, workingDirectory: workingDirectory, timeout: timeout, stdin: stdin)
    }

    func push(_ layout: TestImageLayout, _ repository: String, tag: String) throws -> TestImage.Pushed {
        try TestImage.push(layout, to: registry, repository: repository, tag: tag)
    }

    /// `gzipLevel` 0 stores the layer data uncompressed inside gzip: the fast way to make gigabytes.
    func makeImage(layers: [Int], mediaTypes: TestImage.MediaTypes = .oci, platforms: TestImage.Platforms = .single(.linuxAMD64), seed: Int = 1, content: TestImage.Content = .compressible, gzipLevel: Int = 6) throws -> TestImageLayout {
        try TestImage.make(in: home.file("layout-\(UUID().uuidString.prefix(8))"), layers: layers, content: content, mediaTypes: mediaTypes, platforms: platforms, seed: seed, gzipLevel: gzipLevel)
    }

    func stop() {
        registry.stop()
        httpProxy.stop()
        socksProxy.stop()
    }

    deinit { stop() }
}

/// Files in `directory` whose names start with "." and contain "3tofu-tmp": leftovers of an unfinished write.
func temporaryLeftovers(in directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.contains("3tofu-tmp") }
}

/// Members `blobs/sha256/<hex>` of the tar at `path` whose bytes do not hash to `<hex>`, read by
/// Python's tarfile (not by our own tar code). Empty when every blob is what its name says.
func archiveBlobsMatchTheirNames(_ path: String) throws -> [String] {
    let script = """
        import hashlib, sys, tarfile
        bad = []
        with tarfile.open(sys.argv[1]) as archive:
            blobs = [m for m in archive.getmembers() if m.isfile() and m.name.startswith("blobs/sha256/")]
            if not blobs:
                bad.append("no blobs at all")
            for member in blobs:
                digest = hashlib.sha256()
                with archive.extractfile(member) as data:
                    for chunk in iter(lambda: data.read(1 << 20), b""):
                        digest.update(chunk)
                if digest.hexdigest() != member.name.rsplit("/", 1)[1]:
                    bad.append(member.name)
        print("\\n".join(bad))
        """
    let result = try Shell.run(["python3", "-c", script, path])
    guard result.status == 0 else { throw FixtureError("python3 could not read \(path) as a tar: \(result.stderr)") }
    return result.stdout.split(separator: "\n").map(String.init)
}
