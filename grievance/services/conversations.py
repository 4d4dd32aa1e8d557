"""Conversations: step the flow engine for a contact and apply its effects in one transaction."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import JSON, exists, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from grievance import casecode, sla
from grievance import contacts as contact_list
from grievance.clock import utcnow
from grievance.conversation import (
    Answer,
    Appeal,
    CallRequest,
    CaseDetails,
    Handover,
    LookupStatus,
    OpenCase,
    OptIn,
    OptOut,
    Send,
    SetLanguage,
    Step,
    ToCase,
    Urgent,
    WaitUntil,
    WellbeingRecord,
    busy,
    due_timer,
    wake_at,
)
from grievance.conversation import (
    Message as EngineMessage,
)
from grievance.conversation.effects import Effect
from grievance.conversation.render import render_send
from grievance.db import UTCDateTime
from grievance.faults import failpoint
from grievance.language import render
from grievance.language.catalog import duration_words
from grievance.language.segments import keep_gsm7
from grievance.language.zawgyi import script_of
from grievance.logs import log_failure
from grievance.models import (
    INBOUND,
    REPLY,
    Attachment,
    Case,
    CaseEvent,
    Contact,
    Conversation,
    Message,
    WorkerPrompt,
)
from grievance.runtime import Runtime
from grievance.services import cases as case_service
from grievance.services import dialogue, directory, recruitment, remediation, wellbeing
from grievance.services.inbox import inbound_body
from grievance.services.mails import enqueue_mails
from grievance.services.outbox import deliver_batch, queue_message

log = logging.getLogger(__name__)


@dataclass
class _Applied:
    """What applying one step produced: outbox rows to deliver, the case it opened, texts to send."""

    outbox_ids: list[int] = field(default_factory=list)
    case_id: int | None = None
    refs: dict[str, str] = field(default_factory=dict)
    sensitive_refs: set[str] = field(default_factory=set)
    # A check-in answered "yes": the case the next open_case is linked to.
    retaliation_after: Case | None = None
    # One step's messages go out as one SMS: separate messages can arrive out of order.
    texts: list[tuple[str, str, bool]] = field(default_factory=list)  # (key, text, sensitive)
    # REPLY for a worker's conversation, BULK for a broadcast (a wellbeing wave's invitation).
    priority: int = REPLY
    # Emails to staff (a person asked for, possible danger), sent after the commit.
    mails: list[int] = field(default_factory=list)
    # The channel the worker is on in this step when it is not the contact's ("voice": a
    # call from a number whose messages go by SMS).
    channel: str | None = None
    # On a call: what to say, instead of messages written to the outbox.
    spoken: list[Spoken] | None = None


@dataclass(frozen=True)
class Spoken:
    """One message to say on a call: its text, and the menu options that follow it."""

    key: str
    language: str
    text: str
    options: tuple[tuple[str, str, str | None], ...] = ()  # (number, label, label key)
    # The message gives the worker's case code (``code``, digits only): said digit by digit.
    code: str | None = None
    # What filled it (dates as ISO), and which of those are catalog messages (by key): a call
    # in a language without a Twilio voice plays the sentence from recorded pieces.
    params: tuple[tuple[str, str], ...] = ()
    keyed: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Conversed:
    """One step of a conversation on a call: what to say, and what it waits for."""

    spoken: list[Spoken]
    # The question the conversation now waits on: its kind ("menu", "yes_no", "text",
    # "code", ...) and its options (number, label key); None when the flow ended.
    wait_kind: str | None
    options: tuple[tuple[str, str], ...]
    case_id: int | None
    outbox_ids: list[int]
    mails: list[int]


MAX_MESSAGE = 1600  # Twilio's limit for one message body
# Inbound messages: conversations claimed per batch, and failures before a message is set aside.
BATCH = 50
MAX_ATTEMPTS = 5


def media_kind(content_type: str) -> str:
    """image, audio, video or document, from a MIME type."""
    major = content_type.split("/", 1)[0].lower()
    return major if major in ("image", "audio", "video") else "document"


def _lock_conversation(session: Session, runtime: Runtime, contact_id: int) -> Conversation:
    """The contact's conversation, created on first use, locked until the transaction ends."""
    query = select(Conversation).where(Conversation.contact_id == contact_id)
    if not runtime.settings.is_sqlite:
        # SQLite serialises writers with BEGIN IMMEDIATE; PostgreSQL takes a row lock.
        query = query.with_for_update()
    conversation = session.scalars(query).one_or_none()
    if conversation is None:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(
            dialect.insert(Conversation.__table__)
            .values(contact_id=contact_id, state={}, updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=["contact_id"])
        )
        conversation = session.scalars(query).one()
    return conversation


