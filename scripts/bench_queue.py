"""Queue benchmark: the handlers' first page and a filtered page with many cases.

Seeds N cases straight into the database (PostgreSQL: one INSERT ... SELECT
over generate_series; SQLite: executemany), signs a handler in, and renders
``/cases`` and ``/cases?severity=P1&category=FL-FEE`` (and a page deep into
the queue, and the live queue's poll when nothing changed) through the Flask app in this process: the time is server time,
from the request entering the app to the response leaving it, including the
audit write. Prints p50/p95 per page, the same for a bare Flask endpoint as a
baseline, and EXPLAIN ANALYZE of the page and count queries.

    .venv/bin/python scripts/bench_queue.py                 # 1,000,000 on PostgreSQL, 100,000 on SQLite
    .venv/bin/python scripts/bench_queue.py --quick         # 50,000 and 10,000
"""

from __future__ import annotations

import argparse
import html
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import benchlib as bl

from grievance.models.cases import DEFAULT_SEVERITY, STATUSES

CATEGORIES = tuple(DEFAULT_SEVERITY)
PAGES = {
    "first page": "/cases",
    "filtered (P1, FL-FEE)": "/cases?severity=P1&category=FL-FEE",
    "filtered (site)": "/cases?site=7",
}

PG_SEED = """
INSERT INTO organisations (name, kind, created_at) VALUES ('Bench supplier', 'supplier', now());
INSERT INTO sites (supplier_id, name, country, created_at)
  SELECT (SELECT id FROM organisations LIMIT 1), 'Site ' || g, 'MY', now() FROM generate_series(1, 50) g;
INSERT INTO cases (code_hash, code_key_id, status, reported_category, category, severity, language, channel,
                   workplace, in_danger, wants_updates, flow_id, flow_version, created_at, updated_at,
                   indicators, stage_started_at, due_at, site_id, supplier_id)
SELECT md5(g::text), 'k',
       CASE WHEN g % 10 < 7 THEN (ARRAY['resolved','closed','referred','out_of_scope','withdrawn'])[1 + g % 5]
            ELSE (ARRAY['received','acknowledged','in_triage','with_supplier','remediation_in_progress','awaiting_worker'])[1 + g % 6] END,
       c.cat, c.cat,
       (ARRAY['P0','P1','P1','P2','P2','P2','P3','P3','P3','P3'])[1 + (g / 3) % 10],
       (ARRAY['en','ne','my','bn','hi'])[1 + g % 5], 'sms',
       'Workplace ' || (g % 5000), false, true, 'intake', 1,
       now() - ((g % 1500) || ' days')::interval, now(), '[]',
       now() - ((g % 1500) || ' days')::interval,
       now() + (((g * 13) % 400 - 200) || ' hours')::interval,
       1 + (g % 50), (SELECT id FROM organisations LIMIT 1)
FROM generate_series(1, :n) g
CROSS JOIN LATERAL (SELECT (ARRAY['FL-MOV','FL-FEE','FL-DEBT','VIO','CHILD','RET','OSH','HRS','WAGE','LIV','ABUSE','FOA','EMP','INFO'])[1 + (g * 3) % 14] AS cat) c;
"""


