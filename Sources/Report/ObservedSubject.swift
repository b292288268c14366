import Agreement

/// What a vantage saw, whatever the subject: encoded as the subject's own object (so an image
/// report reads `"observed": {"topDigest": …}`), decoded by the keys that object has.
public enum ObservedSubject: Codable, Sendable, Equatable {
    case image(ObservedImage)
    case file(ObservedFile)
    case bottle(ObservedBottle)

    private enum Probe: String, CodingKey { case topDigest, formula, url }

    public init(from decoder: any Decoder) throws {
        let probe = try decoder.container(keyedBy: Probe.self)
        if probe.contains(.topDigest) {
            self = .image(try ObservedImage(from: decoder))
        } else if probe.contains(.formula) {
            self = .bottle(try ObservedBottle(from: decoder))
        } else if probe.contains(.url) {
            self = .file(try ObservedFile(from: decoder))
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an observed image, file or bottle"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .image(let image): try image.encode(to: encoder)
        case .file(let file): try file.encode(to: encoder)
        case .bottle(let bottle): try bottle.encode(to: encoder)
        }
    }

    public var image: ObservedImage? {
        get {
            if case .image(let image) = self { return image }
            return nil
        }
        set {
            if let newValue { self = .image(newValue) }
        }
    }

    public var file: ObservedFile? {
        if case .file(let file) = self { return file }
        return nil
    }

    public var bottle: ObservedBottle? {
        if case .bottle(let bottle) = self { return bottle }
        return nil
    }
}