@dataclass
class _Work:
    """What a transaction's steps leave to do once it has committed."""

    processed: int = 0
    outbox_ids: list[int] = field(default_factory=list)
    mails: list[int] = field(default_factory=list)

    def add(self, other: _Work) -> None:
        self.processed += other.processed
        self.outbox_ids += other.outbox_ids
        self.mails += other.mails

    def send(self, runtime: Runtime) -> None:
        enqueue_mails(runtime, self.mails)
        deliver_now(runtime, self.outbox_ids)


def process_inbound(runtime: Runtime, message_id: int) -> int:
    """Process every waiting inbound message of this message's sender, in arrival order.

    Returns how many messages were processed (0 when another job got there first).
    """
    with runtime.sessions() as session:
        contact_id = session.scalar(select(Message.contact_id).where(Message.id == message_id))
        if contact_id is None:
            return 0
        # Lock first: the contact read after it reflects the previous job's changes.
        conversation = _lock_conversation(session, runtime, contact_id)
        work = _step_contact(session, runtime, conversation, careful=True)
        session.commit()
    work.send(runtime)
    return work.processed


def process_waiting(
    runtime: Runtime, limit: int = BATCH, sender: Callable[[Callable[[], None]], None] | None = None
) -> int:
    """Claim up to ``limit`` conversations with waiting inbound messages and step each in order.

    One transaction and one commit for the batch. A conversation another worker holds is
    skipped (``SKIP LOCKED``), so workers share the waiting conversations and each contact's
    messages are processed in order, by one worker at a time. When a step fails, the batch is
    rolled back and claimed again with a savepoint per message: the failing message counts an
    attempt (set aside at ``MAX_ATTEMPTS``) and the rest of the batch goes on. Returns how many
    conversations were claimed: fewer than ``limit`` means none were left waiting.

    The batch's replies and mails go out after its commit: here, or handed to ``sender``,
    which may send them while the next batch is stepped.
    """
    for careful in (False, True):
        with runtime.sessions() as session:
            claimed = _claim_waiting(session, runtime, limit)
            work = _Work()
            try:
                for conversation in claimed:
                    work.add(_step_contact(session, runtime, conversation, careful=careful))
                failpoint("inbound.before_commit")
                session.commit()
            except Exception as exc:
                if careful:
                    raise
                session.rollback()
                log_failure(log, "a batch of conversations; claimed again, one by one", exc)
                continue
        if sender is None:
            work.send(runtime)
        else:
            sender(functools.partial(work.send, runtime))
        return len(claimed)
    raise AssertionError("unreachable")


def _claim_waiting(session: Session, runtime: Runtime, limit: int) -> list[Conversation]:
    """Lock up to ``limit`` conversations whose contacts have inbound messages waiting."""
    messages = Message.__table__
    waiting = (
        select(messages.c.contact_id)
        .where(
            messages.c.processed_at.is_(None),
            messages.c.direction == INBOUND,
            messages.c.attempts < MAX_ATTEMPTS,
            messages.c.contact_id.is_not(None),
        )
        .distinct()
    )
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    # A first message's contact has no conversation yet: create them, so they can be locked.
    conversations = Conversation.__table__
    new_contacts = waiting.subquery()
    session.execute(
        dialect.insert(conversations)
        .from_select(
            ["contact_id", "state", "updated_at"],
            select(
                new_contacts.c.contact_id,
                literal({}, JSON),
                literal(utcnow(), UTCDateTime()),
            ).where(
                # (SQLite also needs a WHERE to read ON CONFLICT below as an upsert.)
                ~exists().where(conversations.c.contact_id == new_contacts.c.contact_id)
            ),
        )
        .on_conflict_do_nothing(index_elements=["contact_id"])
    )
    query = (
        select(Conversation)
        .where(Conversation.contact_id.in_(waiting))
        .order_by(Conversation.id)
        .limit(limit)
    )
    if not runtime.settings.is_sqlite:
        # SQLite serialises writers with BEGIN IMMEDIATE; PostgreSQL locks each row, and
        # another worker's batch takes the next ones instead of waiting.
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def _step_contact(
    session: Session, runtime: Runtime, conversation: Conversation, careful: bool
) -> _Work:
    """Run the conversation on its contact's waiting inbound messages, oldest first.

    ``careful``: each message in a savepoint; one that fails is rolled back alone, counts an
    attempt, and holds the contact's later messages until it succeeds or is set aside.
    """
    work = _Work()
    contact = session.get(Contact, conversation.contact_id)
    if contact is None:
        return work
    waiting = session.scalars(
        select(Message)
        .where(
            Message.contact_id == contact.id,
            Message.direction == INBOUND,
            Message.processed_at.is_(None),
            Message.attempts < MAX_ATTEMPTS,
        )
        .order_by(Message.id)
    ).all()
    for message in waiting:
        if not careful:
            work.add(_step_message(session, runtime, conversation, contact, message))
            continue
        try:
            with session.begin_nested():
                done = _step_message(session, runtime, conversation, contact, message)
        except Exception as exc:
            message.attempts += 1
            if message.attempts >= MAX_ATTEMPTS:
                log_failure(log, f"inbound message {message.id} set aside", exc)
                work.mails += _to_a_person(session, runtime, contact, message)
            else:
                log_failure(log, f"inbound message {message.id} (will retry)", exc)
            break
        work.add(done)
    return work


