import ArgumentParser
import FTAPortal

/// `fta config`: what fta knows about its own configuration, so that install.sh asks instead
/// of repeating it.
struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show fta's configuration variables.", subcommands: [Example.self])

    /// `fta config example`: the documented example file with fta's own defaults; the
    /// repository's `.env.example` is this output, and install.sh starts fta.env from it.
    struct Example: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the example configuration file (.env.example) with fta's defaults.")

        func run() throws {
            print(ConfigurationCatalog.renderExample(), terminator: "")
        }
    }
}
