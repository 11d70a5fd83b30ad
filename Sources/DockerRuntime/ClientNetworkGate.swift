/// One client's network changes at a time, within this process.
///
/// Docker's check that a network name is free is not atomic: two launches of the same client's
/// bots that both find no network both create one, and Docker then holds two networks of one
/// name and refuses every later request that names it ("network … is ambiguous"). The gate
/// also keeps a removal from deleting the network between a launch's check and its container's
/// creation. fta is the only process that creates bots' networks, so a lock in the process is
/// enough.
actor ClientNetworkGate {
    static let shared = ClientNetworkGate()

    /// Waiters per client, in arrival order; a key is present while someone holds it.
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    func enter(_ key: String) async {
        guard waiting[key] != nil else {
            waiting[key] = []
            return
        }
        await withCheckedContinuation { waiting[key, default: []].append($0) }
    }

    func leave(_ key: String) {
        guard var queue = waiting[key], !queue.isEmpty else {
            waiting[key] = nil
            return
        }
        // The key stays held: it passes straight to the next waiter.
        let next = queue.removeFirst()
        waiting[key] = queue
        next.resume()
    }
}
