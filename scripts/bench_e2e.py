"""End-to-end benchmark: signed webhook in, reply out at a Twilio-compatible server.

What runs (all on 127.0.0.1, all stopped at the end):

* the Twilio-compatible fake server (``python -m tests.support.fake_twilio --quiet``),
  which records the arrival time of every message the app sends;
* the web app under ``gunicorn "grievance.app:create_app()" -w 2`` (a real HTTP
  server, as in production), with Twilio credentials, PUBLIC_BASE_URL, the
  production scrypt cost for case codes, PostgreSQL (grievance_bench) and
  Redis (db 12);
* two ``grievance worker`` processes (RQ SimpleWorker with the scheduler, sweeper on).

This script simulates many workers' phones, each with its own number. A phone
walks through the whole intake, one step at a time: it posts a correctly
signed webhook, waits until the reply carrying the step's prompt (recognised
by its text in locales/en.yaml, however many SMS the app splits the answer
into) has reached the fake server, then sends the next step; after the case
code arrives the phone is done and a new phone (new number) starts. A step's
latency runs from just before the webhook POST to the arrival of that reply at
the fake server (the same machine clock, ``time.time()``).

Each concurrency level runs for a warm-up and then a measured window; steps
per second counts the steps completed inside the window, latencies are those
of the steps posted inside it.

Usage::

    .venv/bin/python scripts/bench_e2e.py            # full run, about 4 minutes
    .venv/bin/python scripts/bench_e2e.py --quick    # smoke run, under a minute
    .venv/bin/python scripts/bench_e2e.py --profile  # adds py-spy profiles of the RQ workers
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib as bl

# The intake in English (flows/intake.yaml): what each step sends, and the catalog key
# (locales/en.yaml) of the prompt that completes the step. A step is complete when a
# reply containing that prompt arrives, however many messages the app splits it into.
INTAKE = (
    ("hi, I need help", "intake.continue_question"),  # who sees what; do you want to report?
    ("1", "intake.choose_category"),  # yes -> the category menu
    ("3", "intake.ask_workplace"),  # debt / wages withheld -> where do you work?
    ("Harbour Fish Processing, Songkhla", "intake.ask_what_happened"),
    ("They keep half my pay every month", "intake.ask_danger_now"),
    ("2", "intake.ask_updates"),  # not in danger -> shall we message you with news?
    ("2", "intake.case_opened"),  # no updates -> the case is opened: "your case code is ..."
)


def prompt_markers() -> list[str]:
    """For each intake step, a piece of its English prompt (the text before any placeholder)."""
    import yaml

    catalog = yaml.safe_load((bl.ROOT / "locales" / "en.yaml").read_text())
    messages = catalog.get("messages", catalog)
    markers = []
    for _, key in INTAKE:
        text = messages[key]
        if isinstance(text, dict):
            text = text.get("sms") or next(iter(text.values()))
        marker = str(text).split("{", 1)[0].strip()[:40]
        if len(marker) < 8:
            raise RuntimeError(f"cannot recognise the reply {key!r} of locales/en.yaml")
        markers.append(marker)
    return markers


# How py-spy samples of an RQ worker are attributed: the first matching test wins.
WORKER_CATEGORIES = [
    ("scrypt hash of the new case code (open_case)", lambda st: "code_hash" in st),
    (
        "RQ worker loop and job bookkeeping (outside the job function)",
        lambda st: "Job.perform" not in st,
    ),
    ("Twilio REST call to the fake server (deliver)", lambda st: "TwilioChannel.send" in st),
    ("RQ enqueue from a job (Redis)", lambda st: "Queue.enqueue" in st),
    (
        "database connection checkout + pool_pre_ping",
        lambda st: "do_ping" in st or "._checkout" in st,
    ),
    ("COMMIT", lambda st: "do_commit" in st),
    ("flow engine step (Engine.resume)", lambda st: "Engine.resume" in st),
    (
        "other SQL: ORM and Core statements, flush, row lock, results",
        lambda st: "sqlalchemy" in st,
    ),
    ("Fernet encryption / decryption", lambda st: "fernet" in st.lower()),
    ("logging", lambda st: "logging/__init__" in st),
]


@dataclass
class StepRecord:
    step: int
    posted: float
    answered: float  # webhook HTTP answer received
    done: float  # last reply arrived at the fake server
    status: int

    @property
    def latency_ms(self) -> float:
        return 1000.0 * (self.done - self.posted)


@dataclass
class Phase:
    concurrency: int
    warmup: float
    window: float
    records: list[StepRecord] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    conversations_done: int = 0
    replies_per_step: Counter[int] = field(default_factory=Counter)
    window_start: float = 0.0
    window_end: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)


class Replies:
    """Replies seen at the fake server, per recipient; phones wait on them."""

    def __init__(self) -> None:
        self.by_to: dict[str, list[tuple[float, str]]] = defaultdict(list)
        self.waiters: dict[str, tuple[int, str, asyncio.Future[float]]] = {}
        self.total = 0

    def add(self, to: str, at: float, body: str) -> None:
        self.total += 1
        self.by_to[to].append((at, body))
        waiter = self.waiters.get(to)
        if waiter is not None and waiter[1] in body and not waiter[2].done():
            waiter[2].set_result(at)

    def seen(self, to: str) -> int:
        return len(self.by_to[to])

    async def wait(self, to: str, start: int, marker: str, timeout: float) -> float:
        """Arrival time of the first reply to ``to`` from index ``start`` on that contains ``marker``."""
        for at, body in self.by_to[to][start:]:
            if marker in body:
                return at
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[to] = (start, marker, future)
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self.waiters.pop(to, None)


async def poll_fake(port: int, replies: Replies, stop: asyncio.Event) -> None:
    """Long-poll the fake server's /_bench/messages and feed every new message to ``replies``."""
    auth = base64.b64encode(f"{bl.ACCOUNT_SID}:{bl.AUTH_TOKEN}".encode()).decode()
    while not stop.is_set():
        request = (
            f"GET /_bench/messages?after={replies.total}&wait=1 HTTP/1.1\r\nHost: {bl.HOST}:{port}\r\n"
            f"Authorization: Basic {auth}\r\nConnection: close\r\n\r\n"
        ).encode()
        try:
            status, body = await bl.http_exchange(port, request, 10.0)
        except (OSError, TimeoutError):
            await asyncio.sleep(0.05)
            continue
        if status != 200:
            raise RuntimeError(f"fake Twilio answered {status}: {body[:200]!r}")
        # werkzeug may answer chunked when no length is known; our handler sets the length.
        data = json.loads(body)
        for message in data["messages"]:
            if message["index"] == replies.total:
                replies.add(message["to"], float(message["received_at"]), message["body"])


