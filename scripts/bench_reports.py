"""How long reports, the case export and pulse results take on a large mechanism, each beside a
baseline measured in the same run.

    .venv/bin/python scripts/bench_reports.py [--cases 100000] [--database-url URL]

Fills a fresh database (a temporary SQLite file unless --database-url names an empty
PostgreSQL database) with made-up cases over twelve months, with status events, then times:

- the handling figures of /reports (overall and month by month) against a bare
  ``SELECT count(*) ... GROUP BY month`` of the same cases;
- the counts table by category and month, counted and suppressed, against the bare count;
- the admin case export (CSV, in batches of 2,000) against copying the same columns of the
  cases table to CSV in one plain query;
- the results of a pulse wave of 2,000 responses against reading its rows.

Prints a Markdown table of medians (5 runs; the export 3).
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import func, insert, select

from grievance.config import Settings
from grievance.migrate import upgrade
from grievance.models import Case, CaseEvent, Organisation, Site, WellbeingResponse, WellbeingWave
from grievance.models.cases import DEFAULT_SEVERITY
from grievance.reports import aggregates, outcomes, suppression
from grievance.reports import wellbeing as wellbeing_results
from grievance.reports.suppression import suppress
from grievance.reports.wellbeing import QUESTIONS
from grievance.runtime import build_runtime
from grievance.services import exports

FIRST, LAST = date(2025, 12, 1), date(2026, 11, 1)


def fill(runtime, n: int) -> int:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    start = datetime(2025, 12, 1, tzinfo=UTC)
    with runtime.sessions() as session:
        org = Organisation(name="Bench Supplier", kind="supplier")
        session.add(org)
        session.flush()
        sites = [Site(supplier_id=org.id, name=f"Site {i}", country="MY") for i in range(30)]
        session.add_all(sites)
        session.flush()
        categories = sorted(DEFAULT_SEVERITY)
        rows, events = [], []
        for _ in range(n):
            created = start + timedelta(seconds=rng.randrange(365 * 86400))
            closed = rng.random() < 0.6
            rows.append(
                {
                    "code_hash": secrets.token_hex(32),
                    "code_key_id": "bench",
                    "status": "closed" if closed else rng.choice(["received", "in_triage"]),
                    "category": rng.choice(categories),
                    "severity": rng.choice(["P1", "P2", "P2", "P3"]),
                    "language": rng.choice(["en", "ne", "my", "bn"]),
                    "channel": "sms",
                    "flow_id": "intake",
                    "flow_version": 2,
                    "created_at": created,
                    "updated_at": created,
                    "acknowledged_at": created + timedelta(hours=rng.uniform(0.1, 30)),
                    "closed_at": created + timedelta(days=rng.uniform(5, 90)) if closed else None,
                    "site_id": rng.choice(sites).id,
                    "supplier_id": org.id,
                    "origin_country": rng.choice(["NP", "MM", "BD", None]),
                    "outcome": rng.choice(["resolved", "not_resolved"]) if closed else None,
                    "worker_answer": "confirmed" if closed and rng.random() < 0.7 else None,
                    "satisfaction": rng.randint(1, 5) if closed else None,
                    "indicators": [],
                    "remedy_types": ["restitution"] if closed else [],
                }
            )
        for chunk in range(0, n, 5000):
            session.execute(insert(Case), rows[chunk : chunk + 5000])
        session.commit()
        for case_id, created in session.execute(select(Case.id, Case.created_at)):
            events.append(
                {
                    "case_id": case_id,
                    "at": created + timedelta(hours=rng.uniform(1, 80)),
                    "kind": "status",
                    "actor": "bench",
                    "data": {"from": "in_triage", "to": "with_supplier"},
                }
            )
        for chunk in range(0, len(events), 5000):
            session.execute(insert(CaseEvent), events[chunk : chunk + 5000])
        wave = WellbeingWave(site_id=sites[0].id, wave=1, status="sent", total=2600, invited=2500)
        session.add(wave)
        session.flush()
        session.execute(
            insert(WellbeingResponse),
            [
                {
                    "token": secrets.token_urlsafe(32),
                    "wave_id": wave.id,
                    "site_id": sites[0].id,
                    "answers": {q: rng.randint(0, 5) for q in QUESTIONS},
                    "said_more": False,
                    "reported": False,
                }
                for _ in range(2000)
            ],
        )
        session.commit()
        return wave.id


def median_ms(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    folder = tempfile.mkdtemp()
    url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
    settings = Settings.from_env(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "GRIEVANCE_DATA_KEY": Fernet.generate_key().decode(),
            "GRIEVANCE_INSTANCE_PATH": folder,
            "GRIEVANCE_INLINE_JOBS": "sync",
        }
    )
    upgrade(url)
    runtime = build_runtime(settings)
    wave_id = fill(runtime, args.cases)
    k = settings.report_min_cell
    results = []

    def bare_count() -> object:
        with runtime.sessions() as s:
            return s.execute(
                select(func.count(Case.id)).where(
                    Case.created_at >= datetime(2025, 12, 1, tzinfo=UTC)
                )
            ).all()

    def handling() -> object:
        with runtime.sessions() as s:
            return outcomes.handling(s, FIRST, LAST, k)

    def counts() -> object:
        with runtime.sessions() as s:
            found = aggregates.monthly_counts(s, "category", FIRST, LAST)
        suppression._suppress.cache_clear()  # time the work, not the cache
        return suppress(found.counts, k)

    def export() -> object:
        with runtime.sessions() as s:
            return exports.write_cases(s, io.StringIO(), FIRST, LAST)

    def raw_copy() -> object:
        out = io.StringIO()
        writer = csv.writer(out)
        with runtime.sessions() as s:
            for row in s.execute(select(Case.__table__)):
                writer.writerow(row)
        return out

    def wellbeing() -> object:
        with runtime.sessions() as s:
            wave = s.get(WellbeingWave, wave_id)
            return wellbeing_results.wave_results(s, wave, 10)

    def wellbeing_rows() -> object:
        with runtime.sessions() as s:
            return s.execute(
                select(WellbeingResponse.answers).where(WellbeingResponse.wave_id == wave_id)
            ).all()

    results.append(
        (
            "handling figures, 12 months",
            median_ms(handling, 5),
            "bare count",
            median_ms(bare_count, 5),
        )
    )
    results.append(
        (
            "counts by category x month, suppressed",
            median_ms(counts, 5),
            "bare count",
            median_ms(bare_count, 5),
        )
    )
    results.append(
        ("case export (CSV)", median_ms(export, 3), "plain copy to CSV", median_ms(raw_copy, 3))
    )
    results.append(
        (
            "pulse wave of 2,000 answers",
            median_ms(wellbeing, 5),
            "reading its rows",
            median_ms(wellbeing_rows, 5),
        )
    )
    runtime.close()
    dialect = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"{args.cases:,} cases, {dialect}")
    print("| work | median | baseline | median |")
    print("| --- | ---: | --- | ---: |")
    for name, ms, base, base_ms in results:
        print(f"| {name} | {ms:,.0f} ms | {base} | {base_ms:,.0f} ms |")


if __name__ == "__main__":
    main()
