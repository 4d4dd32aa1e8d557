"""Small-cell suppression: no count under k is shown, and no hidden count can be worked out
from the published counts, totals and "<k" marks.

The check is independent of the algorithm: a linear program (scipy's HiGHS) finds, for every
hidden entry, the smallest and largest value consistent with everything published, as an
attacker with the table would. Table equations are totally unimodular, so those bounds are
whole numbers; a hidden entry is safe when they differ.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from grievance.reports.suppression import COMPLEMENTARY, PRIMARY, WITHHELD, Table, suppress


def attacker_bounds(table: Table) -> dict[tuple[int, int], tuple[float, float]]:
    """For each hidden entry of the augmented table, the least and greatest value it can have."""
    grid = table.augmented()
    n_rows, n_cols = len(grid), len(grid[0])
    unknown = [(r, c) for r in range(n_rows) for c in range(n_cols) if grid[r][c].hidden]
    index = {entry: i for i, entry in enumerate(unknown)}
    equations, constants = [], []
    lines = [[(r, c) for c in range(n_cols - 1)] + [(r, n_cols - 1)] for r in range(n_rows)]
    lines += [[(r, c) for r in range(n_rows - 1)] + [(n_rows - 1, c)] for c in range(n_cols)]
    for line in lines:  # the parts of a line add up to its last entry (its total)
        *parts, total = line
        row = np.zeros(len(unknown))
        constant = 0.0
        for entry, sign in [*((p, 1.0) for p in parts), (total, -1.0)]:
            r, c = entry
            if entry in index:
                row[index[entry]] += sign
            else:
                constant -= sign * grid[r][c].value
        equations.append(row)
        constants.append(constant)
    k = table.k
    # "<k" means 1..k-1 (zeros are shown); "–" beside "<k" marks means at least k; a
    # table withheld whole says nothing about its parts.
    bounds = [
        {PRIMARY: (1, k - 1), COMPLEMENTARY: (k, None)}.get(grid[r][c].hidden or "", (0, None))
        for r, c in unknown
    ]
    found = {}
    for entry, i in index.items():
        objective = np.zeros(len(unknown))
        objective[i] = 1.0
        low = linprog(objective, A_eq=equations, b_eq=constants, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=equations, b_eq=constants, bounds=bounds, method="highs")
        assert low.status == 0, low.message  # the true table is always a solution
        top = float("inf") if high.status == 3 else -high.fun
        found[entry] = (low.fun, top)
    return found


def assert_safe(counts: list[list[int]], k: int) -> Table:
    table = suppress(counts, k)
    grid = table.augmented()
    for row in grid:
        for cell in row:
            if 0 < cell.value < k:
                assert cell.hidden in (PRIMARY, WITHHELD), (counts, cell)
            if cell.hidden is None:
                assert cell.value == 0 or cell.value >= k
    for entry, (low, high) in attacker_bounds(table).items():
        assert high - low >= 1 - 1e-6, f"{entry} is pinned to {low}..{high} in {counts}"
    # The grand total is published beside every table, so it is never hidden to protect
    # another entry: it is shown, or small, or the whole table is withheld.
    assert table.total.hidden in (None, PRIMARY, WITHHELD), counts
    return table


tables = st.integers(1, 5).flatmap(
    lambda rows: st.integers(1, 5).flatmap(
        lambda cols: st.lists(
            st.lists(
                st.one_of(st.just(0), st.integers(1, 12), st.integers(10, 200)),
                min_size=cols,
                max_size=cols,
            ),
            min_size=rows,
            max_size=rows,
        )
    )
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts=tables, k=st.sampled_from([3, 5, 10]))
def test_no_hidden_count_can_be_worked_out(counts: list[list[int]], k: int) -> None:
    assert_safe(counts, k)


def test_a_single_small_cell_takes_others_with_it() -> None:
    table = assert_safe([[3, 40, 25], [50, 60, 70]], 10)
    assert table.cells[0][0].shown(10) == "<10"
    hidden = [
        (r, c) for r, row in enumerate(table.cells) for c, cell in enumerate(row) if cell.hidden
    ]
    assert len(hidden) >= 4  # a cycle: the small cell alone would be its row total minus the rest
    assert {table.cells[r][c].hidden for r, c in hidden} == {PRIMARY, COMPLEMENTARY}
    assert any(cell.shown(10) == "–" for row in table.cells for cell in row)


def test_large_counts_and_zeros_are_shown_as_they_are() -> None:
    table = assert_safe([[0, 40], [12, 60]], 10)
    assert [[c.shown(10) for c in row] for row in table.cells] == [["0", "40"], ["12", "60"]]
    assert table.total.shown(10) == "112"


def test_a_small_total_is_hidden_too() -> None:
    table = assert_safe([[2, 3], [40, 50]], 10)
    assert table.row_totals[0].shown(10) == "<10"


def test_a_one_row_table_hides_a_second_count() -> None:
    table = assert_safe([[4, 30, 11]], 10)
    assert sum(cell.hidden is not None for cell in table.cells[0]) >= 2


@pytest.mark.parametrize("bad", [[], [[]], [[1, 2], [3]], [[-1]]])
def test_bad_tables_are_refused(bad: list[list[int]]) -> None:
    with pytest.raises(ValueError, match="table"):
        suppress(bad)


def test_a_new_month_with_one_case_does_not_withhold_the_whole_table() -> None:
    """Reports on New Year's morning: the new month has one case, in a row of small counts.

    Nothing beside that case can be hidden any more (its row is all small, its column all
    zeros), so hiding reaches further, to the other months' totals, instead of giving up
    and withholding all 200 cases.
    """
    months = [
        [0, 1, 2, 0, 3, 3, 0],
        [2, 2, 0, 2, 3, 7, 0],
        [0, 1, 3, 5, 6, 15, 0],
        [1, 3, 1, 2, 2, 13, 0],
        [0, 3, 3, 2, 4, 7, 0],
        [1, 1, 2, 3, 1, 7, 1],
        [3, 1, 2, 0, 0, 1, 0],
        [1, 2, 3, 4, 6, 8, 0],
        [1, 3, 1, 4, 8, 13, 0],
        [1, 3, 4, 2, 6, 11, 0],
    ]
    table = assert_safe(months, 10)
    assert table.total.shown(10) == "200"
    assert table.cells[5][6].shown(10) == "<10"
    assert any(cell.hidden is None for cell in table.column_totals)