def _to_a_person(
    session: Session, runtime: Runtime, contact: Contact, message: Message
) -> list[int]:
    """A message the line could not process is not dropped: it lands on the worker's case (a
    new one if they have none) with a person requested, so a handler reads it. Its staff
    alerts' mail ids are returned."""
    try:
        with session.begin_nested():
            _case, mails = dialogue.request_person(
                session, runtime, contact, "unprocessed_message", (message.id,)
            )
    except Exception as exc:
        log_failure(log, f"inbound message {message.id}: no case could take it", exc)
        return []
    return mails


def _step_message(
    session: Session,
    runtime: Runtime,
    conversation: Conversation,
    contact: Contact,
    message: Message,
) -> _Work:
    """Run the conversation on one inbound message; mark it processed."""
    work = _Work(processed=1)
    text = inbound_body(runtime, message)
    script = script_of(text, (message.fields or {}).get("converted_from") == "zawgyi")
    if script is not None:
        # Replies follow the encoding the worker's phone typed their latest Burmese in.
        contact.script = "zawgyi" if script == "zawgyi" else None
    site = wellbeing.site_for_keyword(session, text)
    if site is not None:
        # A site's survey word (on its posters): join its pulse; no flow is disturbed.
        work.outbox_ids += wellbeing.join(session, runtime, contact, site)
        message.processed_at = utcnow()
        return work
    private = _private(runtime, conversation)
    event = EngineMessage(text=text, media=_media_kinds(session, message), ref=message.id)
    step = runtime.engine.resume(
        _session_for(conversation, contact),
        event,
        utcnow(),
        facts=_Facts(session, runtime, contact),
        channel=contact.channel,
    )
    applied = _apply(session, runtime, contact, conversation, step)
    work.outbox_ids += applied.outbox_ids
    work.mails += applied.mails
    message.processed_at = utcnow()
    if private:
        # An answer to a private flow (the pulse) is not kept with the contact.
        message.body_encrypted = None
    elif (masked := casecode.mask_codes(text)) != text:
        # A case code the worker typed ("STATUS 3422 6239 5091") is read and then
        # forgotten, as the message that showed it is: whoever reads the stored
        # message later must not be able to reach the case with it.
        message.body_encrypted = runtime.protector.encrypt(masked)
    return work


def process_timers(runtime: Runtime, conversation_id: int) -> bool:
    """Feed a due timeout or expiry to the engine; False when nothing was due."""
    with runtime.sessions() as session:
        contact_id = session.scalar(
            select(Conversation.contact_id).where(Conversation.id == conversation_id)
        )
        if contact_id is None:
            return False
        conversation = _lock_conversation(session, runtime, contact_id)
        contact = session.get(Contact, contact_id)
        if contact is None:
            return False
        now = utcnow()
        event = due_timer(conversation.state, now)
        if event is None:
            conversation.wake_at = wake_at(conversation.state)
            session.commit()
            return False
        step = runtime.engine.resume(
            _session_for(conversation, contact),
            event,
            now,
            facts=_Facts(session, runtime, contact),
            channel=contact.channel,
        )
        applied = _apply(session, runtime, contact, conversation, step)
        session.commit()
    enqueue_mails(runtime, applied.mails)
    deliver_now(runtime, applied.outbox_ids)
    return True


