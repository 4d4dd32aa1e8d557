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

``--http-pollers N`` measures over HTTP instead, on PostgreSQL only: the app under
gunicorn (``-w 2``, as bench_webhook.py runs it), N handlers signed in with their own
cookie jars, each polling the URL its rendered queue page polls (``/cases?seen=...&opened=...``,
``HX-Request`` and ``X-Background`` as htmx sends them) every 10 s, staggered, for a window;
the CPU time of the app's gunicorn processes and of the PostgreSQL backends serving the
bench database over the window, as % of one core; the first page's p50/p95 over HTTP; and
the same polling of a bare Flask endpoint under the same gunicorn as the baseline. A second
window adds each page's browser-notification poll (``/alerts/pending``), what a handler who
turned notifications on costs.

    .venv/bin/python scripts/bench_queue.py --http-pollers 50          # 1,000,000 cases, 60 s windows
    .venv/bin/python scripts/bench_queue.py --http-pollers 10 --quick  # 50,000 cases, 15 s windows
"""

from __future__ import annotations

import argparse
import html
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import benchlib as bl
import requests

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


# -- over HTTP: the queue's poll from N open browsers --------------------------------------

POLL_SECONDS = 10.0
# The bench database's backends: a part of "postgresql" (every PostgreSQL process on the
# machine), kept out of bl.cpu_table's sums by the leading underscore.
PG_BACKENDS = "_postgresql backends of the bench database"
BENCH_PASSWORD = "bench password 123"
LIVE_URL = re.compile(r'id="live" hidden hx-get="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
POLL_HEADERS = {"HX-Request": "true", "X-Background": "true"}


@dataclass
class Poller:
    """One open browser: its cookie jar and the next URL it asks, as the page would."""

    session: requests.Session
    base: str
    path: str
    headers: dict[str, str]
    kind: str  # "queue", "alerts" or "bare"
    after: int | None = None

    def url(self) -> str:
        if self.kind == "alerts" and self.after is not None:
            return f"{self.base}{self.path}?after={self.after}"
        return self.base + self.path

    def answered(self, response: requests.Response) -> None:
        """Follow the page: a changed queue brings a new poll URL, alerts a new ``after``."""
        if self.kind == "queue" and response.status_code == 200:
            found = LIVE_URL.search(response.text)
            if found:
                self.path = html.unescape(found.group(1))
        elif self.kind == "alerts" and response.status_code == 200:
            self.after = int(response.json()["last"])


@dataclass
class Window:
    """What the pollers did in one measured window."""

    seconds: float
    latencies_ms: list[float]
    statuses: Counter[int]
    cpu: dict[str, float]  # CPU seconds by component over the window

    def core_percent(self, *components: str) -> float:
        return 100.0 * sum(self.cpu.get(c, 0.0) for c in components) / self.seconds


def sign_in_http(base: str, email: str, secret: str) -> requests.Session:
    """A browser signing a handler in (password, then a TOTP code): its cookie jar."""
    import pyotp

    browser = requests.Session()
    token = CSRF.search(browser.get(f"{base}/login", timeout=30).text)
    assert token, "no CSRF token on /login"
    data = {"email": email, "password": BENCH_PASSWORD, "csrf_token": token.group(1)}
    done = browser.post(f"{base}/login", data=data, allow_redirects=False, timeout=30)
    assert done.status_code == 302, done
    assert done.headers["Location"].endswith("/login/code"), done.headers["Location"]
    token = CSRF.search(browser.get(f"{base}/login/code", timeout=30).text)
    assert token, "no CSRF token on /login/code"
    data = {"code": pyotp.TOTP(secret).now(), "csrf_token": token.group(1)}
    done = browser.post(f"{base}/login/code", data=data, allow_redirects=False, timeout=30)
    assert done.status_code == 302, done
    return browser


def backend_pids(database: str) -> list[int]:
    """The PostgreSQL backends connected to ``database`` now (the app's pooled connections)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(bl.PG_ADMIN_URL)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = :db"), {"db": database}
            )
            return [int(pid) for (pid,) in rows]
    finally:
        engine.dispose()


def cpu_now(groups: dict[str, int], database: str) -> tuple[dict[str, float], dict[int, float]]:
    """CPU seconds so far of the process groups (and the machine), and per backend of ``database``."""
    return bl.cpu_snapshot(groups), bl.process_cpu_seconds(backend_pids(database))


