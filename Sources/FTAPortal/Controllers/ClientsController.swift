import FTACore
import FTAStore
import Foundation
import Hummingbird

/// The operator's account management: clients, their users, disabling, password resets.
struct ClientsController {
    let database: AppDatabase
    let accounts: AccountService
    let hasher: PasswordHasher
    let audit: AuditTrail
    let admission: Admission

    var endpoints: RouteCollection<PortalContext> {
        let routes = RouteCollection(context: PortalContext.self)
        routes.get("clients", use: list)
        routes.post("clients", use: create)
        routes.patch("clients/:clientId", use: updateClient)
        routes.get("clients/:clientId/users", use: users)
        routes.post("clients/:clientId/users", use: createUser)
        routes.patch("users/:userId", use: updateUser)
        routes.post("users/:userId/password", use: resetPassword)
        return routes
    }

    @Sendable func list(_ request: Request, context: PortalContext) async throws -> ClientsEnvelope {
        _ = try context.requireAdmin()
        let counts = try await database.clientCounts()
        return ClientsEnvelope(clients: try await database.clients().map { view($0, counts) })
    }

    struct ClientInput: StrictInput {
        static let fields: Set<String> = ["id", "name", "maxBots"]
        var id: String
        var name: String
        var maxBots: Int?
    }

    @Sendable func create(_ request: Request, context: PortalContext) async throws -> EditedResponse<ClientEnvelope> {
        _ = try context.requireAdmin()
        let input = try await request.decodeStrict(ClientInput.self, context: context)
        let record = try await accounts.create(try ClientDraft(id: input.id, name: input.name, maxBots: input.maxBots).validated(), by: AuditActor(context))
        return EditedResponse(status: .created, response: ClientEnvelope(client: view(record, (bots: [:], users: [:]))))
    }

    struct ClientChange: StrictInput {
        static let fields: Set<String> = ["customStrategies"]
        var customStrategies: Bool?
    }

    /// The operator's per-client switches: today whether its users may upload their own strategies.
    @Sendable func updateClient(_ request: Request, context: PortalContext) async throws -> ClientEnvelope {
        _ = try context.requireAdmin()
        let client = try await existingClient(context)
        let input = try await request.decodeStrict(ClientChange.self, context: context)
        if let enabled = input.customStrategies, enabled != client.customStrategies {
            try await database.setCustomStrategies(client.id, enabled: enabled)
            await audit.record(context, action: "client.custom_strategies", target: client.id.rawValue, clientId: client.id.rawValue,
                               outcome: .success, detail: enabled ? "enabled" : "disabled")
        }
        let counts = try await database.clientCounts()
        return ClientEnvelope(client: view(try await database.client(client.id) ?? client, counts))
    }

    @Sendable func users(_ request: Request, context: PortalContext) async throws -> UsersEnvelope {
        _ = try context.requireAdmin()
        let client = try await existingClient(context)
        return UsersEnvelope(users: try await database.users(ofClient: client.id).map(UserView.init))
    }

    struct UserInput: StrictInput {
        static let fields: Set<String> = ["username", "password", "role"]
        var username: String
        var password: String
        var role: String
    }

    @Sendable func createUser(_ request: Request, context: PortalContext) async throws -> EditedResponse<UserEnvelope> {
        _ = try context.requireAdmin()
        let client = try await existingClient(context)
        let input = try await request.decodeStrict(UserInput.self, context: context)
        let account = try AccountDraft(username: input.username, password: input.password).validatedClientUser(role: input.role)
        let user = try await accounts.create(account, of: client, by: AuditActor(context))
        return EditedResponse(status: .created, response: UserEnvelope(user: UserView(user)))
    }

    struct UserChange: StrictInput {
        static let fields: Set<String> = ["disabled"]
        var disabled: Bool
    }

    @Sendable func updateUser(_ request: Request, context: PortalContext) async throws -> UserEnvelope {
        let admin = try context.requireAdmin()
        let target = try await existingUser(context)
        let input = try await request.decodeStrict(UserChange.self, context: context)
        if target.id == admin.userID && input.disabled {
            throw APIError.conflict("You cannot disable your own account.")
        }
        guard let user = try await database.setDisabled(userID: target.id!, input.disabled) else { throw APIError.notFound("No such user.") }
        await audit.record(context, action: input.disabled ? "user.disable" : "user.enable", target: user.username, clientId: user.clientId?.rawValue, outcome: .success)
        return UserEnvelope(user: UserView(user))
    }

    struct PasswordReset: StrictInput {
        static let fields: Set<String> = ["password"]
        var password: String
    }

    @Sendable func resetPassword(_ request: Request, context: PortalContext) async throws -> Response {
        _ = try context.requireAdmin()
        let target = try await existingUser(context)
        let input = try await request.decodeStrict(PasswordReset.self, context: context)
        if let problem = PasswordPolicy.problem(with: input.password, username: target.username) {
            throw APIError.validation(FieldErrors("password", problem))
        }
        try await database.setPassword(userID: target.id!, hash: try await hasher.hash(input.password))
        await audit.record(context, action: "user.password_reset", target: target.username, clientId: target.clientId?.rawValue, outcome: .success)
        return Response(status: .noContent)
    }

    private func existingClient(_ context: PortalContext) async throws -> ClientRecord {
        guard let raw = context.parameters.get("clientId"), let id = ClientID(raw), let client = try await database.client(id) else {
            throw APIError.notFound("No such client.")
        }
        return client
    }

    private func existingUser(_ context: PortalContext) async throws -> UserRecord {
        guard let raw = context.parameters.get("userId"), let id = Int64(raw), let user = try await database.user(id: id) else {
            throw APIError.notFound("No such user.")
        }
        return user
    }

    private func view(_ client: ClientRecord, _ counts: (bots: [String: Int], users: [String: Int])) -> ClientView {
        ClientView(id: client.id.rawValue, name: client.name, createdAt: client.createdAt, botCount: counts.bots[client.id.rawValue] ?? 0,
                   maxBots: admission.maxBots(for: client), userCount: counts.users[client.id.rawValue] ?? 0,
                   customStrategies: client.customStrategies)
    }
}
