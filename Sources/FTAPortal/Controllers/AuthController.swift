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
    /// disabled account, in comparable time; limited per IP and per account. During a lockdown
    /// a client user's right password is refused with 403 `lockdown`; admins still sign in.
    @Sendable func login(_ request: Request, context: PortalContext) async throws -> Response {
        let input = try await request.decodeStrict(LoginInput.self, context: context)
        let username = String(input.username.prefix(64))
        let keys = Self.throttleKeys(username: username, context: context)
        try await refuseIfLockedOut(keys, context, action: "auth.login", username: username, actor: username)
        let user = try await database.user(named: username)
        // The whole password: the hasher refuses one bcrypt would truncate, so a prefix of it
        // can never sign in in its place.
        let matches = try await hasher.verify(input.password, hash: user?.passwordHash)
        guard let user, matches, !user.disabled else {
            try await recordFailedCheck(keys)
            await audit.record(context, action: "auth.login", target: username, clientId: user?.clientId?.rawValue, outcome: .failure,
                               detail: user == nil ? "unknown user" : user!.disabled ? "disabled account" : "wrong password", actor: username)
            throw APIError.invalidCredentials
        }
        await throttle.recordSuccess(keys[1])
        // Only after the password matched: a wrong password gets the usual answer, so the
        // refusal tells nobody without the password which accounts are client users.
        if user.role != .admin, try await database.lockdown() != nil {
            await audit.record(context, action: "auth.login", target: user.username, clientId: user.clientId?.rawValue, outcome: .denied,
                               detail: "lockdown", actor: user.username)
            throw APIError.lockedDown
        }
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

    /// The throttle's keys for a password typed for `username`: its account and the caller's
    /// address. Sign-in and the password change share them, so a stolen session buys no extra
    /// guesses at the current password.
    static func throttleKeys(username: String, context: PortalContext) -> [String] {
        ["ip:\(context.sourceIP)", "user:\(username.lowercased())"]
    }

    /// Refuses with 429 + Retry-After, and audits, while any of `keys` is locked out: even the
    /// right password is not checked then.
    private func refuseIfLockedOut(_ keys: [String], _ context: PortalContext, action: String, username: String, actor: String? = nil) async throws {
        if let wait = await throttle.lockedFor(keys) {
            await audit.record(context, action: action, target: username, outcome: .denied, detail: "locked out", actor: actor)
            throw Self.tooManyAttempts(retryAfter: wait)
        }
    }

    /// Counts a wrong password against `keys` and waits the throttle's growing delay.
    private func recordFailedCheck(_ keys: [String]) async throws {
        let delay = await throttle.recordFailure(keys)
        try await Task.sleep(for: delay)
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
                                maxBots: admission.maxBots(for: record), userCount: counts.users[record.id.rawValue] ?? 0,
                                customStrategies: record.customStrategies)
        }
        return MeView(user: UserView(principal.user), client: client, budget: BudgetView(try await admission.currentAccount(database: database)))
    }

    struct PasswordChange: StrictInput {
        static let fields: Set<String> = ["currentPassword", "newPassword"]
        var currentPassword: String
        var newPassword: String
    }

    /// `POST /me/password`: ends every session of the user, then signs this browser in anew.
    /// The current password is checked like a sign-in: the same throttle (per account and per
    /// address), the same lockout with 429 + Retry-After, and the same audit.
    @Sendable func changePassword(_ request: Request, context: PortalContext) async throws -> Response {
        let principal = try context.requireUser()
        let input = try await request.decodeStrict(PasswordChange.self, context: context)
        let keys = Self.throttleKeys(username: principal.user.username, context: context)
        try await refuseIfLockedOut(keys, context, action: "user.password_change", username: principal.user.username)
        guard try await hasher.verify(input.currentPassword, hash: principal.user.passwordHash) else {
            try await recordFailedCheck(keys)
            await audit.record(context, action: "user.password_change", target: principal.user.username, outcome: .failure, detail: "wrong current password")
            throw APIError(.badRequest, "validation_failed", "The current password is wrong.", fields: ["currentPassword": "is wrong"])
        }
        if let problem = PasswordPolicy.problem(with: input.newPassword, username: principal.user.username) {
            throw APIError.validation(FieldErrors("newPassword", problem))
        }
        await throttle.recordSuccess(keys[1])
        try await database.setPassword(userID: principal.userID, hash: try await hasher.hash(input.newPassword))
        await audit.record(context, action: "user.password_change", target: principal.user.username, outcome: .success)
        let token = try await sessions.start(for: principal.user, sourceIP: context.sourceIP)
        var response = Response(status: .noContent)
        response.setCookie(sessions.cookie(for: token))
        return response
    }
}
