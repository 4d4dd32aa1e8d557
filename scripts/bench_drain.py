"""Outbox drain benchmark: 10,000 queued outbound messages through 2 RQ workers.

What runs (all on 127.0.0.1, all stopped at the end):

* a fast Twilio-compatible server (``scripts/fast_twilio.py``, asyncio: the
  tests' werkzeug server costs milliseconds per request and would be the
  bottleneck);
* PostgreSQL (database grievance_bench, created and dropped here) and Redis (db 12);
* two ``grievance worker --burst --no-sweeper`` processes.

Three measurements in one run, on the same machine state:

1. **Baseline (peer):** two plain processes send the same number of messages
   straight to the fake server with the twilio library's ``messages.create``:
   no database, no queue. This is the ceiling the client library and the fake
   server allow on this machine.
2. **Drain, pacing off:** N outbox rows (each a real encrypted message to one of
   500 contacts) are enqueued as ``deliver`` jobs; the clock runs from the
   workers' start until the fake server has all N. Reports messages/s, each
   worker's peak RSS, and checks that every row is sent exactly once.
3. **Pacing on:** two senders at a configured rate (default 10 messages/s
   each), 2 workers; the measured rate per sender from the fake server's
   arrival times, against the configured one (target: within 5%).

Usage::

    .venv/bin/python scripts/bench_drain.py             # 10,000 messages (about 2 minutes)
    .venv/bin/python scripts/bench_drain.py --quick     # 1,000 messages, fewer paced ones
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import benchlib as bl

SENDERS = ("+15005550006", "+15005550007")
BATCH = 50  # grievance.services.outbox.BATCH_SIZE


def fake_total(port: int) -> int:
    auth = base64.b64encode(f"{bl.ACCOUNT_SID}:{bl.AUTH_TOKEN}".encode()).decode()
    request = urllib.request.Request(
        f"http://{bl.HOST}:{port}/_bench/messages?after=999999999&wait=0",
        headers={"Authorization": f"Basic {auth}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - http://127.0.0.1
        return int(json.load(response)["total"])


def fake_messages(port: int, after: int) -> list[dict[str, object]]:
    auth = base64.b64encode(f"{bl.ACCOUNT_SID}:{bl.AUTH_TOKEN}".encode()).decode()
    request = urllib.request.Request(
        f"http://{bl.HOST}:{port}/_bench/messages?after={after}&wait=0",
        headers={"Authorization": f"Basic {auth}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - http://127.0.0.1
        return list(json.load(response)["messages"])


def seed(
    env: dict[str, str], count: int, contacts: int, senders: tuple[str, ...], offset: int = 0
) -> list[int]:
    """Write ``count`` outbound messages with outbox rows; returns the outbox ids."""
    import os

    from sqlalchemy import insert

    os.environ.update(env)
    from grievance.config import Settings
    from grievance.models import OUTBOUND, Contact, Message, OutboxItem
    from grievance.runtime import build_runtime

    runtime = build_runtime(Settings.from_env(env))
    protector = runtime.protector
    try:
        with runtime.db.begin() as connection:
            contact_rows = [
                {
                    "address_hash": protector.address_hash(bl.phone_number(offset + i)),
                    "address_encrypted": protector.encrypt(bl.phone_number(offset + i)),
                    "channel": "sms",
                    "our_address": senders[i % len(senders)],
                    "language": "en",
                }
                for i in range(contacts)
            ]
            contact_ids = list(
                connection.execute(
                    insert(Contact.__table__).returning(Contact.__table__.c.id), contact_rows
                ).scalars()
            )
            body = protector.encrypt("There is an update on your report. Reply STATUS to read it.")
            message_rows = [
                {
                    "direction": OUTBOUND,
                    "contact_id": contact_ids[i % len(contact_ids)],
                    "channel": "sms",
                    "body_encrypted": body,
                    "catalog_key": "notice.update",
                    "delivery_status": "pending",
                    "fields": {},
                    "sensitive": False,
                    "num_media": 0,
                }
                for i in range(count)
            ]
            ids = (
                connection.execute(
                    insert(Message.__table__).returning(Message.__table__.c.id), message_rows
                )
                .scalars()
                .all()
            )
            outbox = (
                connection.execute(
                    insert(OutboxItem.__table__).returning(OutboxItem.__table__.c.id),
                    [
                        {"message_id": m, "status": "pending", "attempts": 0, "priority": 1}
                        for m in ids
                    ],
                )
                .scalars()
                .all()
            )
        return list(outbox)
    finally:
        runtime.close()


def enqueue(redis_url: str, outbox_ids: list[int], batch: int) -> float:
    """Enqueue ``deliver_batch`` jobs of ``batch`` rows as the app does (or ``deliver`` if 1)."""
    from redis import Redis
    from rq import Queue

    queue = Queue("grievance-bulk", connection=Redis.from_url(redis_url))
    chunks = [outbox_ids[i : i + batch] for i in range(0, len(outbox_ids), batch)]
    job = "grievance.jobs.deliver" if batch == 1 else "grievance.jobs.deliver_batch"
    started = time.perf_counter()
    for start in range(0, len(chunks), 500):
        with queue.connection.pipeline() as pipe:
            for chunk in chunks[start : start + 500]:
                queue.enqueue(job, *chunk, result_ttl=0, pipeline=pipe)
            pipe.execute()
    return time.perf_counter() - started


def peak_rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_workers(
    procs: bl.Processes,
    env: dict[str, str],
    port: int,
    expect: int,
    workers: int = 2,
    burst: bool = True,
) -> tuple[float, list[float]]:
    """Start workers; seconds until the fake has ``expect`` messages, and peak RSS each.

    ``burst``: workers leave once the queues are empty. Paced replies wait on the job
    schedule for their slots, so the paced run keeps its workers (and their scheduler) until
    every message is out."""
    before = fake_total(port)
    started = time.perf_counter()
    mode = ["--burst"] if burst else []
    running = [
        procs.start(
            f"worker{i}", [str(bl.VENV_BIN / "grievance"), "worker", *mode, "--no-sweeper"], env
        )
        for i in range(workers)
    ]
    peaks = [0.0] * workers
    deadline = time.monotonic() + 1800
    while fake_total(port) - before < expect:
        if time.monotonic() > deadline:
            raise RuntimeError("drain did not finish in 30 minutes")
        for i, proc in enumerate(running):
            peaks[i] = max(peaks[i], peak_rss_mib(proc.pid))
        if all(p.popen.poll() is not None for p in running) and fake_total(port) - before < expect:
            time.sleep(1)
            if fake_total(port) - before < expect:
                raise RuntimeError(
                    f"workers exited with {fake_total(port) - before} of {expect} sent:\n"
                    + running[0].log_tail()
                )
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    for i, proc in enumerate(running):
        peaks[i] = max(peaks[i], peak_rss_mib(proc.pid))
        procs.stop(proc)
    return elapsed, peaks


def baseline(port: int, count: int, processes: int = 2) -> float:
    """messages/s of plain twilio-library sends from ``processes`` processes."""
    code = f"""
