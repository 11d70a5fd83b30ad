import DockerEngine
import DockerRuntime
@testable import FTAPortal
import FTARuntimeTesting
import FTATestSupport
import Foundation
import Testing

/// Bots' volumes capped on a store of their own (docs/security.md, Disk): how fta tells a store
/// that enforces caps from one that does not, and what it then asks Docker for.
@Suite("Bot volume store")
struct BotStoreTests {
    // What /proc/self/mountinfo shows on a host install.sh set up: the XFS image on the store,
    // its volumes/ directory bound onto Docker's (same filesystem, root /volumes).
    static let installed = """
    29 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
    90 29 7:0 / /var/lib/fta-bot-store rw,nosuid,noexec,relatime shared:50 - xfs /dev/loop0 rw,attr2,inode64,logbufs=8,logbsize=32k,prjquota
    91 29 7:0 /volumes /var/lib/docker/volumes rw,relatime shared:50 - xfs /dev/loop0 rw,attr2,inode64,logbufs=8,logbsize=32k,prjquota
    """

    @Test("a store is capped only as a mount point of its own, XFS, with project quotas")
    func recognisesTheStore() {
        #expect(BotStore.inspect("/var/lib/fta-bot-store", mountinfo: Self.installed).enforcesQuotas)
        // A plain directory of the root filesystem: Docker would refuse every sized volume.
        #expect(!BotStore.inspect("/var/lib/fta-bot-store", mountinfo: "29 1 254:1 / / rw - ext4 /dev/vda1 rw\n").enforcesQuotas)
        let noQuota = Self.installed.replacingOccurrences(of: ",prjquota", with: "")
        #expect(!BotStore.inspect("/var/lib/fta-bot-store", mountinfo: noQuota).enforcesQuotas)
        let ext4 = Self.installed.replacingOccurrences(of: "- xfs", with: "- ext4")
        #expect(BotStore.inspect("/var/lib/fta-bot-store", mountinfo: ext4).isMountPoint)
        #expect(!BotStore.inspect("/var/lib/fta-bot-store", mountinfo: ext4).enforcesQuotas)
        // A later mount on the same point hides the first: the last one counts.
        let covered = Self.installed + "\n95 90 0:60 / /var/lib/fta-bot-store rw - tmpfs tmpfs rw\n"
        #expect(!BotStore.inspect("/var/lib/fta-bot-store", mountinfo: covered).enforcesQuotas)
        // mountinfo escapes spaces; a look-alike path is another mount point.
        let spaced = "90 29 7:0 / /srv/bot\\040store rw - xfs /dev/loop0 rw,prjquota\n"
        #expect(BotStore.inspect("/srv/bot store", mountinfo: spaced).enforcesQuotas)
        #expect(!BotStore.inspect("/srv/bot", mountinfo: spaced).enforcesQuotas)
    }

    @Test("FTA_BOT_DISK_MB: auto caps only on a store that enforces it; a number, off; anything else names the variable")
    func diskSetting() throws {
        // This machine's test store is not an XFS mount: auto leaves volumes uncapped.
        #expect(try testConfiguration(["FTA_BOT_STORE": "/nonexistent/fta-bot-store"]).botDiskMB == nil)
        #expect(try testConfiguration(["FTA_BOT_DISK_MB": "512"]).botDiskMB == 512)
        #expect(try testConfiguration(["FTA_BOT_DISK_MB": "off"]).botDiskMB == nil)
        for (name, value) in [("FTA_BOT_DISK_MB", "15"), ("FTA_BOT_DISK_MB", "8193"), ("FTA_BOT_DISK_MB", "lots"), ("FTA_BOT_STORE", "relative/dir")] {
            do {
                _ = try testConfiguration([name: value])
                Issue.record("accepted \(name)=\(value)")
            } catch { #expect(error.variable == name) }
        }
    }

    @Test("a capped bot's volume asks the engine for exactly its size; an uncapped one for no driver option")
    func volumeBody() throws {
        #expect(HardenedBotContainer.volumeOptions(diskMB: 256) == ["size": "256m"])
        #expect(HardenedBotContainer.volumeOptions(diskMB: nil) == nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let capped = String(decoding: try encoder.encode(VolumeCreate(Name: "fta-bot-b1", Labels: [:], DriverOpts: ["size": "256m"])), as: UTF8.self)
        #expect(capped == #"{"Driver":"local","DriverOpts":{"size":"256m"},"Labels":{},"Name":"fta-bot-b1"}"#)
        let uncapped = String(decoding: try encoder.encode(VolumeCreate(Name: "fta-bot-b1", Labels: [:])), as: UTF8.self)
        #expect(uncapped == #"{"Driver":"local","Labels":{},"Name":"fta-bot-b1"}"#)
    }

    @Test("doctor fails an uncapped store and a cap the store cannot enforce, and says what to do")
    func doctorSaysSo() async throws {
        let runtime = InMemoryBotRuntime()
        let uncapped = Doctor(configuration: try testConfiguration(["FTA_BOT_DISK_MB": "off"]), runtime: runtime, database: nil, lifecycle: nil, bridge: nil)
        let off = await uncapped.botStorage()
        #expect(off.status == .warn && off.detail.contains("FTA_BOT_DISK_MB=off"))
        let auto = Doctor(configuration: try testConfiguration(["FTA_BOT_STORE": "/nonexistent/store"]), runtime: runtime, database: nil, lifecycle: nil, bridge: nil)
        let check = await auto.botStorage()
        #expect(check.status == .fail && check.detail.contains("no cap") && check.fix.contains("install.sh"))
        let unenforced = Doctor(configuration: try testConfiguration(["FTA_BOT_DISK_MB": "256", "FTA_BOT_STORE": "/nonexistent/store"]),
                                runtime: runtime, database: nil, lifecycle: nil, bridge: nil)
        let refused = await unenforced.botStorage()
        #expect(refused.status == .fail && refused.detail.contains("Docker will refuse"))
    }

    @Test("the disk alarm: under 300 MiB, or under a tenth of the store")
    func alarm() {
        #expect(DiskSpace(totalMB: 8000, freeMB: 299).isLow(fraction: 0))
        #expect(!DiskSpace(totalMB: 8000, freeMB: 300).isLow(fraction: 0))
        #expect(DiskSpace(totalMB: 8000, freeMB: 700).isLow())
        #expect(!DiskSpace(totalMB: 2048, freeMB: 400).isLow())
    }
}