def start_flow(
    runtime: Runtime,
    session: Session,
    contact: Contact,
    flow_id: str,
    results: dict[str, Any],
    case_id: int | None,
    priority: int = REPLY,
    when_busy: str = "wait",
) -> list[int] | None:
    """Start ``flow_id`` for the contact in the caller's transaction (a question about a case).

    A question the worker is waiting on (a handler's question) is asked again when this
    flow ends. Returns the outbox ids to deliver after the commit, or None when the worker
    is in the middle of a report of their own and ``when_busy`` is "wait": the caller asks
    again later rather than cut into what they are writing. With "interrupt" the report
    resumes after this flow (a handler's question cannot wait).
    """
    conversation = _lock_conversation(session, runtime, contact.id)
    now = utcnow()
    if when_busy == "wait" and busy(conversation.state, now):
        return None
    step = runtime.engine.start(
        _session_for(conversation, contact),
        flow_id,
        now,
        facts=_Facts(session, runtime, contact),
        channel=contact.channel,
        results=results,
        interrupt=True,
    )
    return _apply(session, runtime, contact, conversation, step, case_id, priority).outbox_ids


def converse(
    session: Session,
    runtime: Runtime,
    contact: Contact,
    *,
    message: Message | None = None,
    start: str | None = None,
    channel: str = "voice",
) -> Conversed:
    """Step the conversation of a caller in the caller's transaction: start flow ``start``,
    or answer with ``message`` (a stored inbound message: keys pressed, or a recording).

    What the engine says comes back to be spoken, not written to the outbox; the caller's
    transaction commits it. Used by the voice channel, which answers in the same request.
    """
    conversation = _lock_conversation(session, runtime, contact.id)
    now = utcnow()
    facts = _Facts(session, runtime, contact)
    # A worker who sent STOP stopped messages, not their own calls: what they key in on a
    # call answers the question asked (no SMS goes to them all the same).
    facts.calling()
    if start is not None:
        step = runtime.engine.start(
            _session_for(conversation, contact), start, now, facts=facts, channel=channel
        )
    else:
        assert message is not None
        event = EngineMessage(
            text=inbound_body(runtime, message),
            media=_media_kinds(session, message),
            ref=message.id,
        )
        step = runtime.engine.resume(
            _session_for(conversation, contact), event, now, facts=facts, channel=channel
        )
        message.processed_at = now
    applied = _Applied(channel=channel, spoken=[])
    applied = _apply(session, runtime, contact, conversation, step, applied=applied)
    wait_kind: str | None = None
    options: tuple[tuple[str, str], ...] = ()
    run = step.session.get("run") or {}
    if run.get("waiting"):
        flow = runtime.engine.flowset.flows.get(run.get("flow") or "")
        node = flow.nodes.get(run.get("node") or "") if flow else None
        if node is not None and node.wait is not None:
            wait_kind = node.wait.kind
            options = tuple((o.number, o.label or "") for o in node.wait.options)
    assert applied.spoken is not None
    return Conversed(
        applied.spoken, wait_kind, options, applied.case_id, applied.outbox_ids, applied.mails
    )


def _private(runtime: Runtime, conversation: Conversation) -> bool:
    """Whether the flow waiting for this contact's answer keeps no inbound text."""
    flow = runtime.engine.flowset.flows.get(conversation.flow_id or "")
    return flow is not None and flow.private


def _media_kinds(session: Session, message: Message) -> tuple[str, ...]:
    if not message.num_media:
        return ()
    types = session.scalars(
        select(Attachment.content_type)
        .where(Attachment.message_id == message.id)
        .order_by(Attachment.position)
    ).all()
    return tuple(media_kind(t) for t in types)


def _session_for(conversation: Conversation, contact: Contact) -> dict[str, Any]:
    state = dict(conversation.state or {})
    # The contact row is the truth for language; a handler may have changed it.
    state["language"] = contact.language
    state["language_confirmed"] = contact.language_confirmed
    return state


