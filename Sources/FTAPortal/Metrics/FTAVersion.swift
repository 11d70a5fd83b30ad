import Foundation

/// What runs: the release's version, as install.sh installed it beside the binary.
///
/// A release archive carries `VERSION` (scripts/release.sh); install.sh copies it to
/// `/usr/local/share/fta/VERSION`, next to the web files, with the binary in `/usr/local/bin`.
/// A binary run from an unpacked release finds `../VERSION`. A development build says `dev`.
public enum FTAVersion {
    public static let current: String = read() ?? "dev"

    static func read(executable: String? = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) -> String? {
        guard let executable else { return nil }
        let bin = (executable as NSString).deletingLastPathComponent
        for candidate in ["\(bin)/../share/fta/VERSION", "\(bin)/../VERSION"] {
            guard let text = try? String(contentsOfFile: candidate, encoding: .utf8) else { continue }
            let version = text.trimmingCharacters(in: .whitespacesAndNewlines)
            // The same grammar release.sh accepts; anything else is not a version.
            if version.range(of: #"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$"#, options: .regularExpression) != nil { return version }
        }
        return nil
    }
}
