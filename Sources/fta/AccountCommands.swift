import ArgumentParser
import FTACore
import FTAPortal
import FTAStore
import Foundation

// Operator accounts and clients from the server's command line. Validation, hashing, storing
// and auditing are the account service's, the same as for the API; these commands only read
// arguments and print.

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage operator accounts.", subcommands: [Create.self, Exists.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an admin; the password is read from standard input.",
            discussion: "Prints \"created\". With --if-none and an admin already there, prints \"exists\", reads no password and creates nothing."
        )
        @OptionGroup var common: CommonOptions
        @Option(help: "The admin's username.") var username: String
        @Flag(help: "Read the password from standard input (required: passwords never go on the command line).")
        var passwordStdin = false
        @Flag(help: "Create the admin only when no admin exists yet.") var ifNone = false

        func run() async throws {
            tightenUmask()
            guard passwordStdin else { throw ValidationError("pass --password-stdin and the password on standard input") }
            // Checked before the password is typed; the account service checks it again.
            if let problem = UsernameRule.problem(with: username) { throw ValidationError("username \(problem)") }
            let configuration = try common.load(requireSecrets: false)
            // Asked read-only first, so that an installation with an admin is not written to.
            if ifNone, let existing = try AppDatabase.openReadOnly(path: configuration.databasePath),
               try existing.isMigrated(), try await existing.hasAdmin() {
                print("exists")
                return
            }
            let password = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                .trimmingCharacters(in: .newlines)
            let account = try refusals { try AccountDraft(username: username, password: password).validatedAdmin() }
            let database = try AppDatabase.open(path: configuration.databasePath)
            // A database that was not migrated yet could not be asked above.
            if ifNone, try await database.hasAdmin() {
                print("exists")
                return
            }
            _ = try await refusals(taken: "the username \(username) is taken") {
                try await accountService(configuration, database).create(account, of: nil, by: .commandLine)
            }
            print("created")
        }
    }

    struct Exists: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Exit 0 when an admin exists, 3 when none (or no database), 1 on error. Never creates the database."
        )
        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await answer {
                let configuration = try common.load(requireSecrets: false)
                guard let database = try AppDatabase.openReadOnly(path: configuration.databasePath) else { return .no }
                return try await database.hasAdmin() ? .yes : .no
            }
        }
    }
}

struct Client: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage clients.", subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a client.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Client id: \(Identifier.rule).") var id: String
        @Option(help: "Display name (the id when omitted).") var name: String?

        func run() async throws {
            tightenUmask()
            // Validated before the database is opened: bad input creates nothing, not even the file.
            let client = try refusals { try ClientDraft(id: id, name: name ?? id).validated() }
            let configuration = try common.load(requireSecrets: false)
            let database = try AppDatabase.open(path: configuration.databasePath)
            _ = try await refusals(taken: "a client with the id \(id) exists") {
                try await accountService(configuration, database).create(client, by: .commandLine)
            }
            print("client \(id) created")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the client ids, one a line and sorted; never creates the database.",
            discussion: "With --json, a JSON array of {id, name, maxBots}, maxBots being the client's effective quota."
        )
        @OptionGroup var common: CommonOptions
        @Flag(help: "Print a JSON array.") var json = false

        struct Listing: Encodable {
            var id: String
            var name: String
            var maxBots: Int
        }

        func run() async throws {
            try await answer {
                let configuration = try common.load(requireSecrets: false)
                let clients = try await AppDatabase.openReadOnly(path: configuration.databasePath)?.clients() ?? []
                if json {
                    let listings = clients.map { Listing(id: $0.id.rawValue, name: $0.name, maxBots: $0.maxBots ?? configuration.maxBotsPerClient) }
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys]
                    print(String(decoding: try encoder.encode(listings), as: UTF8.self))
                } else {
                    for client in clients { print(client.id) }
                }
                return .yes
            }
        }
    }
}

/// The account service for one command: the server's hasher cost, audit errors to stderr.
private func accountService(_ configuration: PortalConfiguration, _ database: AppDatabase) -> AccountService {
    AccountService(database: database, hasher: PasswordHasher(cost: configuration.bcryptCost),
                   audit: AuditTrail(database: database, logger: makeLogger("error")))
}

/// The result of `body`, with the account service's refusals as command-line errors in the
/// wording the CLI has always used: `taken` for a conflict (the id or username in use).
private func refusals<T>(taken: String? = nil, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as DomainError {
        throw ValidationError(commandLineMessage(error, taken: taken))
    }
}

private func refusals<T>(taken: String? = nil, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as DomainError {
        throw ValidationError(commandLineMessage(error, taken: taken))
    }
}

private func commandLineMessage(_ error: DomainError, taken: String?) -> String {
    switch error {
    case .invalid(let errors):
        // The API's field names, spelled for a command line: "id" is the client id argument.
        errors.messages.keys.sorted().map { field in "\(field == "id" ? "client id" : field) \(errors.messages[field]!)" }
            .joined(separator: "; ")
    case .conflict: taken ?? error.message
    default: error.message
    }
}
