"""The README's commands run as written on a fresh clone: their scripts are executable in git."""
import subprocess

from fta_install_support import REPO


def test_entry_points_are_executable_in_git():
    out = subprocess.run(["git", "-C", str(REPO), "ls-files", "-s", "install.sh", "scripts/test", ".ci/run"],
                         capture_output=True, text=True, check=True).stdout
    modes = {line.split()[3]: line.split()[0] for line in out.splitlines()}
    assert modes == {"install.sh": "100755", "scripts/test": "100755", ".ci/run": "100755"}, modes
