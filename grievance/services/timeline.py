"""A case's timeline as handlers read it: the worker's messages and ours, events and notes,
oldest first, every event in words (people by name, categories by label, "not in danger"),
never as ids or catalog keys.

Rules that hold here, in one place: a message that showed the case code is never shown,
even before its body is erased; a phone number the worker typed into their words is
hidden; a supplier never gets this view (suppliers read only the handler's summary).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from grievance.crypto import DecryptionError
from grievance.language.catalog import render
from grievance.language.phones import hide_phone_numbers
from grievance.models import (
    INBOUND,
    Case,
    CaseEvent,
    CaseNote,
    DeliveryEvent,
    Message,
    Organisation,
    ReferralOrg,
    Site,
    User,
)
from grievance.models.cases import CATEGORY_LABELS
from grievance.models.remediation import REMEDY_LABELS
from grievance.runtime import Runtime

# What a message that cannot be decrypted shows in its place.
UNREADABLE = "(this message cannot be read: its data key is no longer configured)"

PHONE_HIDDEN = "[phone number hidden]"


def worker_words(text: str) -> str:
    """A worker's words as staff see them: a phone number they typed is hidden.

    Workers sometimes write a number ("call me on ..."); no page ever shows one. A handler
    who needs to talk offers a call, and the number the worker gives is revealed only to
    the handler on the case, audited.
    """
    return hide_phone_numbers(text, PHONE_HIDDEN)


@dataclass
class Item:
    """One line of the timeline."""

    at: datetime
    kind: str  # in, out, event, note
    body: str | None = None
    who: str | None = None
    message_id: int | None = None
    key: str | None = None
    meaning: str | None = None
    state: str | None = None
    error: str | None = None
    history: list[str] = field(default_factory=list)
    media: int = 0
    # The case it happened on, when that is a duplicate merged into the case shown.
    from_case: int | None = None


QUESTIONS = {
    "remedy": "whether the problem is solved",
    "satisfaction": "how well the report was handled",
    "ask_more": "the request to tell more",
    "are_you_safe": '"are you safe now?"',
    "call_offer": "the offer of a call",
    "free_text": "the handler's question",
}
ANSWERS = {
    "solved": "solved",
    "not_solved": "not solved",
    "person": "wants to talk to a person",
    "safe": "safe",
    "help": "needs help now",
    "unclear": "could not be read, so treated as needing help",
    "declined": "no call, thank you",
    "call": "asked for a call",
}
REASONS = {
    "help": "after HELP",
    "asked": 'in their own words ("call me", "talk to someone")',
    "in_danger": "the worker said they are in danger now",
    "danger_unclear": "danger words, and no clear answer to 'are you in danger now?'",
    "danger_while_stopped": "danger words from a worker who sent STOP (they cannot be asked)",
    "stopped": "words from a worker who sent STOP, with no report to keep them",
    "questions": "the worker told their story but gave no clear yes to reporting",
    "remedy": "in answer to the remedy question",
    "checkin": "in answer to a check-in",
    "unprocessed_message": "the line could not process a message of theirs: read it here",
}


class _Names:
    """Looks up the people and organisations an event names, once each."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self._users: dict[int, str] = {}

    def user(self, user_id: object) -> str:
        if not isinstance(user_id, int):
            return "nobody"
        if user_id not in self._users:
            user = self.db.get(User, user_id)
            self._users[user_id] = user.email if user else "a former user"
        return self._users[user_id]

    def actor(self, actor: str) -> str:
        if actor.startswith("user:") and actor[5:].isdigit():
            return self.user(int(actor[5:]))
        if actor.startswith("rule:"):
            return f"assignment rule {actor[5:]}"
        return {"worker": "the worker", "system": "the line"}.get(actor, actor)

    def organisation(self, org_id: object) -> str:
        org = self.db.get(Organisation, org_id) if isinstance(org_id, int) else None
        return org.name if org else "an organisation"

    def site(self, site_id: object) -> str:
        site = self.db.get(Site, site_id) if isinstance(site_id, int) else None
        return site.name if site else "no site"

    def referral(self, referral_id: object) -> str:
        org = self.db.get(ReferralOrg, referral_id) if isinstance(referral_id, int) else None
        return org.name if org else "an organisation"


