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

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// Verifies `password` against `hash`, or against the decoy when there is no hash.
    public func verify(_ password: String, hash: String?) async throws -> Bool {
        let target = hash ?? decoyHash
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: target) }
        return matches && hash != nil
    }
}
