/// Something vantages observe and compare: an image, a file, a bottle. Each kind says which
/// items are compared, in a stable order; `Agreement` needs nothing else.
public protocol Observable: Sendable, Equatable, Codable {
    /// The compared items as (item name, value) pairs.
    var comparedItems: [(item: String, value: String)] { get }
}

extension ObservedImage: Observable {}
