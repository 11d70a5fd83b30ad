import FTACore
import FTAPortal
@testable import FTAStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@Suite("sign-in abuse resistance")
struct BruteForceTests {
    @Test("the attempt after the limit gets 429 with Retry-After, the lockout lifts, the audit trail has the attempts")
    func lockout() async throws {
        let harness = try await Harness(["FTA_LOGIN_MAX_FAILURES": "3", "FTA_LOGIN_LOCKOUT_SECONDS": "2"])
        try await harness.test { client in
            for _ in 0..<3 {
                let response = try await client.call(.post, "/api/v1/auth/login", json: ["username": "alice", "password": "wrong password 123"])
                #expect(response.status == .unauthorized)
                #expect(response.errorCode == "invalid_credentials")
            }
            // Locked: even the right password is refused now.
            let locked = try await client.call(.post, "/api/v1/auth/login", json: ["username": "alice", "password": testPassword])
            #expect(locked.status == .tooManyRequests)
            #expect(Int(locked.headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect(sessionCookie(locked) == nil)
            try await Task.sleep(for: .seconds(2.5))
            let after = try await client.call(.post, "/api/v1/auth/login", json: ["username": "alice", "password": testPassword])
            #expect(after.status == .ok)
        }
        let attempts = try await harness.database.auditEntries(AuditFilter(action: "auth.login"))
        #expect(attempts.filter { $0.outcome == .failure && $0.actor == "alice" }.count == 3)
        #expect(attempts.contains { $0.outcome == .denied && $0.detail == "locked out" })
        #expect(attempts.contains { $0.outcome == .success && $0.actor == "alice" })
        // No password in the trail.
        let trail = attempts.map { "\($0.actor) \($0.target ?? "") \($0.detail ?? "")" }.joined()
        #expect(!trail.contains("wrong password 123") && !trail.contains(testPassword))
    }

    @Test("an unknown user and a wrong password get the same answer in comparable time")
    func sameAnswer() async throws {
        let harness = try await Harness(["FTA_LOGIN_MAX_FAILURES": "100"])
        try await harness.test { client in
            var unknown: [Duration] = [], wrong: [Duration] = []
            var bodies: Set<String> = []
            let clock = ContinuousClock()
            for round in 0..<5 {
                let start = clock.now
                let a = try await client.call(.post, "/api/v1/auth/login", json: ["username": "nobody\(round)", "password": "whatever password"])
                unknown.append(clock.now - start)
                let middle = clock.now
                let b = try await client.call(.post, "/api/v1/auth/login", json: ["username": "alice", "password": "whatever password"])
                wrong.append(clock.now - middle)
                #expect(a.status == b.status)
                bodies.insert(a.text)
                bodies.insert(b.text)
            }
            #expect(bodies.count == 1)
            // Medians: other tests share the two cores, so single timings are noisy.
            let medianUnknown = unknown.sorted()[2], medianWrong = wrong.sorted()[2]
            let ratio = medianUnknown / medianWrong
            #expect(ratio > 0.5 && ratio < 2, "unknown user took \(medianUnknown), wrong password \(medianWrong)")
        }
    }

    @Test("a disabled account cannot sign in, with the same message")
    func disabled() async throws {
        let harness = try await Harness()
        _ = try await harness.database.setDisabled(userID: harness.userIDs["alice"]!, true)
        try await harness.test { client in
            let response = try await client.call(.post, "/api/v1/auth/login", json: ["username": "alice", "password": testPassword])
            #expect(response.status == .unauthorized)
            #expect(response.errorCode == "invalid_credentials")
        }
    }
}

