import Foundation

/// The filesystem of bots' volumes (`FTA_BOT_STORE`), as this process sees it.
///
/// install.sh puts Docker's volumes on an XFS image of their own, mounted with project quotas
/// (`scripts/install/lib/storage.sh`): Docker then gives every volume created with a `size` its
/// own hard cap, and a bot that fills even the whole store cannot take the space of the portal's
/// database, which lives on another filesystem.
public struct BotStore: Sendable, Equatable {
    /// A bot's cap when `FTA_BOT_DISK_MB` is auto: a bot's trades database and logs stay far
    /// below it (a week of a 5-minute strategy is a few MiB), and eight fit in the default store.
    public static let defaultDiskMB = 256

    public var path: String
    /// A mount point of its own (not a directory of the root filesystem).
    public var isMountPoint: Bool
    /// The filesystem type mounted there ("xfs"), or nil.
    public var filesystem: String?
    /// Mounted with project quotas, which Docker's volume `size` needs.
    public var projectQuotas: Bool
    public var totalMB: Int?
    public var freeMB: Int?

    /// Whether a volume created with a size is capped by the kernel here.
    public var enforcesQuotas: Bool { isMountPoint && filesystem == "xfs" && projectQuotas }

    /// Reads `/proc/self/mountinfo` and the filesystem's free space.
    public static func inspect(_ path: String, mountinfo: String? = nil) -> BotStore {
        let mountinfo = mountinfo ?? ProcFields.read("/proc/self/mountinfo")
        var store = BotStore(path: path, isMountPoint: false, filesystem: nil, projectQuotas: false, totalMB: nil, freeMB: nil)
        // The last mount on a point is the one that shows there.
        if let mount = (mountinfo ?? "").split(separator: "\n").compactMap(MountLine.init).last(where: { $0.mountPoint == path }) {
            store.isMountPoint = true
            store.filesystem = mount.filesystem
            store.projectQuotas = mount.superOptions.contains("prjquota") || mount.superOptions.contains("pquota")
        }
        if let space = DiskSpace.of(path) {
            store.totalMB = space.totalMB
            store.freeMB = space.freeMB
        }
        return store
    }

    /// One line of mountinfo: `36 35 98:0 /root /mnt rw,noatime shared:1 - xfs /dev/loop0 rw,prjquota`.
    struct MountLine {
        var mountPoint: String
        var filesystem: String
        var superOptions: Set<String>

        init?(_ line: Substring) {
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2 else { return nil }
            let own = halves[0].split(separator: " ")
            let fs = halves[1].split(separator: " ")
            guard own.count >= 5, fs.count >= 3 else { return nil }
            mountPoint = Self.unescape(String(own[4]))
            filesystem = String(fs[0])
            superOptions = Set(fs[2].split(separator: ",").map(String.init))
        }

        /// mountinfo writes space, tab, newline and backslash as octal escapes (`\040`).
        static func unescape(_ text: String) -> String {
            var out = ""
            var rest = Substring(text)
            while let slash = rest.firstIndex(of: "\\") {
                out += rest[..<slash]
                let code = rest[rest.index(after: slash)...].prefix(3)
                if code.count == 3, let byte = UInt8(code, radix: 8) {
                    out.append(Character(UnicodeScalar(byte)))
                    rest = rest[rest.index(slash, offsetBy: 4)...]
                } else {
                    out.append("\\")
                    rest = rest[rest.index(after: slash)...]
                }
            }
            return out + rest
        }
    }
}

/// Free and total space of the filesystem holding a path, for the disk alarm.
public struct DiskSpace: Sendable, Equatable {
    public var totalMB: Int
    public var freeMB: Int

    public static func of(_ path: String) -> DiskSpace? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        let unit = Int(info.f_frsize)
        return DiskSpace(totalMB: Int(info.f_blocks) * unit / (1 << 20), freeMB: Int(info.f_bavail) * unit / (1 << 20))
    }

    /// The alarm: below 300 MiB nothing is safe (SQLite's journal, an image pull, a backup); a
    /// store of bot volumes below a tenth of its size is close to stopping its bots' writes.
    public func isLow(floorMB: Int = 300, fraction: Double = 0.1) -> Bool {
        freeMB < floorMB || Double(freeMB) < Double(totalMB) * fraction
    }
}
