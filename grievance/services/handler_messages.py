"""A handler writes to the worker: a canned reply in the worker's language or free text,
through the outbox. A reply that asks something waits for the worker's answer on their
conversation, so the answer reaches the case as the answer to that question.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from grievance.language.catalog import render
from grievance.models import REPLY, Case, User
from grievance.runtime import Runtime
from grievance.services import dialogue, translations
from grievance.services.conversations import start_flow
from grievance.services.outbox import queue_message
from grievance.services.triage import (
    CANNED_REPLIES,
    FREE_QUESTION,
    MAX_TEXT,
    QUESTIONS,
    Outcome,
    TriageError,
    reachable_contact,
    timeline_event,
)


def message_worker(
    session: Session,
    runtime: Runtime,
    case: Case,
    actor: User,
    *,
    key: str | None = None,
    text: str | None = None,
    question: bool = False,
    meaning: str | None = None,
    meaning_language: str = "en",
) -> Outcome:
    """A canned reply in the worker's language, or free text sent exactly as written.

    Free text machine-translated from the handler's language carries ``meaning``, what the
    handler wrote (in ``meaning_language``): kept for the timeline, never sent to the worker.

    A reply that asks something (the canned questions, or free text marked ``question``)
    waits for the worker's answer, which goes to this case as the answer to it; a report
    the worker is writing resumes afterwards. Any message answers a request for a person.
    """
    contact = reachable_contact(session, case)
    catalog = (
        runtime.catalogs.get(contact.language or case.language)
        or runtime.catalogs[runtime.settings.languages[0]]
    )
    if key is not None:
        if key not in CANNED_REPLIES:
            raise TriageError(f"unknown canned reply {key!r}")
        body = render(catalog, key, {}, contact.channel)
        kind = QUESTIONS.get(key)
    else:
        body = (text or "").strip()
        if not body:
            raise TriageError("the message is empty")
        if len(body) > MAX_TEXT:
            raise TriageError(f"the message is longer than {MAX_TEXT} characters")
        kind = FREE_QUESTION if question else None
    item = queue_message(
        session,
        runtime,
        contact,
        body,
        catalog_key=key or "handler.free_text",
        case_id=case.id,
        priority=REPLY,
    )
    if item is None:
        raise TriageError("the worker sent STOP: nothing reaches them until they send START")
    outbox_ids = [item.id]
    words = (meaning or "").strip() if key is None else ""
    if words:
        translations.keep_handler_words(
            session,
            runtime,
            case,
            item.message_id,
            words[:MAX_TEXT],
            catalog.language,
            meaning_language,
        )
    if kind is not None:
        outbox_ids += (
            start_flow(
                runtime,
                session,
                contact,
                "question",
                {"case": case.id, "kind": kind},
                case.id,
                when_busy="interrupt",
            )
            or []
        )
    dialogue.person_answered(session, case)
    timeline_event(
        session,
        case,
        actor,
        "message_sent",
        catalog_key=key or "free text",
        language=catalog.language,
        question=kind,
        translated_from=meaning_language if words else None,
    )
    return Outcome(outbox_ids)
