extension TransportEvidence {
    /// The rate-limit fields of a response as evidence keeps them: `RateLimit-*`, `X-RateLimit-*`
    /// and Docker Hub's `Docker-RateLimit-Source`, names lowercased, values as sent (the last of a
    /// repeated field). For every transport. Pure.
    public static func rateLimitFields(in headers: HTTPHeaders) -> [String: String] {
        var fields: [String: String] = [:]
        for field in headers.fields {
            let name = field.name.lowercased()
            if name.hasPrefix("ratelimit-") || name.hasPrefix("x-ratelimit-") || name == "docker-ratelimit-source" {
                fields[name] = field.value
            }
        }
        return fields
    }
}