async def phone_loop(
    web_port: int,
    signer: bl.Signer,
    replies: Replies,
    markers: list[str],
    numbers: list[int],
    phase: Phase,
    stop: asyncio.Event,
    step_timeout: float,
) -> None:
    """One simulated worker after another: each walks the whole intake with its own number."""
    while not stop.is_set():
        numbers[0] += 1
        number = bl.phone_number(numbers[0])
        for index, (text, _key) in enumerate(INTAKE):
            if stop.is_set():
                return
            sig, body = signer.sign(signer.params(number, text))
            payload = bl.raw_request(web_port, "/twilio/messaging", sig, body)
            start = replies.seen(number)
            posted = time.time()
            try:
                status, _ = await bl.http_exchange(web_port, payload, 10.0)
            except (OSError, TimeoutError) as exc:
                phase.errors[f"webhook {type(exc).__name__}"] += 1
                break
            answered = time.time()
            if status != 200:
                phase.errors[f"webhook HTTP {status}"] += 1
                break
            try:
                done = await replies.wait(number, start, markers[index], step_timeout)
            except TimeoutError:
                phase.errors[
                    f"step {index + 1}: expected reply not within {step_timeout:.0f} s"
                ] += 1
                break
            phase.records.append(StepRecord(index, posted, answered, done, status))
            phase.replies_per_step[replies.seen(number) - start] += 1
            if index == len(INTAKE) - 1:
                phase.conversations_done += 1


async def run_phase(
    web_port: int,
    fake_port: int,
    replies: Replies,
    numbers: list[int],
    phase: Phase,
    cpu_groups: dict[str, int],
    step_timeout: float,
) -> None:
    signer = bl.Signer()
    markers = prompt_markers()
    stop = asyncio.Event()
    poll_stop = asyncio.Event()
    poller = asyncio.create_task(poll_fake(fake_port, replies, poll_stop))
    phones = [
        asyncio.create_task(
            phone_loop(web_port, signer, replies, markers, numbers, phase, stop, step_timeout)
        )
        for _ in range(phase.concurrency)
    ]
    await asyncio.sleep(phase.warmup)
    phase.window_start = time.time()
    before = bl.cpu_snapshot(cpu_groups)
    await asyncio.sleep(phase.window)
    phase.window_end = time.time()
    phase.cpu = bl.cpu_delta(before, bl.cpu_snapshot(cpu_groups))
    stop.set()
    # Let every phone finish its step in flight (or time out), so the next phase starts clean.
    await asyncio.wait(phones, timeout=step_timeout + 15)
    for task in phones:
        task.cancel()
    poll_stop.set()
    await asyncio.wait([poller], timeout=15)
    poller.cancel()
    for task in (*phones, poller):
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


