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

from grievance.reports.suppression import (
    COMPLEMENTARY,
    PRIMARY,
    WITHHELD,
    Cell,
    Table,
    suppress,
    suppress_together,
)


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


# -- tables published together ------------------------------------------------------------


def joint_attacker_bounds(tables: list[Table]) -> dict[tuple[int, int, int], tuple[int, int]]:
    """The least and greatest whole value of every hidden entry, for an attacker holding
    every table at once. The tables count the same cases by month, so a month's total is
    one unknown in all of them: written here as the sum of each table's column, plus the
    published column total when there is one."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    k = tables[0].k
    n_months = len(tables[0].column_totals)
    # No entry exceeds the grand total; when that is withheld too, a bound far above any
    # table here stands in for "unbounded" (which HiGHS cannot tell from infeasible).
    top = float(tables[0].total.value if not tables[0].total.hidden else 10**6)
    # Unknowns: every entry of every table's body (row x month), known or not, and the
    # month totals; the published ones are fixed by their bounds.
    index: dict[tuple[int, int, int], int] = {}
    low: list[float] = []
    high: list[float] = []
    truth: list[int] = []

    def add(key: tuple[int, int, int], cell: Cell) -> None:
        index[key] = len(low)
        truth.append(cell.value)
        if cell.hidden == PRIMARY:
            low.append(1), high.append(k - 1)
        elif cell.hidden == COMPLEMENTARY:
            low.append(k), high.append(top)
        elif cell.hidden == WITHHELD:
            low.append(0), high.append(top)
        else:
            low.append(cell.value), high.append(cell.value)

    for t, table in enumerate(tables):
        for r, row in enumerate(table.cells):
            for c, cell in enumerate(row):
                add((t, r, c), cell)
            add((t, r, n_months), table.row_totals[r])
    for c in range(n_months):
        # A month total is shown if any table shows it (they are the same figure).
        shown = [t.column_totals[c] for t in tables if not t.column_totals[c].hidden]
        add((-1, 0, c), shown[0] if shown else tables[0].column_totals[c])
    add((-1, 0, n_months), tables[0].total)
    rows = []
    for t, table in enumerate(tables):
        for r in range(len(table.cells)):  # a row adds up to its total
            line = np.zeros(len(low))
            for c in range(n_months):
                line[index[(t, r, c)]] += 1
            line[index[(t, r, n_months)]] -= 1
            rows.append(line)
        for c in range(n_months + 1):  # a column adds up to the month's (or grand) total
            line = np.zeros(len(low))
            for r in range(len(table.cells)):
                line[index[(t, r, c)]] += 1
            line[index[(-1, 0, c)]] -= 1
            rows.append(line)
    constraint = LinearConstraint(np.array(rows), 0, 0)
    found = {}
    for key, i in index.items():
        if low[i] == high[i]:
            continue
        objective = np.zeros(len(low))
        ends = []
        for sign in (1.0, -1.0):
            objective[i] = sign
            result = milp(
                objective,
                constraints=constraint,
                integrality=np.ones(len(low)),
                bounds=Bounds(low, high),
            )
            assert result.status == 0, result.message  # the truth is always a solution
            ends.append(round(sign * result.fun))
        found[key] = (ends[0], ends[1])
        assert found[key][0] <= truth[i] <= found[key][1]
    return found


def assert_safe_together(tables: list[list[list[int]]], k: int) -> list[Table]:
    published = suppress_together(tables, k)
    assert len(published) == len(tables)
    for counts, table in zip(tables, published, strict=True):
        assert [[c.value for c in row] for row in table.cells] == counts
        for row in table.augmented():
            for cell in row:
                if 0 < cell.value < k:
                    assert cell.hidden in (PRIMARY, WITHHELD), (tables, cell)
    for key, (low, high) in joint_attacker_bounds(published).items():
        t, r, c = key
        value = (
            published[0].augmented()[-1][c].value
            if t == -1
            else published[t].augmented()[r][c].value
        )
        if 0 < value < k:
            assert high > low, f"{key} = {value} is pinned by the tables together: {tables}"
    return published


@st.composite
def releases(draw: st.DrawFn) -> list[list[list[int]]]:
    """2-4 tables splitting the same cases (a month's column adds up the same in each)."""
    months = draw(st.integers(1, 4))
    first = draw(
        st.lists(
            st.lists(
                st.one_of(st.just(0), st.integers(1, 12), st.integers(10, 80)),
                min_size=months,
                max_size=months,
            ),
            min_size=1,
            max_size=4,
        )
    )
    totals = [sum(col) for col in zip(*first, strict=True)]
    tables = [first]
    for _ in range(draw(st.integers(1, 3))):
        n_rows = draw(st.integers(1, 4))
        table = [[0] * months for _ in range(n_rows)]
        for c, total in enumerate(totals):
            # Split the month's cases over the rows at random cut points.
            cuts = sorted(
                draw(st.lists(st.integers(0, total), min_size=n_rows - 1, max_size=n_rows - 1))
            )
            parts = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
            for r, part in enumerate(parts):
                table[r][c] = part
        tables.append(table)
    return tables


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=releases(), k=st.sampled_from([3, 5, 10]))
def test_no_hidden_count_can_be_worked_out_from_tables_published_together(
    tables: list[list[list[int]]], k: int
) -> None:
    assert_safe_together(tables, k)


def test_a_month_total_hidden_in_one_table_is_hidden_in_all() -> None:
    """By category, month 2 has a small count; by site, every count is large. The month's
    total shown in the site table would give the small count back from the category table."""
    by_category = [[40, 3, 30], [50, 60, 70]]
    by_site = [[45, 30, 50], [45, 33, 50]]
    alone = suppress(by_site, 10)
    assert not any(cell.hidden for cell in alone.column_totals)  # on its own, all shown
    category, site = assert_safe_together([by_category, by_site], 10)
    hidden_months = {c for c, cell in enumerate(category.column_totals) if cell.hidden}
    assert hidden_months == {c for c, cell in enumerate(site.column_totals) if cell.hidden}
    assert category.total.shown(10) == site.total.shown(10) == "253"


def test_tables_of_different_cases_are_refused() -> None:
    with pytest.raises(ValueError, match="same column totals"):
        suppress_together([[[1, 2]], [[2, 2]]], 10)
