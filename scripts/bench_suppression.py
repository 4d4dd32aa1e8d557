"""How long suppressing a report table takes, against the bare cycle construction; and how
long a quarter's release takes (its seven tables suppressed together), against suppressing
the same tables each alone.

    .venv/bin/python scripts/bench_suppression.py

Tables like the reports' (categories x months, sites x months) filled with counts
drawn like a mechanism's: many small cells, a few large ones. Prints Markdown tables.
"""

from __future__ import annotations

import random
import statistics
import time

from grievance.reports import suppression


def table(rows: int, cols: int, rng: random.Random) -> list[list[int]]:
    return [
        [int(rng.paretovariate(1.2)) - 1 + rng.choice((0, 0, 1, 3)) for _ in range(cols)]
        for _ in range(rows)
    ]


def timed(rows: int, cols: int, runs: int = 5) -> tuple[float, float, int, int]:
    rng = random.Random(rows * 100 + cols)
    full, cycles, hidden, cells = [], [], 0, 0
    for _ in range(runs):
        counts = table(rows, cols, rng)
        start = time.perf_counter()
        result = suppression.suppress(counts)
        full.append(time.perf_counter() - start)
        grid = [[*row, sum(row)] for row in counts]
        grid.append([*(sum(c) for c in zip(*counts, strict=True)), sum(map(sum, counts))])
        primary = {
            (r, c): suppression.PRIMARY
            for r, row in enumerate(grid)
            for c, v in enumerate(row)
            if 0 < v < 10
        }
        start = time.perf_counter()
        suppression._close_cycles(grid, primary)  # the baseline: cycles only, no audit
        cycles.append(time.perf_counter() - start)
        augmented = result.augmented()
        hidden += sum(cell.hidden is not None for row in augmented for cell in row)
        cells += sum(len(row) for row in augmented)
    return statistics.median(full), statistics.median(cycles), hidden, cells


# A quarter's tables: how many rows each dimension has in a mid-sized mechanism.
RELEASE_ROWS = {
    "category": 14,
    "severity": 4,
    "site": 30,
    "supplier": 8,
    "language": 10,
    "corridor": 12,
    "agency": 15,
    "ending": 6,
}


def release_tables(per_month: int, rng: random.Random) -> list[list[list[int]]]:
    """One quarter of cases (three months, ``per_month`` each), counted by every dimension:
    the tables agree on their month totals, as a real release's do."""
    tables = {name: [[0, 0, 0] for _ in range(rows)] for name, rows in RELEASE_ROWS.items()}
    for month in range(3):
        for _ in range(per_month):
            for name, rows in RELEASE_ROWS.items():
                # A few rows take most cases (Zipf-like), the rest are rare.
                row = min(int(rng.paretovariate(0.9)) - 1, rows - 1)
                tables[name][row][month] += 1
    return [[row for row in table if any(row)] for table in tables.values()]


def timed_release(per_month: int, runs: int = 3) -> tuple[float, float, int, int, int]:
    rng = random.Random(per_month)
    together, alone, hidden, hidden_alone, cells = [], [], 0, 0, 0
    for _ in range(runs):
        tables = release_tables(per_month, rng)
        suppression._suppress.cache_clear()
        start = time.perf_counter()
        result = suppression.suppress_together(tables)
        together.append(time.perf_counter() - start)
        suppression._suppress.cache_clear()
        start = time.perf_counter()
        separate = [suppression.suppress(t) for t in tables]
        alone.append(time.perf_counter() - start)
        for published, single in zip(result, separate, strict=True):
            hidden += sum(c.hidden is not None for row in published.augmented() for c in row)
            hidden_alone += sum(c.hidden is not None for row in single.augmented() for c in row)
            cells += sum(len(row) for row in published.augmented())
    return statistics.median(together), statistics.median(alone), hidden, hidden_alone, cells


def main() -> None:
    print(
        f"| a quarter's release ({len(RELEASE_ROWS)} tables x 3 months) | together (median) | each alone (median) | hidden together | hidden alone |"
    )
    print("| --- | ---: | ---: | ---: | ---: |")
    for per_month in (6, 12, 30, 100, 300):
        together, alone, hidden, hidden_alone, cells = timed_release(per_month)
        print(
            f"| {per_month} cases a month | {together * 1000:.0f} ms | {alone * 1000:.0f} ms "
            f"| {hidden}/{cells} | {hidden_alone}/{cells} |"
        )
    print()
    print("| table | suppress (median) | cycles only (median) | entries hidden |")
    print("| --- | ---: | ---: | ---: |")
    for rows, cols, name in (
        (14, 12, "14 categories x 12 months"),
        (30, 12, "30 sites x 12 months"),
        (14, 14, "14 languages x 14 categories"),
    ):
        full, cycles, hidden, cells = timed(rows, cols)
        print(f"| {name} | {full * 1000:.0f} ms | {cycles * 1000:.1f} ms | {hidden}/{cells} |")


if __name__ == "__main__":
    main()
