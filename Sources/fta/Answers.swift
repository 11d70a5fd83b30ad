import ArgumentParser
import Foundation

/// The exit codes of the commands that answer a question for scripts (install.sh):
/// 0 yes, 3 no, 1 on any error, with the message on standard error.
enum Answer: Int32 {
    case yes = 0
    case no = 3
}

/// Runs the question `body` and exits with its answer. Every error, a bad configuration
/// included, exits 1: a script must never read an error as "no".
func answer(_ body: () async throws -> Answer) async throws {
    let result: Answer
    do {
        result = try await body()
    } catch {
        FileHandle.standardError.write(Data("fta: \(error)\n".utf8))
        throw ExitCode.failure
    }
    if result != .yes { throw ExitCode(result.rawValue) }
}