def stage_breakdown(db_url: str, start: float, end: float) -> list[str]:
    """Where a step's time goes, from the timestamps the app itself stores (p50 / p99, ms)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    window = {"start": time_to_dt(start), "end": time_to_dt(end)}
    queries = {
        "inbound stored → processed (queue wait for process_inbound + engine step)": (
            "SELECT extract(epoch FROM processed_at - created_at) FROM messages "
            "WHERE direction = 'in' AND created_at BETWEEN :start AND :end AND processed_at IS NOT NULL"
        ),
        "outbox row written → claimed by deliver (commit, enqueue, queue wait)": (
            "SELECT extract(epoch FROM claimed_at - created_at) FROM outbox "
            "WHERE created_at BETWEEN :start AND :end AND claimed_at IS NOT NULL"
        ),
        "claimed → marked sent (decrypt, Twilio REST call to the fake server, update)": (
            "SELECT extract(epoch FROM sent_at - claimed_at) FROM outbox "
            "WHERE created_at BETWEEN :start AND :end AND sent_at IS NOT NULL"
        ),
    }
    rows = [
        "| stage (from the app's own timestamps) | n | p50 ms | p90 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    try:
        with engine.connect() as connection:
            for label, sql in queries.items():
                values = [1000.0 * float(v) for (v,) in connection.execute(text(sql), window)]
                rows.append(
                    f"| {label} | {len(values)} | {bl.fmt(bl.percentile(values, 50))} | "
                    f"{bl.fmt(bl.percentile(values, 90))} | {bl.fmt(bl.percentile(values, 99))} |"
                )
    finally:
        engine.dispose()
    return rows


def time_to_dt(t: float):  # type: ignore[no-untyped-def]
    import datetime as dt

    return dt.datetime.fromtimestamp(t, tz=dt.UTC)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run of a few seconds per level"
    )
    parser.add_argument(
        "--concurrency", default="1,4,16,64", help="simultaneous phones per level (comma-separated)"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="grievance worker processes (default 2)"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the app's processes (repeatable), e.g. --env GRIEVANCE_SMS_RATE=1 "
        "to measure with pacing on; the report lists every one given",
    )
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the RQ workers during the last level"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=None,
        help="total seconds this run may wait for other processes to go quiet before levels (default 120; 0 with --quick)",
    )
    parser.add_argument("--output", type=Path, help="also write the Markdown report here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args()
    overrides: dict[str, str] = {}
    for item in args.env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            parser.error(f"--env takes NAME=VALUE, not {item!r}")
        overrides[name] = value

    warmup = 3.0 if args.quick else 8.0
    window = 6.0 if args.quick else 30.0
    step_timeout = 30.0
    levels = [int(x) for x in args.concurrency.split(",") if x.strip()]
    quiet = bl.QuietWaiter(
        args.quiet_wait if args.quiet_wait is not None else (0.0 if args.quick else 120.0)
    )
    bl.install_guards(
        int(len(levels) * (warmup + window + step_timeout + 40) + 120 + quiet.remaining)
    )

    report = bl.Report()
    report.add("## End-to-end benchmark", "", *bl.machine_facts())
    report.add(
        f"| PostgreSQL server | {bl.pg_server_version()} |",
        f"| Redis server | {bl.redis_server_version()} |",
    )
    report.add(f"| other processes busy at start | {bl.other_load()} |", "")

    phases: list[Phase] = []
    profiles: list[str] = []
    checks: dict[str, int] = {}
    breakdowns: dict[int, list[str]] = {}
    with bl.workdir(args.keep) as work:
        procs = bl.Processes(work)
        db_url = ""
        try:
            bl.flush_bench_redis()
            db_url = bl.create_pg_bench_db()
            fake_port, web_port = bl.free_port(), bl.free_port()
            env = bl.app_environment(
                db_url,
                work / "instance",
                REDIS_URL=bl.REDIS_BENCH_URL,
                TWILIO_API_BASE_URL=f"http://{bl.HOST}:{fake_port}",
                # Processing throughput, not the carrier's: one sender paced at 1 SMS/s (the
                # default, a US long code) would cap every level at 1 step/s.
                GRIEVANCE_SMS_RATE="0",
            )
            env |= overrides
            bl.migrate(env)
            fake = procs.start(
                "fake-twilio",
                [
                    sys.executable,
                    "-m",
                    "tests.support.fake_twilio",
                    "--port",
                    str(fake_port),
                    "--quiet",
                ],
                env,
            )
            bl.wait_for_http(fake_port, "/", fake, ok=(401, 404))
            web = procs.start(
                "gunicorn-webhook", bl.gunicorn_argv("grievance.app:create_app()", web_port), env
            )
            bl.wait_for_http(web_port, "/healthz", web)
            workers = [
                procs.start(f"worker-{i + 1}", [str(bl.VENV_BIN / "grievance"), "worker"], env)
                for i in range(args.workers)
            ]
            time.sleep(2.0)
            for worker in workers:
                if worker.popen.poll() is not None:
                    raise RuntimeError(f"{worker.name} exited:\n{worker.log_tail()}")
            cpu_groups = {"gunicorn -w 2 (web)": web.pid, "fake Twilio server": fake.pid}
            cpu_groups |= {f"grievance {w.name}": w.pid for w in workers}

            replies = Replies()
            numbers = [0]
            for i, concurrency in enumerate(levels):
                quiet.wait(f"{concurrency} phones")
                phase = Phase(concurrency, warmup, window)
                print(
                    f"== {concurrency} phones: warm-up {warmup:.0f} s, window {window:.0f} s",
                    flush=True,
                )
                spies: list[bl.Proc] = []
                # py-spy samples the workers during the last level's window only.
                profile_delay = warmup if args.profile and i == len(levels) - 1 else -1.0

                async def go(
                    phase: Phase = phase,
                    profile_delay: float = profile_delay,
                    spies: list[bl.Proc] = spies,
                ) -> None:
                    task = asyncio.create_task(
                        run_phase(
                            web_port, fake_port, replies, numbers, phase, cpu_groups, step_timeout
                        )
                    )
                    if profile_delay >= 0:
                        await asyncio.sleep(profile_delay)
                        spies.extend(
                            bl.pyspy_start(
                                procs, "worker", [w.pid for w in workers], int(window), work
                            )
                        )
                    await task

                asyncio.run(go())
                if spies:
                    bl.pyspy_wait(procs, spies, 30)
                    profiles += ["### py-spy: the RQ worker processes during the last level", ""]
                    files = sorted(work.glob("worker-*.txt"))
                    profiles += [*bl.pyspy_categories(files, WORKER_CATEGORIES), ""]
                    profiles += [*bl.pyspy_summary(files, top=40), ""]
                phases.append(phase)
                breakdowns[concurrency] = stage_breakdown(
                    db_url, phase.window_start, phase.window_end
                )
                in_window = [
                    r for r in phase.records if phase.window_start <= r.done <= phase.window_end
                ]
                print(
                    f"  {len(in_window) / window:.1f} steps/s, errors {dict(phase.errors)}",
                    flush=True,
                )

            # Let the last deliveries land, then check nothing was lost or sent twice.
            deadline = time.monotonic() + 20
            sent = -1
            while time.monotonic() < deadline:
                sent = bl.count_rows(db_url, "SELECT count(*) FROM outbox WHERE status = 'sent'")
                pending = bl.count_rows(
                    db_url, "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"
                )
                if pending == 0:
                    break
                time.sleep(0.5)

            async def final_count() -> int:
                auth = base64.b64encode(f"{bl.ACCOUNT_SID}:{bl.AUTH_TOKEN}".encode()).decode()
                req = (
                    f"GET /_bench/messages?after=0&wait=0 HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n"
                    "Connection: close\r\n\r\n"
                ).encode()
                _, body = await bl.http_exchange(fake_port, req, 20.0)
                return int(json.loads(body)["total"])

            checks = {
                "messages received by the fake Twilio server": asyncio.run(final_count()),
                "outbox rows sent": sent,
                "outbox rows not sent (pending, sending, failed, unknown)": bl.count_rows(
                    db_url, "SELECT count(*) FROM outbox WHERE status <> 'sent'"
                ),
                "inbound messages stored": bl.count_rows(
                    db_url, "SELECT count(*) FROM messages WHERE direction = 'in'"
                ),
                "inbound messages unprocessed": bl.count_rows(
                    db_url,
                    "SELECT count(*) FROM messages WHERE direction = 'in' AND processed_at IS NULL",
                ),
                "cases opened": bl.count_rows(db_url, "SELECT count(*) FROM cases"),
                "failed RQ jobs": _failed_jobs(),
            }
        finally:
            procs.stop_all()
            try:
                bl.flush_bench_redis()
            except Exception as exc:
                print(f"could not flush redis db 12: {type(exc).__name__}", file=sys.stderr)
            bl.drop_pg_bench_db()
            import signal

            signal.alarm(0)

    target = 200.0
    sms_rate = overrides.get("GRIEVANCE_SMS_RATE", "0")
    pacing = (
        "pacing OFF (GRIEVANCE_SMS_RATE=0)"
        if float(sms_rate or 0) == 0
        else f"pacing ON (GRIEVANCE_SMS_RATE={sms_rate}: one sender, so at most that many replies a second)"
    )
    settings_given = (
        "; settings given: " + ", ".join(f"`{k}={v}`" for k, v in sorted(overrides.items()))
        if overrides
        else ""
    )
    report.add(
        f"Setup: PostgreSQL + Redis (db 12); web = gunicorn sync `-w 2` on the app factory (real HTTP); "
        f"{args.workers} × `grievance worker` (RQ SimpleWorker, scheduler, sweeper); the fake Twilio server as its own "
        "process; replies detected by long-polling it; every phone walks the 7-step intake (the last step opens a "
        f"case) then a new phone starts; {pacing}{settings_given}; closed loop, no think time; the load "
        f"generator shares the 2 cores. Warm-up {warmup:.0f} s, measured window {window:.0f} s per level.",
        "",
        "| phones at once | steps/s | target ≥ 200 | steps in window | intakes completed in window | p50 ms | p90 ms | p99 ms | max ms | webhook answer p50 / p99 ms | errors |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    )
    for phase in phases:
        done_in = [r for r in phase.records if phase.window_start <= r.done <= phase.window_end]
        posted_in = [r for r in phase.records if phase.window_start <= r.posted <= phase.window_end]
        lat = [r.latency_ms for r in posted_in]
        web_ms = [1000.0 * (r.answered - r.posted) for r in posted_in]
        rate = len(done_in) / phase.window
        errors = ", ".join(f"{k}: {v}" for k, v in phase.errors.items()) or "0"
        report.add(
            f"| {phase.concurrency} | {rate:.1f} | {'met' if rate >= target else 'MISSED'} | {len(done_in)} | "
            f"{sum(1 for r in done_in if r.step == len(INTAKE) - 1)} | {bl.fmt(bl.percentile(lat, 50))} | {bl.fmt(bl.percentile(lat, 90))} | "
            f"{bl.fmt(bl.percentile(lat, 99))} | {bl.fmt(max(lat, default=float('nan')))} | "
            f"{bl.fmt(bl.percentile(web_ms, 50))} / {bl.fmt(bl.percentile(web_ms, 99))} | {errors} |"
        )
    report.add(
        "",
        "Replies per completed step (messages the app sent for one step): "
        + "; ".join(
            f"{p.concurrency} phones: "
            + ", ".join(f"{n} msg × {c}" for n, c in sorted(p.replies_per_step.items()))
            for p in phases
        )
        + ".",
    )
    report.add(
        "",
        "Latency by step (all levels' windows; the last step opens the case):",
        "",
        "| phones | " + " | ".join(f"step {i + 1} p50/p99 ms" for i in range(len(INTAKE))) + " |",
        "| ---: | " + " | ".join("---:" for _ in INTAKE) + " |",
    )
    for phase in phases:
        cells = []
        for i in range(len(INTAKE)):
            lat = [
                r.latency_ms
                for r in phase.records
                if r.step == i and phase.window_start <= r.posted <= phase.window_end
            ]
            cells.append(
                f"{bl.fmt(bl.percentile(lat, 50), 0)} / {bl.fmt(bl.percentile(lat, 99), 0)}"
            )
        report.add(f"| {phase.concurrency} | " + " | ".join(cells) + " |")
    for phase in phases:
        steps = len([r for r in phase.records if phase.window_start <= r.done <= phase.window_end])
        phase.cpu["bench client (this script)"] = phase.cpu.pop("this script", 0.0)
        phase.cpu.pop("_children", None)
        report.add(
            "",
            f"### {phase.concurrency} phones: stages and CPU",
            "",
            *breakdowns[phase.concurrency],
            "",
            *bl.cpu_table(phase.cpu, steps, "step"),
        )
    report.add("", "### Checks after the run", "", "| check | value |", "| --- | ---: |")
    for key, value in checks.items():
        report.add(f"| {key} | {value} |")
    if quiet.notes:
        report.add("", "Quiet check before each level: " + "; ".join(quiet.notes) + ".")
    if profiles:
        report.add("", *profiles)
    return report.finish(args.output)


def _failed_jobs() -> int:
    import redis

    client = redis.Redis.from_url(bl.REDIS_BENCH_URL)
    try:
        return int(client.zcard("rq:failed:grievance"))
    finally:
        client.close()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; every process this run started was stopped", file=sys.stderr)
        sys.exit(130)