def poll_window(
    pollers: list[Poller], seconds: float, groups: dict[str, int], database: str
) -> Window:
    """Each poller asks every POLL_SECONDS, the first asks staggered over one period; the CPU
    used meanwhile. One client thread: the requests are few (N/10 a second) and short."""
    pages: dict[int, int] = {}  # a page's pollers (queue, alerts) share its cookie jar
    for poller in pollers:
        pages.setdefault(id(poller.session), len(pages))
    periods = max(1, round(seconds / POLL_SECONDS))
    span = periods * POLL_SECONDS
    schedule = sorted(
        (pages[id(p.session)] * POLL_SECONDS / len(pages) + k * POLL_SECONDS, n)
        for n, p in enumerate(pollers)
        for k in range(periods)
    )
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    before, backends_before = cpu_now(groups, database)
    started = time.monotonic()
    for at, n in schedule:
        delay = started + at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        poller = pollers[n]
        sent = time.perf_counter()
        response = poller.session.get(
            poller.url(), headers=poller.headers, allow_redirects=False, timeout=30
        )
        latencies.append((time.perf_counter() - sent) * 1000)
        statuses[response.status_code] += 1
        poller.answered(response)
    # Whole periods: every page polled as often as every other.
    delay = started + span - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    elapsed = time.monotonic() - started
    after, backends_after = cpu_now(groups, database)
    cpu = bl.cpu_delta(before, after)
    # A backend that started during the window counts from zero; one that ended is lost
    # (the app's pool keeps its connections, so neither happens in a steady run).
    cpu[PG_BACKENDS] = sum(
        used - backends_before.get(pid, 0.0) for pid, used in backends_after.items()
    )
    return Window(elapsed, latencies, statuses, cpu)


def http_latency(session: requests.Session, url: str, runs: int) -> tuple[float, float]:
    """p50 and p95 of GET ``url`` over HTTP as the client sees it (connect to last byte)."""
    for _ in range(5):
        assert session.get(url, timeout=30).status_code == 200
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = session.get(url, timeout=30)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(times), bl.percentile(times, 95)