@Suite("sessions")
struct SessionTests {
    @Test("the cookie is HttpOnly, SameSite=Strict, Path=/, not Secure over plain HTTP")
    func cookieFlags() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let response = try await client.call(.post, "/api/v1/auth/login", json: ["username": "alice", "password": testPassword])
            let header = try #require(response.headers[values: .setCookie].first)
            #expect(header.hasPrefix("fta_session="))
            #expect(header.contains("HttpOnly") && header.contains("SameSite=Strict") && header.contains("Path=/"))
            #expect(!header.contains("Secure"))
            // The token is 256 bits, and only its hash is stored.
            let token = String(header.split(separator: ";")[0].dropFirst("fta_session=".count))
            #expect(token.count == 43)
            let stored = try await harness.database.writer.read { try String.fetchAll($0, sql: "SELECT tokenHash FROM sessions") }
            #expect(!stored.contains(token) && stored.count == 1)
        }
    }

    @Test("over TLS the cookie is Secure with the __Host- prefix")
    func tlsCookie() async throws {
        let harness = try await Harness(["FTA_PUBLIC_URL": "https://portal.example.com"])
        try await harness.test { client in
            let response = try await client.call(.post, "/api/v1/auth/login", json: ["username": "alice", "password": testPassword])
            let header = try #require(response.headers[values: .setCookie].first)
            #expect(header.hasPrefix("__Host-fta_session=") && header.contains("Secure") && header.contains("Path=/") && !header.contains("Domain"))
        }
    }

    @Test("session fixation: a login always issues a new id and ends the one presented")
    func fixation() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let first = try await client.signIn("alice")
            let second = try await client.call(.post, "/api/v1/auth/login", cookie: first, json: ["username": "alice", "password": testPassword])
            let renewed = try #require(sessionCookie(second))
            #expect(renewed != first)
            #expect(try await client.call(.get, "/api/v1/me", cookie: first).status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/me", cookie: renewed).status == .ok)
            // A made-up token is nobody's session.
            #expect(try await client.call(.get, "/api/v1/me", cookie: "fta_session=" + String(repeating: "A", count: 43)).status == .unauthorized)
        }
    }

    @Test("a session cannot be reused after logout")
    func afterLogout() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let cookie = try await client.signIn("alice")
            #expect(try await client.call(.post, "/api/v1/auth/logout", cookie: cookie).status == .noContent)
            #expect(try await client.call(.get, "/api/v1/me", cookie: cookie).status == .unauthorized)
        }
    }

    @Test("a password change ends every session, including on other browsers")
    func afterPasswordChange() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let laptop = try await client.signIn("alice"), phone = try await client.signIn("alice")
            let weak = try await client.call(.post, "/api/v1/me/password", cookie: laptop, json: ["currentPassword": testPassword, "newPassword": "short"])
            #expect(weak.status == .badRequest)
            let changed = try await client.call(.post, "/api/v1/me/password", cookie: laptop,
                                                 json: ["currentPassword": testPassword, "newPassword": "a brand new passphrase"])
            #expect(changed.status == .noContent)
            let fresh = try #require(sessionCookie(changed))
            #expect(try await client.call(.get, "/api/v1/me", cookie: laptop).status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/me", cookie: phone).status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/me", cookie: fresh).status == .ok)
            #expect(try await client.call(.post, "/api/v1/auth/login", json: ["username": "alice", "password": testPassword]).status == .unauthorized)
        }
    }

    @Test("an idle or expired session is refused and removed")
    func expired() async throws {
        let harness = try await Harness(["FTA_SESSION_IDLE_MINUTES": "1"])
        try await harness.test { client in
            let cookie = try await client.signIn("alice")
            try await harness.database.writer.write { try $0.execute(sql: "UPDATE sessions SET lastSeenAt = ?", arguments: [Date().addingTimeInterval(-120)]) }
            #expect(try await client.call(.get, "/api/v1/me", cookie: cookie).status == .unauthorized)
            let left = try await harness.database.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM sessions") }
            #expect(left == 0)
            let again = try await client.signIn("alice")
            try await harness.database.writer.write { try $0.execute(sql: "UPDATE sessions SET expiresAt = ?", arguments: [Date().addingTimeInterval(-1)]) }
            #expect(try await client.call(.get, "/api/v1/me", cookie: again).status == .unauthorized)
        }
    }

    @Test("a disabled user's live session stops working at once")
    func disabledMidSession() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let owner = try await client.signIn("alice"), admin = try await client.signIn("root")
            let id = harness.userIDs["alice"]!
            #expect(try await client.call(.patch, "/api/v1/users/\(id)", cookie: admin, json: ["disabled": true]).status == .ok)
            #expect(try await client.call(.get, "/api/v1/me", cookie: owner).status == .unauthorized)
        }
    }
}

