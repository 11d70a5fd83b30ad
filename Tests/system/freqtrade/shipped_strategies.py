"""Reads the shipped strategies' Python sources out of ShippedStrategy.swift.

The Swift file keeps one `private static let <name>Source` raw multi-line string literal
(opened by hash and three quotes, closed by three quotes and hash) per strategy. A raw literal has no escapes or interpolation, so its value is the lines between the
delimiters with the closing delimiter's indentation removed, which is what this reproduces.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SWIFT_FILE = REPO / "Sources" / "FTACore" / "Strategies" / "ShippedStrategy.swift"

_LITERAL = re.compile(r'static let (\w+)Source = #"""\n(.*?)\n([ \t]*)"""#', re.S)
_CASES = re.compile(r'case\s+(\w+\s*=\s*"\w+"(?:\s*,\s*\w+\s*=\s*"\w+")*)')
_CLASS = re.compile(r"^class (\w+)\(IStrategy\):", re.M)


def _dedent(body: str, indent: str) -> str:
    lines = []
    for line in body.split("\n"):
        if line.strip() == "":
            lines.append("")
        elif line.startswith(indent):
            lines.append(line[len(indent):])
        else:
            raise ValueError(f"line less indented than the closing delimiter: {line!r}")
    return "\n".join(lines)


def class_names(swift: str | None = None) -> list[str]:
    """The enum's raw values (the Python class names), in declaration order."""
    swift = SWIFT_FILE.read_text() if swift is None else swift
    names: list[str] = []
    for group in _CASES.findall(swift):
        names += re.findall(r'"(\w+)"', group)
    return names


def sources(swift: str | None = None) -> dict[str, str]:
    """Class name -> Python source, for every raw source literal in the file."""
    swift = SWIFT_FILE.read_text() if swift is None else swift
    out: dict[str, str] = {}
    for _, body, indent in _LITERAL.findall(swift):
        source = _dedent(body, indent)
        found = _CLASS.findall(source)
        if len(found) != 1:
            raise ValueError(f"expected one IStrategy class in a source literal, found {found}")
        out[found[0]] = source
    return out


def write_all(directory: Path) -> dict[str, Path]:
    """Writes every source as <Class>.py into directory; returns class name -> path."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, source in sources().items():
        path = directory / f"{name}.py"
        path.write_text(source)
        paths[name] = path
    return paths


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("strategies")
    for name, path in write_all(target).items():
        print(f"{name} -> {path}")
