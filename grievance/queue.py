"""The job queue: RQ on Redis in production, or in-process when no Redis is configured.

Jobs are named functions of :mod:`grievance.jobs` that take ids only. If
enqueueing fails (Redis is down) the work is not lost: the rows it refers to
stay unprocessed and the sweeper enqueues them again.

Two priorities: everything a worker is waiting for goes on the main queue, and
broadcasts (``bulk=True``) on a second queue that workers take from only when
the first is empty.
"""

from __future__ import annotations

import itertools
import logging
import math
import queue as stdlib_queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from grievance.logs import log_failure

log = logging.getLogger(__name__)

JOBS = (
    "process_inbound",
    "process_waiting",
    "deliver",
    "deliver_batch",
    "send_mail",
    "fetch_media",
    "process_timers",
    "forget_at_provider",
    "retention_run",
    "escalate",
    "sweep",
    "send_prompts",
    "send_wellbeing_wave",
    "send_rights",
    "run_export",
    "fetch_recording",
    "place_callback",
)
# Where job functions live. RQ imports them by this dotted name in its workers, and the
# in-process queue resolves them the same way: the queue (and the runtime that builds it)
# never imports the jobs, which import the services above them.
JOBS_MODULE = "grievance.jobs"
QUEUE_NAME = "grievance"
BULK_QUEUE_NAME = "grievance-bulk"
# A wake-up key per job (``wake``): set while a run is queued and not yet started.
WAKE_PREFIX = "grievance:wake:"
WAKE_TTL_SECONDS = 30


class JobQueue(Protocol):
    """Where services put work to be done after their transaction commits."""

    def enqueue(self, job: str, *args: int, bulk: bool = False) -> None:
        """Run ``job(*args)`` soon; ``bulk`` jobs wait until nothing else is queued."""
        ...

    def enqueue_in(self, delay: timedelta, job: str, *args: int, bulk: bool = False) -> None:
        """Run ``job(*args)`` after ``delay``."""
        ...

    def wake(self, job: str) -> None:
        """Run ``job()`` soon, unless a run of it is already waiting to start.

        For jobs that take whatever work waits (``process_waiting``): a burst of webhooks
        queues one run, not one per message. The job calls :meth:`started` first, so work
        that arrives while it runs wakes another run.
        """
        ...

    def started(self, job: str) -> None:
        """``job`` has started: the next :meth:`wake` queues another run."""
        ...


def _check(job: str) -> None:
    if job not in JOBS:
        raise ValueError(f"unknown job {job!r}")


def job_function(job: str) -> Callable[..., Any]:
    """The function of a job name, found as RQ finds it: by its dotted name."""
    import importlib

    _check(job)
    function: Callable[..., Any] = getattr(importlib.import_module(JOBS_MODULE), job)
    return function


# How often an RQ worker's command thread wakes (RQ's own default is 60 s). RQ 3 stops that
# thread at shutdown and redis-py 8.2's stop() waits for it to wake: a warm shutdown
# (SIGTERM from the process manager) could hang up to a minute.
PUBSUB_POLL_SECONDS = 1.0


def worker_class(fork: bool) -> Any:
    """RQ's ``Worker`` (a fork per job) or ``SimpleWorker`` (jobs in the worker process),
    with a command thread that wakes every second so a shutdown is never held up."""
    from rq import SimpleWorker, Worker

    base: Any = Worker if fork else SimpleWorker

    class QuickToStop(base):  # type: ignore[misc]
        def subscribe(self) -> None:
            self.log.info(
                "Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name
            )
            self.pubsub = self.connection.pubsub()
            self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
            self.pubsub_thread = self.pubsub.run_in_thread(
                sleep_time=PUBSUB_POLL_SECONDS,
                daemon=True,
                exception_handler=self._pubsub_exception_handler,
            )

    QuickToStop.__name__ = QuickToStop.__qualname__ = base.__name__
    return QuickToStop


