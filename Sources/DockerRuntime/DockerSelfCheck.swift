import DockerEngine
import FTACore
import FTARuntime
import Foundation

/// The Docker runtime's own safety promises, checked for `fta doctor`: the proxy answers and
/// refuses what it must, the engine's socket is closed to the service user, and the engine has
/// the settings install.sh gives it.
extension DockerBotRuntime {
    /// Where an engine that install.sh set up itself (dockerd, /etc/docker/daemon.json) listens.
    static let defaultEngineSockets: Set<String> = ["/var/run/docker.sock", "/run/docker.sock"]

    public func selfCheck(host: Bool) async -> [RuntimeCheck] {
        var checks: [RuntimeCheck] = []
        if host {
            checks.append(serviceUserCannotOpenEngineSocket())
            checks.append(daemonSettings())
        }
        checks.append(await proxyAnswers())
        checks.append(await proxyRefusesExec())
        return checks
    }

    func proxyAnswers() async -> RuntimeCheck {
        await docker.ping()
            ? RuntimeCheck(name: "proxy.ping", verdict: .pass, detail: "the socket proxy answers at \(docker.endpoint)")
            : RuntimeCheck(name: "proxy.ping", verdict: .fail, detail: "no answer from the socket proxy at \(docker.endpoint)",
                           fix: "start it: docker compose -f compose/docker-compose.yml up -d (or the fta-proxy service)")
    }

    /// The proxy is the boundary between the portal and the engine: an exec must never pass.
    func proxyRefusesExec() async -> RuntimeCheck {
        let fix = "install fta's compose/haproxy/haproxy.cfg and restart the proxy"
        do {
            _ = try await docker.send("POST", "/containers/fta-bot-doctor/exec", body: ["Cmd": ["id"]])
            return RuntimeCheck(name: "proxy.policy", verdict: .fail, detail: "the proxy let an exec request through", fix: fix)
        } catch .deniedByProxy {
            return RuntimeCheck(name: "proxy.policy", verdict: .pass, detail: "the proxy refuses exec (403)")
        } catch {
            return RuntimeCheck(name: "proxy.policy", verdict: .fail, detail: "the exec probe got \(error) instead of a 403", fix: fix)
        }
    }

    func serviceUserCannotOpenEngineSocket() -> RuntimeCheck {
        let socket = options.engineSocket, user = options.serviceUser
        func check(_ verdict: RuntimeCheck.Verdict, _ detail: String, fix: String = "") -> RuntimeCheck {
            RuntimeCheck(name: "docker.socket", verdict: verdict, detail: detail, fix: fix)
        }
        guard FileManager.default.fileExists(atPath: socket) else { return check(.pass, "\(socket) is absent here") }
        guard let members = UserGroups.groups(of: user) else {
            return check(.warn, "there is no \(user) user", fix: "run install.sh, which creates the \(user) system user")
        }
        var info = stat()
        guard stat(socket, &info) == 0 else { return check(.warn, "cannot stat \(socket)", fix: "run fta doctor as root") }
        let mode = Int(info.st_mode) & 0o777
        let readableByGroup = mode & 0o060 != 0 && members.contains(info.st_gid)
        let readableByOthers = mode & 0o006 != 0
        if readableByGroup || readableByOthers || info.st_uid == UserGroups.uid(of: user) {
            return check(.fail, "the \(user) user can open \(socket)",
                         fix: "remove \(user) from the docker group (gpasswd -d \(user) docker) and keep the socket 0660 root:docker")
        }
        return check(.pass, "the \(user) user cannot open \(socket)")
    }

    func daemonSettings() -> RuntimeCheck {
        let path = options.daemonConfigPath
        func check(_ verdict: RuntimeCheck.Verdict, _ detail: String, fix: String = "") -> RuntimeCheck {
            RuntimeCheck(name: "docker.daemon", verdict: verdict, detail: detail, fix: fix)
        }
        // daemon.json configures the engine on the default socket only. An engine elsewhere
        // (install.sh --docker-host) is configured by whoever runs it, with flags or a file of its
        // own that this check cannot see: saying "run install.sh again" would be wrong advice.
        if !Self.defaultEngineSockets.contains(options.engineSocket) {
            return check(.warn, "the engine at \(options.engineSocket) was not set up by install.sh (--docker-host): \(path) does not apply to it",
                         fix: "give that engine log rotation (log-opts max-size), default-address-pools, live-restore and no-new-privileges in its own configuration")
        }
        guard let data = FileManager.default.contents(atPath: path), let json = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            return check(.warn, "\(path) is missing or not JSON", fix: "run install.sh again: it writes log rotation, address pools and live-restore")
        }
        var missing: [String] = []
        if json["log-opts"]?["max-size"] == nil { missing.append("log rotation (log-opts.max-size)") }
        if (json["default-address-pools"]?.arrayValue ?? []).isEmpty { missing.append("default-address-pools") }
        if json["live-restore"]?.boolValue != true { missing.append("live-restore") }
        if json["no-new-privileges"]?.boolValue != true { missing.append("no-new-privileges") }
        return missing.isEmpty ? check(.pass, "log rotation, address pools, live-restore, no-new-privileges set")
            : check(.warn, "missing in \(path): \(missing.joined(separator: ", "))", fix: "run install.sh again")
    }
}

/// Group membership of a system user.
enum UserGroups {
    static func uid(of user: String) -> uid_t? {
        guard let entry = getpwnam(user) else { return nil }
        return entry.pointee.pw_uid
    }

    static func groups(of user: String) -> Set<gid_t>? {
        guard let entry = getpwnam(user) else { return nil }
        let primary = entry.pointee.pw_gid
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: 64)
        guard getgrouplist(user, primary, &groups, &count) >= 0 else { return [primary] }
        return Set(groups.prefix(Int(count)))
    }
}
