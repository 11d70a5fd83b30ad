import ArgumentParser
import FTAStore

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or upgrade the database schema, then exit.",
        discussion: """
            Prints one line: "database created, N migrations applied", "N migrations applied" or "schema up to date".
            With --check nothing is written: exit 0 and "schema up to date", or exit 3 and "no database" or \
            "N migrations pending"; exit 1 on any error.
            """
    )
    @OptionGroup var common: CommonOptions
    @Flag(help: "Only report whether migrations are pending; never create or change the database.")
    var check = false

    func run() async throws {
        if check {
            try await answer {
                let configuration = try common.load(requireSecrets: false)
                switch try AppDatabase.schemaStatus(path: configuration.databasePath) {
                case .upToDate:
                    print("schema up to date")
                    return .yes
                case .noDatabase:
                    print("no database")
                    return .no
                case .pending(let count):
                    print("\(count) migrations pending")
                    return .no
                }
            }
            return
        }
        tightenUmask()
        let configuration = try common.load(requireSecrets: false)
        let report = try AppDatabase.migrate(path: configuration.databasePath)
        if report.createdDatabase {
            print("database created, \(report.applied) migrations applied")
        } else if report.applied > 0 {
            print("\(report.applied) migrations applied")
        } else {
            print("schema up to date")
        }
    }
}
