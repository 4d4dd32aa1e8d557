"""The outbox: every outbound message is a row written with the change that caused it.

``deliver`` claims a row atomically, waits for the sender's pacing slot, sends
it once, and stores the provider's id in the same step as marking it sent.
Temporary failures are retried with exponential backoff and jitter until the
message is too old to matter. A send interrupted by a crash is sent again by the
sweeper: that may deliver it twice, never zero times.

WhatsApp allows free-form messages only within 24 hours of the worker's last
message. Outside that window the approved, content-free "update" template goes
instead, or an SMS if the worker allowed it.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, case, null, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from grievance.channels.base import DeliveryError, OutboundMessage, SendResult
from grievance.clock import utcnow
from grievance.db import dialect_insert
from grievance.faults import failpoint
from grievance.language.catalog import render
from grievance.language.zawgyi import to_zawgyi
from grievance.models import (
    BULK,
    OUTBOUND,
    REPLY,
    Contact,
    DeliveryEvent,
    Message,
    OutboxItem,
)
from grievance.runtime import Runtime

log = logging.getLogger(__name__)

MAX_DELAY = 300.0
# Rows per deliver_batch job: big enough to spread a job's cost, small enough to share out.
BATCH_SIZE = 50
# The longest a reply waits in the worker for its pacing slot; beyond it the job is rescheduled.
# A reply reserves its sender's next slot when it comes within this many seconds, and holds
# it while it waits on the job schedule; beyond it, it asks again later (a burst this long
# is better served by the next free slot than by a queue of reservations).
MAX_HELD_SLOT = 120.0
# A held slot this close is sent now: the job schedule is not finer, and a few milliseconds
# early keeps the rate within a fraction of a percent.
SLOT_TOLERANCE = 0.02
WHATSAPP_WINDOW = timedelta(hours=24)
# Sent as a template a little before the window closes: clocks and queues are not exact.
WINDOW_MARGIN = timedelta(minutes=5)
WINDOW_CLOSED = "63016"
# The content-free notice, and the template that carries it on WhatsApp.
NOTICE_KEY = "notice.update"
UPDATE_TEMPLATE = "update"
# Messages that open a conversation of their own outside the window go as their own
# approved template (with the message's variables), not as the "update" notice.
OWN_TEMPLATES = {
    "wellbeing.invite": "wellbeing_invite",
    "wellbeing.results": "wellbeing_results",
    # A rights message to a site's members (RIGHTS itself always answers within the window).
    "rights.menu": "rights_message",
}
MESSAGE_KEYS = (NOTICE_KEY,)
# Keys that may reach a contact who opted out: the confirmations themselves, and the
# once-a-day answer to a worker who writes while opted out (how to START again).
ALWAYS_ALLOWED = frozenset(
    {"stop.confirmed", "stop.confirmed_open", "stop.reminder", "start.confirmed"}
)
# Provider statuses in the order they happen; a callback never moves a message backwards.
STATUS_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "read": 5,
}


def queue_message(
    session: Session,
    runtime: Runtime,
    contact: Contact,
    body: str,
    *,
    catalog_key: str | None = None,
    case_id: int | None = None,
    sensitive: bool = False,
    priority: int = REPLY,
    template_variables: Mapping[str, str] | None = None,
) -> OutboxItem | None:
    """Write an outbound message and its outbox row in the caller's transaction.

    ``template_variables`` fill the message's own WhatsApp template when it has to go as
    one (outside the 24-hour window). Returns None (and writes nothing) when the contact
    has opted out.
    """
    if contact.opted_out and catalog_key not in ALWAYS_ALLOWED:
        return None
    message = Message(
        direction=OUTBOUND,
        contact_id=contact.id,
        case_id=case_id,
        channel=contact.channel,
        body_encrypted=runtime.protector.encrypt(body),
        catalog_key=catalog_key,
        sensitive=sensitive,
        delivery_status="pending",
        fields=(
            (
                {"template_variables": json.dumps(dict(template_variables))}
                if template_variables
                else {}
            )
            # Stored in Unicode, for the case handler; sent in the worker's Zawgyi.
            | ({"script": "zawgyi"} if contact.script == "zawgyi" else {})
        ),
    )
    session.add(message)
    session.flush()
    item = OutboxItem(message_id=message.id, priority=priority)
    session.add(item)
    session.flush()
    return item


def enqueue_delivery(runtime: Runtime, outbox_id: int, priority: int) -> None:
    """Enqueue the deliver job on the queue its priority belongs to."""
    runtime.queue.enqueue("deliver", outbox_id, bulk=priority >= BULK)


def backoff(
    attempt: int, base: float = 2.0, cap: float = MAX_DELAY, rng: random.Random | None = None
) -> timedelta:
    """Exponential backoff with jitter: about base, 2x, 4x ... seconds, up to ``cap``."""
    ceiling = min(cap, base * 2 ** max(attempt - 1, 0))
    return timedelta(seconds=(rng or random).uniform(ceiling / 2, ceiling))


@dataclass(frozen=True)
class _Row:
    """What deliver needs of a claimed outbox row, read in the claiming transaction."""

    message_id: int
    priority: int
    created_at: datetime
    body_encrypted: bytes | None
    catalog_key: str | None
    address_encrypted: bytes | None
    channel: str | None
    our_address: str | None
    opted_out: bool
    language: str | None
    last_inbound_at: datetime | None
    sms_fallback: bool
    fields: dict[str, str] | None = None
    slot_at: datetime | None = None


def deliver(runtime: Runtime, outbox_id: int) -> str:
    """Send one outbox row if nobody else has; returns the row's status afterwards.

    A row that must wait for its sender's pacing slot is given back and
    scheduled again; the status is then "paced".
    """
    with _connection(runtime) as connection:
        claimed = _claim(connection, [outbox_id])
        if outbox_id not in claimed:
            found = connection.execute(
                select(OutboxItem.status, OutboxItem.next_attempt_at, OutboxItem.priority).where(
                    OutboxItem.id == outbox_id
                )
            ).first()
            connection.commit()
            if found is None:
                return "missing"
            status, due, priority = found
            if status == "pending" and due is not None and due > utcnow():
                # This job ran before the row's time (a scheduler's rounding, another
                # machine's clock): it runs again then, rather than wait for the sweeper.
                runtime.queue.enqueue_in(
                    due - utcnow(), "deliver", outbox_id, bulk=priority >= BULK
                )
                return "early"
            return str(status)
        attempts, row = claimed[outbox_id]
        status, paced = _send_claimed(runtime, connection, outbox_id, attempts, row)
        if paced is not None:
            _give_back(connection, [outbox_id], paced)
            runtime.queue.enqueue_in(paced.delay, "deliver", outbox_id, bulk=row.priority >= BULK)
        return status


def deliver_batch(runtime: Runtime, outbox_ids: Sequence[int]) -> dict[str, int]:
    """Send several rows on one connection: claimed together, sent and recorded one by one.

    Rows are recorded as sent one at a time, right after Twilio accepts each,
    so a crash costs at most one duplicate (the row in flight); the other
    claimed rows are given back by the sweeper and sent once. A reply that
    holds a pacing slot is scheduled alone for it, and the rest go on; a
    broadcast row waiting for a free slot is scheduled with the rest.
    """
    counts: dict[str, int] = {}
    with _connection(runtime) as connection:
        claimed = _claim(connection, outbox_ids)
        order = [outbox_id for outbox_id in outbox_ids if outbox_id in claimed]
        counts["taken elsewhere"] = len(outbox_ids) - len(order)
        for i, outbox_id in enumerate(order):
            attempts, row = claimed[outbox_id]
            status, paced = _send_claimed(runtime, connection, outbox_id, attempts, row)
            if paced is not None and paced.held:
                # A reply holding its own slot waits for it alone; the replies after it, maybe
                # from other senders, go on.
                _give_back(connection, [outbox_id], paced)
                runtime.queue.enqueue_in(paced.delay, "deliver", outbox_id, bulk=False)
                counts["paced"] = counts.get("paced", 0) + 1
                continue
            counts[status] = counts.get(status, 0) + 1
            if paced is not None:
                # A broadcast waits for a free slot, and the rest of the batch with it.
                rest = order[i:]
                _give_back(connection, rest, paced)
                runtime.queue.enqueue_in(
                    paced.delay, "deliver_batch", *rest, bulk=row.priority >= BULK
                )
                counts["paced"] = len(rest)
                break
    return {k: v for k, v in counts.items() if v}


def _connection(runtime: Runtime) -> Connection:
    """The connection a delivery works on. On PostgreSQL each of its statements commits on its
    own: the claim is one UPDATE and "sent" one statement, each atomic alone, so autocommit
    saves a COMMIT round trip per message and nothing holds a transaction open while Twilio
    answers. SQLite records "sent" in two statements, so it keeps its transactions."""
    connection = runtime.db.connect()
    if connection.dialect.name == "postgresql":
        connection.execution_options(isolation_level="AUTOCOMMIT")
    return connection


def enqueue_deliveries(runtime: Runtime, outbox_ids: Sequence[int], priority: int) -> None:
    """Enqueue many rows as batch jobs of :data:`BATCH_SIZE` (a broadcast, a sweep)."""
    bulk = priority >= BULK
    for start in range(0, len(outbox_ids), BATCH_SIZE):
        runtime.queue.enqueue("deliver_batch", *outbox_ids[start : start + BATCH_SIZE], bulk=bulk)


def _send_claimed(
    runtime: Runtime, connection: Connection, outbox_id: int, attempts: int, row: _Row
) -> tuple[str, Paced | None]:
    """Send one claimed row; (status, None), or ("paced", how) when it must wait for its slot."""
    if row.address_encrypted is None or row.body_encrypted is None:
        return _settle(runtime, outbox_id, "failed", "no address or body left (purged)"), None
    if row.opted_out and row.catalog_key not in ALWAYS_ALLOWED:
        reason = "the worker opted out before it was sent"
        return _settle(runtime, outbox_id, "cancelled", reason), None
    body = runtime.protector.decrypt(row.body_encrypted)
    if (row.fields or {}).get("script") == "zawgyi":
        body = to_zawgyi(body)
    outbound = OutboundMessage(
        to=runtime.protector.decrypt(row.address_encrypted),
        body=body,
        channel=row.channel or "sms",
        from_address=row.our_address,
        status_callback=runtime.status_callback_url(),
    )
    if outbound.channel == "whatsapp" and not in_window(row.last_inbound_at):
        replacement, reason = _outside_window(runtime, row, outbound)
        if replacement is None:
            return _settle(runtime, outbox_id, "failed", reason), None
        outbound = replacement
    paced = _pace(runtime, row, outbound)
    if paced is not None:
        return "paced", paced
    failpoint("deliver.before_send")
    try:
        try:
            result = runtime.channel.send(outbound)
        except DeliveryError as exc:
            if exc.code != WINDOW_CLOSED or outbound.content_sid or outbound.channel != "whatsapp":
                raise
            # Our clock said the window was open; Twilio's did not.
            replacement, reason = _outside_window(runtime, row, outbound)
            if replacement is None:
                raise DeliveryError(reason, retryable=False, code=exc.code) from None
            outbound = replacement
            result = runtime.channel.send(outbound)
    except DeliveryError as exc:
        return _failed(runtime, outbox_id, attempts, row, exc), None
    failpoint("deliver.after_send")
    _sent(connection, outbox_id, row.message_id, result, outbound)
    return "sent", None


_ROW_COLUMNS = (
    Message.__table__.c.id.label("message_id"),
    OutboxItem.__table__.c.priority,
    OutboxItem.__table__.c.created_at,
    Message.__table__.c.body_encrypted,
    Message.__table__.c.catalog_key,
    Contact.__table__.c.address_encrypted,
    Contact.__table__.c.channel,
    Contact.__table__.c.our_address,
    Contact.__table__.c.opted_out,
    Contact.__table__.c.language,
    Contact.__table__.c.last_inbound_at,
    Contact.__table__.c.sms_fallback,
    Message.__table__.c.fields,
    OutboxItem.__table__.c.slot_at,
)


def _claim(connection: Connection, outbox_ids: Sequence[int]) -> dict[int, tuple[int, _Row]]:
    """Take the due rows among ``outbox_ids`` from 'pending' to 'sending', atomically, in one go.

    Returns {outbox id: (attempts, row)} for the rows this call claimed; rows
    another worker holds, or that are sent or not yet due, are left alone.
    """
    now = utcnow()
    outbox, messages, contacts = OutboxItem.__table__, Message.__table__, Contact.__table__
    with connection.begin():
        attempts: dict[int, int] = dict(
            connection.execute(
                update(outbox)
                .where(
                    outbox.c.id.in_(outbox_ids),
                    outbox.c.status == "pending",
                    (outbox.c.next_attempt_at.is_(None)) | (outbox.c.next_attempt_at <= now),
                )
                .values(status="sending", attempts=outbox.c.attempts + 1, claimed_at=now)
                .returning(outbox.c.id, outbox.c.attempts)
            ).all()
        )
        if not attempts:
            return {}
        found = connection.execute(
            select(outbox.c.id, *_ROW_COLUMNS)
            .select_from(outbox.join(messages, messages.c.id == outbox.c.message_id))
            .outerjoin(contacts, contacts.c.id == messages.c.contact_id)
            .where(outbox.c.id.in_(list(attempts)))
        ).all()
    claimed = {}
    for record in found:
        fields = record._asdict()
        outbox_id = fields.pop("id")
        fields["opted_out"] = bool(fields["opted_out"])
        fields["sms_fallback"] = bool(fields["sms_fallback"])
        claimed[outbox_id] = (int(attempts[outbox_id]), _Row(**fields))
    return claimed


def _give_back(connection: Connection, outbox_ids: Sequence[int], paced: Paced) -> None:
    """Return claimed rows untouched (no attempt happened) to be taken again after the
    delay; the first keeps the slot it holds, if it holds one."""
    outbox = OutboxItem.__table__
    due = utcnow() + paced.delay
    with connection.begin():
        connection.execute(
            update(outbox)
            .where(outbox.c.id.in_(outbox_ids), outbox.c.status == "sending")
            .values(
                status="pending",
                attempts=outbox.c.attempts - 1,
                next_attempt_at=due,
                claimed_at=None,
                slot_at=case((outbox.c.id == outbox_ids[0], due), else_=null())
                if paced.held
                else null(),
            )
        )


def in_window(last_inbound_at: datetime | None) -> bool:
    """Whether WhatsApp still lets a free-form message reach this worker."""
    if last_inbound_at is None:
        return False
    return utcnow() - last_inbound_at < WHATSAPP_WINDOW - WINDOW_MARGIN


def _outside_window(
    runtime: Runtime, row: _Row, outbound: OutboundMessage
) -> tuple[OutboundMessage | None, str]:
    """The template, or an SMS the worker allowed; else (None, the reason in words)."""
    template = OWN_TEMPLATES.get((row.catalog_key or "").split(",")[0], UPDATE_TEMPLATE)
    templates = runtime.settings.whatsapp_templates.get(template, {})
    language = row.language or runtime.settings.languages[0]
    content_sid = templates.get(language)
    notice = _notice_text(runtime, language) if template == UPDATE_TEMPLATE else outbound.body
    if content_sid:
        return OutboundMessage(
            to=outbound.to,
            body=notice,
            channel="whatsapp",
            from_address=outbound.from_address,
            status_callback=outbound.status_callback,
            content_sid=content_sid,
            content_variables=(row.fields or {}).get("template_variables"),
            template=template,
        ), "template"
    number = outbound.to.removeprefix("whatsapp:")
    if row.sms_fallback and number.startswith("+"):
        return OutboundMessage(
            to=number, body=notice, channel="sms", status_callback=outbound.status_callback
        ), "sms fallback"
    return None, (
        f"outside the WhatsApp 24-hour window, and no approved {template!r} template for "
        f"{language!r} is configured (GRIEVANCE_WHATSAPP_TEMPLATES) nor SMS allowed"
    )


def _notice_text(runtime: Runtime, language: str) -> str:
    catalog = runtime.catalogs.get(language) or runtime.catalogs[runtime.settings.languages[0]]
    return render(catalog, NOTICE_KEY, {}, "sms")


def _sender(runtime: Runtime, outbound: OutboundMessage) -> tuple[str, float]:
    """The key of the sender a message goes out from, and its rate (0 = unpaced)."""
    settings = runtime.settings
    if outbound.channel == "whatsapp":
        return "wa:" + (outbound.from_address or settings.twilio_whatsapp_from or ""), (
            settings.whatsapp_rate
        )
    sender = (
        settings.twilio_messaging_service_sid or outbound.from_address or settings.twilio_sms_from
    )
    return "sms:" + (sender or runtime.channel_name), settings.sms_rate


@dataclass(frozen=True)
class Paced:
    """A row that must wait for its pacing slot: given back, and scheduled ``delay`` on.
    ``held``: the row reserved that slot, so it is sent at its time without asking again."""

    delay: timedelta
    held: bool


def _pace(runtime: Runtime, row: _Row, outbound: OutboundMessage) -> Paced | None:
    """The sender's slot for this row: None to send now, or how long it waits and whether it
    holds its slot meanwhile. A worker never sleeps for a slot: a reply whose slot is up to
    :data:`MAX_HELD_SLOT` away reserves it and waits on the job schedule; a broadcast takes
    only a slot that is free now, so replies keep going first."""
    sender, rate = _sender(runtime, outbound)
    if rate <= 0 or runtime.channel_name == "console":
        return None
    if row.slot_at is not None:
        early = (row.slot_at - utcnow()).total_seconds()
        return Paced(timedelta(seconds=early), held=True) if early > SLOT_TOLERANCE else None
    bulk = row.priority >= BULK
    reserved, wait = runtime.pacer.reserve(sender, rate, 0.0 if bulk else MAX_HELD_SLOT)
    if reserved:
        return Paced(timedelta(seconds=wait), held=True) if wait > SLOT_TOLERANCE else None
    return Paced(timedelta(seconds=wait + random.uniform(0, 1.0 / rate)), held=False)  # noqa: S311 - jitter


def _sent(
    connection: Connection,
    outbox_id: int,
    message_id: int,
    result: SendResult,
    sent: OutboundMessage,
) -> None:
    """Record a row as sent, at once (a crash after this costs no duplicate). PostgreSQL
    writes both rows in one statement: the drain's costliest part is round trips."""
    # Named unlike any column: SQLAlchemy takes a parameter named after a column of the
    # updated table as one more value to set.
    values = {
        "p_outbox_id": outbox_id,
        "p_message_id": message_id,
        "p_sent_at": utcnow(),
        "p_provider_sid": result.provider_sid,
        "p_channel": sent.channel,
        "p_template_key": sent.template if sent.content_sid else None,
    }
    statements = _sent_statements(connection.dialect.name, result.status)
    with connection.begin():
        for statement in statements:
            connection.execute(statement, values)


