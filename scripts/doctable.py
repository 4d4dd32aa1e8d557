"""A generated table kept in a doc between two marker lines, read and rewritten in place."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path


def between(doc: Path, start: str, end: str) -> str:
    """The text between the marker lines, as the doc has it now."""
    text = doc.read_text(encoding="utf-8")
    return text[text.index(start) + len(start) : text.index(end)]


def run(doc: Path, start: str, end: str, current: Callable[[], str]) -> None:
    """Print the table, or write it between the markers with --write."""
    if "--write" in sys.argv[1:]:
        text = doc.read_text(encoding="utf-8")
        before, after = text[: text.index(start) + len(start)], text[text.index(end) :]
        doc.write_text(before + current() + after, encoding="utf-8")
    else:
        print(current(), end="")