class RQQueue:
    """Jobs on a real Redis through RQ; workers run ``grievance worker``."""

    def __init__(self, redis_url: str, failed_job_ttl: timedelta = timedelta(days=7)) -> None:
        from redis import Redis
        from rq import Queue

        self.redis = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        self.rq = Queue(QUEUE_NAME, connection=self.redis)
        self.bulk = Queue(BULK_QUEUE_NAME, connection=self.redis)
        # A failed job's record (its traceback) is kept this long, then Redis drops it.
        self.failure_ttl = int(failed_job_ttl.total_seconds())

    @property
    def queues(self) -> list[Any]:
        """The RQ queues in the order workers take from them."""
        return [self.rq, self.bulk]

    def depth(self) -> int:
        """Jobs waiting on both queues (raises if Redis is down)."""
        return sum(q.count for q in self.queues)

    def enqueue(self, job: str, *args: int, bulk: bool = False) -> None:
        """Enqueue on Redis; on a Redis failure log and rely on the sweeper."""
        _check(job)
        try:
            # One round trip instead of RQ's two: the webhook pays for every one.
            with self.redis.pipeline() as pipe:
                (self.bulk if bulk else self.rq).enqueue(
                    f"{JOBS_MODULE}.{job}",
                    *args,
                    failure_ttl=self.failure_ttl,
                    result_ttl=0,
                    pipeline=pipe,
                )
                pipe.execute()
        except Exception as exc:  # redis errors of every kind: the sweeper re-enqueues
            log.warning(
                "could not enqueue %s (%s); the sweeper will retry", job, type(exc).__name__
            )

    def wake(self, job: str) -> None:
        """Enqueue ``job`` unless its wake-up key says a run is waiting to start."""
        _check(job)
        try:
            # The key expires, in case the enqueue below fails after it was set.
            if not self.redis.set(f"{WAKE_PREFIX}{job}", 1, nx=True, ex=WAKE_TTL_SECONDS):
                return
        except Exception as exc:
            log.warning("could not wake %s (%s); the sweeper will", job, type(exc).__name__)
            return
        self.enqueue(job)

    def started(self, job: str) -> None:
        try:
            self.redis.delete(f"{WAKE_PREFIX}{job}")
        except Exception as exc:
            log.warning("could not clear the wake-up of %s (%s)", job, type(exc).__name__)

    def enqueue_in(self, delay: timedelta, job: str, *args: int, bulk: bool = False) -> None:
        """Schedule on Redis (needs a worker started with the scheduler)."""
        _check(job)
        # RQ keeps a scheduled time in whole seconds, truncated: a job due at 12:00:00.4 would
        # run at 12:00:00 and find its row not yet due. Round up to the next second instead.
        at = datetime.fromtimestamp(math.ceil(time.time() + delay.total_seconds()), UTC)
        try:
            (self.bulk if bulk else self.rq).enqueue_at(
                at,
                f"{JOBS_MODULE}.{job}",
                *args,
                failure_ttl=self.failure_ttl,
                result_ttl=0,
            )
        except Exception as exc:
            log.warning(
                "could not schedule %s (%s); the sweeper will retry", job, type(exc).__name__
            )


class InProcessQueue:
    """Runs jobs in this process: on one background thread, or inline (``sync``).

    Inline jobs enqueued by a running job wait until it returns, so each job
    sees the committed result of the one before, as with a real queue.
    """

    def __init__(self, run: Callable[[str, tuple[int, ...]], Any], mode: str = "thread") -> None:
        self._run = run
        self.mode = mode
        self._local = threading.local()  # inline mode: each request thread drains its own jobs
        self.delayed: list[tuple[timedelta, str, tuple[int, ...]]] = []
        # (bulk?, arrival, job): broadcasts run only when nothing else waits.
        self._queue: stdlib_queue.PriorityQueue[tuple[int, int, tuple[str, tuple[int, ...]] | None]]
        self._queue = stdlib_queue.PriorityQueue()
        self._arrivals = itertools.count()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._woken: set[str] = set()
        self._inline_wake = threading.RLock()

    def depth(self) -> int:
        """Jobs waiting for the background thread."""
        return self._queue.qsize()

    def enqueue(self, job: str, *args: int, bulk: bool = False) -> None:
        """Run the job inline or hand it to the background thread."""
        _check(job)
        if self.mode == "sync":
            pending = self._inline_pending()
            pending.append((job, args))
            if not getattr(self._local, "running", False):
                self._drain_inline(pending)
            return
        self._ensure_thread()
        self._queue.put((int(bulk), next(self._arrivals), (job, args)))

    def wake(self, job: str) -> None:
        """Inline: run it now; threaded: queue it unless a run is waiting to start."""
        if self.mode == "sync":
            # One inline run at a time: a run that finds another thread's run stepping this
            # thread's message waits for it, so a request still returns with its work done.
            with self._inline_wake:
                self.enqueue(job)
            return
        with self._lock:
            if job in self._woken:
                return
            self._woken.add(job)
        self.enqueue(job)

    def started(self, job: str) -> None:
        with self._lock:
            self._woken.discard(job)

    def enqueue_in(self, delay: timedelta, job: str, *args: int, bulk: bool = False) -> None:
        """Inline: keep it for the sweeper; threaded: run it after ``delay``."""
        _check(job)
        if self.mode == "sync":
            self.delayed.append((delay, job, args))
            return
        timer = threading.Timer(
            delay.total_seconds(), self.enqueue, args=(job, *args), kwargs={"bulk": bulk}
        )
        timer.daemon = True
        timer.start()

    def _inline_pending(self) -> list[tuple[str, tuple[int, ...]]]:
        if not hasattr(self._local, "pending"):
            self._local.pending = []
        pending: list[tuple[str, tuple[int, ...]]] = self._local.pending
        return pending

    def _drain_inline(self, pending: list[tuple[str, tuple[int, ...]]]) -> None:
        self._local.running = True
        try:
            while pending:
                job, args = pending.pop(0)
                self._safe_run(job, args)
        finally:
            self._local.running = False

    def _safe_run(self, job: str, args: tuple[int, ...]) -> None:
        try:
            self._run(job, args)
        except Exception as exc:
            # The rows stay unprocessed; the sweeper will run the job again.
            log_failure(log, f"job {job}{args} failed", exc)

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="grievance-jobs", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while True:
            _, _, item = self._queue.get()
            try:
                if item is None:
                    return
                self._safe_run(*item)
            finally:
                self._queue.task_done()
