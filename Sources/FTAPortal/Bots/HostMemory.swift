import Foundation

/// The host's memory and swap, from /proc/meminfo.
public struct HostMemory: Sendable, Equatable {
    public var totalMB: Int
    public var availableMB: Int
    public var swapTotalMB: Int
    public var swapFreeMB: Int

    public init(totalMB: Int, availableMB: Int, swapTotalMB: Int, swapFreeMB: Int) {
        self.totalMB = totalMB
        self.availableMB = availableMB
        self.swapTotalMB = swapTotalMB
        self.swapFreeMB = swapFreeMB
    }

    public static func read(path: String = "/proc/meminfo") -> HostMemory? {
        ProcFields.read(path).flatMap(parse)
    }

    /// The figures of a /proc/meminfo text; nil without MemTotal.
    public static func parse(_ text: String) -> HostMemory? {
        let kB = ProcFields.kilobytes(in: text)
        guard let total = kB["MemTotal"] else { return nil }
        return HostMemory(totalMB: total / 1024, availableMB: (kB["MemAvailable"] ?? 0) / 1024,
                          swapTotalMB: (kB["SwapTotal"] ?? 0) / 1024, swapFreeMB: (kB["SwapFree"] ?? 0) / 1024)
    }
}

/// What the control plane (fta itself, the container engine, the socket proxy, nginx) holds in
/// memory, measured from /proc: the proportional set size where this process may read it, the
/// resident set otherwise (an overestimate, never an underestimate).
public struct ControlPlaneUsage: Sendable, Equatable {
    /// MiB by process name, several processes of one name summed.
    public var processes: [String: Int]
    /// Other users' processes are hidden from fta (`hidepid`, `ProtectProc=`): what it cannot
    /// see is counted with `unseenEstimateMB`.
    public var othersHidden: Bool

    public init(processes: [String: Int], othersHidden: Bool = false) {
        self.processes = processes
        self.othersHidden = othersHidden
    }

    /// The processes that make up the control plane, by their kernel name (`comm`, at most 15
    /// characters: each containerd-shim-runc-v2, one per running container, reads
    /// "containerd-shim"). fta itself is measured through /proc/self.
    public static let names: Set<String> = ["dockerd", "containerd", "containerd-shim", "haproxy", "nginx"]

    /// What dockerd, containerd and haproxy hold on a small host (issue 11: 45-55, 20 and 15 MiB
    /// PSS), counted when fta cannot see them.
    public static let unseenEstimateMB = 96

    public var totalMB: Int { processes.values.reduce(0, +) + (othersHidden ? Self.unseenEstimateMB : 0) }

    /// Reads /proc (or `procRoot`, for tests).
    public static func measure(procRoot: String = "/proc") -> ControlPlaneUsage {
        var kB: [String: Int] = [:]
        let ownPID = getpid()
        kB["fta"] = ProcFields.memoryKB(process: "\(procRoot)/self")
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: procRoot)) ?? []
        var sawOthers = false
        for entry in entries {
            guard let pid = Int32(entry), pid != ownPID else { continue }
            let dir = "\(procRoot)/\(entry)"
            guard let comm = ProcFields.read("\(dir)/comm") else { continue }
            if pid == 1 || !isOwnedBySelf(dir) { sawOthers = true }
            let name = comm.trimmingCharacters(in: .whitespacesAndNewlines)
            guard names.contains(name), let size = ProcFields.memoryKB(process: dir) else { continue }
            kB[name, default: 0] += size
        }
        return ControlPlaneUsage(processes: kB.filter { $0.value > 0 }.mapValues { ($0 + 1023) / 1024 }, othersHidden: !sawOthers)
    }

    private static func isOwnedBySelf(_ dir: String) -> Bool {
        var info = stat()
        return stat(dir, &info) == 0 && info.st_uid == getuid()
    }
}

/// Reading /proc files, and their `Key:   123 kB` lines.
enum ProcFields {
    /// The whole text of a /proc file. Foundation's `String(contentsOfFile:)` trusts the size
    /// the file reports, 0 for /proc files, and returns the first 4 KiB only: /proc/net/tcp on
    /// a host with a few dozen sockets, or /proc/self/smaps, is much longer.
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            bytes.append(contentsOf: chunk[..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func kilobytes(in text: String) -> [String: Int] {
        var values: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            // "VmRSS:\t   1234 kB": a tab, then spaces.
            let number = line[line.index(after: colon)...].split(whereSeparator: \.isWhitespace).first
            if let number, let value = Int(number) { values[String(line[..<colon])] = value }
        }
        return values
    }

    /// What a process holds that the kernel cannot drop: from smaps_rollup (readable for one's
    /// own processes, or as root) its anonymous and shared-memory PSS where the kernel breaks
    /// PSS down (5.x and later), else its PSS; else its RSS from status (readable by anyone);
    /// nil when neither is there (a kernel thread, a process gone meanwhile).
    ///
    /// The file-backed rest is mostly the binaries' code (about 50 of dockerd's 86 MiB PSS in
    /// the 1 GiB VM): page cache the kernel evicts under pressure and reads back when needed,
    /// which the admission margin already stands for. Counted twice, it kept a sixth bot out of
    /// a 1 GiB host (docs/density.md).
    static func memoryKB(process dir: String) -> Int? {
        if let text = read("\(dir)/smaps_rollup") {
            let fields = kilobytes(in: text)
            if let anon = fields["Pss_Anon"] { return anon + (fields["Pss_Shmem"] ?? 0) }
            if let pss = fields["Pss"] { return pss }
        }
        return read("\(dir)/status").flatMap { kilobytes(in: $0)["VmRSS"] }
    }
}
