import FTACore
import FTAHTTP
import FTARuntime
import FTAStore
import Foundation
import Logging

/// The portal's bridge to each bot's own Freqtrade REST API, over the client's network.
///
/// It signs in with the bot's own random credentials (tokens cached per bot, refreshed on
/// expiry), uses short timeouts, and runs each call on the transport's thread pool, so a slow
/// bot never slows another's requests. Every conversation starts with the dry-run guard.
public struct FreqtradeBridge: Sendable {
    let lifecycle: BotLifecycle
    let audit: AuditTrail
    let tokens: TokenCache
    /// Each running container's address and dry-run verdict, kept for as long as that start
    /// lasts (`VerifiedContainers`).
    let verified: VerifiedContainers
    let logger: Logger
    /// Freqtrade answers on the local network in milliseconds; a bot busy computing a candle
    /// may take a second or two. Beyond this, the user gets "bot_timeout" instead of waiting.
    let timeout: Duration
    let metrics: PortalMetrics?

    public init(lifecycle: BotLifecycle, audit: AuditTrail, logger: Logger, timeout: Duration = .seconds(5), metrics: PortalMetrics? = nil) {
        self.metrics = metrics
        self.lifecycle = lifecycle
        self.audit = audit
        self.tokens = TokenCache()
        self.verified = VerifiedContainers()
        self.logger = logger
        self.timeout = timeout
    }

    /// Calls `path` (e.g. `/api/v1/profit`) on the bot after checking it still runs in dry-run.
    ///
    /// The check (a Docker inspect for the address, then the bot's `show_config`) is made once
    /// per container start, not per call: the verdict and the address are kept for the bot's
    /// `startedAt`, and dropped when the bot starts again or its API stops answering. The
    /// reconciler checks every running bot again at each pass (`enforceDryRun`).
    public func call(_ bot: BotRecord, _ path: String, method: String = "GET", body: JSONValue? = nil) async throws -> JSONValue {
        do {
            let address: String
            if let known = await verified.address(of: bot) {
                address = known
            } else {
                address = try await self.address(of: bot)
                try await enforceDryRun(bot, address: address)
            }
            return try await request(bot, address: address, method, path, body: body)
        } catch let error as DomainError {
            switch error {
            case .botUnreachable, .botTimeout:
                // Whatever answers at that address next is checked afresh.
                await verified.forget(bot.id)
                // `bot` was read before the call: stopped, deleted or restarted since, it is that
                // (409, 404), not a broken bot (502, 504). Only a bot that is `running` now, and
                // was, has a broken API. The load test's churn met this hundreds of times: a
                // profit request in the moment of a stop, or of a start whose container was not
                // up yet.
                guard let current = try await lifecycle.database.bot(bot.id) else { throw DomainError.notFound("No such bot.") }
                if current.desiredState == .stopped || current.state != .running || current.startedAt != bot.startedAt {
                    throw DomainError.botNotRunning(current.state)
                }
                throw error
            default:
                throw error
            }
        }
    }

    /// The address of a running bot whose dry-run the guard has checked for this start (it
    /// checks now if it has not): where the portal may open the bot's message websocket.
    public func verifiedAddress(of bot: BotRecord) async throws -> String {
        if let known = await verified.address(of: bot) { return known }
        let address = try await self.address(of: bot)
        try await enforceDryRun(bot, address: address)
        return address
    }

    /// Whether the guard has checked this start of the bot (a data read or a reconcile pass did).
    public func isVerified(_ bot: BotRecord) async -> Bool {
        await verified.address(of: bot) != nil
    }

    /// Drops the bot's checked address and verdict: the next call inspects and checks afresh.
    /// The event feed calls it when the bot's websocket closes, which is how a container that
    /// Docker restarted between two reconcile passes shows itself first.
    public func forgetVerification(of bot: BotID) async {
        await verified.forget(bot)
    }

