"""Job functions: ids in, one service call, idempotent. RQ imports them by name.

``runtime`` is passed by the in-process queue; under ``rq worker`` it is None
and the process's runtime is built from the environment.
"""

from __future__ import annotations

from grievance import runtime as runtime_module
from grievance.runtime import Runtime
from grievance.services import conversations, media, outbox, sweeper


def _rt(runtime: Runtime | None) -> Runtime:
    return runtime if runtime is not None else runtime_module.current()


def process_inbound(message_id: int, runtime: Runtime | None = None) -> int:
    """Run the conversation for this message's contact.

    Idempotent: it processes whatever is unprocessed for the contact under the
    conversation lock, so a second run (or the job of a later message) finds
    nothing left and does nothing.
    """
    return conversations.process_inbound(_rt(runtime), message_id)


def deliver(outbox_id: int, runtime: Runtime | None = None) -> str:
    """Send one outbox row.

    Idempotent: the row is claimed with an atomic update from 'pending', so a
    duplicate job finds it taken or sent and does nothing.
    """
    return outbox.deliver(_rt(runtime), outbox_id)


def fetch_media(attachment_id: int, runtime: Runtime | None = None) -> str:
    """Download and encrypt one inbound attachment.

    Idempotent: claimed from 'pending'; a stored attachment is never fetched again.
    """
    return media.fetch_media(_rt(runtime), attachment_id)


def process_timers(conversation_id: int, runtime: Runtime | None = None) -> bool:
    """Give the engine a due timeout or expiry.

    Idempotent: the engine acts only on timers due now; once handled, none is due.
    """
    return conversations.process_timers(_rt(runtime), conversation_id)


def sweep(runtime: Runtime | None = None) -> int:
    """Re-enqueue work left behind.

    Idempotent: it only enqueues jobs that are themselves idempotent.
    """
    return sweeper.sweep(_rt(runtime)).total
