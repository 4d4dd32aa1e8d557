"""Small-cell suppression for published tables: no count under k, and nothing that lets
a hidden count be worked out from what is shown.

A table is published with its row totals, column totals and grand total. Seen
together they form the *augmented* table: the counts, a last column of row
totals, a last row of column totals and the grand total in the corner. Every
row and every column of it is tied by one equation (the counts add up to the
total).

- **Primary suppression.** Every entry, totals included, with 0 < value < k is
  hidden and shown as "<k". Zeros are shown: a zero says nobody, which
  identifies nobody, and hiding zeros would hide nothing.
- **Complementary suppression.** A hidden entry can be worked out exactly when
  no cycle of hidden entries runs through it. The cycle alternates between
  rows and columns of the augmented table, and moving +1/-1 around it keeps
  every equation true. In graph terms, a hidden entry can be worked out when
  it is a *bridge* of the bipartite graph whose edges are the hidden entries.
  So while some hidden entry is a bridge, the cheapest path of positive
  entries that closes a cycle through it is hidden too (Dijkstra; hiding a
  small count costs less than hiding a large one, and an entry already hidden
  costs nothing). Totals take part like any entry: a row with one non-zero
  count closes its cycle through its row total and another row's (or column's).
  The grand total is never hidden to protect another entry: the number of
  cases in a period is published beside every table (the handling figures),
  so hiding it would protect nothing. A table whose hidden entries can only be
  protected through it is withheld whole.

- **Audit.** Cycles ignore what the marks themselves say: "<k" means 1 to k-1
  (zeros are shown) and "–" means at least k. Those bounds can pin a hidden
  entry even on a cycle: three "<3" cells under a published total of 3 are
  all 1. So every hidden entry is then audited the way an attacker would:
  a linear program (scipy's HiGHS) finds its least and greatest possible
  value. Table equations are totally unimodular, so these bounds are whole
  numbers. A pinned entry gets the smallest shown count of its row or column
  hidden beside it, and the cycles and the audit run again. A table that still
  pins something is withheld whole ("fewer than k" tells nothing about its
  parts).

The tests check the result with their own attacker (a separate linear program)
over random tables. Pure: no I/O.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

PRIMARY = "primary"
COMPLEMENTARY = "complementary"
WITHHELD = "withheld"  # the whole table: fewer than k cases in all


@dataclass(frozen=True)
class Cell:
    """One published entry: its value, or why it is hidden."""

    value: int
    hidden: str | None = None  # PRIMARY ("<k") or COMPLEMENTARY (hidden to protect another)

    def shown(self, k: int) -> str:
        """How the entry reads in a table or CSV."""
        if self.hidden == PRIMARY:
            return f"<{k}"
        if self.hidden in (COMPLEMENTARY, WITHHELD):
            return "–"
        return str(self.value)


@dataclass(frozen=True)
class Table:
    """A suppressed table: counts, row totals, column totals and the grand total."""

    k: int
    cells: tuple[tuple[Cell, ...], ...]
    row_totals: tuple[Cell, ...]
    column_totals: tuple[Cell, ...]
    total: Cell

    def augmented(self) -> list[list[Cell]]:
        """Counts with the row totals as a last column and the column totals as a last row."""
        rows = [[*row, total] for row, total in zip(self.cells, self.row_totals, strict=True)]
        return [*rows, [*self.column_totals, self.total]]


def suppress(
    counts: Sequence[Sequence[int]], k: int = 10, required: Iterable[tuple[int, int]] = ()
) -> Table:
    """Hide every entry under ``k`` and enough others that none can be worked out.

    ``required`` are entries of the augmented table (row, column) to hide as well: those
    that another table published beside this one hides (:func:`suppress_together`).

    The result depends only on the counts, k and ``required``, so it is remembered: a
    report viewed again (the page, then its chart, then its CSV) is suppressed once.
    """
    return _suppress(_normalised(counts), k, frozenset(required))


def _normalised(counts: Sequence[Sequence[int]]) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(int(v) for v in row) for row in counts)


@functools.lru_cache(maxsize=256)
def _suppress(
    counts: tuple[tuple[int, ...], ...], k: int, required: frozenset[tuple[int, int]] = frozenset()
) -> Table:
    if k < 1:
        raise ValueError("k must be at least 1")
    rows = [list(map(int, row)) for row in counts]
    if not rows or not rows[0]:
        raise ValueError("a table needs at least one row and one column")
    width = len(rows[0])
    if any(len(row) != width or min(row) < 0 for row in rows):
        raise ValueError("a table is rectangular and holds counts (whole numbers, not negative)")
    grid = [[*row, sum(row)] for row in rows]
    grid.append([*(sum(col) for col in zip(*rows, strict=True)), sum(map(sum, rows))])
    n_rows, n_cols = len(grid), width + 1
    if 0 < grid[-1][-1] < k:
        # Fewer than k cases in all: the table is withheld whole; its parts would pin
        # each other down ("<k" in total, at least 1 in each).
        hidden = {(r, c): WITHHELD for r in range(n_rows) for c in range(n_cols)}
        return _table(grid, hidden, k)
    hidden = {(r, c): PRIMARY for r in range(n_rows) for c in range(n_cols) if 0 < grid[r][c] < k}
    for r, c in sorted(required):
        if grid[r][c] > 0:
            hidden.setdefault((r, c), COMPLEMENTARY)
    while True:
        if not _close_cycles(grid, hidden):
            hidden = {(r, c): WITHHELD for r in range(n_rows) for c in range(n_cols)}
            break
        pinned = _first_pinned(grid, hidden, k)
        if pinned is None:
            break
        extra = _cheapest_beside(grid, hidden, pinned)
        if extra is None:
            hidden = {(r, c): WITHHELD for r in range(n_rows) for c in range(n_cols)}
            break
        hidden[extra] = COMPLEMENTARY

    return _table(grid, hidden, k)


def suppress_together(tables: Sequence[Sequence[Sequence[int]]], k: int = 10) -> list[Table]:
    """Suppress tables published side by side that split the same cases by the same columns
    (cases per month by category, by site, by severity...): their column totals and grand
    total are one and the same set of figures.

    Each table is suppressed on its own; a column total hidden in one is then hidden in
    every other, until they agree. Then an attacker holding all of them is played: an
    integer program over every table at once, the shared totals being one unknown each,
    finds the least and greatest value of every small count (1 to k-1, whatever its mark).
    A pinned one gets the smallest shown count beside it hidden, in its own table, and
    everything runs again. Should that be impossible, every table is withheld.

    Tables that share only their columns are exact for this attacker: for each month, any
    set of row splits with the same total can be realised by cases (a case takes one row in
    every table, in any pairing), so nothing beyond the shared totals links the tables.
    """
    grids = [_normalised(table) for table in tables]
    if not grids:
        return []
    for grid in grids:
        if not grid or not grid[0]:
            raise ValueError("a table needs at least one row and one column")
    sums = {tuple(sum(col) for col in zip(*grid, strict=True)) for grid in grids}
    if len(sums) != 1:
        raise ValueError("tables published together must have the same column totals")
    width = len(grids[0][0])
    required: list[set[tuple[int, int]]] = [set() for _ in grids]
    shared: set[int] = set()  # columns whose total is hidden in every table
    while True:
        results = [
            _suppress(grid, k, frozenset(required[i] | {(len(grid), c) for c in shared}))
            for i, grid in enumerate(grids)
        ]
        if any(_withheld(t) for t in results):
            return [_withheld_table(grid, k) for grid in grids]
        hidden_now = {c for t in results for c, cell in enumerate(t.column_totals) if cell.hidden}
        if not hidden_now <= shared:
            shared |= hidden_now
            continue
        if not shared:
            # Every month total is shown: the tables share only known figures, and each
            # was audited alone (exactly: a table's equations are totally unimodular).
            return results
        pinned = _jointly_pinned(results, width, k)
        if pinned is None:
            return results
        index, entry = pinned
        augmented = results[index].augmented()
        values = [[cell.value for cell in row] for row in augmented]
        hidden = {
            (r, c): cell.hidden
            for r, row in enumerate(augmented)
            for c, cell in enumerate(row)
            if cell.hidden
        }
        extra = _cheapest_beside(values, hidden, entry)
        if extra is None:
            return [_withheld_table(grid, k) for grid in grids]
        if extra[0] == len(values) - 1:
            shared.add(extra[1])  # a column total: hidden in every table
        else:
            required[index].add(extra)


def _withheld(table: Table) -> bool:
    return table.total.hidden == WITHHELD


def _withheld_table(counts: tuple[tuple[int, ...], ...], k: int) -> Table:
    grid = [[*row, sum(row)] for row in counts]
    grid.append([*(sum(col) for col in zip(*counts, strict=True)), sum(map(sum, counts))])
    hidden = {(r, c): WITHHELD for r in range(len(grid)) for c in range(len(grid[0]))}
    return _table(grid, hidden, k)


def _jointly_pinned(
    tables: Sequence[Table], width: int, k: int
) -> tuple[int, tuple[int, int]] | None:
    """(table, entry) of a small count that the tables together pin down, if any.

    Unknowns are every hidden entry of every table, except that a column total (the last
    row of the augmented table) is one unknown shared by all. Every entry lies between its
    marks' bounds ("<k": 1 to k-1; "–": k or more) and the grand total, and is whole.
    """
    import numpy as np
    from scipy.optimize import linprog

    grand = tables[0].total.value
    variables: dict[tuple[int, int, int], int] = {}  # (table, row, column) -> unknown
    limits: list[tuple[int, int]] = []
    values: list[int] = []

    def unknown(t: int, r: int, c: int, cell: Cell) -> int:
        key = (-1, 0, c) if r == len(tables[t].cells) else (t, r, c)
        if key not in variables:
            variables[key] = len(limits)
            limits.append((1, k - 1) if cell.hidden == PRIMARY else (k, grand))
            values.append(cell.value)
        return variables[key]

    lines: list[list[tuple[int, float]]] = []
    constants: list[float] = []
    for t, table in enumerate(tables):
        grid = table.augmented()
        n_rows, n_cols = len(grid), width + 1
        entries = [[(r, c) for c in range(n_cols)] for r in range(n_rows)]
        entries += [[(r, c) for r in range(n_rows)] for c in range(n_cols)]
        for line in entries:
            *parts, total = line
            terms: list[tuple[int, float]] = []
            constant = 0.0
            for (r, c), sign in [*((p, 1.0) for p in parts), (total, -1.0)]:
                cell = grid[r][c]
                if cell.hidden:
                    terms.append((unknown(t, r, c, cell), sign))
                else:
                    constant -= sign * cell.value
            if terms:
                lines.append(terms)
                constants.append(constant)
    if not limits:
        return None
    equations = np.zeros((len(lines), len(limits)))
    for number, terms in enumerate(lines):
        for index, sign in terms:
            equations[number, index] += sign
    whole = np.ones(len(limits))
    # Every solution found frees each small count it moves off its true value, so most
    # counts are settled by another count's program rather than their own.
    free: set[int] = set()
    for (t, r, c), index in sorted(variables.items()):
        if not 0 < values[index] < k or index in free:
            continue
        objective = np.zeros(len(limits))
        for sign in (1.0, -1.0):
            objective[index] = sign
            result = linprog(
                objective,
                A_eq=equations,
                b_eq=constants,
                bounds=limits,
                integrality=whole,
                method="highs",
            )
            if result.status != 0:
                break  # unbounded that way: free
            free.update(i for i, x in enumerate(result.x) if round(x) != values[i])
            if index in free:
                break
        else:
            which = 0 if t == -1 else t
            row = len(tables[which].cells) if t == -1 else r
            return which, (row, c)
    return None


def _table(grid: list[list[int]], hidden: dict[tuple[int, int], str], k: int) -> Table:
    n_rows, width = len(grid), len(grid[0]) - 1

    def cell(r: int, c: int) -> Cell:
        return Cell(grid[r][c], hidden.get((r, c)))

    body = tuple(tuple(cell(r, c) for c in range(width)) for r in range(n_rows - 1))
    return Table(
        k=k,
        cells=body,
        row_totals=tuple(cell(r, width) for r in range(n_rows - 1)),
        column_totals=tuple(cell(n_rows - 1, c) for c in range(width)),
        total=cell(n_rows - 1, width),
    )


def _close_cycles(grid: list[list[int]], hidden: dict[tuple[int, int], str]) -> bool:
    """Hide the cheapest paths that put every hidden entry on a cycle of hidden entries;
    False when some entry has no such cycle (without the grand total)."""
    n_rows, n_cols = len(grid), len(grid[0])
    while True:
        bridges = _bridges(hidden, n_rows, n_cols)
        if not bridges:
            return True
        r, c = bridges[0]
        path = _cheapest_cycle_path(grid, hidden, r, c)
        if path is None:
            return False
        for entry in path:
            hidden.setdefault(entry, COMPLEMENTARY)


def _system(
    grid: Sequence[Sequence[int]], hidden: dict[tuple[int, int], str], k: int
) -> tuple[list[tuple[int, int]], Any, Any, list[tuple[int, int | None]]]:
    """The hidden entries, and the equations and bounds an attacker would write for them."""
    # Imported here: only report builds need them, and they take a moment to load.
    import numpy as np

    n_rows, n_cols = len(grid), len(grid[0])
    unknown = sorted(hidden)
    index = {entry: i for i, entry in enumerate(unknown)}
    lines = [[(r, c) for c in range(n_cols)] for r in range(n_rows)]
    lines += [[(r, c) for r in range(n_rows)] for c in range(n_cols)]
    equations = np.zeros((len(lines), len(unknown)))
    constants = np.zeros(len(lines))
    for number, line in enumerate(lines):
        *parts, total = line  # the parts of a line add up to its last entry
        for entry, sign in [*((p, 1.0) for p in parts), (total, -1.0)]:
            if entry in index:
                equations[number, index[entry]] += sign
            else:
                constants[number] -= sign * grid[entry[0]][entry[1]]
    limits = [{PRIMARY: (1, k - 1), COMPLEMENTARY: (k, None)}[hidden[e]] for e in unknown]
    return unknown, equations, constants, limits


def _first_pinned(
    grid: list[list[int]], hidden: dict[tuple[int, int], str], k: int
) -> tuple[int, int] | None:
    """A hidden entry whose value can be worked out, if there is one.

    The true value is always possible, so an entry is free as soon as one
    direction moves it: usually one linear program per entry, not two.
    """
    import numpy as np
    from scipy.optimize import linprog

    unknown, equations, constants, limits = _system(grid, hidden, k)
    for i, (r, c) in enumerate(unknown):
        objective = np.zeros(len(unknown))
        for sign in (-1.0, 1.0):
            objective[i] = sign
            result = linprog(
                objective, A_eq=equations, b_eq=constants, bounds=limits, method="highs"
            )
            if result.status == 3 or abs(result.x[i] - grid[r][c]) >= 0.5:
                break
        else:
            return (r, c)
    return None


def _cheapest_beside(
    grid: list[list[int]], hidden: dict[tuple[int, int], str], entry: tuple[int, int]
) -> tuple[int, int] | None:
    """The smallest shown positive entry in the row or column of ``entry``.

    When those lines have none left (a month with one case whose row is hidden
    whole, say), the nearest lines linked to them through hidden entries are
    searched: hiding there loosens the equations that pin ``entry``. The grand
    total is never chosen. None only when no shown positive entry is linked.
    """
    n_rows, n_cols = len(grid), len(grid[0])
    corner = (n_rows - 1, n_cols - 1)
    seen: set[tuple[str, int]] = set()
    frontier = [("r", entry[0]), ("c", entry[1])]
    while frontier:
        shown: list[tuple[int, int]] = []
        linked: list[tuple[str, int]] = []
        for kind, index in frontier:
            if (kind, index) in seen:
                continue
            seen.add((kind, index))
            line = (
                [(index, c) for c in range(n_cols)]
                if kind == "r"
                else [(r, index) for r in range(n_rows)]
            )
            for e in line:
                if e == corner:
                    continue
                if e in hidden:
                    linked.append(("c", e[1]) if kind == "r" else ("r", e[0]))
                elif grid[e[0]][e[1]] > 0:
                    shown.append(e)
        if shown:
            return min(shown, key=lambda e: (grid[e[0]][e[1]], e))
        frontier = linked
    return None


def _bridges(hidden: dict[tuple[int, int], str], n_rows: int, n_cols: int) -> list[tuple[int, int]]:
    """Hidden entries on no cycle of hidden entries (Tarjan's bridges, iteratively).

    Nodes are rows 0..n_rows-1 and columns n_rows..n_rows+n_cols-1; each hidden
    entry is an edge between its row and its column.
    """
    adjacency: dict[int, list[tuple[int, int]]] = {}
    edges = sorted(hidden)
    for index, (r, c) in enumerate(edges):
        adjacency.setdefault(r, []).append((n_rows + c, index))
        adjacency.setdefault(n_rows + c, []).append((r, index))
    order: dict[int, int] = {}
    low: dict[int, int] = {}
    found: list[tuple[int, int]] = []
    counter = 0
    for root in sorted(adjacency):
        if root in order:
            continue
        order[root] = low[root] = counter
        counter += 1
        stack = [(root, -1, iter(adjacency[root]))]
        while stack:
            node, via, neighbours = stack[-1]
            advanced = False
            for neighbour, edge in neighbours:
                if edge == via:
                    continue
                if neighbour in order:
                    low[node] = min(low[node], order[neighbour])
                else:
                    order[neighbour] = low[neighbour] = counter
                    counter += 1
                    stack.append((neighbour, edge, iter(adjacency[neighbour])))
                    advanced = True
                    break
            if advanced:
                continue
            stack.pop()
            if stack:
                parent = stack[-1][0]
                low[parent] = min(low[parent], low[node])
                if low[node] > order[parent]:
                    found.append(edges[via])
    return sorted(found)


def _cheapest_cycle_path(
    grid: list[list[int]], hidden: dict[tuple[int, int], str], row: int, col: int
) -> list[tuple[int, int]] | None:
    """The positive entries of the cheapest path from ``row`` to ``col`` avoiding (row, col).

    With (row, col) it closes a cycle. An entry costs its value unless already hidden.
    """
    n_rows, n_cols = len(grid), len(grid[0])
    corner = (n_rows - 1, n_cols - 1)
    start, goal = ("r", row), ("c", col)
    best: dict[tuple[str, int], int] = {start: 0}
    came: dict[tuple[str, int], tuple[tuple[str, int], tuple[int, int]]] = {}
    queue: list[tuple[int, tuple[str, int]]] = [(0, start)]
    while queue:
        cost, node = heapq.heappop(queue)
        if node == goal:
            path = []
            while node != start:
                node, entry = came[node]
                path.append(entry)
            return path
        if cost > best.get(node, cost):
            continue
        kind, index = node
        if kind == "r":
            steps = [(("c", c), (index, c)) for c in range(n_cols)]
        else:
            steps = [(("r", r), (r, index)) for r in range(n_rows)]
        for neighbour, entry in steps:
            if entry == (row, col) or grid[entry[0]][entry[1]] <= 0:
                continue
            if entry == corner and entry not in hidden:
                continue  # the grand total stays published
            step_cost = 0 if entry in hidden else grid[entry[0]][entry[1]]
            total = cost + step_cost
            if total < best.get(neighbour, total + 1):
                best[neighbour] = total
                came[neighbour] = (node, entry)
                heapq.heappush(queue, (total, neighbour))
    return None
