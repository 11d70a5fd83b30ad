@testable import FTAPortal
import Foundation
import Testing

#if canImport(Glibc)
import Glibc

/// /proc files report a size of 0; Foundation's `String(contentsOfFile:)` then returns only
/// their first 4 KiB. Doctor read /proc/net/tcp that way, so on a busy host it could miss the
/// portal's own listener and report it down.
@Suite("reading /proc files whole")
struct ProcFilesTests {
    /// A listening TCP socket on 127.0.0.1, on a port the kernel picks.
    private func listener() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0 && listen(fd, 1) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    @Test("doctor finds every listener in /proc/net/tcp, also past its first 4 KiB")
    func listenersPastFourKiB() throws {
        // 80 listeners make /proc/net/tcp about 12 KiB (150 bytes a line).
        let sockets = try (0..<80).map { _ in try listener() }
        defer { sockets.forEach { close($0.fd) } }
        let table = try #require(ProcFields.read("/proc/net/tcp"))
        #expect(table.utf8.count > 8 << 10, "the table is only \(table.utf8.count) bytes: the test would prove nothing")
        let missing = sockets.filter { !ListeningSockets.tcp(port: $0.port).contains("127.0.0.1") }.map(\.port)
        #expect(missing.isEmpty, "listeners doctor did not see: \(missing)")
    }
}
#endif
