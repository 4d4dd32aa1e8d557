"""Job functions: ids in, one service call, idempotent. RQ imports them by name.

``runtime`` is passed by the in-process queue; under ``rq worker`` it is None
and the process's runtime is built from the environment.

A job that fails raises :class:`~grievance.logs.JobFailed` naming only the
error type: RQ stores the traceback in Redis and logs it, and the original
message may quote personal data.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from grievance import runtime as runtime_module
from grievance.logs import JobFailed, job_context, log_failure
from grievance.queue import InProcessQueue
from grievance.runtime import Runtime
from grievance.services import (
    conversations,
    escalation,
    exports,
    mails,
    media,
    outbox,
    prompts,
    recruitment,
    retention,
    sweeper,
    voice,
    waves,
)

log = logging.getLogger(__name__)
# How long one ``process_waiting`` run keeps claiming batches before it hands over.
DRAIN_SECONDS = 5.0
P = ParamSpec("P")
R = TypeVar("R")


def _rt(runtime: Runtime | None) -> Runtime:
    return runtime if runtime is not None else runtime_module.current()


def _scrubbed(job: Callable[P, R]) -> Callable[P, R]:
    """Run ``job`` with a job id in every log line and no personal data in its failure."""

    @functools.wraps(job)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            from rq import get_current_job

            current = get_current_job()
        except Exception:  # not under RQ
            current = None
        with job_context(current.id if current is not None else None):
            try:
                return job(*args, **kwargs)
            except Exception as exc:
                log_failure(log, f"job {job.__name__}", exc)
                raise JobFailed(f"{job.__name__} failed: {type(exc).__name__}") from None

    return run


@_scrubbed
def process_inbound(message_id: int, runtime: Runtime | None = None) -> int:
    """Run the conversation for this message's contact.

    Idempotent: it processes whatever is unprocessed for the contact under the
    conversation lock, so a second run (or the job of a later message) finds
    nothing left and does nothing.
    """
    return conversations.process_inbound(_rt(runtime), message_id)


@_scrubbed
def process_waiting(runtime: Runtime | None = None) -> int:
    """Process the waiting inbound messages in batches, until none wait or its time is up.

    Idempotent: conversations are claimed under a lock (others' batches skip them) and a
    message is marked processed in the transaction that steps it, so a second run finds
    nothing left. A run that reaches ``DRAIN_SECONDS`` with work left wakes another, so a
    worker is never held by one job for long.
    """
    rt = _rt(runtime)
    rt.queue.started("process_waiting")
    deadline = time.monotonic() + DRAIN_SECONDS
    total = 0
    with _Sender(rt) as sender:
        while True:
            claimed = conversations.process_waiting(rt, sender=sender)
            total += claimed
            if claimed < conversations.BATCH:
                return total
            if time.monotonic() >= deadline:
                rt.queue.wake("process_waiting")
                return total


class _Sender:
    """Sends a committed batch's replies on a thread of their own while the next batch is
    stepped, so a worker's CPU steps conversations while it waits on Twilio and on commits.
    One thread, so replies go out in the order their batches committed; the job ends only when
    they are all sent. In an RQ worker on PostgreSQL only: SQLite takes one writer at a time,
    and the in-process queue runs jobs where they are enqueued, so there replies go out inline.
    """

    def __init__(self, runtime: Runtime) -> None:
        inline = runtime.settings.is_sqlite or isinstance(runtime.queue, InProcessQueue)
        self._pool = None if inline else ThreadPoolExecutor(1, thread_name_prefix="replies")

    def __call__(self, send: Callable[[], None]) -> None:
        if self._pool is None:
            send()
            return
        # The thread logs with the job's id, as the job would.
        self._pool.submit(contextvars.copy_context().run, _logged, send)

    def __enter__(self) -> _Sender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def _logged(send: Callable[[], None]) -> None:
    try:
        send()
    except Exception as exc:  # a row it claimed and did not finish is given back by the sweeper
        log_failure(log, "sending a batch's replies", exc)


@_scrubbed
def deliver(outbox_id: int, runtime: Runtime | None = None) -> str:
    """Send one outbox row.

    Idempotent: the row is claimed with an atomic update from 'pending', so a
    duplicate job finds it taken or sent and does nothing.
    """
    return outbox.deliver(_rt(runtime), outbox_id)


@_scrubbed
def deliver_batch(*outbox_ids: int, runtime: Runtime | None = None) -> dict[str, int]:
    """Send several outbox rows on one connection (broadcasts, sweeps).

    Idempotent: each row is claimed as in ``deliver``.
    """
    return outbox.deliver_batch(_rt(runtime), outbox_ids)


@_scrubbed
def send_mail(mail_id: int, runtime: Runtime | None = None) -> str:
    """Send one email to staff from the mail outbox.

    Idempotent: the row is claimed with an atomic update from 'pending'.
    """
    return mails.send(_rt(runtime), mail_id)


@_scrubbed
def fetch_media(attachment_id: int, runtime: Runtime | None = None) -> str:
    """Download and encrypt one inbound attachment.

    Idempotent: claimed from 'pending'; a stored attachment is never fetched again.
    """
    return media.fetch_media(_rt(runtime), attachment_id)


@_scrubbed
def fetch_recording(attachment_id: int, runtime: Runtime | None = None) -> str:
    """Download a call recording, encrypt it, and delete it at Twilio.

    Idempotent: the attachment is claimed from 'pending' once; a recording already
    deleted at Twilio is not deleted again.
    """
    return voice.fetch_recording(_rt(runtime), attachment_id)


@_scrubbed
def place_callback(callback_id: int, runtime: Runtime | None = None) -> str:
    """Call a missed caller back (a missed-call line).

    Idempotent: the callback is claimed from 'pending' once per attempt.
    """
    return voice.place_callback(_rt(runtime), callback_id)


@_scrubbed
def process_timers(conversation_id: int, runtime: Runtime | None = None) -> bool:
    """Give the engine a due timeout or expiry.

    Idempotent: the engine acts only on timers due now; once handled, none is due.
    """
    return conversations.process_timers(_rt(runtime), conversation_id)


@_scrubbed
def forget_at_provider(message_id: int, runtime: Runtime | None = None) -> bool:
    """Delete the provider's copy of a message and its media.

    Idempotent: a message already deleted there is skipped.
    """
    return retention.delete_at_provider(_rt(runtime), message_id)


@_scrubbed
def retention_run(runtime: Runtime | None = None) -> str:
    """Erase personal data past its retention period.

    Idempotent: what is erased is marked and not counted again.
    """
    return str(retention.run(_rt(runtime)))


@_scrubbed
def escalate(runtime: Runtime | None = None) -> int:
    """Email about overdue cases and raise site alerts.

    Idempotent: a case is escalated once per stage, an alert once per 30 days.
    """
    rt = _rt(runtime)
    sent = escalation.escalate_overdue(rt)
    escalation.raise_site_alerts(rt)
    recruitment.raise_agency_alerts(rt)
    return sent


@_scrubbed
def sweep(runtime: Runtime | None = None) -> int:
    """Re-enqueue work left behind.

    Idempotent: it only enqueues jobs that are themselves idempotent.
    """
    return sweeper.sweep(_rt(runtime)).total


@_scrubbed
def send_prompts(runtime: Runtime | None = None) -> int:
    """Ask workers the questions due: remedy confirmation, satisfaction, check-ins.

    Idempotent: a prompt is marked sent in the transaction that writes its message.
    """
    return prompts.send_due_prompts(_rt(runtime))


@_scrubbed
def send_wellbeing_wave(wave_id: int, runtime: Runtime | None = None) -> bool:
    """Invite the next batch of a wellbeing wave, and enqueue the batch after it.

    Idempotent: a member is invited once per wave (a unique row written with the message).
    """
    return waves.run_job(_rt(runtime), wave_id)


# The job's name before it was send_wellbeing_wave: RQ finds a job by its dotted name, and
# jobs queued in Redis before an upgrade still name this one. Nothing enqueues it any more.
send_campaign = send_wellbeing_wave


@_scrubbed
def send_rights(message_id: int, runtime: Runtime | None = None) -> bool:
    """Send the next batch of a rights message to a site's members, and enqueue the next.

    Idempotent: a member is sent a message once (a unique row written with the message).
    """
    return waves.run_job(_rt(runtime), message_id, waves.RIGHTS)


@_scrubbed
def run_export(export_id: int, runtime: Runtime | None = None) -> str:
    """Make an export a user asked for, saving progress after each batch.

    Idempotent: an export that is done (or failed) is not made again.
    """
    return exports.run_export(_rt(runtime), export_id)