class _Facts(Mapping[str, bool]):
    """What the engine may ask about a contact, each looked up only if a flow asks."""

    NAMES = (
        "has_case",
        "has_open_case",
        "has_active_case",
        "opted_out",
        "help_contacts_listed",
        "person_requested",
    )

    def __init__(self, session: Session, runtime: Runtime, contact: Contact) -> None:
        self._session = session
        self._runtime = runtime
        self._contact = contact
        self._known: dict[str, bool] = {"opted_out": contact.opted_out}

    def calling(self) -> None:
        """The worker is on a call they made: the flows answer them though they opted out."""
        self._known["opted_out"] = False

    def __getitem__(self, name: str) -> bool:
        if name not in self._known:
            contact_id = self._contact.id
            if name == "has_case":
                self._known[name] = case_service.has_case(self._session, contact_id)
            elif name == "has_open_case":
                self._known[name] = dialogue.has_open_case(self._session, contact_id)
            elif name == "has_active_case":
                self._known[name] = dialogue.has_active_case(
                    self._session, self._runtime, contact_id
                )
            elif name == "person_requested":
                self._known[name] = dialogue.person_requested(self._session, contact_id)
            elif name == "help_contacts_listed":
                self._known[name] = bool(
                    dialogue.help_contacts(self._session, self._runtime, self._contact)
                )
            else:
                raise KeyError(name)
        return self._known[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.NAMES)

    def __len__(self) -> int:
        return len(self.NAMES)


def deliver_now(runtime: Runtime, outbox_ids: list[int]) -> None:
    """Send the replies of a batch right after its commit, from the job that wrote them.

    The same claim-once delivery as the ``deliver_batch`` job, on one connection, without the
    cost of another job per reply; anything unexpected is left to the ``deliver`` jobs.
    """
    if not outbox_ids:
        return
    try:
        deliver_batch(runtime, outbox_ids)
    except Exception as exc:
        log_failure(log, f"delivering {len(outbox_ids)} outbox rows", exc)
        for outbox_id in outbox_ids:
            # A row this run claimed and did not finish is given back by the sweeper.
            runtime.queue.enqueue("deliver", outbox_id)


def _apply(
    session: Session,
    runtime: Runtime,
    contact: Contact,
    conversation: Conversation,
    step: Step,
    case_id: int | None = None,
    priority: int = REPLY,
    applied: _Applied | None = None,
) -> _Applied:
    """Apply the engine's effects in order, inside the caller's transaction."""
    applied = applied or _Applied(case_id=case_id, priority=priority)
    conversation.wake_at = None
    for effect in step.effects:
        if isinstance(effect, OptOut | OptIn):
            _flush(
                session, runtime, contact, applied
            )  # decided under the state they were written in
        _apply_one(session, runtime, contact, conversation, effect, applied)
    _flush(session, runtime, contact, applied)
    run = step.session.get("run") or {}
    conversation.state = step.session
    conversation.flow_id = run.get("flow")
    conversation.flow_version = run.get("version")
    return applied


