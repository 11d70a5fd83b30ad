"""The bot image's Debian packages against Debian's security suite (issue 15, class 8).

scripts/build-freqtrade-image.sh upgrades the image's root from $SUITE-security and rebuilds
whenever that suite has changed since the image was built. This test reads the image's own
package database and asks the host's apt, pointed at the Debian archive as it is today, what
`apt list --upgradable` would say inside the image: nothing may be pending from the security
suite. Its own control: the same database with every version lowered must show security updates
(so the check sees the archive and recognises the suite). The list goes to
$FTA_TEST_ARTIFACTS/debian-upgradable.json.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import fta_security_support as sec
from fta_system_support import missing


def test_bot_image_has_no_pending_debian_security_update(tmp_path: Path):
    image = sec.bot_image()
    if shutil.which("apt-get") is None or not Path(sec.DEBIAN_KEYRING).is_file():
        missing("apt and debian-archive-keyring are needed to read the Debian archive (a Debian host)")
    suite = sec.image_label(image, "fta.debian-suite") or "bookworm"
    status = sec.run_in_image(image, "/bin/cat", "/var/lib/dpkg/status")
    assert status.count("\nPackage: ") > 50 and "Package: libssl3\n" in status, "the image's package database looks wrong"
    image_status, lowered_status = tmp_path / "status", tmp_path / "status-lowered"
    image_status.write_text(status)
    lowered_status.write_text(sec.lowered_versions(status))
    archive = sec.DebianArchive(tmp_path / "apt", suite)
    archive.update(image_status)

    pending = archive.upgradable(image_status)
    security = sec.from_security(pending)
    control = sec.from_security(archive.upgradable(lowered_status))
    (sec.artifacts_dir() / "debian-upgradable.json").write_text(json.dumps({"image": image, "suite": suite, "pending": pending}, indent=2))
    print(f"\n{image} (debian {suite}): {len(pending)} upgrades pending, {len(security)} from {suite}-security")
    for p in security:
        print(f"  {p['package']:<28} {p['installed']:<28} -> {p['version']}")

    assert len(control) >= 5, f"the control shows only {len(control)} security updates: the check does not see {suite}-security"
    assert not security, (f"{len(security)} Debian security updates are pending in {image}: "
                          + ", ".join(p["package"] for p in security)
                          + ". Rebuild it: scripts/build-freqtrade-image.sh (it rebuilds when the security suite changed)")
