"""Every shell script in the repository passes shellcheck, install.sh's sourced library included."""

import re
import subprocess

from fta_install_support import INSTALL_LIB, INSTALL_SH, REPO, require_tool

# The lines by which install.sh sources its library (scripts/install/lib/*.sh).
SOURCE_LINE = re.compile(r'^source "\$SCRIPT_DIR/(scripts/install/lib/[a-z-]+\.sh)"$')


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


def sourced_library() -> list[str]:
    """The library files install.sh sources, in its order."""
    return [m.group(1) for line in INSTALL_SH.read_text().splitlines() if (m := SOURCE_LINE.match(line))]


def test_the_script_list_covers_install_and_its_helpers():
    scripts = shell_scripts()
    for expected in ("install.sh", "scripts/install/fta-run.sh", "scripts/install/fta-supervise.sh",
                     "scripts/install/fta-admin.sh", "scripts/release.sh"):
        assert expected in scripts
    # install.sh sources every file of its library (a file it forgot would go unchecked below).
    library = sourced_library()
    assert sorted(library) == sorted(str(p.relative_to(REPO)) for p in INSTALL_LIB.glob("*.sh")), library
    assert set(library) <= set(scripts)


def test_every_shell_script_passes_shellcheck():
    shellcheck = require_tool("shellcheck")
    scripts = shell_scripts()
    library = set(sourced_library())
    # -x follows `source` (install.sh's directives name the files). The library files are also
    # checked one by one, where a global set in one file and read in another (settings.sh's
    # constants) looks unused: SC2034 is judged by the whole-installer check below instead.
    alone = [s for s in scripts if s not in library]
    result = subprocess.run([shellcheck, "-x", "--format=gcc", *alone], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, f"shellcheck findings:\n{result.stdout}{result.stderr}"
    result = subprocess.run([shellcheck, "-x", "--format=gcc", "--exclude=SC2034", *sorted(library)], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, f"shellcheck findings:\n{result.stdout}{result.stderr}"


def test_the_installer_as_one_script_passes_shellcheck(tmp_path):
    """install.sh with its library inlined where it sources it: what bash runs, checked as a whole,
    so that a variable no file reads (SC2034) or a function no file defines is still found."""
    shellcheck = require_tool("shellcheck")
    combined, origin = [], []
    for number, line in enumerate(INSTALL_SH.read_text().splitlines(), 1):
        m = SOURCE_LINE.match(line)
        if not m:
            combined.append(line)
            origin.append(f"install.sh:{number}")
            continue
        for lib_number, lib_line in enumerate((REPO / m.group(1)).read_text().splitlines(), 1):
            combined.append(lib_line)
            origin.append(f"{m.group(1)}:{lib_number}")
    script = tmp_path / "install-combined.sh"
    script.write_text("\n".join(combined) + "\n")
    result = subprocess.run([shellcheck, "--format=gcc", str(script)], capture_output=True, text=True)
    findings = []
    for line in result.stdout.splitlines():
        m = re.match(rf"^{re.escape(str(script))}:(\d+):(\d+): (.*)$", line)
        findings.append(f"{origin[int(m.group(1)) - 1]}:{m.group(2)}: {m.group(3)}" if m else line)
    assert result.returncode == 0, "shellcheck findings:\n" + "\n".join(findings) + result.stderr