@lru_cache(maxsize=64)
def _sent_statements(dialect: str, status: str) -> tuple[Any, ...]:
    """The statements that record a row as sent with ``status``, built once per dialect and
    status: building a statement with a CTE costs more CPU than the round trip it saves.
    Bounded: the status is whatever the provider answered."""
    outbox, messages = OutboxItem.__table__, Message.__table__
    mark_outbox = (
        update(outbox)
        .where(outbox.c.id == bindparam("p_outbox_id"))
        .values(status="sent", sent_at=bindparam("p_sent_at"), last_error=None)
    )
    mark_message = update(messages).values(
        provider_sid=bindparam("p_provider_sid"),
        channel=bindparam("p_channel"),
        template_key=bindparam("p_template_key"),
        delivery_status=_later_sql(messages.c.delivery_status, status),
        # A message that showed a case code keeps no body: the code lives on only as a slow hash.
        body_encrypted=case((messages.c.sensitive, null()), else_=messages.c.body_encrypted),
    )
    if dialect == "postgresql":
        marked = mark_outbox.returning(outbox.c.message_id).cte("marked")
        return (mark_message.where(messages.c.id == select(marked.c.message_id).scalar_subquery()),)
    return mark_outbox, mark_message.where(messages.c.id == bindparam("p_message_id"))