def seed_sqlite(url: str, n: int) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    rng = random.Random(1)
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO organisations (name, kind, created_at) VALUES ('Bench supplier', 'supplier', :t)"
            ),
            {"t": now},
        )
        c.execute(
            text(
                "INSERT INTO sites (supplier_id, name, country, created_at) VALUES (1, :n, 'MY', :t)"
            ),
            [{"n": f"Site {i}", "t": now} for i in range(1, 51)],
        )
        rows = []
        for g in range(1, n + 1):
            status = rng.choice(STATUSES[6:]) if g % 10 < 7 else rng.choice(STATUSES[:6])
            category = CATEGORIES[(g * 3) % 14]
            created = now - timedelta(days=g % 1500)
            rows.append(
                {
                    "h": f"{g:064x}",
                    "s": status,
                    "c": category,
                    "sev": ("P0", "P1", "P1", "P2", "P2", "P2", "P3", "P3", "P3", "P3")[
                        (g // 3) % 10
                    ],
                    "l": ("en", "ne", "my", "bn", "hi")[g % 5],
                    "w": f"Workplace {g % 5000}",
                    "cr": created,
                    "due": now + timedelta(hours=(g * 13) % 400 - 200),
                    "site": 1 + g % 50,
                }
            )
        c.execute(
            text(
                "INSERT INTO cases (code_hash, code_key_id, status, reported_category, category, severity, language,"
                " channel, workplace, in_danger, wants_updates, flow_id, flow_version, created_at, updated_at,"
                " indicators, stage_started_at, due_at, site_id, supplier_id) VALUES (:h, 'k', :s, :c, :c, :sev, :l,"
                " 'sms', :w, 0, 1, 'intake', 1, :cr, :cr, '[]', :cr, :due, :site, 1)"
            ),
            rows,
        )
        c.execute(text("ANALYZE"))
    engine.dispose()


def measure(client, path: str, runs: int, status: int = 200, **headers: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    for _ in range(5):
        assert client.get(path, headers=headers).status_code == status
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == status
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def run(database_url: str, n: int, runs: int, explain: bool) -> list[str]:
    import os

    import pyotp
    from flask import Flask

    from grievance.app import create_app
    from grievance.auth import accounts
    from grievance.config import Settings
    from grievance.runtime import build_runtime

    env = bl.app_environment(
        database_url, Path(tempfile.mkdtemp()) / "instance", GRIEVANCE_LOG_LEVEL="WARNING"
    )
    os.environ.update({k: v for k, v in env.items() if k.startswith(("GRIEVANCE_", "TWILIO_"))})
    runtime = build_runtime(Settings.from_env(env))
    secret = accounts.new_totp_secret()
    with runtime.sessions() as s:
        user = accounts.create_user(
            s, "bench@example.org", "handler", "bench password 123", must_change_password=False
        )
        accounts.enable_totp(user, runtime.protector, secret)
        s.commit()
    app = create_app(runtime=runtime)
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    import re

    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)
    ).group(1)
    client.post(
        "/login",
        data={"email": "bench@example.org", "password": "bench password 123", "csrf_token": token},
    )
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/login/code").get_data(as_text=True)
    ).group(1)
    client.post("/login/code", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    assert client.get("/cases").status_code == 200
    bare = Flask("bare")
    bare.add_url_rule("/", "bare", lambda: "ok")
    bare_client = bare.test_client()
    lines = ["| page | p50 ms | p95 ms |", "| --- | ---: | ---: |"]
    b50, b95 = measure(bare_client, "/", runs)
    lines.append(f"| bare Flask endpoint (baseline) | {b50:.2f} | {b95:.2f} |")
    pages = dict(PAGES)
    first = client.get("/cases").get_data(as_text=True)
    after = re.search(r'id="next-page" href="[^"]*after=([^"&]+)', first)
    if after:
        deep = after.group(1)
        for _ in range(20):  # 20 pages in
            page = client.get(f"/cases?after={deep}").get_data(as_text=True)
            nxt = re.search(r'id="next-page" href="[^"]*after=([^"&]+)', page)
            if not nxt:
                break
            deep = nxt.group(1)
        pages["21st page (keyset)"] = f"/cases?after={deep}"
    for name, path in pages.items():
        p50, p95 = measure(client, path, runs)
        lines.append(f"| {name} | {p50:.1f} | {p95:.1f} |")
    # The live queue's poll when nothing changed: what every open queue page costs every 10 s.
    poll = html.unescape(re.search(r'id="live" hidden hx-get="([^"]+)"', first).group(1))
    p50, p95 = measure(client, poll, runs, 204, **{"HX-Request": "true", "X-Background": "true"})
    lines.append(f"| live queue poll, nothing new (204) | {p50:.2f} | {p95:.2f} |")
    if explain:
        lines += ["", *explain_plans(runtime)]
    runtime.close()
    return lines


def explain_plans(runtime) -> list[str]:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from grievance.services import case_queue as q

    out = []
    with runtime.sessions() as db:
        for name, f in (
            ("first page", q.QueueFilter()),
            ("P1 FL-FEE", q.QueueFilter(severity="P1", category="FL-FEE")),
        ):
            for label, statement in (
                (f"{name}: page", q.page_statement(f)),
                (f"{name}: counts", q.count_statement(f)),
            ):
                compiled = statement.compile(db.bind, compile_kwargs={"literal_binds": True})
                if db.bind.dialect.name == "postgresql":
                    plan = (
                        db.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).scalars().all()
                    )
                else:
                    plan = [
                        " | ".join(str(x) for x in row)
                        for row in db.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
                    ]
                out += [f"{label}:", "```", *plan, "```"]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--pg-cases", type=int, default=None)
    parser.add_argument("--sqlite-cases", type=int, default=None)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    pg_n = args.pg_cases or (50_000 if args.quick else 1_000_000)
    lite_n = args.sqlite_cases or (10_000 if args.quick else 100_000)
    report = ["## Queue", "", *bl.machine_facts(), ""]
    try:
        url = bl.create_pg_bench_db()
        bl.migrate(bl.app_environment(url, Path(tempfile.mkdtemp())))
        from sqlalchemy import create_engine, text

        started = time.perf_counter()
        engine = create_engine(url)
        with engine.begin() as c:
            for statement in PG_SEED.split(";\n"):
                if statement.strip():
                    c.execute(text(statement.replace(":n", str(pg_n))))
        engine.dispose()
        print(
            f"seeded {pg_n} cases in PostgreSQL in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
        report += [f"### PostgreSQL, {pg_n:,} cases", "", *run(url, pg_n, args.runs, True), ""]
    finally:
        bl.drop_pg_bench_db()
    path = Path(tempfile.mkdtemp()) / "queue.db"
    lite_url = f"sqlite:///{path}"
    bl.migrate(bl.app_environment(lite_url, path.parent))
    started = time.perf_counter()
    seed_sqlite(lite_url, lite_n)
    print(
        f"seeded {lite_n} cases in SQLite in {time.perf_counter() - started:.0f} s", file=sys.stderr
    )
    report += [f"### SQLite, {lite_n:,} cases", "", *run(lite_url, lite_n, args.runs, True)]
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