@Suite("cross-site requests")
struct CSRFTests {
    @Test("a cross-site POST changes nothing", arguments: [
        ["Origin": "https://evil.example"], ["Sec-Fetch-Site": "cross-site"], ["Sec-Fetch-Site": "same-site"], ["Origin": "null"],
    ])
    func refused(_ headers: [String: String]) async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let admin = try await client.signIn("root")
            var fields = HTTPFields()
            for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
            let response = try await client.call(.post, "/api/v1/clients", cookie: admin, json: ["id": "evil", "name": "Evil"], headers: fields)
            #expect(response.status == .forbidden)
            #expect(response.errorCode == "cross_site")
            #expect(response.headers[.accessControlAllowOrigin] == nil)
            let stop = try await client.call(.post, "/api/v1/bots/acme-bot/stop", cookie: admin, headers: fields)
            #expect(stop.status == .forbidden)
        }
        #expect(try await harness.database.client(ClientID("evil")!) == nil)
        #expect(try await harness.database.auditEntries(AuditFilter(action: "csrf.refused")).count == 2)
    }

    @Test("a form-encoded or text POST is refused: only JSON changes state")
    func notJSON() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let admin = try await client.signIn("root")
            for type in ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"] {
                let response = try await client.execute(uri: "/api/v1/clients", method: .post, headers: [.cookie: admin, .contentType: type],
                                                        body: ByteBuffer(string: "id=evil&name=Evil"))
                #expect(response.status == .unsupportedMediaType)
            }
            // Same origin is fine.
            let ok = try await client.call(.post, "/api/v1/clients", cookie: admin, json: ["id": "fine", "name": "Fine"],
                                           headers: [.origin: "http://127.0.0.1:8081", HTTPField.Name("Sec-Fetch-Site")!: "same-origin"])
            #expect(ok.status == .created)
        }
        #expect(try await harness.database.client(ClientID("evil")!) == nil)
    }

    @Test("no CORS headers are sent to another origin")
    func noCORS() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let response = try await client.call(.get, "/api/v1/health", headers: [.origin: "https://evil.example"])
            #expect(response.headers[.accessControlAllowOrigin] == nil)
            #expect(response.headers[.accessControlAllowCredentials] == nil)
            let preflight = try await client.execute(uri: "/api/v1/clients", method: .options, headers: [.origin: "https://evil.example"])
            #expect(preflight.headers[.accessControlAllowOrigin] == nil)
        }
    }
}

