import Foundation

/// Limits login attempts per client IP and per account: every failure inside the window adds a
/// growing delay, and reaching the limit locks that key out for a while (429 + Retry-After).
///
/// In memory on purpose: one portal process, and a restart forgetting counts is acceptable;
/// nginx's `limit_req` on the login path is the first line in front of this.
public actor LoginThrottle {
    let maxFailures: Int
    let window: TimeInterval
    let lockout: TimeInterval
    private var failures: [String: [Date]] = [:]
    private var lockedUntil: [String: Date] = [:]
    let metrics: PortalMetrics?
    /// Lockouts count real elapsed time: setting the clock back does not lengthen one.
    let clock: PortalClock

    public init(maxFailures: Int, window: TimeInterval, lockout: TimeInterval, metrics: PortalMetrics? = nil, clock: PortalClock = PortalClock()) {
        self.clock = clock
        self.maxFailures = maxFailures
        self.window = window
        self.lockout = lockout
        self.metrics = metrics
    }

    /// Seconds until the first of `keys` that is locked out is free again, or nil when none is.
    public func lockedFor(_ keys: [String], now: Date? = nil) -> Int? {
        let now = now ?? clock.now()
        let waits = keys.compactMap { key -> TimeInterval? in
            guard let until = lockedUntil[key] else { return nil }
            if until <= now {
                lockedUntil[key] = nil
                failures[key] = nil
                return nil
            }
            return until.timeIntervalSince(now)
        }
        return waits.max().map { Int($0.rounded(.up)) }
    }

    /// Records a failure for each key; returns the delay to wait before answering.
    public func recordFailure(_ keys: [String], now: Date? = nil) -> Duration {
        let now = now ?? clock.now()
        var worst = 0
        var lockedOut = 0
        for key in keys {
            var recent = failures[key, default: []].filter { now.timeIntervalSince($0) < window }
            recent.append(now)
            failures[key] = recent
            worst = max(worst, recent.count)
            if recent.count >= maxFailures {
                if (lockedUntil[key] ?? .distantPast) <= now { lockedOut += 1 }
                lockedUntil[key] = now.addingTimeInterval(lockout)
            }
        }
        metrics?.loginFailed(lockedOut: lockedOut)
        // 250 ms more per recent failure, up to 2 s: slows guessing without hurting typos much.
        return .milliseconds(min(worst * 250, 2000))
    }

    public func recordSuccess(_ key: String) {
        failures[key] = nil
    }

    /// Drops old entries; called by the session cleanup service.
    public func prune(now: Date? = nil) {
        let now = now ?? clock.now()
        failures = failures.compactMapValues { dates in
            let recent = dates.filter { now.timeIntervalSince($0) < window }
            return recent.isEmpty ? nil : recent
        }
        lockedUntil = lockedUntil.filter { $0.value > now }
    }
}