import sys
from twilio.rest import Client
from twilio.http.http_client import TwilioHttpClient
client = Client({bl.ACCOUNT_SID!r}, {bl.AUTH_TOKEN!r}, http_client=TwilioHttpClient(timeout=10))
client.api.base_url = "http://{bl.HOST}:{port}"
for i in range(int(sys.argv[1])):
    client.messages.create(to="+9779800000000", from_={SENDERS[0]!r},
        body="There is an update on your report. Reply STATUS to read it.")
"""
    import subprocess

    started = time.perf_counter()
    running = [
        subprocess.Popen([sys.executable, "-c", code, str(count // processes)])
        for _ in range(processes)
    ]
    for proc in running:
        if proc.wait(600) != 0:
            raise RuntimeError("baseline sender failed")
    return count / (time.perf_counter() - started)


def outbox_statuses(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return dict(
                connection.execute(
                    text("SELECT status, count(*) FROM outbox GROUP BY status")
                ).all()
            )
    finally:
        engine.dispose()


def paced_rates(port: int, after: int) -> dict[str, tuple[int, float]]:
    """Per sender: messages, and the rate between its first and last arrival."""
    per_sender: dict[str, list[float]] = {}
    for m in fake_messages(port, after):
        per_sender.setdefault(str(m["from"]), []).append(float(m["received_at"]))
    rates = {}
    for sender, times in per_sender.items():
        times.sort()
        rates[sender] = (len(times), (len(times) - 1) / (times[-1] - times[0]))
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--messages", type=int, default=None)
    parser.add_argument("--rate", type=float, default=10.0, help="paced messages/s per sender")
    args = parser.parse_args()
    count = args.messages or (1000 if args.quick else 10_000)
    paced = 60 if args.quick else 300
    bl.install_guards(3600)
    workdir = Path(tempfile.mkdtemp(prefix="bench-drain-"))
    procs = bl.Processes(workdir)
    lines: list[str] = ["## Outbox drain", "", *bl.machine_facts(), ""]
    try:
        port = bl.free_port()
        fake = procs.start(
            "fast-twilio",
            [sys.executable, str(bl.SCRIPTS / "fast_twilio.py"), "--port", str(port)],
            bl.app_environment("sqlite://", workdir),
        )
        bl.wait_for_http(port, "/_bench/messages", fake, ok=(200, 401))
        url = bl.create_pg_bench_db()
        bl.flush_bench_redis()
        env = bl.app_environment(
            url,
            workdir / "instance",
            REDIS_URL=bl.REDIS_BENCH_URL,
            TWILIO_API_BASE_URL=f"http://{bl.HOST}:{port}",
            GRIEVANCE_SMS_RATE="0",
            GRIEVANCE_LOG_LEVEL="WARNING",
        )
        bl.migrate(env)

        base_rate = baseline(port, count)
        print(f"baseline: {base_rate:.0f} messages/s (twilio library straight to the fake server)")

        # One deliver job per message, as replies go: the cost of a job per message.
        single = count // 5
        single_ids = seed(env, single, 100, SENDERS[:1], offset=200_000)
        enqueue(bl.REDIS_BENCH_URL, single_ids, 1)
        single_elapsed, _ = run_workers(procs, env, port, single)
        single_rate = single / single_elapsed
        print(f"one job per message: {single_rate:.0f} messages/s")

        outbox_ids = seed(env, count, 500, SENDERS[:1])
        enqueue_s = enqueue(bl.REDIS_BENCH_URL, outbox_ids, BATCH)
        before = fake_total(port)
        elapsed, peaks = run_workers(procs, env, port, count)
        time.sleep(1)  # anything sent twice would arrive now
        created = fake_total(port) - before
        statuses = outbox_statuses(url)
        statuses["sent"] = statuses.get("sent", 0) - single  # the per-message run's rows
        statuses = {k: v for k, v in statuses.items() if v}
        drain_rate = count / elapsed
        print(f"drain: {count} in {elapsed:.1f}s = {drain_rate:.0f} messages/s; RSS {peaks}")
        print(f"outbox after the drain: {statuses}")

        # Pacing on: two senders, each at --rate.
        after = fake_total(port)
        paced_env = env | {"GRIEVANCE_SMS_RATE": str(args.rate)}
        paced_ids = seed(paced_env, paced * 2, 2, SENDERS, offset=100_000)
        enqueue(bl.REDIS_BENCH_URL, paced_ids, BATCH)
        paced_elapsed, _ = run_workers(procs, paced_env, port, paced * 2, burst=False)
        rates = paced_rates(port, after)
        print(f"paced: {rates} in {paced_elapsed:.1f}s")

        exact = statuses == {"sent": count} and created == count
        lines += [
            f"Messages: {count} drained, {paced * 2} paced; workers: 2 × `grievance worker --burst` "
            "(RQ SimpleWorker), PostgreSQL, Redis db 12.",
            "",
            "| measurement | result |",
            "| --- | --- |",
            f"| baseline: twilio library straight to the fake server, 2 processes | {base_rate:.0f} messages/s |",
            f"| {single} messages as one `deliver` job each, 2 workers | {single_rate:.0f} messages/s |",
            f"| enqueueing {count} messages as `deliver_batch` jobs of {BATCH} (pipelined) | {enqueue_s:.2f} s |",
            f"| drain through 2 RQ workers, pacing off | **{drain_rate:.0f} messages/s** ({elapsed:.1f} s, from the workers' start) |",
            f"| drain as a share of the baseline | {drain_rate / base_rate:.0%} |",
            f"| peak RSS per worker | {', '.join(f'{p:.0f} MiB' for p in peaks)} |",
            f"| every row sent exactly once | {'yes' if exact else 'NO: ' + str(statuses)} |",
        ]
        for sender, (n, rate) in sorted(rates.items()):
            lines.append(
                f"| paced at {args.rate:g}/s, sender {sender} | {rate:.2f} messages/s over {n} "
                f"({(rate - args.rate) / args.rate:+.1%}) |"
            )
        target = "met" if drain_rate >= 500 else "not met"
        within = all(abs(r - args.rate) / args.rate <= 0.05 for _, r in rates.values())
        lines += [
            "",
            f"Target ≥ 500 messages/s: **{target}**. Paced rate within 5% of the configured rate "
            f"for every sender: **{'met' if within else 'not met'}**.",
        ]
        print("\n".join(lines))
        return 0
    finally:
        procs.stop_all()
        bl.drop_pg_bench_db()


if __name__ == "__main__":
    raise SystemExit(main())