def _apply_one(
    session: Session,
    runtime: Runtime,
    contact: Contact,
    conversation: Conversation,
    effect: Effect,
    applied: _Applied,
) -> None:
    now = utcnow()
    if isinstance(effect, Send):
        _send(session, runtime, contact, effect, applied)
    elif isinstance(effect, SetLanguage):
        contact.language = effect.language
        contact.language_confirmed = effect.confirmed or contact.language_confirmed
    elif isinstance(effect, OpenCase):
        case, code, mails = case_service.open_case(session, runtime, contact, effect)
        if applied.channel == "voice":
            case.channel = "voice"  # reported by phone, though news goes by SMS
        applied.mails += mails
        delay = runtime.settings.details_delay_seconds
        if (
            delay is not None
            and applied.channel != "voice"  # never an SMS the caller did not ask for
            and not (effect.retaliation or case.category == "RET")
        ):
            # A minute later, as a message of its own: who else, who recruited the worker.
            recruitment.ask_details(session, case, timedelta(seconds=delay))
        if applied.retaliation_after is not None:
            _link_retaliation(session, case, applied.retaliation_after)
            applied.retaliation_after = None
        applied.case_id = case.id
        applied.refs["case.code"] = casecode.display(code)
        applied.sensitive_refs.add("case.code")
    elif isinstance(effect, LookupStatus):
        for reply in case_service.status_replies(session, runtime, contact, effect.code):
            params = dict(reply.params)
            catalog = runtime.catalogs[effect.language]
            keyed = reply.keyed_params or {}
            for name, key in keyed.items():
                params[name] = render(catalog, key, {}, applied.channel or contact.channel)
            send = Send(reply.key, effect.language, params)
            _send(session, runtime, contact, send, applied, keyed)
    elif isinstance(effect, OptOut):
        contact.opted_out = True
        contact.opted_out_at = now
    elif isinstance(effect, OptIn):
        contact.opted_out = False
        contact.opted_out_at = None
    elif isinstance(effect, Handover):
        contact.handover_requested_at = now
        case, mails = dialogue.request_person(
            session,
            runtime,
            contact,
            effect.reason,
            effect.message_refs,
            description=effect.description,
        )
        applied.case_id = case.id
        applied.mails += mails
    elif isinstance(effect, ToCase):
        landed, mails = dialogue.land_messages(
            session,
            runtime,
            contact,
            effect.message_refs,
            effect.case,
            effect.question,
            effect.answer,
        )
        applied.mails += mails
        if landed is not None:
            applied.case_id = landed.id
    elif isinstance(effect, Urgent):
        case, mails = dialogue.raise_urgent(session, runtime, contact, effect)
        applied.case_id = case.id
        applied.mails += mails
    elif isinstance(effect, CallRequest):
        called = dialogue.record_call_request(session, runtime, contact, effect)
        if called is not None:
            applied.case_id = called.id
    elif isinstance(effect, CaseDetails):
        told = recruitment.record_details(session, runtime, contact, effect)
        if told is not None:
            applied.case_id = told.id
    elif isinstance(effect, WaitUntil):
        conversation.wake_at = effect.at
    elif isinstance(effect, Answer):
        _answer(session, runtime, contact, effect, applied)
    elif isinstance(effect, WellbeingRecord):
        wellbeing.record(session, effect)
    elif isinstance(effect, Appeal):
        result, appealed = remediation.appeal(session, runtime, contact)
        params = {"days": str(runtime.settings.appeal_days)}
        if appealed is not None:
            params["date"] = appealed.created_at.date().isoformat()
            applied.case_id = appealed.id
        _send(session, runtime, contact, Send(f"appeal.{result}", effect.language, params), applied)


def _link_retaliation(session: Session, case: Case, closed: Case) -> None:
    """A retaliation case from a check-in: linked to the closed case, with its site and the
    worker's choice of news. The supplier is not attached: that a retaliation report follows a
    closed case is exactly what a supplier must not learn until a handler decides."""
    case.linked_case_id = closed.id
    case.site_id = closed.site_id
    case.wants_updates = closed.wants_updates
    session.add(
        CaseEvent(
            case_id=closed.id, kind="retaliation_reported", actor="worker", data={"case": case.id}
        )
    )


def _answer(
    session: Session, runtime: Runtime, contact: Contact, answer: Answer, applied: _Applied
) -> None:
    """The worker's answer to a question about a case; a retaliation "yes" opens a RET case."""
    if answer.prompt is None:
        return
    case = remediation.record_answer(session, runtime, contact, answer.prompt, answer.value)
    if case is None:
        return
    applied.case_id = case.id
    prompt = session.get(WorkerPrompt, answer.prompt)
    if prompt is not None and prompt.kind.startswith("checkin") and answer.value == "yes":
        applied.retaliation_after = case  # the flow's open_case that follows is linked to it


