"""Shared helpers of the benchmark scripts (not a test module, not part of the application).

Process groups that are always cleaned up, the environment a Twilio deployment
has, throw-away databases, signed Twilio requests, an open-loop HTTP load
generator, CPU accounting from /proc, py-spy summaries and machine facts.
Everything here talks to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN  # noqa: E402

VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
PUBLIC_URL = "https://grievance.example.org"
SMS_NUMBER = "+15005550006"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "grievance_bench"  # the only database these scripts create and drop
PG_BENCH_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_BENCH_DB}"
REDIS_BENCH_URL = "redis://127.0.0.1:6379/12"  # a db number the scripts own (tests use 13)
FORBIDDEN_REDIS_DBS = {0, 13}


class BenchTimeout(Exception):
    """The whole script ran longer than its bound."""


def install_guards(max_seconds: int) -> None:
    """Turn SIGTERM, SIGINT and an overall alarm into exceptions so every ``finally`` runs."""

    def on_alarm(_sig: int, _frame: object) -> None:
        raise BenchTimeout(f"benchmark exceeded {max_seconds} s")

    def on_term(_sig: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(max_seconds)


# -- processes ------------------------------------------------------------------


@dataclass
class Proc:
    """A process started in its own session (so its whole group can be stopped)."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Processes:
    """Starts processes and stops every one of them (whole process groups), in reverse order."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[Proc] = []

    def start(self, name: str, argv: Sequence[str], env: dict[str, str], cwd: Path = ROOT) -> Proc:
        log_path = self.workdir / f"{name}.log"
        log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
        popen = subprocess.Popen(
            list(argv),
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        proc = Proc(name, popen, log_path)
        self.procs.append(proc)
        return proc

    def stop(self, proc: Proc, timeout: float = 10.0) -> None:
        if proc.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(timeout)
        # Children may outlive the leader (gunicorn workers, rq's scheduler): kill the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(5)
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.procs)):
            self.stop(proc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_for_http(
    port: int, path: str, proc: Proc, timeout: float = 30.0, ok: Sequence[int] = (200,)
) -> None:
    """Wait until GET ``path`` answers one of ``ok`` (or the process died)."""
    import http.client

    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise RuntimeError(
                f"{proc.name} exited with {proc.popen.returncode}:\n{proc.log_tail()}"
            )
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", path)
            status = conn.getresponse().status
            conn.close()
            if status in ok:
                return
            last = f"HTTP {status}"
        except OSError as exc:
            last = type(exc).__name__
        time.sleep(0.1)
    raise RuntimeError(
        f"{proc.name} did not answer {path} in {timeout} s ({last}):\n{proc.log_tail()}"
    )


def gunicorn_argv(
    app: str, port: int, workers: int = 2, pythonpath: Path | None = None
) -> list[str]:
    argv = [str(VENV_BIN / "gunicorn"), app, "-w", str(workers), "-b", f"{HOST}:{port}"]
    if pythonpath is not None:
        argv += ["--pythonpath", str(pythonpath)]
    return [*argv, "--log-level", "warning"]


# -- environment and databases --------------------------------------------------------


def app_environment(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    """What a Twilio deployment sets (as tests/conftest.py's environment(), production scrypt cost)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRIEVANCE_", "TWILIO_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env |= {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-secret-key-not-for-production-" + uuid.uuid4().hex,
        "GRIEVANCE_DATA_KEY": Fernet.generate_key().decode(),
        "GRIEVANCE_INSTANCE_PATH": str(instance),
        "PUBLIC_BASE_URL": PUBLIC_URL,
        "GRIEVANCE_LANGUAGES": "en,ne,my",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_SMS_FROM": SMS_NUMBER,
        "PYTHONUNBUFFERED": "1",
    }
    return env | extra