@Suite("input validation and errors")
struct InputTests {
    @Test("smuggling dry-run, exchange keys, API settings or unknown keys is a 400 and creates nothing", arguments: [
        ["dry_run": false], ["dryRun": false], ["key": "AKIAEXAMPLE"], ["secret": "s3cr3t"], ["exchange_key": "k"],
        ["api_server": ["listen_ip_address": "0.0.0.0"]], ["ccxt_config": ["urls": ["api": "http://evil"]]], ["jwt_secret_key": "x"],
        ["listen_ip_address": "0.0.0.0"], ["initial_state": "running"], ["unknownField": 1], ["exchange": ["name": "binance", "key": "k"]],
    ] as [[String: any Sendable]])
    func smuggling(_ extra: [String: any Sendable]) async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let owner = try await client.signIn("alice")
            let response = try await client.call(.post, "/api/v1/bots", cookie: owner, json: botBody("smuggled", extra))
            #expect(response.status == .badRequest, "\(extra): \(response.text)")
            #expect(response.errorCode == "validation_failed")
            #expect((response.json["error"] as? [String: Any])?["fields"] != nil)
        }
        #expect(try await harness.database.bot(BotID("smuggled")!) == nil)
        #expect(await harness.runtime.launchCount() == 0)
    }

    @Test("wrong types and bad values get field-level messages", arguments: [
        ("maxOpenTrades", "3" as any Sendable), ("pairs", "BTC/USDT"), ("dryRunWallet", true), ("strategy", "../../etc/passwd"),
        ("id", "Bad Id"), ("stakeAmount", 100), ("size", "xxl"),
    ] as [(String, any Sendable)])
    func fieldErrors(field: String, value: any Sendable) async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let owner = try await client.signIn("alice")
            let response = try await client.call(.post, "/api/v1/bots", cookie: owner, json: botBody("b2", [field: value]))
            #expect(response.status == .badRequest)
            let fields = (response.json["error"] as? [String: Any])?["fields"] as? [String: String]
            #expect(fields?[field] != nil, "\(field): \(response.text)")
        }
    }

    @Test("an oversized body is refused with 413, a non-object with 400")
    func sizeAndShape() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let owner = try await client.signIn("alice")
            let big = try await client.call(.post, "/api/v1/bots", cookie: owner, json: botBody("big", ["name": String(repeating: "x", count: 70_000)]))
            #expect(big.status == .contentTooLarge)
            let array = try await client.execute(uri: "/api/v1/bots", method: .post, headers: [.cookie: owner, .contentType: "application/json"], body: ByteBuffer(string: "[1,2]"))
            #expect(array.status == .badRequest)
            let broken = try await client.execute(uri: "/api/v1/bots", method: .post, headers: [.cookie: owner, .contentType: "application/json"], body: ByteBuffer(string: "{\"id\":"))
            #expect(broken.status == .badRequest)
        }
    }

    @Test("errors never carry internals, and unknown paths are uniform 404s")
    func errorShape() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            for path in ["/api/v1/nothing", "/api/v1/bots/UPPER", "/api/v1/bots/a%2F..%2Fb"] {
                let response = try await client.call(.get, path, cookie: try await client.signIn("root"))
                // An encoded ".." is refused as malformed (400) before anything is looked up.
                #expect([.notFound, .badRequest].contains(response.status))
                #expect(["not_found", "bad_request"].contains(response.errorCode))
                for leak in ["sqlite", "SELECT", "/work/", ".swift", "curl", "docker.sock", "Error Domain"] {
                    #expect(!response.text.contains(leak))
                }
            }
        }
    }

    @Test("the bot quota and the memory budget refuse with a reason and what is free")
    func admission() async throws {
        let harness = try await Harness(["FTA_MAX_BOTS_PER_CLIENT": "2", "FTA_MEMORY_BUDGET_MB": "700"])
        try await harness.test { client in
            let owner = try await client.signIn("alice")
            // acme-bot (not running) + one more = the quota of 2.
            #expect(try await client.call(.post, "/api/v1/bots", cookie: owner, json: botBody("m1", ["size": "medium"])).status == .created)
            let third = try await client.call(.post, "/api/v1/bots", cookie: owner, json: botBody("m2"))
            #expect(third.status == .conflict)
            #expect(third.errorCode == "quota_exceeded")
            // 512 MiB running out of 700: a small bot (320) does not fit.
            let start = try await client.call(.post, "/api/v1/bots/acme-bot/start", cookie: owner)
            #expect(start.status == .conflict)
            #expect(start.errorCode == "memory_budget_exceeded")
            let message = (start.json["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(message.contains("188 MiB") && message.contains("320 MiB"))
        }
        #expect(try await harness.database.bot(BotID("acme-bot")!)?.state == .created)
        #expect(await harness.runtime.launchCount() == 1)
    }
}

@Suite("security headers and static files")
struct HeaderTests {
    @Test("every response carries the security headers; API answers are not cached", arguments: ["/api/v1/health", "/", "/login.html", "/api/v1/me", "/missing"])
    func headers(_ path: String) async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let response = try await client.call(.get, path)
            #expect(response.headers[.xContentTypeOptions] == "nosniff")
            #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            let csp = try #require(response.headers[.contentSecurityPolicy])
            #expect(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"))
            if path.hasPrefix("/api/") { #expect(response.headers[.cacheControl] == "no-store") }
        }
    }

    @Test("static files: index page, content types, no listing, no traversal")
    func staticFiles() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let index = try await client.call(.get, "/")
            #expect(index.status == .ok)
            #expect(index.headers[.contentType]?.hasPrefix("text/html") == true)
            let css = try await client.call(.get, "/css/app.css")
            #expect(css.headers[.contentType]?.hasPrefix("text/css") == true)
            #expect(try await client.call(.get, "/css/").status == .notFound)
            for path in ["/../Package.swift", "/%2e%2e/Package.swift", "/css/..%2f..%2fPackage.swift"] {
                let response = try await client.call(.get, path)
                #expect([.badRequest, .notFound].contains(response.status), "\(path): \(response.status)")
                #expect(!response.text.contains("swift-tools-version"))
            }
        }
    }

    @Test("health says ok or degraded, and nothing more")
    func health() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let response = try await client.call(.get, "/api/v1/health")
            #expect(response.json["status"] as? String == "ok")
            #expect(Set(response.json.keys) == ["status", "checks"])
            #expect(!response.text.lowercased().contains("version"))
        }
    }
}

