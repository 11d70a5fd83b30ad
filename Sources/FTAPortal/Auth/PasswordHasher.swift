import FTACore
import HummingbirdBcrypt
import NIOPosix

/// bcrypt hashing and verification, off the event loop (a cost-12 hash takes a quarter second).
public struct PasswordHasher: Sendable {
    public let cost: UInt8
    /// Verified against when the username is unknown, so that an unknown user and a wrong
    /// password take the same time.
    private let decoyHash: String

    public init(cost: UInt8) {
        self.cost = max(cost, 12)
        decoyHash = Bcrypt.hash(RandomBytes.base64URL(16), cost: self.cost)
    }

    /// Hashes `password` exactly as given (no trimming, no Unicode normalisation: the bytes the
    /// policy checked). One that bcrypt would truncate is refused; callers check the policy
    /// first, so this is the backstop that no path can skip.
    public func hash(_ password: String) async throws -> String {
        if let problem = PasswordPolicy.hashingProblem(with: password) { throw UnhashablePassword(problem: problem) }
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// Verifies `password` against `hash`, or against the decoy when there is no hash. A password
    /// that could never have been hashed (over 72 bytes, a NUL) never matches: otherwise a
    /// stored 72-byte password would also accept itself plus any tail. It still costs a
    /// verification, so its answer takes as long as any other.
    public func verify(_ password: String, hash: String?) async throws -> Bool {
        let hashable = PasswordPolicy.hashingProblem(with: password) == nil
        let target = hashable ? hash ?? decoyHash : decoyHash
        let candidate = hashable ? password : ""
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(candidate, hash: target) }
        return matches && hashable && hash != nil
    }
}

/// A password bcrypt would not see whole; the policy refuses these before they get here.
public struct UnhashablePassword: Error, CustomStringConvertible {
    public let problem: String
    public var description: String { "password \(problem)" }
}
