"""The README and docs/ link only inside the repository (issue 12): a user of the repository has
nothing else, so a link to ../shared/ or to a web page is a link they cannot follow. Every
relative link must name a file or folder that exists in the checkout."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
DOCUMENTS = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])
# [text](target) and [text](target "title"); images too. Reference-style definitions: [x]: target.
INLINE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.MULTILINE)


def links(document: Path) -> list[str]:
    text = document.read_text(encoding="utf-8")
    # Fenced code blocks hold commands and examples, not links.
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    return INLINE.findall(text) + REFERENCE.findall(text)


def broken(document: Path, target: str) -> str | None:
    """Why a link leaves the repository or leads nowhere, or None when it is good."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
        return "points outside the repository (a URL)"
    path = target.split("#", 1)[0]
    if not path:
        return None  # an anchor on the same page
    resolved = (REPO / path.lstrip("/")) if path.startswith("/") else (document.parent / path)
    resolved = resolved.resolve()
    if REPO != resolved and REPO not in resolved.parents:
        return "points outside the repository"
    if not resolved.exists():
        return "names a file that does not exist"
    return None


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: str(d.relative_to(REPO)))
def test_every_link_stays_inside_the_repository(document):
    bad = {target: why for target in links(document) if (why := broken(document, target))}
    assert not bad, f"{document.relative_to(REPO)}: {bad}"


def test_the_checker_catches_links_out_of_the_repository(tmp_path):
    """The check itself can fail: a web link, a ../shared link and a missing file are each caught."""
    page = REPO / "docs" / "design.md"
    assert broken(page, "https://www.freqtrade.io") == "points outside the repository (a URL)"
    assert broken(page, "../../shared/DESIGN.md") == "points outside the repository"
    assert broken(page, "no-such-file.md") == "names a file that does not exist"
    assert broken(page, "../README.md#the-two-commands") is None
