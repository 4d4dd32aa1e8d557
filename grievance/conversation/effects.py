"""What the engine asks the host to do. Plain data; the services apply it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Option:
    """A numbered line appended to a message: a catalog label key or a literal label."""

    number: str
    label_key: str | None = None
    label_text: str | None = None


@dataclass(frozen=True)
class Send:
    """Send catalog message ``key`` in ``language``; ``refs`` name values the host fills (``case.code``)."""

    key: str
    language: str
    params: Mapping[str, str] = field(default_factory=dict)
    refs: Mapping[str, str] = field(default_factory=dict)
    options: tuple[Option, ...] = ()


@dataclass(frozen=True)
class SetLanguage:
    """The worker's language is now ``language``; ``confirmed`` when they chose it."""

    language: str
    confirmed: bool


@dataclass(frozen=True)
class OpenCase:
    """Open a case from the intake's answers; ``message_refs`` are the inbound messages behind it."""

    flow: str
    flow_version: int
    language: str
    category: str | None
    workplace: str | None
    description: str | None
    in_danger: bool
    wants_updates: bool
    message_refs: tuple[int | str, ...] = ()
    # WhatsApp: the worker agreed to an SMS when WhatsApp cannot reach them.
    sms_fallback: bool = False
    # The worker chose news that says what the news is, not only that there is some.
    full_updates: bool = False
    # A retaliation report: linked to the worker's latest case, never merged into one.
    retaliation: bool = False
    # The worker's answer to the category question could not be read: a handler decides.
    category_unclear: bool = False


@dataclass(frozen=True)
class LookupStatus:
    """Tell the worker the status of the case with ``code``, or of their own cases when None."""

    language: str
    code: str | None


@dataclass(frozen=True)
class OptOut:
    """The worker sent STOP: send nothing more until START."""


@dataclass(frozen=True)
class OptIn:
    """The worker sent START: messages may be sent again."""


@dataclass(frozen=True)
class Handover:
    """The worker asked for a person; a handler should reach out.

    The host must make the request something a person sees (a flag on the worker's case,
    or a new case in the ``requested`` stage) before any reply promises a person.
    """

    reason: str
    message_refs: tuple[int | str, ...] = ()
    # What the worker has told so far, for a request that opens a case of its own.
    description: str | None = None


@dataclass(frozen=True)
class ToCase:
    """These messages are for the worker's case (``case``: the one a handler asked about;
    None: the case the worker was last active on), where a person reads them.

    ``question`` and ``answer`` say what they answer when a handler asked something.
    """

    message_refs: tuple[int | str, ...]
    case: int | None = None
    question: str | None = None
    answer: str | None = None


@dataclass(frozen=True)
class Urgent:
    """The worker may be in danger now: a P0 case (the worker's, or a new one with what they
    wrote so far), a person requested, and staff alerted at once."""

    reason: str
    language: str
    description: str | None
    category: str | None
    message_refs: tuple[int | str, ...] = ()


@dataclass(frozen=True)
class CallRequest:
    """The worker wants a call on their case at a safe time, on this number or on ``number``.

    The number never goes into the conversation's state: only this effect carries it.
    """

    case: int | None
    time: str | None
    number: str | None


@dataclass(frozen=True)
class WaitUntil:
    """The conversation waits; wake the engine at ``at`` with a timer input."""

    at: datetime


@dataclass(frozen=True)
class Answer:
    """The worker answered a question the mechanism asked about a case (``prompt`` names it)."""

    prompt: int | None
    value: str


@dataclass(frozen=True)
class Appeal:
    """The worker sent APPEAL: reopen their latest closed case if the window allows."""

    language: str


@dataclass(frozen=True)
class WellbeingRecord:
    """The worker's wellbeing answers so far, to be stored under the survey's random ``token``
    for its ``wave``.

    ``answers`` maps question ids to 1-5 (0: skipped); ``said_more`` is whether they wrote
    something at the end and ``reported`` whether they chose to make a report of it.
    """

    token: str | None
    wave: int | None
    answers: Mapping[str, int]
    said_more: bool = False
    reported: bool = False


@dataclass(frozen=True)
class CaseDetails:
    """What the worker told about their case after the code: how many it affects, who
    recruited them, where, what they paid. ``values`` hold the worker's words (never kept
    in the conversation's state: only this effect carries them)."""

    case: int | None
    values: Mapping[str, str]


Effect = (
    Send
    | SetLanguage
    | OpenCase
    | LookupStatus
    | OptOut
    | OptIn
    | Handover
    | WaitUntil
    | Answer
    | Appeal
    | WellbeingRecord
    | ToCase
    | Urgent
    | CallRequest
    | CaseDetails
)
