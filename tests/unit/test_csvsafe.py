"""Text a spreadsheet would run as a formula is written as text; everything else unchanged."""

from __future__ import annotations

import csv
import io

import pytest

from grievance import csvsafe


@pytest.mark.parametrize(
    "value", ["=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://x")']
)
def test_a_formula_becomes_text(value: str) -> None:
    assert csvsafe.cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Sunrise Garments", "<10", "–", "12%", "", "a=b", 5, -3, 0.5])
def test_everything_else_is_written_as_it_is(value: object) -> None:
    assert csvsafe.cell(value) == value


def test_the_writer_escapes_every_cell_of_a_row() -> None:
    out = io.StringIO()
    csvsafe.writer(out).writerow(["=cmd", "ok", -1, "@x"])
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["'=cmd", "ok", "-1", "'@x"]
