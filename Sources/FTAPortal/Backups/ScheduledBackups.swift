import Crypto
import FTACore
import FTAStore
import Foundation
import Glibc

/// Scheduled backups: `fta backup --scheduled` (a daily systemd timer, docs/operations.md) and
/// `fta backup --drill`.
///
/// Each run takes an online backup (SQLite's backup API, integrity-checked), optionally seals it
/// with AES-256-GCM under a key kept in a file of its own, names it by its UTC time so that names
/// sort as times, keeps the newest `keep`, and hands the new file to the operator's hook to copy
/// it off the host. Nothing older is deleted before the new one is checked and in place.
public struct ScheduledBackups: Sendable {
    public let directory: String
    public let keep: Int
    public let keyFile: String?
    public let hook: String?
    let databasePath: String

    /// The first bytes of an encrypted backup, before AES-GCM's nonce, ciphertext and tag: a
    /// restore can tell it from an SQLite file ("SQLite format 3") without trying the key.
    static let sealedMagic = Data("FTA-BACKUP-AES256GCM-1\n".utf8)
    static let prefix = "fta-"
    static let plainSuffix = ".sqlite"
    static let sealedSuffix = ".sqlite.enc"

    public init(configuration: PortalConfiguration) {
        self.init(directory: configuration.backupDirectory, keep: configuration.backupKeep, keyFile: configuration.backupKeyFile,
                  hook: configuration.backupHook, databasePath: configuration.databasePath)
    }

    public init(directory: String, keep: Int, keyFile: String?, hook: String?, databasePath: String) {
        self.directory = directory
        self.keep = keep
        self.keyFile = keyFile
        self.hook = hook
        self.databasePath = databasePath
    }

    public struct Entry: Sendable, Equatable {
        public var path: String
        public var date: Date
        public var sealed: Bool
    }

    public struct Outcome: Sendable {
        public var file: String
        public var bytes: Int
        public var sealed: Bool
        public var deleted: [String]
        public var kept: Int
        /// The hook's exit status and last output; nil: no hook.
        public var hook: (status: Int32, output: String)?
    }

    public enum BackupError: Error, CustomStringConvertible {
        case key(String)
        case noBackup(String)
        case sealedWithoutKey(String)
        case cannotOpen(String)

        public var description: String {
            switch self {
            case .key(let why): "backup key: \(why)"
            case .noBackup(let directory): "no backup in \(directory): run fta backup --scheduled first"
            case .sealedWithoutKey(let file): "\(file) is encrypted: set FTA_BACKUP_KEY_FILE to its key's file to read it"
            case .cannotOpen(let file): "\(file) does not open with this key (another key, or the file was altered)"
            }
        }
    }

    // MARK: Run

    public func run(now: Date = Date()) throws -> Outcome {
        let key = try keyFile.map(Self.readKey)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let name = Self.prefix + Self.stamp(now)
        let plain = "\(directory)/\(name)\(Self.plainSuffix)"
        let file: String
        if let key {
            let scratch = "\(directory)/.\(name).plain-\(getpid())"
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            try DatabaseBackup.backup(databaseAt: databasePath, to: scratch)
            file = "\(directory)/\(name)\(Self.sealedSuffix)"
            try Self.writePrivate(try Self.seal(Data(contentsOf: URL(fileURLWithPath: scratch)), key: key), to: file)
        } else {
            try DatabaseBackup.backup(databaseAt: databasePath, to: plain)
            file = plain
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        let all = list()
        let deleted = all.dropFirst(keep).map(\.path)
        for path in deleted { try? FileManager.default.removeItem(atPath: path) }
        return Outcome(file: file, bytes: bytes, sealed: key != nil, deleted: deleted, kept: min(all.count, keep), hook: hook.map { runHook($0, file) })
    }

    /// The backups in the directory, newest first.
    public func list() -> [Entry] { Self.list(directory) }

    public static func list(_ directory: String) -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let formatter = stampFormatter()
        return names.compactMap { name -> Entry? in
            guard name.hasPrefix(prefix) else { return nil }
            let sealed = name.hasSuffix(sealedSuffix)
            guard sealed || name.hasSuffix(plainSuffix) else { return nil }
            let stamp = String(name.dropFirst(prefix.count).dropLast(sealed ? sealedSuffix.count : plainSuffix.count))
            guard let date = formatter.date(from: stamp) else { return nil }
            return Entry(path: "\(directory)/\(name)", date: date, sealed: sealed)
        }.sorted { $0.date > $1.date }
    }

