#if os(Linux)
import FTAPortal
import Foundation
import Glibc
import Testing

/// The release after start-up must give pages back without ever losing a modified one: the
/// test builds both kinds of mapping a process has (a clean read-only file mapping, like a
/// library's code, and a read-only one holding a privately modified page, like relocated data)
/// and checks each after `StartupMemoryRelease.releaseNow()`.
@Suite("start-up memory release")
struct StartupMemoryReleaseTests {
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    @Test("a clean file mapping leaves the resident set and reads the same; a modified page keeps its content")
    func releasesCleanKeepsModified() throws {
        let pages = 16
        let length = pages * Self.pageSize
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fta-release-\(UUID().uuidString)").path
        defer { unlink(path) }
        let content = Data((0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try content.write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }

        // Read-only and never written: exactly its file.
        let clean = try map(fd, length, PROT_READ)
        defer { munmap(clean, length) }
        var sum = 0
        for page in 0..<pages { sum &+= Int(clean.load(fromByteOffset: page * Self.pageSize + 1, as: UInt8.self)) }
        // Written once, then made read-only, as the loader does with relocated data.
        let modified = try map(fd, length, PROT_READ | PROT_WRITE)
        defer { munmap(modified, length) }
        modified.storeBytes(of: 0xAB, toByteOffset: 0, as: UInt8.self)
        try #require(mprotect(modified, length, PROT_READ) == 0)
        #expect(try residentKiB(of: clean) == length / 1024)

        let released = StartupMemoryRelease.releaseNow()

        #expect(released != nil)
        #expect(try residentKiB(of: clean) == 0)
        #expect(Data(bytes: clean, count: length) == content)
        #expect(modified.load(fromByteOffset: 0, as: UInt8.self) == 0xAB)
        #expect(Data(bytes: modified + 1, count: length - 1) == content.dropFirst())
        #expect(sum > 0)
    }

    /// A private mapping of the whole file.
    func map(_ fd: Int32, _ length: Int, _ protection: Int32) throws -> UnsafeMutableRawPointer {
        let address: UnsafeMutableRawPointer? = mmap(nil, length, protection, MAP_PRIVATE, fd, 0)
        return try #require(address.flatMap { $0 == UnsafeMutableRawPointer(bitPattern: -1) ? nil : $0 })
    }

    /// The `Rss:` of the mapping that starts at `address`, from /proc/self/smaps.
    func residentKiB(of address: UnsafeMutableRawPointer) throws -> Int {
        let start = String(UInt(bitPattern: address), radix: 16)
        // Read to the end: /proc files report a size of 0, and String(contentsOfFile:) stops at 4 KiB.
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps"))
        defer { try? handle.close() }
        let smaps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        var inMapping = false
        for line in smaps.split(separator: "\n") {
            if let range = line.split(separator: " ").first, range.contains("-"), !range.hasSuffix(":") {
                inMapping = range.split(separator: "-").first.map { $0.drop { $0 == "0" } == start.drop { $0 == "0" } } ?? false
            } else if inMapping, line.hasPrefix("Rss:") {
                return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? -1
            }
        }
        throw CocoaError(.fileReadUnknown)
    }
}
#endif