def _stage(value: object) -> str:
    return str(value or "").replace("_", " ")


def _category(value: object) -> str:
    return CATEGORY_LABELS.get(str(value), "not known") if value else "not known"


def _link(value: object) -> str:
    return "a duplicate" if value == "duplicate" else "a related case"


def _danger(value: object) -> str:
    return "in danger now" if value else "not in danger"


_Sentence = Callable[[Mapping[str, Any], _Names], str]

# Why staff were alerted at once (services/alerts.py), as the timeline says it.
ALERT_WORDS = {
    "danger": "the worker may be in danger now",
    "new_p1": "a new P1 case",
    "person": "the worker asked for a person",
    "reply": "the worker wrote (to the assignee)",
}

SENTENCES: dict[str, _Sentence] = {
    "received": lambda d, n: (
        f"Report received ({d.get('channel')}, {d.get('language')}); worker chose: "
        f"{_category(d.get('reported_category'))}; {_danger(d.get('in_danger'))}; "
        f"severity {d.get('severity')}"
    ),
    "report_added": lambda d, n: (
        f"The worker completed their report; they chose: {_category(d.get('reported_category'))}"
    ),
    "requested": lambda d, n: (
        f"The worker asked for a person {REASONS.get(str(d.get('reason')), '')}".strip()
    ),
    "handover_requested": lambda d, n: (
        f"The worker asked for a person ({REASONS.get(str(d.get('reason')), str(d.get('reason')))})"
    ),
    "danger": lambda d, n: (
        f"Possible danger now: {REASONS.get(str(d.get('reason')), 'danger words')}; staff alerted"
    ),
    "worker_answered": lambda d, n: (
        f"The worker answered {QUESTIONS.get(str(d.get('question')), 'a question')}"
        + (
            f": {ANSWERS.get(str(d.get('answer')), str(d.get('answer')))}"
            if d.get("answer")
            else ""
        )
    ),
    "call_requested": lambda d, n: (
        "The worker asked to be called"
        + (" on another, safer number" if d.get("other_number") else " on this number")
    ),
    "call_number_revealed": lambda d, n: "The number to call was revealed",
    "category_unclear": lambda d, n: (
        "The worker's answer to the category question could not be read: categorise this case"
    ),
    "status": lambda d, n: f"Stage: {_stage(d.get('from'))} → {_stage(d.get('to'))}",
    "assigned": lambda d, n: (
        f"Assigned to {n.user(d.get('to'))}"
        + (f" by the rule {d.get('rule')}" if d.get("rule") else "")
    ),
    "categorised": lambda d, n: (
        f"Categorised as {_category(d.get('category'))}; {d.get('indicators') or 0} "
        f"forced-labour indicator(s); severity {d.get('severity')}"
        + (f" (was {d.get('severity_from')})" if d.get("severity_from") else "")
    ),
    "severity": lambda d, n: (
        f"Severity {d.get('severity_from')} → {d.get('severity')}"
        + (" (second reviewer)" if d.get("reviewed") else "")
        + (f" (from case #{d.get('merged')}, merged into this one)" if d.get("merged") else "")
    ),
    "severity_review_requested": lambda d, n: (
        f"Lowering to {d.get('to')} asked; a second person must review it"
    ),
    "severity_review_rejected": lambda d, n: "Lowering the severity was rejected",
    "note": lambda d, n: "Internal note added",
    "message_sent": lambda d, n: (
        "Message sent to the worker"
        + (
            f", machine-translated from what the handler wrote ({d.get('translated_from')})"
            if d.get("translated_from")
            else ""
        )
        + (
            f" ({QUESTIONS.get(str(d.get('question')), 'a question')}: waiting for the answer)"
            if d.get("question")
            else ""
        )
    ),
    "message_moved_in": lambda d, n: (
        f"A worker's message was moved here from case #{d.get('from')}"
    ),
    "message_moved_out": lambda d, n: f"A worker's message was moved to case #{d.get('to')}",
    "referral_attached": lambda d, n: (
        f"Referral attached: {d.get('name') or n.referral(d.get('referral'))}"
    ),
    "plan_archived": lambda d, n: (
        f"The plan of {n.organisation(d.get('supplier'))} was archived: the case went to "
        "another supplier, which starts afresh"
    ),
    "referred_to_supplier": lambda d, n: (
        f"Referred to {n.organisation(d.get('supplier'))}, site {n.site(d.get('site'))}"
    ),
    "worker_not_told": lambda d, n: {
        "declined_updates": "The worker was not told of this stage: they declined news",
        "no_contact": "The worker was not told of this stage: their contact is erased",
        "unreachable": "The worker could not be told of this stage",
    }.get(str(d.get("reason")), "The worker was not told"),
    "worker_not_reached": lambda d, n: f"The worker could not be asked ({_stage(d.get('reason'))})",
    "worker_asked": lambda d, n: {
        "confirm": "The worker was asked whether the problem is solved",
        "satisfaction": "The worker was asked how well the report was handled",
        "checkin_30": "30-day check-in on retaliation sent",
        "checkin_90": "90-day check-in on retaliation sent",
        "details": "The worker was asked who this affects (and, for fees or debt, who recruited them)",
    }.get(str(d.get("question")), "The worker was asked a question"),
    "affected": lambda d, n: (
        {"me": "Affects: only the worker", "few": "Affects: the worker and a few others"}.get(
            str(d.get("affected")), "Affects: many workers"
        )
        + (f"; severity raised to {d.get('severity')}" if d.get("severity") else "")
    ),
    "on_behalf": lambda d, n: "Reported for someone else, with their agreement",
    "recruitment_told": lambda d, n: (
        "The worker said who recruited them: "
        + ", ".join(
            {"agency": "agency", "recruited_in": "where", "fee": "what they paid"}.get(
                str(k), str(k)
            )
            for k in d.get("said", [])
        )
    ),
    "agency_linked": lambda d, n: f"Linked to the recruitment agency {d.get('name')}",
    "worker_answer": lambda d, n: f"The worker's word on the remedy: {_stage(d.get('answer'))}",
    "worker_satisfaction": lambda d, n: f"Satisfaction: {d.get('score')} of 5",
    "retaliation_checkin": lambda d, n: (
        f"Check-in answer: {'yes, treated badly' if d.get('answer') == 'yes' else 'no'}"
    ),
    "retaliation_reported": lambda d, n: f"Retaliation reported: see case #{d.get('case')}",
    "status_checked": lambda d, n: "The worker checked the status",
    "appealed": lambda d, n: f"The worker appealed; reopened ({d.get('times')} time(s))",
    "appeal_too_late": lambda d, n: "The worker appealed after the appeal window",
    "escalated": lambda d, n: "Overdue: escalated to staff",
    "alerted": lambda d, n: (
        f"Staff alerted by email ({d.get('to')}): "
        + ALERT_WORDS.get(str(d.get("reason")), str(d.get("reason")))
    ),
    "closed": lambda d, n: (
        f"Closed: {_stage(d.get('outcome'))}"
        + (
            "; remedy: "
            + ", ".join(REMEDY_LABELS.get(r, r) for r in str(d["remedy_types"]).split(","))
            if d.get("remedy_types")
            else ""
        )
        + (" (second reviewer)" if d.get("reviewed") else "")
    ),
    "close_requested": lambda d, n: (
        f"Closing as {str(d.get('outcome') or 'resolved').replace('_', ' ')} asked; "
        "a second reviewer must approve it"
    ),
    "close_review_rejected": lambda d, n: (
        "Merging into another case was rejected"
        if d.get("outcome") == "merged"
        else f"Closing as {_stage(d.get('outcome') or 'resolved')} was rejected"
    ),
    "case_linked": lambda d, n: f"Linked to case #{d.get('other')} as {_link(d.get('link'))}",
    "case_unlinked": lambda d, n: f"The link to case #{d.get('other')} was removed",
    "merge_requested": lambda d, n: (
        f"Merging into case #{d.get('into')} asked; a second reviewer must approve it"
    ),
    "merged_into": lambda d, n: (
        f"Merged into case #{d.get('other')}"
        + (" (second reviewer)" if d.get("reviewed") else "")
        + ": closed without a message to the worker; their code for this case answers with "
        "that case's stage"
    ),
    "merged_from": lambda d, n: (
        f"Case #{d.get('other')} was merged into this case: its messages and timeline show here"
    ),
    "remedy_proposed": lambda d, n: "Remedy proposed: the worker is asked whether it is solved",
}


