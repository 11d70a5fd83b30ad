import Foundation
import Glibc
import Logging

/// fta's text log handler: one line per entry, in which the message and every metadata value are
/// quoted, so that no value can add a field or a line (security review, issue 15 class 7).
///
/// swift-log's `StreamLogHandler` prints metadata as `key=value` unquoted: a username typed at
/// sign-in such as `alice outcome=success` became two fields of the audit line. Here a line is
///
///     2026-05-01T12:00:00.000Z notice fta: "audit" action="auth.login" actor="alice outcome=success"
///
/// timestamp (UTC), level, label, the quoted message, then the metadata sorted by key. Inside
/// the quotes `"` and `\` are escaped with `\`, newline, carriage return and tab are `\n`, `\r`
/// and `\t`, and every other control or format character (escape sequences, bidi overrides,
/// line separators) is `\u{hex}`. Keys come from fta's code, and are still reduced to
/// `[A-Za-z0-9._-]` so that nothing can ever break the shape.
public struct PortalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level
    let label: String
    let write: @Sendable (String) -> Void

    /// A handler writing to `write` (standard error by default), one call per complete line.
    public init(label: String, level: Logger.Level = .info, metadataProvider: Logger.MetadataProvider? = nil,
                write: @escaping @Sendable (String) -> Void = PortalLogHandler.standardError) {
        self.label = label
        logLevel = level
        self.metadataProvider = metadataProvider
        self.write = write
    }

    /// Makes every logger of the process use this handler at `level` (`info` when unknown).
    public static func bootstrap(level: String) {
        let parsed = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { label in PortalLogHandler(label: label, level: parsed) }
    }

    /// One `write(2)` per line, so that lines of concurrent tasks never interleave. Called
    /// directly: Foundation's `FileHandle.write` traps when a write fails, and under fta-supervise
    /// the log is a file on the database's disk, so a full disk crashed the portal at its next
    /// log line. A line that cannot be written is dropped; the portal goes on.
    public static let standardError: @Sendable (String) -> Void = { line in
        let bytes = Array(line.utf8)
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(STDERR_FILENO, base + offset, buffer.count - offset)
                if written > 0 { offset += written } else if written < 0 && errno == EINTR { continue } else { return }
            }
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        if let error = event.error, merged["error"] == nil { merged["error"] = "\(error)" }
        write(Self.render(date: Date(), level: event.level, label: label, message: "\(event.message)", metadata: merged))
    }

    /// The line for one entry, newline included.
    public static func render(date: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var line = "\(date.formatted(timestamp)) \(level.rawValue) \(key(label)): \(quoted(message))"
        for (name, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += " \(key(name))=\(quoted(text(value)))"
        }
        return line + "\n"
    }

    /// UTC, to the millisecond: 2026-05-01T12:00:00.000Z.
    static let timestamp = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// `text` between double quotes, escaped as the type's documentation says.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                switch scalar.properties.generalCategory {
                case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned, .privateUse:
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                default:
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A key or label reduced to `[A-Za-z0-9._-]`, other characters becoming `_`.
    static func key(_ name: String) -> String {
        let kept = name.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar)) ? Character(scalar) : "_"
        }
        return kept.isEmpty ? "_" : String(kept)
    }

    /// A metadata value as one string: nested arrays and dictionaries are flattened into the
    /// one quoted value, never into fields of the line.
    static func text(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): "[" + values.map { quoted(text($0)) }.joined(separator: ", ") + "]"
        case .dictionary(let entries):
            "[" + entries.sorted(by: { $0.key < $1.key }).map { "\(quoted($0.key)): \(quoted(text($0.value)))" }.joined(separator: ", ") + "]"
        }
    }
}