def run_http(database_url: str, pollers: int, seconds: float, runs: int) -> list[str]:
    """Serve the app and a bare Flask app with gunicorn; sign ``pollers`` handlers in; measure."""
    import pyotp  # noqa: F401 - the sign-in's codes; fail early if missing

    from grievance.auth import accounts
    from grievance.config import Settings
    from grievance.runtime import build_runtime

    lines: list[str] = []
    with bl.workdir(False) as work:
        procs = bl.Processes(work)
        try:
            web_port, bare_port = bl.free_port(), bl.free_port()
            base = f"http://{bl.HOST}:{web_port}"
            # Served on plain http here, so the session cookie is not Secure-only.
            env = bl.app_environment(
                database_url,
                work / "instance",
                PUBLIC_BASE_URL=base,
                REDIS_URL=bl.REDIS_BENCH_URL,
                GRIEVANCE_LOG_LEVEL="WARNING",
            )
            bl.flush_bench_redis()
            runtime = build_runtime(Settings.from_env(env))
            secrets = []
            with runtime.sessions() as s:
                for i in range(pollers):
                    secret = accounts.new_totp_secret()
                    user = accounts.create_user(
                        s,
                        f"poller{i}@example.org",
                        "handler",
                        BENCH_PASSWORD,
                        must_change_password=False,
                    )
                    accounts.enable_totp(user, runtime.protector, secret)
                    secrets.append(secret)
                s.commit()
            runtime.close()
            web = procs.start(
                "gunicorn-queue", bl.gunicorn_argv("grievance.app:create_app()", web_port), env
            )
            bare = procs.start(
                "gunicorn-bare",
                bl.gunicorn_argv("bare_app:create_app()", bare_port, pythonpath=bl.SCRIPTS),
                env,
            )
            bl.wait_for_http(web_port, "/healthz", web)
            bl.wait_for_http(bare_port, "/healthz", bare)
            started = time.perf_counter()
            browsers = [
                sign_in_http(base, f"poller{i}@example.org", secret)
                for i, secret in enumerate(secrets)
            ]
            print(
                f"signed {pollers} handlers in over HTTP in {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
            # Each browser opens the queue; its poll URL is the one the page's htmx asks.
            queue_pollers, alert_pollers = [], []
            for browser in browsers:
                page = browser.get(f"{base}/cases", timeout=60)
                assert page.status_code == 200, page.status_code
                found = LIVE_URL.search(page.text)
                assert found, "no live poll on the queue page"
                path = html.unescape(found.group(1))
                queue_pollers.append(Poller(browser, base, path, POLL_HEADERS, "queue"))
                alert_pollers.append(
                    Poller(browser, base, "/alerts/pending", {"X-Background": "true"}, "alerts")
                )
            for poller in alert_pollers:  # the first ask, where a browser starts from
                poller.answered(poller.session.get(poller.url(), timeout=30))
            bare_base = f"http://{bl.HOST}:{bare_port}"
            bare_pollers = [
                Poller(requests.Session(), bare_base, "/healthz", {}, "bare") for _ in browsers
            ]

            b50, b95 = http_latency(requests.Session(), f"{bare_base}/healthz", runs)
            p50, p95 = http_latency(browsers[0], f"{base}/cases", runs)
            lines += [
                f"First page over HTTP ({runs} GETs after 5 warm-up, one at a time, client-side time: "
                "connect to last byte; gunicorn's sync workers close each connection):",
                "",
                "| page | p50 ms | p95 ms |",
                "| --- | ---: | ---: |",
                f"| bare Flask endpoint, same gunicorn (baseline) | {b50:.2f} | {b95:.2f} |",
                f"| first page `/cases` | {p50:.1f} | {p95:.1f} |",
                "",
            ]

            groups = {"gunicorn (app)": web.pid, "gunicorn (bare)": bare.pid}
            database = database_url.rsplit("/", 1)[1]
            windows = {
                "bare Flask endpoint (baseline)": (bare_pollers, ("gunicorn (bare)",)),
                "queue poll (`/cases?seen=...`)": (
                    queue_pollers,
                    ("gunicorn (app)", PG_BACKENDS),
                ),
                "queue poll + browser-notification poll": (
                    [p for pair in zip(queue_pollers, alert_pollers, strict=True) for p in pair],
                    ("gunicorn (app)", PG_BACKENDS),
                ),
            }
            lines += [
                f"{pollers} open pages, each polling every {POLL_SECONDS:.0f} s (staggered), "
                f"windows of {seconds:.0f} s; CPU from /proc over each window:",
                "",
                "| polled | requests | statuses | poll p50 / p95 ms | gunicorn CPU s | "
                "PostgreSQL backends CPU s | server % of one core |",
                "| --- | ---: | --- | ---: | ---: | ---: | ---: |",
            ]
            details: list[str] = []
            for name, (targets, counted) in windows.items():
                window = poll_window(targets, seconds, groups, database)
                gunicorn = counted[0]
                backends = window.cpu.get(PG_BACKENDS, 0.0)
                statuses = ", ".join(f"{k}: {v}" for k, v in sorted(window.statuses.items()))
                lines.append(
                    f"| {name} | {sum(window.statuses.values())} | {statuses} | "
                    f"{statistics.median(window.latencies_ms):.1f} / "
                    f"{bl.percentile(window.latencies_ms, 95):.1f} | "
                    f"{window.cpu.get(gunicorn, 0.0):.2f} | "
                    f"{backends if len(counted) > 1 else 0.0:.2f} | "
                    f"{window.core_percent(*counted):.2f}% |"
                )
                details += [
                    f"#### {name}: every component over {window.seconds:.0f} s",
                    "",
                    *bl.cpu_table(window.cpu, sum(window.statuses.values()), "request"),
                    "",
                ]
            lines += ["", *details]
        finally:
            procs.stop_all()
            bl.flush_bench_redis()
    return lines


def seed_postgres(url: str, n: int) -> None:
    """N cases by one INSERT ... SELECT, then VACUUM ANALYZE (what autovacuum does after a bulk load)."""
    from sqlalchemy import create_engine, text

    started = time.perf_counter()
    engine = create_engine(url)
    with engine.begin() as c:
        for statement in PG_SEED.split(";\n"):
            if statement.strip():
                c.execute(text(statement.replace(":n", str(n))))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    print(
        f"seeded {n} cases in PostgreSQL in {time.perf_counter() - started:.0f} s", file=sys.stderr
    )


def main_http(args: argparse.Namespace, pg_n: int) -> int:
    """The live queue over HTTP on PostgreSQL (``--http-pollers``)."""
    seconds = args.window or (20.0 if args.quick else 60.0)
    bl.install_guards(900 if args.quick else 3600)
    report = bl.Report()
    report.add(f"## The live queue over HTTP: {pg_n:,} cases on PostgreSQL", "")
    report.add(*bl.machine_facts(), f"| PostgreSQL server | {bl.pg_server_version()} |")
    report.add(f"| other processes busy at start | {bl.other_load()} |", "")
    try:
        url = bl.create_pg_bench_db()
        bl.migrate(bl.app_environment(url, Path(tempfile.mkdtemp())))
        seed_postgres(url, pg_n)
        report.add(*run_http(url, args.http_pollers, seconds, args.runs))
    finally:
        bl.drop_pg_bench_db()
    return report.finish(None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--pg-cases", type=int, default=None)
    parser.add_argument("--sqlite-cases", type=int, default=None)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument(
        "--http-pollers",
        type=int,
        default=0,
        help="measure over HTTP with this many open queue pages polling (PostgreSQL only)",
    )
    parser.add_argument(
        "--window",
        type=float,
        default=None,
        help="seconds each polling window lasts, in whole 10 s periods (default 60; 20 with --quick)",
    )
    args = parser.parse_args()
    pg_n = args.pg_cases or (50_000 if args.quick else 1_000_000)
    lite_n = args.sqlite_cases or (10_000 if args.quick else 100_000)
    if args.http_pollers:
        return main_http(args, pg_n)
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
