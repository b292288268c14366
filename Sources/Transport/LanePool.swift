/// Hands out up to `capacity` lanes, each to one transfer at a time; later callers wait in order.
actor LanePool {
    private let capacity: Int
    private let labelPrefix: String
    private var idle: [CurlLane] = []
    private var created = 0
    private var waiters: [CheckedContinuation<CurlLane, Never>] = []

    init(capacity: Int, labelPrefix: String) {
        self.capacity = max(1, capacity)
        self.labelPrefix = labelPrefix
    }

    func acquire() async throws -> CurlLane {
        if let lane = idle.popLast() {
            return lane
        }
        if created < capacity {
            created += 1
            do {
                return try CurlLane(label: "\(labelPrefix).lane\(created)")
            } catch {
                created -= 1
                throw error
            }
        }
        return await withCheckedContinuation { waiters.append($0) }
    }

    func release(_ lane: CurlLane) {
        if waiters.isEmpty {
            idle.append(lane)
        } else {
            waiters.removeFirst().resume(returning: lane)
        }
    }
}