    /// What the bot's own `show_config` says about dry-run, without acting on it: `fta doctor`
    /// and `GET /system` only look, they never quarantine as a side effect.
    public func dryRunVerdict(_ bot: BotRecord, address: String? = nil) async throws -> DryRunVerdict {
        let resolved: String
        if let address { resolved = address } else { resolved = try await self.address(of: bot) }
        let config = try await request(bot, address: resolved, "GET", "/api/v1/show_config")
        if config["dry_run"]?.boolValue == true { return .dryRun }
        // As JSON text (`false`, `"no"`), not Swift's `bool(false)`; bounded, since the bot chose it.
        let reported = config["dry_run"].flatMap { try? JSONEncoder().encode($0) }.map { String(String(decoding: $0, as: UTF8.self).prefix(64)) } ?? "nothing"
        return .live(reported: reported)
    }

    /// The dry-run guard (the third lock, at run time): if the bot's own `show_config` says
    /// anything but `dry_run: true`, the container is stopped at once, the bot quarantined,
    /// and the audit trail says so.
    public func enforceDryRun(_ bot: BotRecord, address: String? = nil) async throws {
        let resolved: String
        let verdict: DryRunVerdict
        do {
            if let address { resolved = address } else { resolved = try await self.address(of: bot) }
            verdict = try await dryRunVerdict(bot, address: resolved)
        } catch {
            // Unchecked now, whatever it was before: the next call checks again.
            await verified.forget(bot.id)
            throw error
        }
        guard case .live(let reported) = verdict else {
            // Only a running bot's verdict is kept: a starting one may still be replaced.
            if bot.state == .running { await verified.store(resolved, for: bot) }
            return
        }
        await verified.forget(bot.id)
        try await lifecycle.quarantine(bot.id, reason: "the bot reported dry_run = \(reported)")
        metrics?.dryRunGuardTripped()
        await audit.record(AuditEntry(actor: "dry-run-guard", clientId: bot.clientId.rawValue, action: "bot.quarantine", target: bot.id.rawValue,
                                      outcome: .success, detail: "show_config.dry_run was \(reported); container stopped"))
        logger.critical("bot left dry-run: quarantined", metadata: ["bot": "\(bot.id)"])
        throw DomainError.quarantined
    }

    private func address(of bot: BotRecord) async throws -> String {
        guard bot.state == .running || bot.state == .starting else {
            throw DomainError.botNotRunning(bot.state)
        }
        let status: BotRuntimeStatus?
        do { status = try await lifecycle.status(of: bot) } catch { throw error.domainError }
        guard let status, status.isRunning, let ip = status.address else {
            throw DomainError.botUnreachable("The bot's container is not running.")
        }
        return ip
    }

    private func request(_ bot: BotRecord, address: String, _ method: String, _ path: String, body: JSONValue? = nil, retried: Bool = false) async throws -> JSONValue {
        let token = try await accessToken(bot, address: address)
        var headers = [("Authorization", "Bearer \(token)"), ("Accept", "application/json")]
        var payload: Data?
        if let body {
            payload = try JSONEncoder().encode(body)
            headers.append(("Content-Type", "application/json"))
        }
        let response = try await send(HTTPRequest(method: method, url: "http://\(address):\(BotPaths.apiPort)\(path)", headers: headers,
                                                  body: payload, timeout: timeout, connectTimeout: Self.connectTimeout, maxResponseBytes: 4 << 20, keepAlive: true),
                                  bot: bot.id.rawValue)
        if response.status == 401 && !retried {
            await tokens.forget(bot.id.rawValue)
            return try await request(bot, address: address, method, path, body: body, retried: true)
        }
        guard (200..<300).contains(response.status) else {
            logger.warning("bot API error", metadata: ["bot": "\(bot.id)", "path": "\(path)", "status": "\(response.status)"])
            let answer = try? JSONValue.parse(response.body)
            // A trade or lock the bot does not have is the user's 404, not a broken bot.
            if response.status == 404 {
                throw DomainError.notFound(answer?["detail"]?.stringValue.map { String($0.prefix(200)) } ?? "The bot has no such item.")
            }
            let detail = answer?["error"]?.stringValue ?? answer?["detail"]?.stringValue
            throw DomainError.botRefused("The bot refused this request" + (detail.map { ": \($0.prefix(200))" } ?? "."))
        }
        do { return try JSONValue.parse(response.body) } catch {
            throw DomainError.botRefused("The bot answered something unreadable.")
        }
    }

