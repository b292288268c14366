import Foundation
import Transport

/// Tuning knobs for every direct and proxy vantage's transfers, read from the environment:
/// `THREETOFU_LOW_SPEED_LIMIT` (bytes per second, default 1024) and `THREETOFU_LOW_SPEED_TIME`
/// (seconds, default 30): a transfer slower than the limit for that long is abandoned (and
/// retried, resuming a blob where it stopped).
enum TransportTuning {
    static let lowSpeedLimitVariable = "THREETOFU_LOW_SPEED_LIMIT"
    static let lowSpeedTimeVariable = "THREETOFU_LOW_SPEED_TIME"

    static func apply(_ environment: [String: String], to configuration: inout TransportConfiguration) throws {
        if let limit = try value(lowSpeedLimitVariable, environment, minimum: 0) {
            configuration.lowSpeedLimit = limit
        }
        if let time = try value(lowSpeedTimeVariable, environment, minimum: 1) {
            configuration.lowSpeedTime = time
        }
    }

    /// `THREETOFU_LOW_SPEED_TIME` as a duration (30 s when unset or not a whole number; `apply`
    /// refuses a bad value before any transfer).
    static func stallLimit(_ environment: [String: String]) -> Duration {
        .seconds((try? value(lowSpeedTimeVariable, environment, minimum: 1)).flatMap { $0 } ?? 30)
    }

    private static func value(_ name: String, _ environment: [String: String], minimum: Int) throws -> Int? {
        guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        guard let number = Int(text), number >= minimum, number <= 86_400 * 1024 else {
            throw CoordinatorError(.badInput, "$\(name) is '\(text.prefix(40))'; it must be a whole number from \(minimum) (unset it to use the default)")
        }
        return number
    }
}