def _record_event(connection: Connection, message_id: int, status: str, code: str | None) -> None:
    """Remember one (message, status) once; a repeated callback adds nothing."""
    insert = dialect_insert(connection.dialect.name)
    connection.execute(
        insert(DeliveryEvent.__table__)
        .values(message_id=message_id, status=status, error_code=code, at=utcnow())
        .on_conflict_do_nothing(index_elements=["message_id", "status"])
    )


def _settle(runtime: Runtime, outbox_id: int, status: str, reason: str) -> str:
    with runtime.sessions() as session:
        item = session.get(OutboxItem, outbox_id)
        assert item is not None
        return _finish(session, item, session.get(Message, item.message_id), status, reason)


def _later_sql(current: Any, new: str) -> Any:
    """SQL for: ``new`` unless the stored status is already further along."""
    rank = STATUS_RANK.get(new, -1)
    ahead = [status for status, r in STATUS_RANK.items() if r > rank]
    return case((current.in_(ahead), current), else_=new)


def _failed(runtime: Runtime, outbox_id: int, attempts: int, row: _Row, exc: DeliveryError) -> str:
    settings = runtime.settings
    with runtime.sessions() as session:
        item = session.get(OutboxItem, outbox_id)
        assert item is not None
        message = session.get(Message, item.message_id)
        if exc.opted_out and message is not None and message.contact_id:
            contact = session.get(Contact, message.contact_id)
            if contact is not None and not contact.opted_out:
                contact.opted_out = True
                contact.opted_out_at = utcnow()
        age = (utcnow() - row.created_at).total_seconds()
        if exc.retryable and age < settings.send_give_up_seconds:
            delay = backoff(
                attempts, settings.send_retry_base_seconds, settings.send_retry_max_seconds
            )
            item.status = "pending"
            item.next_attempt_at = utcnow() + delay
            item.slot_at = None  # the slot it held went to the failed attempt
            item.last_error = exc.reason[:200]
            session.commit()
            log.info(
                "outbox %s: attempt %s failed (%s); retrying in %.0fs",
                outbox_id,
                attempts,
                exc.reason,
                delay.total_seconds(),
            )
            runtime.queue.enqueue_in(delay, "deliver", outbox_id, bulk=row.priority >= BULK)
            return "pending"
        if message is not None:
            message.error_code = exc.code
        log.warning("outbox %s: giving up after %s attempts (%s)", outbox_id, attempts, exc.reason)
        return _finish(session, item, message, "failed", exc.reason)