    private func accessToken(_ bot: BotRecord, address: String) async throws -> String {
        if let token = await tokens.token(for: bot.id.rawValue) { return token }
        let secrets = try await lifecycle.secrets(of: bot.id)
        let basic = Data("\(secrets.apiUsername):\(secrets.apiPassword)".utf8).base64EncodedString()
        let response = try await send(HTTPRequest(method: "POST", url: "http://\(address):\(BotPaths.apiPort)/api/v1/token/login",
                                                  headers: [("Authorization", "Basic \(basic)")], timeout: timeout, connectTimeout: Self.connectTimeout, keepAlive: true),
                                  bot: bot.id.rawValue)
        guard response.status == 200, let token = (try? JSONValue.parse(response.body))?["access_token"]?.stringValue else {
            logger.warning("bot API login failed", metadata: ["bot": "\(bot.id)", "status": "\(response.status)"])
            throw DomainError.botUnreachable("The portal could not sign in to the bot's API.")
        }
        // Freqtrade's access tokens live 15 minutes; refresh a little before.
        await tokens.store(token, for: bot.id.rawValue, until: Date().addingTimeInterval(14 * 60))
        return token
    }

    /// How long a connection to a bot may take. A stopped container refuses at once; a bot under
    /// load accepts late: at 2 s, 100 open dashboards on a busy 2-core host got a few 504s from
    /// standing bots in a 2-minute load run (docs/operations.md, "Load").
    static let connectTimeout: Duration = .seconds(5)

    private func send(_ request: HTTPRequest, bot: String) async throws -> HTTPResponse {
        let started = ContinuousClock.now
        do {
            let response = try await HTTPTransport.perform(request)
            metrics?.bridgeCall(bot: bot, duration: ContinuousClock.now - started, failed: response.status >= 500)
            return response
        } catch .timeout {
            metrics?.bridgeCall(bot: bot, duration: ContinuousClock.now - started, failed: true)
            throw DomainError.botTimeout
        } catch {
            metrics?.bridgeCall(bot: bot, duration: ContinuousClock.now - started, failed: true)
            throw DomainError.botUnreachable("The bot's API is not reachable yet. A starting bot needs a minute.")
        }
    }
}

/// What a bot says of its own trading mode.
public enum DryRunVerdict: Sendable, Equatable {
    case dryRun
    /// It reported this (as JSON text) instead of `true`.
    case live(reported: String)
}

/// Access tokens of bots' APIs, in memory only.
actor TokenCache {
    private var tokens: [String: (token: String, until: Date)] = [:]

    func token(for bot: String, now: Date = Date()) -> String? {
        guard let entry = tokens[bot], entry.until > now else { return nil }
        return entry.token
    }

    func store(_ token: String, for bot: String, until: Date) { tokens[bot] = (token, until) }
    func forget(_ bot: String) { tokens[bot] = nil }
}

/// The address of each running bot whose container the dry-run guard has checked, for the
/// start (`BotRecord.startedAt`) it was checked in. A new start, a failed call or a live verdict
/// drops it; until then the bridge sends the bot's requests straight to it.
actor VerifiedContainers {
    private var entries: [BotID: (startedAt: Date?, address: String)] = [:]

    func address(of bot: BotRecord) -> String? {
        guard bot.state == .running, let entry = entries[bot.id], entry.startedAt == bot.startedAt else { return nil }
        return entry.address
    }

    func store(_ address: String, for bot: BotRecord) { entries[bot.id] = (bot.startedAt, address) }
    func forget(_ bot: BotID) { entries[bot] = nil }
}
