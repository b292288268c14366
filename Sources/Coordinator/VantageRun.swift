import Agreement
import Configuration
import Foundation
import Registry
import Report

/// One vantage's part in a run: what it resolved, or why it failed.
public struct VantageRun: Sendable {
    public var spec: VantageSpec
    public var route: String
    public var resolution: ImageResolution?
    public var failure: VantageFailure?
    public var seconds: Double
    /// With every-vantage blob verification: SHA-256 of each layer as this vantage received it.
    public var layersReceived: [String]?

    public init(spec: VantageSpec, route: String, resolution: ImageResolution?, failure: VantageFailure?, seconds: Double) {
        self.spec = spec
        self.route = route
        self.resolution = resolution
        self.failure = failure
        self.seconds = seconds
    }

    /// What `Agreement` is given for this vantage.
    public var observation: Observation<ObservedImage> {
        guard let resolution else {
            let message = failure?.message ?? "no answer"
            let outcome: Observation<ObservedImage>.Outcome = failure?.isTampering == true ? .tampered(message) : .failed(message)
            return Observation(vantage: spec.name, kind: spec.kind.rawValue, route: route, outcome: outcome)
        }
        let image = ObservedImage(
            topDigest: resolution.top.digest.string,
            topMediaType: resolution.top.mediaType,
            platformManifestDigest: resolution.platformManifest?.digest.string,
            configDigest: resolution.manifest.config.digest.string,
            layers: resolution.manifest.layers.map { ObservedImage.Layer(digest: $0.digest.string, size: $0.size) },
            configReceived: resolution.config.map { "sha256:" + $0.sha256 },
            layersReceived: layersReceived)
        return Observation(vantage: spec.name, kind: spec.kind.rawValue, route: route, outcome: .observed(image))
    }

    /// How the top manifest reached this vantage.
    public var evidence: AgreementReport.Evidence? { resolution.map { ReportBuilder.evidence($0.top) } ?? failure?.evidence }
}

extension VantageRun: VantageOutcome {}

/// Why a vantage gave no observation, and whether it is the request's fault (exit 2) or the route's (exit 3).
public struct VantageFailure: Error, Sendable, Equatable {
    public var message: String
    public var isBadInput: Bool
    /// The route delivered bytes that do not match the digest they were asked for.
    public var isTampering: Bool
    /// What the vantage saw before it failed (where it connected, the certificate it was shown,
    /// how far it got), for the report.
    public var evidence: AgreementReport.Evidence?

    public init(message: String, isBadInput: Bool, isTampering: Bool = false, evidence: AgreementReport.Evidence? = nil) {
        self.message = message
        self.isBadInput = isBadInput
        self.isTampering = isTampering
        self.evidence = evidence
    }
}