    // MARK: Drill

    public struct DrillReport: Sendable {
        public var file: String
        public var date: Date
        public var sealed: Bool
        public var rows: [String: Int]
    }

    /// Restores the newest backup into a scratch file (never the live database), checks it as a
    /// restore would, counts its rows, and deletes the scratch file.
    public func drill() throws -> DrillReport {
        guard let newest = list().first else { throw BackupError.noBackup(directory) }
        let scratch = NSTemporaryDirectory() + "fta-drill-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sqlite"
        defer { for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: scratch + suffix) } }
        try Self.writePrivate(try open(newest.path), to: scratch)
        return DrillReport(file: newest.path, date: newest.date, sealed: newest.sealed, rows: try DatabaseBackup.drill(restoredAt: scratch))
    }

    /// A backup's SQLite bytes: as they are, or unsealed with the key.
    public func open(_ path: String) throws -> Data {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard data.starts(with: Self.sealedMagic) else { return data }
        guard let keyFile else { throw BackupError.sealedWithoutKey(path) }
        do {
            return try AES.GCM.open(AES.GCM.SealedBox(combined: data.dropFirst(Self.sealedMagic.count)), using: try Self.readKey(keyFile))
        } catch let error as BackupError {
            throw error
        } catch {
            throw BackupError.cannotOpen(path)
        }
    }

    // MARK: Parts

    /// Whether the file is an encrypted backup (by its first bytes).
    public static func isSealed(_ path: String) throws -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StoreError.notFound(path: path) }
        defer { try? handle.close() }
        return (try handle.read(upToCount: sealedMagic.count) ?? Data()) == sealedMagic
    }

    static func seal(_ plain: Data, key: SymmetricKey) throws -> Data {
        guard let combined = try AES.GCM.seal(plain, using: key).combined else { throw BackupError.key("AES-GCM gave no combined box") }
        return sealedMagic + combined
    }

    /// 64 hex characters (32 bytes), alone in a file that only its owner may read.
    static func readKey(_ path: String) throws -> SymmetricKey {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw BackupError.key("\(path) cannot be read") }
        if let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw BackupError.key("\(path) has mode \(String(mode, radix: 8)); chmod 600 it")
        }
        let hex = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard hex.count == 64, let bytes = SecretBox.decodeHex(hex) else { throw BackupError.key("\(path) must hold 64 hex characters (openssl rand -hex 32)") }
        return SymmetricKey(data: bytes)
    }

    /// Writes `data` to `path`, mode 0600, durably: a private temporary file, fsync, rename, fsync
    /// of the directory. What follows a write may depend on it being on disk (pruning deletes what
    /// an archive holds; a backup's rotation deletes older ones).
    public static func writePrivate(_ data: Data, to path: String) throws {
        let temporary = path + ".partial-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        let fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary]) }
        let written = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        let synced = fsync(fd) == 0
        close(fd)
        guard written, synced else { throw CocoaError(.fileWriteOutOfSpace, userInfo: [NSFilePathErrorKey: temporary]) }
        guard rename(temporary, path) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        let directory = Glibc.open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 { _ = fsync(directory); close(directory) }
    }

    /// `20261206T031500Z`: sorts as it reads. (A new formatter per call: DateFormatter is not
    /// Sendable, and a backup run formats one name.)
    static func stampFormatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter
    }

    static func stamp(_ date: Date) -> String { stampFormatter().string(from: date) }

    /// The operator's hook, with the new file as its one argument; its output is kept short.
    func runHook(_ program: String, _ file: String) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = [file]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (127, "cannot run \(program): \(error)") }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(String(decoding: output, as: UTF8.self).suffix(400)))
    }
}
