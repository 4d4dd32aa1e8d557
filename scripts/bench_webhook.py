"""Benchmark of webhook ingest: POST /twilio/messaging under gunicorn -w 2, against a bare Flask app.

What runs (all on 127.0.0.1, all stopped at the end):

* ``gunicorn "grievance.app:create_app()" -w 2`` with a Twilio deployment's
  environment (signature checks on, Redis queue on a db of its own, no worker:
  only ingest is measured), on SQLite and then on PostgreSQL (grievance_bench);
* ``gunicorn "bare_app:create_app()" -w 2`` (scripts/bare_app.py): the same
  framework answering an empty TwiML and nothing else.

Measurements, with the same tool for both apps within each:

* max throughput: wrk (Debian, C, one thread) with scripts/wrk_signed.lua, which
  cycles through precomputed, correctly signed requests, each with its own
  MessageSid, from a few hundred distinct senders;
* latency at a fixed rate: an open-loop asyncio generator that sends each request
  at its scheduled time and measures from that time (no coordinated omission).

Usage::

    .venv/bin/python scripts/bench_webhook.py            # full run, 5-7 minutes
    .venv/bin/python scripts/bench_webhook.py --quick    # smoke run, under a minute
    .venv/bin/python scripts/bench_webhook.py --profile  # adds py-spy profiles of the workers
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib as bl


@dataclass
class WrkResult:
    rps: float
    requests: int
    duration_s: float
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    wraps: int


def run_wrk(
    port: int, request_file: Path, seconds: int, connections: int, threads: int, timeout: int
) -> WrkResult:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed: apt-get update && apt-get install -y wrk")
    argv = [
        wrk,
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(bl.SCRIPTS / "wrk_signed.lua"),
        f"http://{bl.HOST}:{port}",
        "--",
        str(request_file),
        str(threads),
    ]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=True).stdout
    match = re.search(r"^WRKJSON (.*)$", out, re.MULTILINE)
    if not match:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    data = json.loads(match.group(1))
    duration = data["duration_us"] / 1e6
    return WrkResult(
        rps=data["requests"] / duration,
        requests=data["requests"],
        duration_s=duration,
        non_2xx=data["status"],
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        wraps=data["wraps"],
    )


# How py-spy samples of a webhook worker are attributed: the first matching test wins.
WEBHOOK_CATEGORIES = [
    (
        "gunicorn: accept, read and parse HTTP, write the answer (outside Flask)",
        lambda st: "Flask.wsgi_app" not in st,
    ),
    ("signature check (twilio RequestValidator)", lambda st: "RequestValidator." in st),
    ("form parsing (werkzeug, in _verified_form)", lambda st: "_verified_form" in st),
    ("RQ enqueue of process_inbound (Redis)", lambda st: "Queue.enqueue" in st),
    (
        "SQLite BEGIN IMMEDIATE (taking the write lock, waiting for it)",
        lambda st: "_sqlite_begin_immediate" in st,
    ),
    (
        "database connection checkout + pool_pre_ping",
        lambda st: "do_ping" in st or "._checkout" in st,
    ),
    ("COMMIT", lambda st: "do_commit" in st),
    (
        "connection back to the pool (reset, close)",
        lambda st: "_finalize_fairy" in st or "Connection.close" in st or "Session.close" in st,
    ),
    (
        "other SQL: statements, compilation, results (SQLAlchemy, driver, server round trips)",
        lambda st: "sqlalchemy" in st,
    ),
    (
        "Fernet encryption, keyed address hash",
        lambda st: "Fernet" in st or "DataProtector" in st,
    ),
    ("Flask / Werkzeug request and response, view code", lambda st: True),
]


def child_pids(parent: int) -> list[int]:
    pids = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            stat = bl._proc_stat(pid)
            if stat is not None and stat[2] == parent:
                pids.append(int(pid))
    return sorted(pids)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run of a few seconds per measurement"
    )
    parser.add_argument(
        "--databases", default="sqlite,postgres", help="comma-separated: sqlite, postgres"
    )
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument(
        "--rate", type=float, default=200.0, help="fixed rate of the latency runs (req/s)"
    )
    parser.add_argument("--senders", type=int, default=300, help="distinct From numbers")
    parser.add_argument(
        "--web-workers",
        type=int,
        default=2,
        help="gunicorn sync workers of both apps (default 2, as the Procfile's WEB_CONCURRENCY)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the webhook's gunicorn workers during its wrk run",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=None,
        help="total seconds this run may wait for other processes to go quiet before measurements (default 120; 0 with --quick)",
    )
    parser.add_argument("--output", type=Path, help="also write the Markdown report here")
    parser.add_argument(
        "--keep", action="store_true", help="keep the work directory (logs, request files)"
    )
    args = parser.parse_args()

    tp_seconds = 4 if args.quick else 20
    lat_seconds = 5 if args.quick else 25
    warm_seconds = 1 if args.quick else 2
    quiet = bl.QuietWaiter(
        args.quiet_wait if args.quiet_wait is not None else (0.0 if args.quick else 120.0)
    )
    bl.install_guards(240 if args.quick else 560 + int(quiet.remaining))
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]

    report = bl.Report()
    report.add("## Webhook ingest benchmark", "", *bl.machine_facts())
    report.add(
        f"| PostgreSQL server | {bl.pg_server_version()} |",
        f"| Redis server | {bl.redis_server_version()} |",
    )
    report.add(f"| other processes busy at start | {bl.other_load()} |", "")

    results: dict[str, dict[str, object]] = {}
    cpu_rows: list[str] = []
    profiles: list[str] = []
    results_notes: dict[str, dict[str, str]] = {}
    with bl.workdir(args.keep) as work:
        procs = bl.Processes(work)
        try:
            # Precomputed, signed requests: every MessageSid unique within a database phase.
            t0 = time.monotonic()
            warm_file, tp_file, lat_file = (
                work / "warm.txt",
                work / "throughput.txt",
                work / "latency.txt",
            )
            bl.write_request_file(warm_file, int(100 * warm_seconds) + 10, args.senders, offset=0)
            bl.write_request_file(tp_file, tp_seconds * 3000, args.senders, offset=0)
            bl.write_request_file(
                lat_file, int(args.rate * lat_seconds) + 10, args.senders, offset=0
            )
            signing_s = time.monotonic() - t0
            print(
                f"signed {tp_seconds * 3000 + int(args.rate * lat_seconds) + int(100 * warm_seconds) + 20} requests in {signing_s:.1f} s",
                flush=True,
            )

            for database in databases:
                print(f"== {database}", flush=True)
                bl.flush_bench_redis()
                if database == "sqlite":
                    db_url = f"sqlite:///{work / 'bench.db'}"
                elif database == "postgres":
                    db_url = bl.create_pg_bench_db()
                else:
                    raise SystemExit(f"unknown database {database!r}")
                env = bl.app_environment(db_url, work / "instance", REDIS_URL=bl.REDIS_BENCH_URL)
                bl.migrate(env)
                web_port, bare_port = bl.free_port(), bl.free_port()
                web = procs.start(
                    f"gunicorn-webhook-{database}",
                    bl.gunicorn_argv("grievance.app:create_app()", web_port, args.web_workers),
                    env,
                )
                bare = procs.start(
                    f"gunicorn-bare-{database}",
                    bl.gunicorn_argv(
                        "bare_app:create_app()", bare_port, args.web_workers, pythonpath=bl.SCRIPTS
                    ),
                    env,
                )
                bl.wait_for_http(web_port, "/healthz", web)
                bl.wait_for_http(bare_port, "/healthz", bare)
                # Each gunicorn worker answers a few /healthz first; then a short warm-up at a low rate.
                warm = bl.read_request_file(warm_file)
                acked = 0
                for port in (bare_port, web_port):
                    payloads = [bl.raw_request(port, "/twilio/messaging", s, b) for s, b in warm]
                    res = bl.open_loop(port, payloads, 100.0, warm_seconds)
                    if port == web_port:
                        acked += res.ok
                    if res.ok != res.scheduled:
                        raise RuntimeError(
                            f"warm-up failed on port {port}: {res.statuses} {res.errors}"
                        )

                # (a) max throughput with wrk, bare first, then the webhook.
                groups = {"gunicorn (webhook)": web.pid, "gunicorn (bare)": bare.pid}
                tp: dict[str, WrkResult] = {}
                for name, port in (("bare", bare_port), ("webhook", web_port)):
                    quiet.wait(f"{database} {name} max throughput")
                    spies: list[bl.Proc] = []
                    if args.profile and name == "webhook":
                        spies = bl.pyspy_start(
                            procs, f"webhook-{database}", child_pids(web.pid), tp_seconds, work
                        )
                    before = bl.cpu_snapshot(groups)
                    tp[name] = run_wrk(
                        port, tp_file, tp_seconds, args.connections, 1, tp_seconds + 60
                    )
                    delta = bl.cpu_delta(before, bl.cpu_snapshot(groups))
                    delta.pop("this script", None)
                    delta["wrk"] = delta.pop(
                        "_children", 0.0
                    )  # wrk is the only child reaped meanwhile
                    if spies:
                        bl.pyspy_wait(procs, spies, 30)
                        files = sorted(work.glob(f"webhook-{database}-*.txt"))
                        profiles += [
                            f"### py-spy: webhook gunicorn workers, {database}, during the wrk run",
                            "",
                        ]
                        profiles += [*bl.pyspy_categories(files, WEBHOOK_CATEGORIES), ""]
                        profiles += [*bl.pyspy_summary(files, top=30), ""]
                    cpu_rows += [
                        f"CPU during the wrk run of **{name}** on {database} ({tp[name].requests} requests):",
                        "",
                    ]
                    cpu_rows += [*bl.cpu_table(delta, tp[name].requests, "request"), ""]
                    if tp[name].wraps and name == "webhook":  # the bare app ignores MessageSid
                        raise RuntimeError(
                            f"wrk ran out of precomputed requests ({name}); the run would repeat MessageSids"
                        )
                    print(
                        f"  {name}: {tp[name].rps:.0f} req/s, p99 {tp[name].p99_ms:.1f} ms, non-2xx {tp[name].non_2xx}",
                        flush=True,
                    )
                acked += tp["webhook"].requests - tp["webhook"].non_2xx

                # (b) fixed-rate latency, open loop, bare then webhook.
                lat: dict[str, bl.OpenLoopResult] = {}
                lat_notes = results_notes.setdefault(database, {})
                requests = bl.read_request_file(lat_file)
                for name, port in (("bare", bare_port), ("webhook", web_port)):
                    payloads = [
                        bl.raw_request(port, "/twilio/messaging", s, b) for s, b in requests
                    ]
                    quiet.wait(f"{database} {name} fixed rate")
                    before = bl.cpu_snapshot(groups)
                    checkpoints = bl.pg_checkpoints() if database == "postgres" else 0
                    lat[name] = bl.open_loop(port, payloads, args.rate, lat_seconds)
                    delta = bl.cpu_delta(before, bl.cpu_snapshot(groups))
                    delta.pop("_children", None)
                    note = bl.cpu_brief(delta)
                    if database == "postgres":
                        note += f"; PG checkpoints {bl.pg_checkpoints() - checkpoints}"
                    lat_notes[name] = note
                    r = lat[name]
                    print(
                        f"  {name} at {args.rate:.0f}/s: p50 {bl.percentile(r.latencies_ms, 50):.1f} ms, "
                        f"p99 {bl.percentile(r.latencies_ms, 99):.1f} ms, ok {r.ok}/{r.scheduled}",
                        flush=True,
                    )
                acked += lat["webhook"].ok

                stored = bl.count_rows(
                    db_url, "SELECT count(*) FROM messages WHERE direction = 'in'"
                )
                import redis

                queued = redis.Redis.from_url(bl.REDIS_BENCH_URL).llen("rq:queue:grievance")
                procs.stop(bare)
                procs.stop(web)
                results[database] = {
                    "tp": tp,
                    "lat": lat,
                    "stored": stored,
                    "acked": acked,
                    "queued": queued,
                }
                bl.flush_bench_redis()
                if database == "postgres":
                    bl.drop_pg_bench_db()
        finally:
            procs.stop_all()
            try:
                bl.flush_bench_redis()
            except Exception as exc:
                print(f"could not flush redis db 12: {type(exc).__name__}", file=sys.stderr)
            if "postgres" in databases:
                bl.drop_pg_bench_db()
            import signal

            signal.alarm(0)

    report.add(
        f"Settings: gunicorn sync workers `-w 2`; wrk `-t 1 -c {args.connections} -d {tp_seconds}s`; "
        f"open loop {args.rate:.0f} req/s for {lat_seconds} s (new connection per request: gunicorn's sync "
        f"worker closes each); {args.senders} distinct senders; every MessageSid unique; "
        "Redis queue on db 12 with no worker; load generator on the same 2 cores.",
        "",
        "### (a) Max throughput (wrk)",
        "",
        "| database | bare req/s | webhook req/s | webhook / bare | target ≥ 40% | webhook p50 / p99 at max (ms) | non-2xx |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: |",
    )
    for database, res in results.items():
        tp = res["tp"]  # type: ignore[assignment]
        ratio = tp["webhook"].rps / tp["bare"].rps  # type: ignore[index]
        report.add(
            f"| {database} | {tp['bare'].rps:.0f} | {tp['webhook'].rps:.0f} | {100 * ratio:.1f}% | "  # type: ignore[index]
            f"{'met' if ratio >= 0.4 else 'MISSED'} | {tp['webhook'].p50_ms:.1f} / {tp['webhook'].p99_ms:.1f} | "  # type: ignore[index]
            f"{tp['webhook'].non_2xx + tp['bare'].non_2xx} |"  # type: ignore[index]
        )
    report.add(
        "",
        f"### (b) Latency at a fixed {args.rate:.0f} req/s (open loop, measured from the scheduled send time)",
        "",
        "| database | endpoint | sent | 2xx | errors | p50 ms | p90 ms | p99 ms | max ms | target p99 < 50 ms | max send lag ms | machine during the run |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |",
    )
    for database, res in results.items():
        for name in ("bare", "webhook"):
            r = res["lat"][name]  # type: ignore[index]
            p99 = bl.percentile(r.latencies_ms, 99)
            errors = r.scheduled - r.ok
            verdict = ("met" if p99 < 50 else "MISSED") if name == "webhook" else ""
            report.add(
                f"| {database} | {name} | {r.scheduled} | {r.ok} | {errors} | {bl.fmt(bl.percentile(r.latencies_ms, 50))} | "
                f"{bl.fmt(bl.percentile(r.latencies_ms, 90))} | {bl.fmt(p99)} | {bl.fmt(max(r.latencies_ms, default=float('nan')))} | "
                f"{verdict} | {r.max_send_lag_ms:.1f} | {results_notes.get(database, {}).get(name, '')} |"
            )
    report.add(
        "",
        "### Checks",
        "",
        "| database | webhook 2xx answers | inbound rows stored | jobs queued in Redis |",
        "| --- | ---: | ---: | ---: |",
    )
    for database, res in results.items():
        report.add(f"| {database} | {res['acked']} | {res['stored']} | {res['queued']} |")
    report.add(
        "",
        "(Stored may exceed answered by up to the wrk connection count: requests in flight when wrk stops are "
        "processed but not counted by wrk.)",
        "",
        "### CPU by component",
        "",
        *cpu_rows,
    )
    if quiet.notes:
        report.add("Quiet check before each measurement: " + "; ".join(quiet.notes) + ".", "")
    if profiles:
        report.add(*profiles)
    return report.finish(args.output)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; every process this run started was stopped", file=sys.stderr)
        sys.exit(130)
