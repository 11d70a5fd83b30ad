"""Every shell script in the repository passes shellcheck."""

import subprocess

from fta_install_support import REPO, require_tool


def shell_scripts() -> list[str]:
    """Tracked and not-yet-committed (but not ignored) *.sh files, install.sh, and the shell
    scripts under scripts/ (by their shebang, whatever their name)."""
    git = require_tool("git")
    listed = subprocess.run(
        [git, "ls-files", "--cached", "--others", "--exclude-standard", "--", "*.sh", "install.sh", "scripts/"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.split()
    scripts = set()
    for path in listed:
        full = REPO / path
        if not full.is_file():
            continue
        if path.endswith(".sh") or path == "install.sh":
            scripts.add(path)
            continue
        with open(full, "rb") as f:
            first = f.readline()
        if first.startswith(b"#!") and (b"sh" in first.split(b"/")[-1] or b"bash" in first):
            scripts.add(path)
    return sorted(scripts)


def test_the_script_list_covers_install_and_its_helpers():
    scripts = shell_scripts()
    for expected in ("install.sh", "scripts/install/fta-run.sh", "scripts/install/fta-supervise.sh",
                     "scripts/install/fta-admin.sh"):
        assert expected in scripts


def test_every_shell_script_passes_shellcheck():
    shellcheck = require_tool("shellcheck")
    scripts = shell_scripts()
    result = subprocess.run([shellcheck, "--format=gcc", *scripts], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, f"shellcheck findings:\n{result.stdout}{result.stderr}"
