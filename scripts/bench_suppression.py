"""How long suppressing a report table takes, against the bare cycle construction.

    .venv/bin/python scripts/bench_suppression.py

Tables like the reports' (categories x months, sites x months) filled with counts
drawn like a mechanism's: many small cells, a few large ones. Prints a Markdown table.
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


def main() -> None:
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