def _finish(
    session: Session, item: OutboxItem, message: Message | None, status: str, reason: str
) -> str:
    item.status = status
    item.last_error = reason[:200]
    if message is not None:
        message.delivery_status = "failed" if status == "failed" else status
        if message.sensitive:
            message.body_encrypted = None
    session.commit()
    return status


def _later(current: str | None, new: str) -> str:
    if current is None or current not in STATUS_RANK:
        return new
    return new if STATUS_RANK.get(new, -1) >= STATUS_RANK[current] else current


def record_status(runtime: Runtime, provider_sid: str, status: str, error_code: str | None) -> bool:
    """Apply a delivery status callback; duplicates and out-of-order callbacks change nothing.

    Every (message, status) is kept once as a delivery event for the case
    timeline; the message's own status only ever moves forward.
    """
    status = status.lower()
    if status not in STATUS_RANK:
        return False
    code = error_code[:10] if error_code else None
    with runtime.sessions() as session:
        message = session.scalar(
            select(Message).where(
                Message.provider_sid == provider_sid, Message.direction == OUTBOUND
            )
        )
        if message is None:
            return False
        _record_event(session.connection(), message.id, status, code)
        newer = _later(message.delivery_status, status)
        changed = newer != message.delivery_status
        message.delivery_status = newer
        if code and newer == status:
            message.error_code = code
        session.commit()
        return changed
