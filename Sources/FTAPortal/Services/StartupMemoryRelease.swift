#if canImport(Glibc)
import Glibc
#endif
import Logging
import ServiceLifecycle

/// Gives the memory that only start-up needed back to the host, once, after start-up.
///
/// Most of a fresh `fta serve`'s resident memory is not heap but pages of its own executable:
/// the kernel maps file pages 64 KiB around every fault, so start-up code (argument parsing,
/// migrations, the router, relocation and symbol tables) leaves ~20 MiB of a 25 MiB `.text`
/// resident that serving never touches again (docs/control-plane-memory.md). `madvise` with
/// `MADV_PAGEOUT` reclaims the private file-backed pages of the process; the kernel keeps every
/// page shared with another process, and a page touched again is simply read back. glibc's
/// `malloc_trim` then returns the free heap of start-up to the kernel, and the page table entries
/// of clean read-only file mappings (the shared libraries' code) are dropped. Nothing is lost:
/// modified pages stay (or go to swap), every other page is read back from its file when used.
public enum StartupMemoryRelease {
    /// Releases what it can and answers the resident set before and after, in KiB (nil off Linux).
    @discardableResult
    public static func releaseNow() -> (before: Int, after: Int)? {
        #if os(Linux)
        let before = residentKiB()
        // In this order: page-out first frees the file pages only this process maps, then the
        // heap goes back, then what is left mapped of clean files (shared ones) is dropped.
        pageOutPrivateFileMappings()
        trimHeap()
        unmapUnmodifiedFileMappings()
        guard let before, let after = residentKiB() else { return nil }
        return (before, after)
        #else
        return nil
        #endif
    }

    #if os(Linux)
    /// `MADV_PAGEOUT` (Linux 5.4) on every private file-backed mapping listed in /proc/self/maps.
    /// Private mappings only: a shared one (SQLite's -shm index) would be written back to its file.
    /// A kernel without `MADV_PAGEOUT` answers EINVAL, and nothing changes.
    static func pageOutPrivateFileMappings() {
        guard let maps = ProcFields.read("/proc/self/maps") else { return }
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[5].hasPrefix("/"), fields[1].hasSuffix("p") else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let low = UInt(range[0], radix: 16), let high = UInt(range[1], radix: 16), high > low,
                  let start = UnsafeMutableRawPointer(bitPattern: low) else { continue }
            _ = madvise(start, Int(high - low), pageOutAdvice)
        }
    }

    /// `MADV_DONTNEED` on every read-only file mapping that holds no private (modified) page,
    /// per /proc/self/smaps: such a mapping is exactly its file, so dropping its page table
    /// entries loses nothing, and a page used again is mapped back from the page cache. This is
    /// what shrinks the shared libraries' part (libcrypto, libc, ...), which other processes also
    /// map and `MADV_PAGEOUT` therefore leaves alone. Writable mappings are never touched.
    static func unmapUnmodifiedFileMappings() {
        guard let smaps = ProcFields.read("/proc/self/smaps") else { return }
        var candidate: (start: UnsafeMutableRawPointer, length: Int)?
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let first = fields.first, first.contains("-"), !first.hasSuffix(":") {
                candidate = nil
                let range = first.split(separator: "-")
                guard fields.count >= 6, fields[5].hasPrefix("/"), !fields[1].contains("w"),
                      range.count == 2, let low = UInt(range[0], radix: 16), let high = UInt(range[1], radix: 16), high > low,
                      let start = UnsafeMutableRawPointer(bitPattern: low) else { continue }
                candidate = (start, Int(high - low))
            } else if fields.first == "Anonymous:", let mapping = candidate {
                if fields.count >= 2, fields[1] == "0" { _ = madvise(mapping.start, mapping.length, MADV_DONTNEED) }
                candidate = nil
            }
        }
    }

    /// glibc's `malloc_trim(0)`: it is declared in <malloc.h>, which the Glibc module does not
    /// import, so it is looked up by name (absent from other C libraries: then nothing happens).
    static func trimHeap() {
        guard let symbol = dlsym(nil, "malloc_trim") else { return }
        typealias MallocTrim = @convention(c) (Int) -> Int32
        _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
    }

    /// glibc's headers name it from 2.33 on; the value is the kernel's.
    static let pageOutAdvice: Int32 = 21

    /// VmRSS of this process, in KiB.
    static func residentKiB() -> Int? {
        guard let status = ProcFields.read("/proc/self/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }
    #endif
}

/// Runs `StartupMemoryRelease` once, `delay` after start (the first reconcile pass is over by
/// then), logs what it gave back, and then waits for the graceful shutdown like the other services.
public struct StartupMemoryReleaseService: Service {
    let delay: Duration
    let logger: Logger

    public init(delay: Duration = .seconds(10), logger: Logger) {
        self.delay = delay
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { [delay] in try await Task.sleep(for: delay) }
        } catch {
            return  // shut down before the delay was over: nothing to release
        }
        if let released = StartupMemoryRelease.releaseNow() {
            logger.info("start-up memory released", metadata: ["rssKiB": "\(released.before) -> \(released.after)"])
        }
        // A service that returns ends the whole group: this one stays until shutdown.
        try? await gracefulShutdown()
    }
}

extension StartupMemoryReleaseService: CustomStringConvertible {
    public var description: String { "StartupMemoryReleaseService" }
}

