import CCurl
import Foundation

/// The libcurl conformance of `HTTPTransport`: one route (direct or one proxy), explicit libcurl
/// settings for every transfer, bodies streamed and hashed with SHA-256 as they arrive.
///
/// Ambient `http_proxy`/`HTTPS_PROXY`/`NO_PROXY` variables never change the route. Redirects are
/// not followed. Up to `maxParallelTransfers` transfers run at once, each on its own easy handle
/// and serial queue; blocking libcurl calls never run on the cooperative thread pool.
/// `evidence.remoteIP` is the address libcurl connected to — the proxy's when a proxy is used.
public final class CurlTransport: HTTPTransport, Sendable {
    public let configuration: TransportConfiguration
    private let settings: CurlSettings
    private let pool: LanePool

    /// Validates `configuration` and loads the CA bundle; throws a `TransportError` of kind `.configuration`.
    public init(configuration: TransportConfiguration) throws {
        try CurlGlobal.ensureInitialised()
        try configuration.validate()
        let caBundle = try configuration.extraCACertificatesPath.map { try CABundle.load(extraPath: $0) }
        self.configuration = configuration
        self.settings = CurlSettings(configuration: configuration, caBundle: caBundle)
        self.pool = LanePool(capacity: configuration.maxParallelTransfers, labelPrefix: "3tofu.curl")
    }

    public var route: String { configuration.route }

    public func perform(_ request: HTTPRequest, into destination: BodyDestination) async throws -> HTTPResponse {
        try RequestValidation.check(request)
        try Task.checkCancellation()
        let lane = try await pool.acquire()
        if Task.isCancelled {
            await pool.release(lane)
            throw CancellationError()
        }
        let settings = self.settings
        let cancellation = CancellationFlag()
        let progress = TransferProgress.current
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<HTTPResponse, any Error>, Never>) in
                lane.queue.async {
                    continuation.resume(returning: lane.perform(
                        request, into: destination, settings: settings, cancellation: cancellation, progress: progress))
                }
            }
        } onCancel: {
            cancellation.cancel()
            lane.interrupt()
        }
        await pool.release(lane)
        return try result.get()
    }
}
