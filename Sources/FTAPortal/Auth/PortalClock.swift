import Foundation

/// The time sessions and login lockouts are measured in: the wall clock read once when the
/// portal starts, moved on by the kernel's boot clock (`ContinuousClock`, CLOCK_BOOTTIME on
/// Linux), which nobody can set and which NTP does not step.
///
/// A small VM's wall clock jumps: NTP steps it after a boot with a bad RTC, an operator sets it,
/// a hypervisor resumes a paused guest. Measured on the wall clock, a jump forward would end every
/// valid session early, and a jump back would keep expired sessions (and lockouts) alive for as
/// long as the jump. Measured here, elapsed time is real time, whatever the wall clock does.
///
/// The price: a correction of the wall clock reaches session times only at the next start. And
/// the clock never starts behind `floor` (the newest session activity the database holds), so a
/// wall clock set back while the portal was down cannot revive sessions either.
public struct PortalClock: Sendable {
    private let wallAtStart: Date
    private let started: ContinuousClock.Instant

    public init(floor: Date? = nil) {
        let wall = Date()
        wallAtStart = max(wall, floor ?? wall)
        started = .now
    }

    public func now() -> Date {
        wallAtStart.addingTimeInterval((ContinuousClock.now - started).seconds)
    }
}

extension Duration {
    /// Seconds as a TimeInterval: for dates and reports.
    var seconds: TimeInterval {
        let parts = components
        return TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) / 1e18
    }
}