def _send(
    session: Session,
    runtime: Runtime,
    contact: Contact,
    send: Send,
    applied: _Applied,
    keyed: Mapping[str, str] | None = None,
) -> None:
    """Write (or, on a call, say) ``send``; ``keyed``: its parameters that are catalog
    messages, by key."""
    refs = applied.refs
    if "link.procedure" in send.refs.values():
        refs = {**refs, "link.procedure": procedure_link(runtime, send.language)}
    if any(ref.startswith("rules.") for ref in send.refs.values()):
        catalog = runtime.catalogs[send.language]
        template = catalog.messages[send.key].for_channel(contact.channel)
        words = rules_refs(runtime, send.language)
        refs = {**refs, **{name: keep_gsm7(value, template) for name, value in words.items()}}
    if "contacts.emergency" in send.refs.values():
        numbers = dialogue.emergency_contacts(session, runtime, contact, send.language)
        if not numbers:
            return  # no local numbers configured: say nothing rather than an empty list
        refs = {**refs, "contacts.emergency": contact_list.as_text(numbers, send.language)}
        directory.record_given(session, numbers, "emergency")
    if "contacts.help" in send.refs.values():
        listed = dialogue.help_contacts(session, runtime, contact)
        if not listed:
            return  # the flow says that none are listed
        refs = {**refs, "contacts.help": contact_list.as_text(listed, send.language)}
        directory.record_given(session, listed, "rights")
    fact_refs = [ref for ref in send.refs.values() if ref.startswith("facts.")]
    if fact_refs:
        country = dialogue.work_country(session, runtime, contact)
        facts = runtime.settings.country_facts
        texts = {
            ref: facts.text(country, ref.removeprefix("facts."), send.language) for ref in fact_refs
        }
        if not all(texts.values()):
            return  # no fact about this topic for the worker's country, in their language
        refs = {**refs, **{ref: text for ref, text in texts.items() if text}}
    channel = applied.channel or contact.channel
    if applied.spoken is not None:
        _speak(runtime, send, refs, applied, keyed or {})
        return
    text = render_send(runtime.catalogs, runtime.engine.default_language, send, channel, refs)
    sensitive = any(ref in applied.sensitive_refs for ref in send.refs.values())
    applied.texts.append((send.key, text, sensitive))


def _speak(
    runtime: Runtime,
    send: Send,
    refs: Mapping[str, str],
    applied: _Applied,
    keyed: Mapping[str, str],
) -> None:
    """A message for a call: its voice wording, its options apart (each is said as "press
    N for ..."), and a case code apart (said digit by digit)."""
    assert applied.spoken is not None
    default = runtime.engine.default_language
    catalog = runtime.catalogs.get(send.language) or runtime.catalogs[default]
    if send.key not in catalog.messages:
        catalog = runtime.catalogs[default]
    code = next(
        (refs.get(ref) for ref in send.refs.values() if ref == "case.code" and refs.get(ref)),
        None,
    )
    # The code is said by the voice channel, digit by digit: the sentence leaves it out.
    filled = {k: ("" if v == "case.code" else refs.get(v, "")) for k, v in send.refs.items()}
    params = {**send.params, **filled}
    text = render(catalog, send.key, params, "voice")
    options = []
    for option in send.options:
        label = option.label_text or ""
        if option.label_key:
            labels = catalog if option.label_key in catalog.messages else runtime.catalogs[default]
            label = render(labels, option.label_key, {}, "voice")
        options.append((option.number, label, option.label_key))
    applied.spoken.append(
        Spoken(
            send.key,
            catalog.language,
            text,
            tuple(options),
            code.replace(" ", "") if code else None,
            tuple(params.items()),
            tuple(keyed.items()),
        )
    )


def rules_refs(runtime: Runtime, language: str) -> dict[str, str]:
    """The deployment's time frames for the RULES text, in ``language``'s words: how soon a
    standard report and an urgent one are answered, and how long a worker may appeal."""
    catalog = runtime.catalogs[language]

    def words(severity: str) -> str:
        frame = sla.frame(runtime.settings.sla_frames, "triage", severity)
        return duration_words(catalog, *sla.parse_duration(frame))

    return {
        "rules.urgent": words("P0"),
        "rules.standard": words("P3"),
        "rules.appeal_days": str(runtime.settings.appeal_days),
    }


def procedure_link(runtime: Runtime, language: str) -> str:
    """The short address of the published rules of procedure in ``language``."""
    base = runtime.settings.public_base_url.rstrip("/")
    return f"{base}/p/{language}"


def _flush(session: Session, runtime: Runtime, contact: Contact, applied: _Applied) -> None:
    """Write the step's texts to the outbox, joined into as few messages as fit."""
    batch: list[tuple[str, str, bool]] = []
    for part in [*applied.texts, None]:
        if batch and (
            part is None or len("\n\n".join(t for _, t, _ in [*batch, part])) > MAX_MESSAGE
        ):
            item = queue_message(
                session,
                runtime,
                contact,
                "\n\n".join(text for _, text, _ in batch),
                catalog_key=",".join(key for key, _, _ in batch)[:100],
                case_id=applied.case_id,
                sensitive=any(sensitive for _, _, sensitive in batch),
                priority=applied.priority,
            )
            if item is not None:
                applied.outbox_ids.append(item.id)
            batch = []
        if part is not None:
            batch.append(part)
    applied.texts.clear()
