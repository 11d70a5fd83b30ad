import FTACore
import FTAStore
import Foundation

/// The one owner of account creation, for the API and the `fta` command line alike: it
/// validates, hashes the password, stores, and writes the audit entry through `AuditTrail`
/// (which strips control and format characters from what a caller typed). Refusals are
/// `DomainError`s: `.invalid` field by field, `.conflict` for a taken id or username.
public struct AccountService: Sendable {
    let database: AppDatabase
    let hasher: PasswordHasher
    let audit: AuditTrail

    public init(database: AppDatabase, hasher: PasswordHasher, audit: AuditTrail) {
        self.database = database
        self.hasher = hasher
        self.audit = audit
    }

    /// Stores a validated client; a taken id is a `.conflict`.
    public func create(_ client: NewClient, by actor: AuditActor) async throws -> ClientRecord {
        let record = ClientRecord(id: client.id, name: client.name, maxBots: client.maxBots)
        guard try await database.createClient(record) == .created else {
            throw DomainError.conflict("A client with the id '\(client.id)' already exists.")
        }
        // The display name is what an admin typed: the trail keeps it, made printable.
        await audit.record(by: actor, action: "client.create", target: client.id.rawValue, clientId: client.id.rawValue,
                           outcome: .success, detail: "name \(client.name)")
        return record
    }

    /// Stores a validated account: a user of `client`, or an admin when `client` is nil. A
    /// username in use, whatever its case, is a `.conflict` naming the `username` field.
    public func create(_ account: NewAccount, of client: ClientRecord?, by actor: AuditActor) async throws -> UserRecord {
        precondition((account.role == .admin) == (client == nil), "admins belong to no client, client users to one")
        let hash = try await hasher.hash(account.password)
        let record = UserRecord(username: account.username, passwordHash: hash, role: account.role, clientId: client?.id)
        guard let user = try await database.createUser(record).user else {
            throw DomainError.conflict("The username '\(account.username)' is taken.", fields: ["username": "is taken"])
        }
        if let client {
            await audit.record(by: actor, action: "user.create", target: user.username, clientId: client.id.rawValue,
                               outcome: .success, detail: "role \(account.role.rawValue)")
        } else {
            await audit.record(by: actor, action: "admin.create", target: user.username, outcome: .success)
        }
        return user
    }
}

/// A client as an operator typed it.
public struct ClientDraft: Sendable {
    public var id: String
    public var name: String
    public var maxBots: Int?

    public init(id: String, name: String, maxBots: Int? = nil) {
        self.id = id
        self.name = name
        self.maxBots = maxBots
    }

    /// The client, or every field that is not valid.
    public func validated() throws(DomainError) -> NewClient {
        var errors = FieldErrors()
        let id = ClientID(id)
        if id == nil { errors.add("id", Identifier.rule) }
        let name = name.trimmingCharacters(in: .whitespaces)
        if name.isEmpty || name.count > 100 || name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            errors.add("name", "must be 1 to 100 printable characters")
        }
        if let maxBots, !(1...1000).contains(maxBots) { errors.add("maxBots", "must be between 1 and 1000") }
        guard let id, errors.isEmpty else { throw .invalid(errors) }
        return NewClient(id: id, name: name, maxBots: maxBots)
    }
}

/// A client that passed validation; only `ClientDraft.validated()` makes one.
public struct NewClient: Sendable, Equatable {
    public let id: ClientID
    public let name: String
    public let maxBots: Int?
    fileprivate init(id: ClientID, name: String, maxBots: Int?) {
        self.id = id
        self.name = name
        self.maxBots = maxBots
    }
}

/// An account as typed: a username and a password, and for client users a role.
public struct AccountDraft: Sendable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// A user of a client: `role` must be owner or viewer.
    public func validatedClientUser(role: String) throws(DomainError) -> NewAccount {
        var errors = problems()
        let role = Role(rawValue: role)
        if role == nil || role == .admin { errors.add("role", "must be owner or viewer") }
        guard let role, errors.isEmpty else { throw .invalid(errors) }
        return NewAccount(username: username, password: password, role: role)
    }

    /// An operator account.
    public func validatedAdmin() throws(DomainError) -> NewAccount {
        let errors = problems()
        guard errors.isEmpty else { throw .invalid(errors) }
        return NewAccount(username: username, password: password, role: .admin)
    }

    private func problems() -> FieldErrors {
        var errors = FieldErrors()
        if let problem = UsernameRule.problem(with: username) { errors.add("username", problem) }
        if let problem = PasswordPolicy.problem(with: password, username: username) { errors.add("password", problem) }
        return errors
    }
}

/// An account that passed validation; only `AccountDraft` makes one. It holds the password
/// until the service hashes it, and never prints it.
public struct NewAccount: Sendable, CustomStringConvertible {
    public let username: String
    fileprivate let password: String
    public let role: Role

    fileprivate init(username: String, password: String, role: Role) {
        self.username = username
        self.password = password
        self.role = role
    }

    public var description: String { "NewAccount(\(username), \(role.rawValue))" }
}