@Suite("configuration")
struct ConfigurationTests {
    @Test("a non-loopback listen address is refused with the variable's name", arguments: ["0.0.0.0", "10.0.0.5", "::", "example.com"])
    func loopbackOnly(_ address: String) {
        #expect(throws: ConfigurationError.self) { try testConfiguration(["FTA_LISTEN": address]) }
        do { _ = try testConfiguration(["FTA_LISTEN": address]) } catch {
            #expect(error.variable == "FTA_LISTEN")
        }
    }

    @Test("the secret key must be present, real and 32 bytes", arguments: ["", "CHANGE_ME_64_HEX_CHARACTERS_FROM_openssl_rand_hex_32", "abcd", String(repeating: "0", count: 64)])
    func secretKey(_ key: String) {
        do {
            _ = try testConfiguration(["FTA_SECRET_KEY": key])
            Issue.record("accepted FTA_SECRET_KEY=\(key)")
        } catch {
            #expect(error.variable == "FTA_SECRET_KEY")
        }
    }

    @Test("malformed values name their variable", arguments: [
        ("FTA_PORT", "http"), ("FTA_PORT", "70000"), ("FTA_DOCKER_URL", "unix:///var/run/docker.sock"), ("FTA_DOCKER_URL", "tcp://x"),
        ("FTA_BOT_IMAGE", "freqtradeorg/freqtrade"), ("FTA_BCRYPT_COST", "4"), ("FTA_PUBLIC_URL", "ftp://x"), ("FTA_LOG_LEVEL", "loud"),
        ("FTA_EXCHANGE_OVERRIDE", "{not json"), ("FTA_BOT_SWAP", "sometimes"), ("FTA_MEMORY_MARGIN_MB", "-1"), ("FTA_SWAP_CREDIT_MB", "lots"),
    ])
    func malformed(variable: String, value: String) {
        do {
            _ = try testConfiguration([variable: value])
            Issue.record("accepted \(variable)=\(value)")
        } catch {
            #expect(error.variable == variable)
        }
    }

    @Test("by default the memory budget is measured, not fixed")
    func budget() throws {
        let host = HostMemory(totalMB: 1024, availableMB: 600, swapTotalMB: 0, swapFreeMB: 0)
        let configuration = try PortalConfiguration.load(environment: ["FTA_SECRET_KEY": RandomBytes.hex(32)], host: host)
        #expect(configuration.memoryBudgetMB == nil && configuration.memoryMarginMB == nil && configuration.swapCreditMB == nil)
        #expect(configuration.listenAddress == "127.0.0.1" && configuration.port == 8080)
        let fixed = try PortalConfiguration.load(environment: ["FTA_SECRET_KEY": RandomBytes.hex(32), "FTA_MEMORY_BUDGET_MB": "700"], host: host)
        #expect(fixed.memoryPolicy.fixedBudgetMB == 700)
    }
}

@Suite("audit trail hygiene")
struct AuditHygieneTests {
    @Test("a username with control characters cannot forge audit or log lines")
    func logInjection() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let forged = "x\n2026-01-01 notice fta: action=auth.login actor=admin outcome=success\u{1b}[2J\u{202e}"
            let response = try await client.call(.post, "/api/v1/auth/login", json: ["username": forged, "password": "whatever it is"])
            #expect(response.status == .unauthorized)
        }
        let entries = try await harness.database.auditEntries(AuditFilter(action: "auth.login"))
        let entry = try #require(entries.first)
        for field in [entry.actor, entry.target ?? ""] {
            #expect(!field.unicodeScalars.contains { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format })
            #expect(field.hasPrefix("x?2026-01-01"))
        }
    }

    @Test("actions that take no input refuse a body with fields")
    func noInput() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let owner = try await client.signIn("alice")
            let response = try await client.call(.post, "/api/v1/bots/acme-bot/start", cookie: owner, json: ["dry_run": false])
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "validation_failed")
            #expect(try await client.call(.post, "/api/v1/bots/acme-bot/stop", cookie: owner, json: [String: String]()).status == .ok)
        }
        #expect(await harness.runtime.launchCount() == 0)
    }
}