def migrate(env: dict[str, str]) -> None:
    """``grievance db upgrade`` on the environment's DATABASE_URL."""
    subprocess.run(
        [str(VENV_BIN / "grievance"), "db", "upgrade"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )


def _pg_admin(statement: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def create_pg_bench_db() -> str:
    """A fresh, empty grievance_bench database (only that one is ever touched)."""
    _pg_admin(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{PG_BENCH_DB}"')
    return PG_BENCH_URL


def drop_pg_bench_db() -> None:
    with contextlib.suppress(Exception):
        _pg_admin(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')


def flush_bench_redis(url: str = REDIS_BENCH_URL) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    db = int(client.connection_pool.connection_kwargs.get("db", 0))
    if db in FORBIDDEN_REDIS_DBS:
        raise RuntimeError(f"refusing to flush Redis db {db}")
    client.flushdb()
    client.close()


def count_rows(database_url: str, sql: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(sql)).scalar() or 0)
    finally:
        engine.dispose()


# -- signed Twilio requests -----------------------------------------------------------


def phone_number(i: int) -> str:
    """A distinct, syntactically valid Nepali mobile number per index."""
    return f"+97798{i:08d}"


class Signer:
    """Builds form bodies exactly as Twilio posts them, signed with the account's token."""

    def __init__(self, path: str = "/twilio/messaging") -> None:
        self.url = PUBLIC_URL + path
        self.validator = RequestValidator(AUTH_TOKEN)

    def params(self, sender: str, body: str) -> dict[str, str]:
        sid = "SM" + uuid.uuid4().hex
        return {
            "ToCountry": "US",
            "ToState": "CA",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "",
            "SmsSid": sid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "KATHMANDU",
            "Body": body,
            "FromCountry": "NP",
            "To": SMS_NUMBER,
            "ToZip": "",
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": sender,
            "ApiVersion": "2010-04-01",
        }

    def sign(self, params: dict[str, str]) -> tuple[str, str]:
        """(X-Twilio-Signature, urlencoded body)."""
        return str(self.validator.compute_signature(self.url, params)), urlencode(params)


def write_request_file(path: Path, count: int, senders: int, offset: int = 0) -> None:
    """``count`` unique signed messaging requests (one MessageSid each), one per line: sig TAB body."""
    signer = Signer()
    bodies = ("hi", "1", "2", "I need help", "They keep my passport", "3")
    with open(path, "w") as handle:
        for i in range(count):
            sender = phone_number(offset + i % senders)
            sig, body = signer.sign(signer.params(sender, bodies[i % len(bodies)]))
            handle.write(f"{sig}\t{body}\n")


def raw_request(port: int, path: str, sig: str, body: str) -> bytes:
    data = body.encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Twilio-Signature: {sig}\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + data


def read_request_file(path: Path) -> list[tuple[str, str]]:
    out = []
    with open(path) as handle:
        for line in handle:
            sig, body = line.rstrip("\n").split("\t", 1)
            out.append((sig, body))
    return out


# -- HTTP over asyncio streams (one connection per request: gunicorn's sync workers close) --


async def http_exchange(port: int, payload: bytes, timeout: float) -> tuple[int, bytes]:
    """Send one raw request, read the response to EOF; (status, body)."""

    async def go() -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            writer.write(payload)
            await writer.drain()
            data = await reader.read()
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        head, _, body = data.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0]
        parts = status_line.split()
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        return status, body

    return await asyncio.wait_for(go(), timeout)


@dataclass
class OpenLoopResult:
    rate: float
    duration: float
    scheduled: int
    latencies_ms: list[float]
    statuses: Counter[int]
    errors: Counter[str]
    max_send_lag_ms: float

    @property
    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if 200 <= s < 300)


async def _open_loop(
    port: int, requests: list[bytes], rate: float, duration: float, timeout: float
) -> OpenLoopResult:
    total = min(len(requests), int(rate * duration))
    if total < int(rate * duration):
        raise ValueError("not enough precomputed requests for the open-loop run")
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    tasks: set[asyncio.Task[None]] = set()
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    max_lag = 0.0

    async def one(i: int, scheduled: float) -> None:
        try:
            status, _ = await http_exchange(port, requests[i], timeout)
            statuses[status] += 1
        except TimeoutError:
            errors["timeout"] += 1
            status = -1
        except OSError as exc:
            errors[type(exc).__name__] += 1
            status = -1
        # Latency from the time the request was due, not from when it could be sent:
        # a stalled client or server cannot hide queueing (no coordinated omission).
        latencies.append((loop.time() - scheduled) * 1000.0)

    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        max_lag = max(max_lag, loop.time() - scheduled)
        task = asyncio.create_task(one(i, scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(list(tasks), timeout=timeout + 5)
    return OpenLoopResult(rate, duration, total, latencies, statuses, errors, max_lag * 1000.0)


def open_loop(
    port: int, requests: list[bytes], rate: float, duration: float, timeout: float = 10.0
) -> OpenLoopResult:
    """Send ``rate`` requests/s for ``duration`` s at fixed times, whatever the answers take."""
    return asyncio.run(_open_loop(port, requests, rate, duration, timeout))


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (no interpolation); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[rank - 1]


# -- CPU accounting from /proc ----------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: str) -> tuple[str, int, int, int] | None:
    """(comm, pgrp, ppid, utime+stime ticks incl. waited-for children) of a process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    rest = raw[raw.rindex(")") + 2 :].split()
    ppid, pgrp = int(rest[1]), int(rest[2])
    ticks = int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])
    return comm, pgrp, ppid, ticks


def cpu_snapshot(groups: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each labelled process group, PostgreSQL, Redis, and in total."""
    by_pgrp = {pgid: label for label, pgid in groups.items()}
    out: dict[str, float] = defaultdict(float)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        stat = _proc_stat(pid)
        if stat is None:
            continue
        comm, pgrp, _ppid, ticks = stat
        if pgrp in by_pgrp:
            out[by_pgrp[pgrp]] += ticks / CLK_TCK
        elif comm.startswith("postgres"):
            out["postgresql"] += ticks / CLK_TCK
        elif comm.startswith("redis"):
            out["redis"] += ticks / CLK_TCK
    times = os.times()
    out["this script"] = times.user + times.system
    out["_children"] = times.children_user + times.children_system
    with open("/proc/stat") as handle:
        fields = handle.readline().split()[1:]
    values = [int(x) for x in fields]
    out["_busy"] = (sum(values[:8]) - values[3] - values[4]) / CLK_TCK  # minus idle, iowait
    out["_all"] = sum(values[:8]) / CLK_TCK
    out["_steal"] = values[7] / CLK_TCK  # time the hypervisor gave our vCPUs to someone else
    out["_iowait"] = values[4] / CLK_TCK
    out["_irq"] = (values[5] + values[6]) / CLK_TCK  # hard and soft interrupts (loopback TCP)
    return dict(out)


def process_cpu_seconds(pids: Sequence[int]) -> dict[int, float]:
    """CPU seconds used so far by each of ``pids`` that still runs (PostgreSQL backends)."""
    out = {}
    for pid in pids:
        stat = _proc_stat(str(pid))
        if stat is not None:
            out[pid] = stat[3] / CLK_TCK
    return out


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in set(before) | set(after)}


def cpu_brief(delta: dict[str, float]) -> str:
    """'busy %, others' CPU, iowait' of a delta, for one table cell."""
    busy, total = delta.get("_busy", 0.0), delta.get("_all", 0.0)
    ours = sum(v for k, v in delta.items() if not k.startswith("_"))
    irq = delta.get("_irq", 0.0)
    others = max(busy - ours - irq, 0.0)
    if total <= 0:
        return "n/a"
    return (
        f"{100.0 * busy / total:.0f}% busy; other processes {others:.1f} s; "
        f"irq {irq:.1f} s; iowait {delta.get('_iowait', 0.0):.1f} s"
    )


def pg_checkpoints() -> int:
    """Checkpoints the PostgreSQL server has run so far (pg_stat_bgwriter, read only)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter")
            ).scalar()
            return int(row or 0)
    except Exception:
        return -1
    finally:
        engine.dispose()


def cpu_table(delta: dict[str, float], per: int, per_label: str) -> list[str]:
    """Markdown rows: CPU seconds and CPU ms per unit of work, by component."""
    rows = ["| component | CPU s | CPU ms per " + per_label + " |", "| --- | ---: | ---: |"]
    for key in sorted((k for k in delta if not k.startswith("_")), key=lambda k: -delta[k]):
        if delta[key] <= 0.0:
            continue
        rows.append(f"| {key} | {delta[key]:.2f} | {1000.0 * delta[key] / max(per, 1):.2f} |")
    busy, total = delta.get("_busy", 0.0), delta.get("_all", 0.0)
    ours = sum(v for k, v in delta.items() if not k.startswith("_"))
    if total > 0:
        irq = delta.get("_irq", 0.0)
        others = max(busy - ours - irq, 0.0)
        rows.append(
            f"| kernel: interrupts and softirqs (loopback TCP) | {irq:.2f} | {1000.0 * irq / max(per, 1):.2f} |"
        )
        rows.append(
            f"| other processes (not started here) | {others:.2f} | {1000.0 * others / max(per, 1):.2f} |"
        )
        rows.append(
            f"| (machine busy, all processes) | {busy:.2f} | {1000.0 * busy / max(per, 1):.2f} |"
        )
        steal = delta.get("_steal", 0.0)
        rows.append(f"| (of which stolen by the hypervisor) | {steal:.2f} | |")
        rows.append(
            f"| (machine busy %) | {100.0 * busy / total:.0f}% of {os.cpu_count()} cores | |"
        )
    return rows


def wait_for_quiet(max_wait: float, threshold: float = 0.25) -> str:
    """Wait up to ``max_wait`` s until other processes use less than ``threshold`` of a core; say how it went."""
    deadline = time.monotonic() + max_wait
    while True:
        busy = machine_busy_fraction()
        if busy <= threshold or time.monotonic() >= deadline:
            return f"{100 * busy:.0f}% of a core busy before the measurement"
        time.sleep(2.0)


class QuietWaiter:
    """Before each measurement, wait for other processes to go quiet, within a total time budget."""

    def __init__(self, budget: float, threshold: float = 0.25) -> None:
        self.remaining = budget
        self.threshold = threshold
        self.notes: list[str] = []

    def wait(self, label: str) -> None:
        if self.remaining <= 0:
            return
        started = time.monotonic()
        note = wait_for_quiet(self.remaining, self.threshold)
        waited = time.monotonic() - started
        self.remaining -= waited
        self.notes.append(f"{label}: {note} (waited {waited:.0f} s)")


def machine_busy_fraction(seconds: float = 1.0) -> float:
    """Busy CPU (all processes) over ``seconds``, in cores."""

    def read() -> tuple[int, int]:
        with open("/proc/stat") as handle:
            values = [int(x) for x in handle.readline().split()[1:9]]
        return sum(values) - values[3] - values[4], sum(values)

    busy0, all0 = read()
    time.sleep(seconds)
    busy1, all1 = read()
    cores = os.cpu_count() or 1
    return cores * (busy1 - busy0) / max(all1 - all0, 1)


def other_load() -> str:
    """Processes using CPU right now that these scripts did not start (a noisy neighbour check)."""
    first = {pid: _proc_stat(pid) for pid in os.listdir("/proc") if pid.isdigit()}
    time.sleep(1.0)
    busy = []
    for pid, stat in first.items():
        now = _proc_stat(pid)
        if stat is None or now is None:
            continue
        used = (now[3] - stat[3]) / CLK_TCK
        if used >= 0.05:
            busy.append(f"{now[0]} {100 * used:.0f}%")
    return ", ".join(busy) or "none above 5% of a core"


# -- py-spy ------------------------------------------------------------------------


def pyspy_start(
    procs: Processes, name: str, pids: Sequence[int], seconds: int, out: Path, rate: int = 100
) -> list[Proc]:
    """Sample ``pids`` with py-spy for ``seconds`` (raw collapsed stacks, idle frames dropped)."""
    spy = VENV_BIN / "py-spy"
    if not spy.exists():
        raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
    started = []
    for pid in pids:
        started.append(
            procs.start(
                f"py-spy-{name}-{pid}",
                [
                    str(spy),
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(seconds),
                    "--rate",
                    str(rate),
                    "--format",
                    "raw",
                    "--nonblocking",
                    "--output",
                    str(out / f"{name}-{pid}.txt"),
                ],
                env=dict(os.environ),
            )
        )
    return started


def pyspy_wait(procs: Processes, spies: Sequence[Proc], timeout: float) -> None:
    for spy in spies:
        with contextlib.suppress(subprocess.TimeoutExpired):
            spy.popen.wait(timeout)
        procs.stop(spy)


def pyspy_summary(
    files: Sequence[Path], top: int = 25, keep: Callable[[str], bool] | None = None
) -> list[str]:
    """Top functions by inclusive and by self samples from py-spy raw output (Markdown)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for path in files:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            count = int(count_text)
            frames = [_short_frame(f) for f in stack.split(";")]
            frames = [f for f in frames if f]
            if not frames:
                continue
            total += count
            for frame in set(frames):
                inclusive[frame] += count
            own[frames[-1]] += count
    if not total:
        return ["(no samples)"]
    rows = [
        f"{total} samples (on-CPU and waiting; `--nonblocking`, idle excluded by py-spy)",
        "",
        "| inclusive % | self % | function (file:line of the function) |",
        "| ---: | ---: | --- |",
    ]
    ranked = [(f, n) for f, n in inclusive.most_common() if keep is None or keep(f)]
    for frame, count in ranked[:top]:
        rows.append(f"| {100 * count / total:.1f} | {100 * own[frame] / total:.1f} | `{frame}` |")
    rows += ["", "Top self time:", "", "| self % | function |", "| ---: | --- |"]
    for frame, count in own.most_common(top):
        rows.append(f"| {100 * count / total:.1f} | `{frame}` |")
    return rows


def pyspy_categories(
    files: Sequence[Path], categories: Sequence[tuple[str, Callable[[str], bool]]]
) -> list[str]:
    """Share of samples per category; each sample goes to the first category whose test matches its stack."""
    counts: Counter[str] = Counter()
    total = 0
    for path in files:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            total += int(count_text)
            label = next((name for name, test in categories if test(stack)), "other")
            counts[label] += int(count_text)
    if not total:
        return ["(no samples)"]
    rows = ["| where the samples are | share |", "| --- | ---: |"]
    for name, _ in [*categories, ("other", None)]:
        if counts[name]:
            rows.append(f"| {name} | {100 * counts[name] / total:.1f}% |")
    return rows


def _short_frame(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/file.py:123)"; line numbers vary per sample,
    # so group by function and file.
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path, _, _line = where.rpartition(":")
    if not path:
        path = where
    for marker in ("site-packages/", "lib/python3.11/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    if name in ("<module>",) and "gunicorn" not in path and "rq" not in path:
        return ""
    return f"{name} ({path})"


# -- reporting ------------------------------------------------------------------------


def source_fingerprint() -> str:
    """sha256 (12 hex) of the application's code, flows, locales and migrations, and their newest mtime.

    The benchmark measures whatever is in the work tree; this ties a report to that state
    without running git.
    """
    import hashlib

    digest = hashlib.sha256()
    newest = 0.0
    patterns = ("grievance/**/*.py", "flows/*.yaml", "locales/*.yaml", "migrations/**/*.py")
    files = sorted({f for pattern in patterns for f in ROOT.glob(pattern) if f.is_file()})
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
        newest = max(newest, path.stat().st_mtime)
    stamp = dt.datetime.fromtimestamp(newest).astimezone().isoformat(timespec="seconds")
    return f"{digest.hexdigest()[:12]} ({len(files)} files, newest change {stamp})"


def machine_facts() -> list[str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    versions = []
    with contextlib.suppress(Exception):
        import gunicorn
        import rq
        import sqlalchemy

        versions.append(
            f"gunicorn {gunicorn.__version__}, rq {rq.__version__}, SQLAlchemy {sqlalchemy.__version__}"
        )
    wrk = shutil.which("wrk")
    load = os.getloadavg()
    return [
        "| fact | value |",
        "| --- | --- |",
        f"| date | {dt.datetime.now().astimezone().isoformat(timespec='seconds')} |",
        f"| nproc | {nproc} |",
        f"| CPU model | {cpu} |",
        f"| memory | {mem} |",
        f"| kernel | {platform.release()} |",
        f"| Python | {platform.python_version()} ({sys.executable}) |",
        f"| libraries | {'; '.join(versions)} |",
        f"| wrk | {'Debian wrk 4.1.0 at ' + wrk if wrk else 'not installed'} |",
        f"| load average at start | {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} |",
        f"| application source (grievance/, flows/, locales/, migrations/) | {source_fingerprint()} |",
    ]


def pg_server_version() -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SHOW server_version")).scalar())
    except Exception as exc:
        return f"unavailable ({type(exc).__name__})"
    finally:
        engine.dispose()


def redis_server_version() -> str:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_BENCH_URL, socket_connect_timeout=3)
        version = str(client.info("server").get("redis_version"))
        client.close()
        return version
    except Exception as exc:
        return f"unavailable ({type(exc).__name__})"


@contextlib.contextmanager
def workdir(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="grievance-bench-"))
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


@dataclass
class Report:
    """Markdown printed at the end (and written to --output if given)."""

    lines: list[str] = field(default_factory=list)

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

    def finish(self, output: Path | None) -> int:
        """Warn if the application changed during the run, print, write ``output``; exit code 0."""
        start_source = next(line for line in self.lines if line.startswith("| application source"))
        end_source = source_fingerprint()
        if end_source not in start_source:
            self.add(
                "",
                f"**WARNING: the application source changed during this run** (now {end_source}); "
                "the figures mix two versions of the code.",
            )
        text = self.text()
        print(text)
        if output:
            output.write_text(text)
        return 0


def fmt(value: float, digits: int = 1) -> str:
    return (
        "n/a"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"{value:.{digits}f}"
    )
