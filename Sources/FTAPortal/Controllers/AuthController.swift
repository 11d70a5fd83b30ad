import FTACore
import FTAStore
import Foundation
import Hummingbird

/// Sign-in, sign-out, the caller's own account.
struct AuthController {
    let database: AppDatabase
    let sessions: SessionManager
    let hasher: PasswordHasher
    let throttle: LoginThrottle
    let audit: AuditTrail
    let admission: Admission

    var endpoints: RouteCollection<PortalContext> {
        let routes = RouteCollection(context: PortalContext.self)
        routes.post("auth/login", use: login)
        routes.post("auth/logout", use: logout)
        routes.get("me", use: me)
        routes.post("me/password", use: changePassword)
        return routes
    }

    struct LoginInput: StrictInput {
        static let fields: Set<String> = ["username", "password"]
        var username: String
        var password: String
    }

    /// `POST /auth/login`: the same answer for an unknown user, a wrong password and a
    /// disabled account, in comparable time; limited per IP and per account.
    @Sendable func login(_ request: Request, context: PortalContext) async throws -> Response {
        let input = try await request.decodeStrict(LoginInput.self, context: context)
        let username = String(input.username.prefix(64))
        let keys = ["ip:\(context.sourceIP)", "user:\(username.lowercased())"]
        if let wait = await throttle.lockedFor(keys) {
            await audit.record(context, action: "auth.login", target: username, outcome: .denied, detail: "locked out", actor: username)
            throw Self.tooManyAttempts(retryAfter: wait)
        }
        let user = try await database.user(named: username)
        let matches = try await hasher.verify(String(input.password.prefix(256)), hash: user?.passwordHash)
        guard let user, matches, !user.disabled else {
            let delay = await throttle.recordFailure(keys)
            try await Task.sleep(for: delay)
            await audit.record(context, action: "auth.login", target: username, clientId: user?.clientId?.rawValue, outcome: .failure,
                               detail: user == nil ? "unknown user" : user!.disabled ? "disabled account" : "wrong password", actor: username)
            throw APIError.invalidCredentials
        }
        await throttle.recordSuccess("user:\(username.lowercased())")
        // A session presented at login is ended: the new session always gets a new token.
        if let old = context.principal { try await sessions.end(tokenHash: old.sessionTokenHash) }
        let token = try await sessions.start(for: user, sourceIP: context.sourceIP)
        var loggedIn = context
        loggedIn.principal = Principal(user: user, sessionTokenHash: "")
        await audit.record(loggedIn, action: "auth.login", target: user.username, outcome: .success)
        var response = try UserEnvelope(user: UserView(user)).response(from: request, context: context)
        response.setCookie(sessions.cookie(for: token))
        return response
    }

    static func tooManyAttempts(retryAfter seconds: Int) -> APIError {
        var error = APIError(.tooManyRequests, "too_many_attempts",
                             "Too many failed sign-in attempts. Try again in \(seconds) seconds.")
        error.headers[.retryAfter] = String(seconds)
        return error
    }

    @Sendable func logout(_ request: Request, context: PortalContext) async throws -> Response {
        try await request.requireNoInput(context: context)
        let principal = try context.requireUser()
        try await sessions.end(tokenHash: principal.sessionTokenHash)
        await audit.record(context, action: "auth.logout", target: principal.user.username, outcome: .success)
        var response = Response(status: .noContent)
        response.setCookie(sessions.clearingCookie)
        return response
    }

    @Sendable func me(_ request: Request, context: PortalContext) async throws -> MeView {
        let principal = try context.requireUser()
        var client: ClientView?
        if let id = principal.clientID, let record = try await database.client(id) {
            let counts = try await database.clientCounts()
            client = ClientView(id: record.id.rawValue, name: record.name, createdAt: record.createdAt, botCount: counts.bots[record.id.rawValue] ?? 0,
                                maxBots: admission.maxBots(for: record), userCount: counts.users[record.id.rawValue] ?? 0)
        }
        return MeView(user: UserView(principal.user), client: client, budget: BudgetView(try await admission.currentAccount(database: database)))
    }

    struct PasswordChange: StrictInput {
        static let fields: Set<String> = ["currentPassword", "newPassword"]
        var currentPassword: String
        var newPassword: String
    }

    /// `POST /me/password`: ends every session of the user, then signs this browser in anew.
    @Sendable func changePassword(_ request: Request, context: PortalContext) async throws -> Response {
        let principal = try context.requireUser()
        let input = try await request.decodeStrict(PasswordChange.self, context: context)
        guard try await hasher.verify(String(input.currentPassword.prefix(256)), hash: principal.user.passwordHash) else {
            await audit.record(context, action: "user.password_change", target: principal.user.username, outcome: .failure, detail: "wrong current password")
            throw APIError(.badRequest, "validation_failed", "The current password is wrong.", fields: ["currentPassword": "is wrong"])
        }
        if let problem = PasswordPolicy.problem(with: input.newPassword, username: principal.user.username) {
            throw APIError.validation(FieldErrors("newPassword", problem))
        }
        try await database.setPassword(userID: principal.userID, hash: try await hasher.hash(input.newPassword))
        await audit.record(context, action: "user.password_change", target: principal.user.username, outcome: .success)
        let token = try await sessions.start(for: principal.user, sourceIP: context.sourceIP)
        var response = Response(status: .noContent)
        response.setCookie(sessions.cookie(for: token))
        return response
    }
}