def sentence(event: CaseEvent, names: _Names) -> str:
    """One event in words; an event of a kind not listed reads as its name, never its data."""
    describe = SENTENCES.get(event.kind)
    data = event.data or {}
    if describe is not None:
        return describe(data, names)
    return event.kind.replace("_", " ").capitalize()


def timeline(
    db: Session,
    runtime: Runtime,
    case: Case,
    staff_language: str = "en",
    merged: Sequence[int] = (),
) -> list[Item]:
    """Messages in and out (with delivery state), events and notes, oldest first; with those
    of the cases ``merged`` into this one, each marked with the case it happened on."""
    names = _Names(db)
    items: list[Item] = []
    ids = [case.id, *merged]

    def origin(case_id: int) -> int | None:
        return case_id if case_id != case.id else None

    messages = db.scalars(
        select(Message).where(Message.case_id.in_(ids)).order_by(Message.id)
    ).all()
    history: dict[int, list[str]] = {}
    if messages:
        for message_id, status in db.execute(
            select(DeliveryEvent.message_id, DeliveryEvent.status)
            .where(DeliveryEvent.message_id.in_([m.id for m in messages]))
            .order_by(DeliveryEvent.id)
        ):
            history.setdefault(message_id, []).append(status)
    staff = runtime.catalogs.get(staff_language)
    for m in messages:
        # The message that showed the case code is never displayed, even before it is erased.
        shown = m.body_encrypted is not None and not m.sensitive
        body = _readable(runtime, m.body_encrypted) if shown and m.body_encrypted else None
        inbound = m.direction == INBOUND
        if body is not None and inbound:
            body = worker_words(body)
        if inbound and m.channel == "voice":
            # On a call the worker presses keys or speaks (the recording is attached).
            body = f"(on a call) pressed {body}" if body else "(on a call) spoke a recording"
        meaning = None
        if not inbound and m.catalog_key and staff is not None:
            # What a catalog message says, in the staff's language, beside the worker's.
            keys = [k for k in m.catalog_key.split(",") if k in staff.messages]
            meaning = " ".join(render(staff, k, {}, "sms") for k in keys) or None
        items.append(
            Item(
                at=m.created_at,
                kind="in" if inbound else "out",
                body=body,
                message_id=m.id,
                key=m.catalog_key,
                meaning=meaning,
                state=m.delivery_status,
                error=m.error_code,
                history=history.get(m.id, []),
                media=m.num_media,
                from_case=origin(m.case_id or case.id),
            )
        )
    for e in db.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(ids))):
        items.append(
            Item(
                at=e.at,
                kind="event",
                body=sentence(e, names),
                who=names.actor(e.actor),
                from_case=origin(e.case_id),
            )
        )
    for n in db.scalars(select(CaseNote).where(CaseNote.case_id.in_(ids))):
        items.append(
            Item(
                at=n.at,
                kind="note",
                body=runtime.protector.decrypt(n.text_encrypted),
                who=names.user(n.author_id),
                from_case=origin(n.case_id),
            )
        )
    return sorted(items, key=lambda item: item.at)


def _readable(runtime: Runtime, token: bytes) -> str:
    """A message's text; one that cannot be decrypted (its key removed too early) says so, so
    the rest of the case can still be read."""
    try:
        return runtime.protector.decrypt(token)
    except DecryptionError:
        return UNREADABLE
