import Artifacts
import Configuration
import DirectIO
import OCI
import Registry
import Remote
import Report
import Transport

/// The one mapping from the package's errors to what they mean for a run (the outcomes of
/// DESIGN.md): `Commands` turns its kind into the exit code (`ToolFailure(error)`), and a
/// vantage's failure (`VantageFailure`) is the same type, so a vantage and a whole run that fail
/// the same way end the same way.
extension CoordinatorError {
    /// Every error type of the package, and anything else (a route's failure).
    public init(_ error: any Error) {
        self.init(mapping: error)
        // What a vantage saw before it failed goes into its report entry.
        evidence = evidence ?? FailureEvidence.of(error)
    }

    private init(mapping error: any Error) {
        switch error {
        case let error as CoordinatorError:
            self = error
        case let error as ConfigurationError:
            self.init(.badInput, error.description)
        case let error as OCIError:
            self.init(.badInput, error.message)
        case let error as RegistryError:
            self.init(error.kind == .digestMismatch ? .tampering : error.isBadInput ? .badInput : .notMet, error.message)
        case let error as TransportError:
            // Settings that cannot work are the request's fault; a route that fails is not.
            self.init(error.kind == .configuration ? .badInput : .notMet, error.description)
        case let error as SSHError:
            // A vantage whose settings cannot work (an identity file that cannot be read) is the
            // vantages file's fault; a host that cannot be reached, refuses or breaks is the route's.
            self.init(error.kind == .configuration ? .badInput : .notMet, error.message)
        case let error as ArtifactsError:
            self.init(Self.kind(of: error.code), error.message)
        case let error as ReportError:
            self.init(.badInput, error.message)
        case let error as DirectIOError:
            self.init(.notMet, "file input/output failed: \(error.description)")
        case is CancellationError:
            self.init(.notMet, "cancelled")
        default:
            self.init(.notMet, String(describing: error))
        }
    }

    /// An output, path or cache that cannot be used is the request's fault; bytes or I/O failing are not.
    private static func kind(of code: ArtifactsError.Code) -> Kind {
        let requestsFault: [ArtifactsError.Code] = [.outputExists, .notRegularFile, .invalidName, .unsafeCache, .unsupported]
        return requestsFault.contains(code) ? .badInput : .notMet
    }
}
