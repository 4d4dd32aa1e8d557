"""The voice door: a phone call runs the same flows, engine and cases as a text message.

A call is a row (``VoiceCall``) kept server-side: its stage (language, menu, flow, code,
person, offer, message, done), and the step of the question asked, so that an answer
Twilio posts twice is taken once. The caller is the contact found by the keyed hash of
their number; the call row holds no number. Keys pressed and recordings are stored as the
contact's inbound messages (a recording as an encrypted attachment, fetched by a job that
then deletes it at Twilio), and the engine answers in the same request: what it says is
spoken, not sent.

Every function returns a :class:`Script` (TwiML is the channel's business) and never
raises on a caller's input: a call we cannot place in its stage is told so and ended.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grievance import casecode
from grievance.channels.base import DeliveryError
from grievance.channels.voice import (
    Dial,
    Gather,
    Hangup,
    Record,
    Redirect,
    Reject,
    Script,
    Speech,
    Verb,
    VoiceChannel,
    has_say_voice,
)
from grievance.clock import utcnow
from grievance.config import Settings
from grievance.conversation import CallRequest as CallRequestEffect
from grievance.db import affected
from grievance.language import render
from grievance.language.catalog import Catalog, placeholders
from grievance.language.dates import is_date_param, locale_of
from grievance.models import (
    INBOUND,
    Attachment,
    Contact,
    Conversation,
    Message,
    VoiceCall,
    VoiceCallback,
    VoiceCallEvent,
)
from grievance.runtime import Runtime
from grievance.services import dialogue, voice_pieces
from grievance.services.conversations import Conversed, Spoken, converse, deliver_now
from grievance.services.inbox import contact_for
from grievance.services.mails import enqueue_mails
from grievance.services.outbox import queue_message

log = logging.getLogger(__name__)

# The phone menu's own sentences. Catalogs that lack one use the source language's: the
# coverage is listed by `grievance voice prompts` and docs/voice.md.
MESSAGE_KEYS = (
    "voice.language_option",
    "voice.more_languages",
    "voice.main_menu",
    "voice.press_for",
    "voice.press_key",
    "voice.you_pressed",
    "voice.press_yes_no",
    "voice.type_code",
    "voice.record_hint",
    "voice.code_again",
    "voice.code_menu",
    "voice.code_sent",
    "voice.no_key",
    "voice.offer_person",
    "voice.connecting",
    "voice.leave_message",
    "voice.message_taken",
    "voice.callback_promised",
    "voice.callback_when",
    "voice.callback_hour",
    "voice.callback_hour_set",
    "voice.goodbye",
    "voice.sorry",
    "voice.hidden_number",
)
AUDIO_EXTENSIONS = ("wav", "mp3")
# Statuses after which a call is over: what it held to repeat is erased.
FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
# A spoken answer: a recording of a free-text question.
RECORDING_TYPE = "audio/wav"
# When a worker may safely be called back, by key: words for the handler who calls.
CALLBACK_TIMES = {
    "1": "morning (chosen on a call)",
    "2": "afternoon (chosen on a call)",
    "3": "evening (chosen on a call)",
    "4": "any time (chosen on a call)",
}
# At the same question, 5 lets the caller type an hour (0 to 23) in the line's time zone.
HOUR_KEY = "5"
PERSON_KEY = "0"
CALLBACK_KEY = "9"
# A missed-call callback that fails (busy, no answer) is tried this often in all, spaced out.
CALLBACK_ATTEMPTS = 3
CALLBACK_RETRY = timedelta(minutes=10)
# The language menu lists this many languages per page; 9 then means "more languages".
LANGUAGES_PER_PAGE = 8


@dataclass(frozen=True)
class CallAnswer:
    """What Twilio posted to a follow-up action. ``recording_url`` is on Twilio's API host."""

    call_sid: str
    step: int | None = None
    digits: str = ""
    recording_url: str | None = None
    recording_sid: str | None = None


@dataclass
class _After:
    """Work to hand on after the commit: attachments to fetch, SMS to send, staff emails."""

    attachments: list[int] = field(default_factory=list)
    outbox_ids: list[int] = field(default_factory=list)
    mails: list[int] = field(default_factory=list)


class _Turn(NamedTuple):
    """One answer on a call, and what the handler of the call's stage works with."""

    runtime: Runtime
    session: Session
    call: VoiceCall
    contact: Contact
    given: CallAnswer
    language: str
    after: _After


# -- speech --------------------------------------------------------------------------


def _audio_in(folder: Path, name: str) -> Path | None:
    for extension in AUDIO_EXTENSIONS:
        path = folder / f"{name}.{extension}"
        if path.is_file():
            return path
    return None


def audio_path(runtime: Runtime, language: str, key: str) -> Path | None:
    """The operator's recorded prompt for ``key`` in ``language``, if there is one."""
    return _audio_in(runtime.settings.locales_dir / "audio" / language, key)


def draft_path(runtime: Runtime, language: str, key: str) -> Path | None:
    """The machine-made draft of prompt ``key`` in ``language``, if one was made."""
    return _audio_in(runtime.settings.voice_drafts_dir / language, key)


DRAFTS = "drafts.txt"


def draft_hash(text: str) -> str:
    """What a draft recording was made from, so that a draft of words since changed is
    never played (it would say something else)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@functools.lru_cache(maxsize=64)
def _draft_index(path: Path, mtime_ns: int) -> dict[str, str]:
    index: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, _, made_from = line.strip().partition("\t")
        if name:
            index[name] = made_from.strip()
    return index


def draft_index(drafts_dir: Path, language: str) -> dict[str, str]:
    """The draft recordings made for ``language``: name -> hash of the words each was made
    from."""
    path = drafts_dir / language / DRAFTS
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return {}
    return _draft_index(path, mtime)


def prompt_url(runtime: Runtime, language: str, name: str, text: str) -> str | None:
    """The URL Twilio plays to say ``text`` (prompt ``name``) in ``language``: a person's
    recording first; a machine-made draft only where Twilio has no voice for the language,
    and only if it was made from these very words. None: read ``text`` aloud."""
    base = f"{runtime.settings.public_base_url}/twilio/voice"
    audio = audio_path(runtime, language, name)
    if audio is not None:
        return f"{base}/audio/{language}/{audio.name}"
    if has_say_voice(language):
        return None
    drafted = draft_index(runtime.settings.voice_drafts_dir, language)
    draft = draft_path(runtime, language, name) if name in drafted else None
    if draft is None or drafted[name] != draft_hash(text):
        return None
    return f"{base}/drafts/{language}/{draft.name}"


def recording_name(key: str, params: Mapping[str, str]) -> str | None:
    """The name a recording of ``key`` filled with ``params`` has: the key alone without
    parameters, the key and the number for a message whose only parameter is a key on the
    phone (``voice.language_option.2``: "नेपालीको लागि 2 थिच्नुहोस्"); None when the words
    change from call to call (a date, a stage, an option's label)."""
    if not params:
        return key
    values = list(params.values())
    if len(values) == 1 and values[0].isdigit() and len(values[0]) == 1:
        return f"{key}.{values[0]}"
    return None


def _catalog_for(runtime: Runtime, language: str, key: str) -> Catalog:
    default = runtime.engine.default_language
    catalog = runtime.catalogs.get(language) or runtime.catalogs[default]
    return catalog if key in catalog.messages else runtime.catalogs[default]


def _say(runtime: Runtime, language: str, key: str, **params: str) -> Speech:
    """Catalog message ``key`` spoken in ``language`` (its voice wording where it has one),
    from a recording where one exists (see :func:`recording_name`)."""
    catalog = _catalog_for(runtime, language, key)
    text = render(catalog, key, params, "voice")
    # Parameters the words for the ear leave out (the code, said apart) change nothing.
    used = placeholders(catalog.messages[key].for_channel("voice"))
    name = recording_name(key, {k: v for k, v in params.items() if k in used})
    url = prompt_url(runtime, catalog.language, name, text) if name else None
    return Speech(text, catalog.language, url)


def _filled(
    runtime: Runtime,
    language: str,
    key: str,
    params: Mapping[str, str],
    keyed: Mapping[str, str] | None = None,
) -> list[Speech]:
    """Message ``key`` filled with ``params`` (``keyed``: parameters that are themselves
    catalog messages, by key), played from its recorded pieces where every piece is recorded
    (a language without a Twilio voice: see :mod:`voice_pieces`), else as :func:`_say`."""
    keyed = keyed or {}
    catalog = _catalog_for(runtime, language, key)
    texts = dict(params)
    for name, message in keyed.items():
        texts[name] = render(_catalog_for(runtime, catalog.language, message), message, {}, "voice")
    whole = _say(runtime, catalog.language, key, **texts)
    if whole.audio_url is not None:
        return [whole]
    pieces = voice_pieces.compose(
        key, catalog.messages[key].for_channel("voice"), _values(runtime, catalog, texts, keyed)
    )
    played = _played(runtime, catalog.language, pieces) if pieces else None
    return played or [whole]


def _values(
    runtime: Runtime, catalog: Catalog, texts: Mapping[str, str], keyed: Mapping[str, str]
) -> dict[str, list[voice_pieces.Piece]]:
    """The pieces of each parameter that a recording can say."""
    found: dict[str, list[voice_pieces.Piece]] = {}
    for name, text in texts.items():
        if is_date_param(name):
            pieces = voice_pieces.day(
                text, catalog.locale or catalog.language, month_names(catalog), None
            )
            if pieces:
                found[name] = pieces
            continue
        value = voice_pieces.value(name, text, key=keyed.get(name))
        if value is not None:
            found[name] = value
    return found


def month_names(catalog: Catalog) -> dict[int, str]:
    """The catalog language's names of the months (CLDR), as a call says them."""
    locale = locale_of(catalog.locale or catalog.language)
    return dict(locale.months["format"]["wide"]) if locale is not None else {}


def _played(
    runtime: Runtime, language: str, pieces: list[voice_pieces.Piece]
) -> list[Speech] | None:
    """Each piece from its recording; None when one is not recorded."""
    played = []
    for piece in pieces:
        url = prompt_url(runtime, language, piece.name, piece.text)
        if url is None:
            return None
        played.append(Speech(piece.text, language, url))
    return played


def spoken_code(code: str) -> str:
    """A case code for the ear: digit by digit, in groups of four ("1 2 3 4, 5 6 7 8, ...")."""
    digits = "".join(ch for ch in code if ch.isdigit())
    groups = [" ".join(digits[i : i + 4]) for i in range(0, len(digits), 4)]
    return ", ".join(groups) + "."


def _url(runtime: Runtime, action: str, **params: object) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{runtime.settings.public_base_url}/twilio/voice/{action}" + (
        f"?{query}" if query else ""
    )


def _language(runtime: Runtime, contact: Contact | None) -> str:
    """The language a call speaks to the contact in."""
    language = contact.language if contact is not None else None
    known = language if language in runtime.catalogs else runtime.engine.default_language
    return spoken_as(runtime, known)


def spoken_as(runtime: Runtime, language: str) -> str:
    """The language a call says ``language``'s messages in: a romanized catalog (``ne-Latn``)
    is said as its language (``ne``), whose recordings and voice it shares; a caller does not
    hear a script. Its worker still gets any SMS in Latin letters."""
    base, _, script = language.partition("-")
    return base if script == "Latn" and base in runtime.catalogs else language


def phone_languages(runtime: Runtime) -> list[str]:
    """The languages the phone's language menu offers: each once, not once per script."""
    offered = list(runtime.engine.languages)
    return [
        language
        for language in offered
        if spoken_as(runtime, language) == language or spoken_as(runtime, language) not in offered
    ]


# -- asking --------------------------------------------------------------------------


def _ask(
    runtime: Runtime,
    call: VoiceCall,
    before: list[Speech],
    prompts: list[Speech],
    *,
    num_digits: int | None = 1,
    finish_on_key: str | None = None,
    timeout: int = 6,
) -> Script:
    """Say ``before``, then ask ``prompts`` and wait for keys; remembered to be repeated."""
    gather = Gather(
        _url(runtime, "answer", step=call.step),
        tuple(prompts),
        num_digits=num_digits,
        finish_on_key=finish_on_key,
        timeout=timeout,
    )
    _remember(runtime, call, {"gather": asdict(gather)})
    return Script((*before, gather, Redirect(_url(runtime, "silence", step=call.step))))


def _ask_recording(runtime: Runtime, call: VoiceCall, before: list[Speech]) -> Script:
    """Say ``before`` and record the answer after a beep."""
    record = Record(_url(runtime, "answer", step=call.step), runtime.settings.voice_record_seconds)
    _remember(runtime, call, {"record": [asdict(s) for s in before]})
    return Script((*before, record, Redirect(_url(runtime, "silence", step=call.step))))


def _remember(runtime: Runtime, call: VoiceCall, question: dict[str, object]) -> None:
    # Encrypted: a question may hold a case's stage or a date.
    call.prompt_encrypted = runtime.protector.encrypt(json.dumps(question, ensure_ascii=False))


def _repeat(runtime: Runtime, call: VoiceCall, before: list[Speech] | None = None) -> Script:
    """The last question again, as it was asked (a key not heard, a request sent twice)."""
    if call.prompt_encrypted is None:
        return _end(runtime, call, "voice.goodbye")
    question = json.loads(runtime.protector.decrypt(call.prompt_encrypted))
    lead = before or []
    step = call.step
    if "record" in question:
        said = [Speech(**s) for s in question["record"]]
        record = Record(_url(runtime, "answer", step=step), runtime.settings.voice_record_seconds)
        verbs: tuple[Verb, ...] = (*lead, *said, record)
    else:
        data = question["gather"]
        gather = Gather(
            data["action"],
            tuple(Speech(**p) for p in data["prompts"]),
            num_digits=data["num_digits"],
            finish_on_key=data["finish_on_key"],
            timeout=data["timeout"],
        )
        verbs = (*lead, gather)
    return Script((*verbs, Redirect(_url(runtime, "silence", step=step))))


def _end(runtime: Runtime, call: VoiceCall | None, key: str, language: str | None = None) -> Script:
    """Say ``key`` and hang up; the call keeps nothing to repeat."""
    if call is not None:
        call.stage = "done"
        call.prompt_encrypted = None
        call.code_encrypted = None
    return Script((_say(runtime, language or runtime.engine.default_language, key), Hangup()))


def apology(runtime: Runtime) -> Script:
    """What a call hears when the line failed: sorry, call again."""
    return _end(runtime, None, "voice.sorry")


# -- the call ------------------------------------------------------------------------


def incoming(runtime: Runtime, call_sid: str, caller: str, line: str) -> Script:
    """A call to the line: find the caller's contact, then the language menu (or, with one
    language, the main menu)."""
    if line in runtime.settings.missed_call_numbers:
        return missed_call(runtime, caller, line)
    if not _is_number(caller):
        # A hidden number can be neither kept as a contact nor called back.
        return _end(runtime, None, "voice.hidden_number")
    with runtime.sessions() as session:
        call = session.scalars(select(VoiceCall).where(VoiceCall.call_sid == call_sid)).first()
        if call is None:
            # A caller is reached by SMS (the code on request, news if they agree).
            contact_id = contact_for(session.connection(), runtime, caller, "sms")
            call = VoiceCall(
                call_sid=call_sid,
                contact_id=contact_id,
                direction="inbound",
                our_number=line[:32] or None,
                stage="language",
                step=0,
                silent=0,
            )
            session.add(call)
            session.flush()
        elif call.stage != "language" or call.step != 0:
            # Twilio asked again for a call already under way: the question it is at.
            script = _repeat(runtime, call)
            session.commit()
            return script
        contact = session.get(Contact, call.contact_id) if call.contact_id else None
        script = _language_menu(runtime, call, contact, 0)
        session.commit()
        return script


def _is_number(caller: str) -> bool:
    digits = caller.removeprefix("+")
    return caller.startswith("+") and digits.isdigit() and 6 <= len(digits) <= 15


def _language_menu(runtime: Runtime, call: VoiceCall, contact: Contact | None, page: int) -> Script:
    """Each language offered in its own words; beyond nine, 9 is "more languages"."""
    languages = phone_languages(runtime)
    if len(languages) == 1:
        if contact is not None:
            contact.language = languages[0]
        call.stage = "menu"
        return _main_menu(runtime, call, languages[0])
    paged = len(languages) > 9
    shown = (
        languages[page * LANGUAGES_PER_PAGE : (page + 1) * LANGUAGES_PER_PAGE]
        if paged
        else languages
    )
    prompts = [_language_option(runtime, language, i) for i, language in enumerate(shown, start=1)]
    if paged:
        prompts.append(_say(runtime, languages[0], "voice.more_languages"))
    call.stage = f"language:{page}"
    return _ask(runtime, call, [], prompts)


def _language_option(runtime: Runtime, language: str, number: int) -> Speech:
    """ "For English, press 1." in the language itself; a catalog without the sentence says
    its own name and the number, never another language's sentence."""
    catalog = runtime.catalogs.get(language)
    if catalog is None or "voice.language_option" in catalog.messages:
        return _say(runtime, language, "voice.language_option", n=str(number))
    return Speech(f"{catalog.name}: {number}.", language)


def _main_menu(
    runtime: Runtime, call: VoiceCall, language: str, before: list[Speech] | None = None
) -> Script:
    call.stage = "menu"
    return _ask(runtime, call, before or [], [_say(runtime, language, "voice.main_menu")])


def answer(runtime: Runtime, given: CallAnswer) -> Script:
    """A key pressed or a recording made in answer to the call's question."""
    after = _After()
    with runtime.sessions() as session:
        call = _locked_call(session, runtime, given.call_sid)
        if call is None or call.stage == "done":
            return _end(runtime, None, "voice.sorry")
        contact = session.get(Contact, call.contact_id) if call.contact_id else None
        if contact is None:
            script = _end(runtime, call, "voice.sorry")
            session.commit()
            return script
        if given.step != call.step:
            # Twilio sent an answer again, or an old one: the current question, unchanged.
            script = _repeat(runtime, call)
            session.commit()
            return script
        call.step += 1
        call.silent = 0
        language = _language(runtime, contact)
        stage, _, page = call.stage.partition(":")
        handler = _STAGES.get(stage)
        if stage == "language":
            script = _on_language(runtime, call, contact, given.digits, int(page or 0))
        elif handler is not None:
            script = handler(_Turn(runtime, session, call, contact, given, language, after))
        else:
            script = _end(runtime, call, "voice.goodbye", language)
        session.commit()
    _hand_on(runtime, after)
    return script


def _locked_call(session: Session, runtime: Runtime, call_sid: str) -> VoiceCall | None:
    query = select(VoiceCall).where(VoiceCall.call_sid == call_sid)
    if not runtime.settings.is_sqlite:
        query = query.with_for_update()
    return session.scalars(query).first()


def _hand_on(runtime: Runtime, after: _After) -> None:
    for attachment_id in after.attachments:
        runtime.queue.enqueue("fetch_recording", attachment_id)
    enqueue_mails(runtime, after.mails)
    deliver_now(runtime, after.outbox_ids)


def _on_language(
    runtime: Runtime, call: VoiceCall, contact: Contact, digits: str, page: int
) -> Script:
    languages = phone_languages(runtime)
    paged = len(languages) > 9
    shown = (
        languages[page * LANGUAGES_PER_PAGE : (page + 1) * LANGUAGES_PER_PAGE]
        if paged
        else languages
    )
    if digits == PERSON_KEY:  # a person, before any language is chosen
        return _person(runtime, call, runtime.engine.default_language)
    if paged and digits == "9":
        following = page + 1 if (page + 1) * LANGUAGES_PER_PAGE < len(languages) else 0
        return _language_menu(runtime, call, contact, following)
    if not digits.isdigit() or not 1 <= int(digits) <= len(shown):
        return _language_menu(runtime, call, contact, page)
    chosen = shown[int(digits) - 1]
    if contact.language is None or spoken_as(runtime, contact.language) != chosen:
        contact.language = chosen  # a worker who writes Nepali in Latin letters keeps them
    contact.language_confirmed = True
    return _main_menu(runtime, call, chosen)


def _on_menu(turn: _Turn) -> Script:
    runtime, session, call, contact, given, language, after = turn
    digits = given.digits
    if digits == PERSON_KEY:
        return _person(runtime, call, language)
    flow = {"1": runtime.engine.flowset.default_flow, "2": "status"}.get(digits)
    if flow is None or flow not in runtime.engine.flowset.flows:
        return _main_menu(runtime, call, language, [_say(runtime, language, "common.reask_menu")])
    conversed = converse(session, runtime, contact, start=flow)
    return _conversed(runtime, call, contact, conversed, [], after)


def _on_flow(turn: _Turn) -> Script:
    runtime, session, call, contact, given, language, after = turn
    kind, options = _waiting(runtime, session, contact)
    if given.digits == PERSON_KEY and kind not in ("scale", "code"):
        return _person(runtime, call, language)
    before: list[Speech] = []
    if given.recording_url:
        message = _store(runtime, session, contact, call, "", given)
        after.attachments += [
            a.id
            for a in session.scalars(select(Attachment).where(Attachment.message_id == message.id))
        ]
    elif given.digits:
        message = _store(runtime, session, contact, call, given.digits, given)
        label = dict(options).get(given.digits) if kind == "menu" else None
        if label:
            # The key is confirmed back: "You pressed 5: danger to health or safety".
            before += _filled(
                runtime, language, "voice.you_pressed", {"n": given.digits}, {"label": label}
            )
    else:
        return _repeat(runtime, call)
    conversed = converse(session, runtime, contact, message=message)
    masked = casecode.mask_codes(given.digits)
    if message.body_encrypted is not None and masked != given.digits:
        # A case code typed on the keypad is read and then forgotten, as a typed one is.
        message.body_encrypted = runtime.protector.encrypt(masked)
    return _conversed(runtime, call, contact, conversed, before, after)


def _waiting(
    runtime: Runtime, session: Session, contact: Contact
) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """The kind and options of the question the contact's conversation waits on."""
    state = session.scalar(select(Conversation.state).where(Conversation.contact_id == contact.id))
    run: dict[str, Any] = dict((state or {}).get("run") or {})  # type: ignore[call-overload]
    if not run.get("waiting"):
        return None, ()
    flow = runtime.engine.flowset.flows.get(run.get("flow") or "")
    node = flow.nodes.get(run.get("node") or "") if flow else None
    if node is None or node.wait is None:
        return None, ()
    return node.wait.kind, tuple((o.number, o.label or "") for o in node.wait.options)


def _store(
    runtime: Runtime,
    session: Session,
    contact: Contact,
    call: VoiceCall,
    digits: str,
    given: CallAnswer,
) -> Message:
    """Keys pressed or a recording, as the contact's inbound message (exactly once: the
    call's sid and step name it)."""
    now = utcnow()
    message = Message(
        direction=INBOUND,
        contact_id=contact.id,
        channel="voice",
        provider_sid=f"{call.call_sid}:{call.step}"[:64],
        body_encrypted=runtime.protector.encrypt(digits) if digits else None,
        num_media=1 if given.recording_url else 0,
        fields={"RecordingSid": given.recording_sid} if given.recording_sid else {},
        sensitive=False,
        created_at=now,
    )
    session.add(message)
    session.flush()
    if given.recording_url:
        session.add(
            Attachment(
                message_id=message.id,
                position=0,
                content_type=RECORDING_TYPE,
                # Twilio serves the recording as WAV at its URL with the extension.
                source_url=given.recording_url.removesuffix(".wav") + ".wav",
                status="pending",
            )
        )
        session.flush()
    contact.last_inbound_at = now
    return message


def _conversed(
    runtime: Runtime,
    call: VoiceCall,
    contact: Contact,
    conversed: Conversed,
    before: list[Speech],
    after: _After,
) -> Script:
    """What the engine said, spoken, and the question it waits on, asked by phone."""
    after.outbox_ids += conversed.outbox_ids
    after.mails += conversed.mails
    language = _language(runtime, contact)
    said = list(before)
    code: str | None = None
    for written in conversed.spoken:
        spoken = _as_said(runtime, written)
        if spoken.text.strip():
            said += _spoken(runtime, spoken)
        for number, label, label_key in spoken.options:
            said += _option(runtime, spoken.language, number, label, label_key)
        code = spoken.code or code
    if code is not None:
        call.code_encrypted = runtime.protector.encrypt(code)
        call.case_id = conversed.case_id
        call.stage = "code"
        return _code(runtime, call, language, said, code)
    kind = conversed.wait_kind
    call.stage = "flow"
    if kind in ("text", "media"):
        return _ask_recording(runtime, call, [*said, _say(runtime, language, "voice.record_hint")])
    if kind == "code":
        prompts = [*said, _say(runtime, language, "voice.type_code")]
        return _ask(runtime, call, [], prompts, num_digits=12, finish_on_key="#", timeout=12)
    if kind is not None:
        if kind == "yes_no":
            said.append(_say(runtime, language, "voice.press_yes_no"))
        digits = 2 if len(conversed.options) > 9 else 1
        return _ask(runtime, call, [], said, num_digits=digits)
    return Script((*said, *_end(runtime, call, "voice.goodbye", language).verbs))


def _as_said(runtime: Runtime, spoken: Spoken) -> Spoken:
    """An engine message of a romanized catalog, in the language it is said in (the same
    key, parameters and options, in that language's words)."""
    language = spoken_as(runtime, spoken.language)
    if language == spoken.language or spoken.key not in runtime.catalogs[language].messages:
        return spoken

    def words(key: str) -> str:
        return render(_catalog_for(runtime, language, key), key, {}, "voice")

    params = dict(spoken.params) | {name: words(key) for name, key in spoken.keyed}
    options = tuple(
        (number, words(key) if key else label, key) for number, label, key in spoken.options
    )
    text = render(runtime.catalogs[language], spoken.key, params, "voice")
    return replace(spoken, language=language, text=text, options=options)


def _spoken(runtime: Runtime, spoken: Spoken) -> list[Speech]:
    """An engine message on a call: from its recording, or its recorded pieces when it was
    filled on the call (a STATUS answer's stage and date), else read."""
    if spoken.params:
        return _filled(
            runtime, spoken.language, spoken.key, dict(spoken.params), dict(spoken.keyed)
        )
    catalog = runtime.catalogs.get(spoken.language)
    message = catalog.messages.get(spoken.key) if catalog is not None else None
    url = None
    if message is not None and message.for_channel("voice") == spoken.text:
        url = prompt_url(runtime, spoken.language, spoken.key, spoken.text)
    return [Speech(spoken.text, spoken.language, url)]


def _option(
    runtime: Runtime, language: str, number: str, label: str, label_key: str | None
) -> list[Speech]:
    """ "Press 5 for danger to health or safety.": played as two recordings (the label, then
    "press 5") where both exist, else from the sentence's pieces, else read."""
    if label_key is None:
        return [_say(runtime, language, "voice.press_for", n=number, label=label)]
    label_url = prompt_url(runtime, language, label_key, label)
    press = _say(runtime, language, "voice.press_key", n=number)
    if label_url is not None and press.audio_url is not None:
        return [Speech(label, language, label_url), press]
    return _filled(runtime, language, "voice.press_for", {"n": number}, {"label": label_key})


def _digits(runtime: Runtime, language: str, code: str) -> list[Speech]:
    """A case code digit by digit in groups of four, with a pause between groups: from the
    recordings of the digits where all ten are recorded, else read."""
    digits = "".join(ch for ch in code if ch.isdigit())
    played = _played(runtime, language, [p for d in digits for p in voice_pieces.number(int(d))])
    if played is None:
        return [Speech(spoken_code(code), language)]
    groups = [played[i : i + 4] for i in range(0, len(played), 4)]
    return [
        replace(speech, pause=1) if i == len(group) - 1 else speech
        for group in groups
        for i, speech in enumerate(group)
    ]


def _code(
    runtime: Runtime, call: VoiceCall, language: str, said: list[Speech], code: str
) -> Script:
    """The case code twice, digit by digit, then: 1 to hear it again, 2 for an SMS."""
    digits = _digits(runtime, language, code)
    prompts = [*said, *digits, _say(runtime, language, "voice.code_again"), *digits]
    prompts.append(_say(runtime, language, "voice.code_menu"))
    return _ask(runtime, call, [], prompts)


def _on_code(turn: _Turn) -> Script:
    runtime, session, call, contact, given, language, after = turn
    digits = given.digits
    if call.code_encrypted is None:
        return _end(runtime, call, "voice.goodbye", language)
    code = runtime.protector.decrypt(call.code_encrypted)
    if digits == "1":
        return _code(runtime, call, language, [], code)
    if digits == "2":
        # Only on request: an SMS on a shared phone can expose the worker.
        # In the worker's own catalog: Latin letters for one who writes Nepali in them.
        catalog = (
            runtime.catalogs.get(contact.language or language)
            or runtime.catalogs[runtime.engine.default_language]
        )
        text = render(catalog, "intake.case_opened", {"code": casecode.display(code)}, "sms")
        item = queue_message(
            session,
            runtime,
            contact,
            text,
            catalog_key="intake.case_opened",
            case_id=call.case_id,
            sensitive=True,
        )
        if item is not None:
            after.outbox_ids.append(item.id)
            sent = _say(runtime, language, "voice.code_sent")
            return Script((sent, *_end(runtime, call, "voice.goodbye", language).verbs))
        return _code(runtime, call, language, [], code)
    if digits == PERSON_KEY:
        call.code_encrypted = None
        return _person(runtime, call, language)
    return _end(runtime, call, "voice.goodbye", language)


# -- a person ------------------------------------------------------------------------


def staffed(settings: Settings, now: datetime | None = None) -> bool:
    """True when a person answers the staffed number at ``now`` (default: now), by the
    weekly schedule in the line's time zone."""
    if not settings.voice_staffed_number:
        return False
    local = (now or utcnow()).astimezone(ZoneInfo(settings.voice_timezone))
    minute = local.hour * 60 + local.minute
    return any(
        start <= minute < end
        for start, end in settings.voice_staffed_hours.get(local.weekday(), ())
    )


def _person(runtime: Runtime, call: VoiceCall, language: str) -> Script:
    """During staffed hours the call is put through, showing the line's number; otherwise
    (or when nobody answers) the caller leaves a message for a case handler."""
    settings = runtime.settings
    if staffed(settings) and settings.voice_staffed_number:
        call.stage = "person"
        call.prompt_encrypted = None
        dial = Dial(
            settings.voice_staffed_number,
            call.our_number or settings.twilio_sms_from,
            _url(runtime, "dialed", step=call.step),
        )
        return Script((_say(runtime, language, "voice.connecting"), dial))
    return _leave_message(runtime, call, language)


def _leave_message(runtime: Runtime, call: VoiceCall, language: str) -> Script:
    call.stage = "message"
    return _ask_recording(runtime, call, [_say(runtime, language, "voice.leave_message")])


def dialed(runtime: Runtime, call_sid: str, status: str) -> Script:
    """After the call was put through: over if answered, else a message is taken."""
    with runtime.sessions() as session:
        call = _locked_call(session, runtime, call_sid)
        if call is None:
            return _end(runtime, None, "voice.sorry")
        contact = session.get(Contact, call.contact_id) if call.contact_id else None
        language = _language(runtime, contact)
        if status == "completed":
            call.stage = "done"
            script = Script((Hangup(),))
        else:
            call.step += 1
            script = _leave_message(runtime, call, language)
        session.commit()
        return script


def _on_message(turn: _Turn) -> Script:
    """A message for a person: on the worker's case (or a new one) with a person requested."""
    runtime, session, call, contact, given, language, after = turn
    if not given.recording_url:
        return _end(runtime, call, "voice.goodbye", language)
    message = _store(runtime, session, contact, call, "", given)
    after.attachments += [
        a.id for a in session.scalars(select(Attachment).where(Attachment.message_id == message.id))
    ]
    message.processed_at = utcnow()
    contact.handover_requested_at = utcnow()
    _case, mails = dialogue.request_person(
        session, runtime, contact, "voice_message", (message.id,), language
    )
    after.mails += mails
    return _ask_when(runtime, call, language, [_say(runtime, language, "voice.message_taken")])


def _ask_when(runtime: Runtime, call: VoiceCall, language: str, before: list[Speech]) -> Script:
    """A person will call back: when is it safe to call?"""
    call.stage = "when"
    return _ask(runtime, call, before, [_say(runtime, language, "voice.callback_when")])


def _on_when(turn: _Turn) -> Script:
    """The time the worker chose goes to the handler with the request, as a call request
    by SMS does; 5 asks for an hour instead; no key chosen leaves the request as it is."""
    runtime, session, call, contact, given, language, _after = turn
    digits = given.digits
    if digits == HOUR_KEY:
        return _ask_hour(runtime, call, language, [])
    time = CALLBACK_TIMES.get(digits)
    if time is not None:
        _call_at(session, runtime, contact, time)
    return _end(runtime, call, "voice.callback_promised", language)


def _ask_hour(runtime: Runtime, call: VoiceCall, language: str, before: list[Speech]) -> Script:
    call.stage = "hour:1" if call.stage.startswith("hour") else "hour"
    prompts = [_say(runtime, language, "voice.callback_hour")]
    return _ask(runtime, call, before, prompts, num_digits=2, finish_on_key="#", timeout=10)


def _on_hour(turn: _Turn) -> Script:
    """An hour typed on the keypad (0 to 23, in the line's time zone): the handler sees it
    with the request and the caller hears it back. An hour that cannot be read is asked
    once more, then the call back is left at any time, never guessed."""
    runtime, session, call, contact, given, language, _after = turn
    digits = given.digits
    hour = int(digits) if digits.isdigit() and len(digits) <= 2 else None
    if hour is None or hour > 23:
        if call.stage == "hour":
            again = [_say(runtime, language, "common.reask_menu")]
            return _ask_hour(runtime, call, language, again)
        _call_at(session, runtime, contact, CALLBACK_TIMES["4"])
        return _end(runtime, call, "voice.callback_promised", language)
    zone = runtime.settings.voice_timezone
    _call_at(session, runtime, contact, f"about {hour:02d}:00 {zone} (chosen on a call)")
    said = _filled(runtime, language, "voice.callback_hour_set", {"hour": str(hour)})
    return Script((*said, *_end(runtime, call, "voice.goodbye", language).verbs))


def _call_at(session: Session, runtime: Runtime, contact: Contact, time: str) -> None:
    dialogue.record_call_request(
        session, runtime, contact, CallRequestEffect(case=None, time=time, number=None)
    )


# -- nothing heard --------------------------------------------------------------------


def silence(runtime: Runtime, call_sid: str, step: int | None) -> Script:
    """No key pressed: the question once more, then a person or a call back is offered.
    Nothing heard is never taken for an answer."""
    with runtime.sessions() as session:
        call = _locked_call(session, runtime, call_sid)
        if call is None or call.stage == "done":
            return _end(runtime, None, "voice.goodbye")
        contact = session.get(Contact, call.contact_id) if call.contact_id else None
        language = _language(runtime, contact)
        if step != call.step:
            script = _repeat(runtime, call)
        elif call.stage == "when" or call.stage.startswith("hour"):
            # The request for a person stands; only its time is left unsaid.
            script = _end(runtime, call, "voice.callback_promised", language)
        elif call.stage in ("code", "offer", "message"):
            script = _end(runtime, call, "voice.goodbye", language)
        else:
            call.silent += 1
            if call.silent == 1:
                script = _repeat(runtime, call, [_say(runtime, language, "voice.no_key")])
            else:
                call.step += 1
                call.stage = "offer"
                script = _ask(runtime, call, [], [_say(runtime, language, "voice.offer_person")])
        session.commit()
        return script


def _on_offer(turn: _Turn) -> Script:
    runtime, session, call, contact, given, language, after = turn
    digits = given.digits
    if digits == PERSON_KEY:
        return _person(runtime, call, language)
    if digits == CALLBACK_KEY:
        contact.handover_requested_at = utcnow()
        _case, mails = dialogue.request_person(
            session, runtime, contact, "voice_callback", (), language
        )
        after.mails += mails
        return _ask_when(runtime, call, language, [])
    return _end(runtime, call, "voice.goodbye", language)


# What answers each stage of a call (the language menu, which also needs its page, aside).
_STAGES: dict[str, Callable[[_Turn], Script]] = {
    "menu": _on_menu,
    "flow": _on_flow,
    "code": _on_code,
    "offer": _on_offer,
    "message": _on_message,
    "when": _on_when,
    "hour": _on_hour,
}


# -- status callbacks -----------------------------------------------------------------


def record_status(runtime: Runtime, call_sid: str, status: str) -> bool:
    """Record a call's status once per (CallSid, status); a call that is over forgets what
    it held to repeat (its last question, a case code). False for a duplicate."""
    now = utcnow()
    with runtime.sessions() as session:
        exists = session.scalar(
            select(VoiceCallEvent.id).where(
                VoiceCallEvent.call_sid == call_sid, VoiceCallEvent.status == status
            )
        )
        if exists is not None:
            return False
        session.add(VoiceCallEvent(call_sid=call_sid, status=status, at=now))
        try:
            session.flush()
        except Exception:  # the same status posted twice at once: the other one won
            session.rollback()
            return False
        callback = session.scalars(
            select(VoiceCallback).where(VoiceCallback.call_sid == call_sid)
        ).first()
        retry: int | None = None
        if callback is not None and callback.status == "calling":
            if status in ("in-progress", "answered", "completed"):
                callback.status = "answered"
            elif status in FINAL_STATUSES:
                retry = callback.id
        call = session.scalars(select(VoiceCall).where(VoiceCall.call_sid == call_sid)).first()
        if call is not None:
            call.status = status
            if status in FINAL_STATUSES:
                call.stage = "done"
                call.ended_at = now
                call.prompt_encrypted = None
                call.code_encrypted = None
        session.commit()
    if retry is not None:
        _callback_failed(runtime, retry, f"the call ended: {status}", retry=True)
    return True


def forget_ended_calls(runtime: Runtime, older_than: timedelta = timedelta(hours=2)) -> int:
    """Erase what calls without a final status still hold (a lost status callback)."""
    from sqlalchemy import update

    cutoff = utcnow() - older_than
    with runtime.sessions() as session:
        erased = affected(
            session.execute(
                update(VoiceCall)
                .where(VoiceCall.created_at < cutoff, VoiceCall.ended_at.is_(None))
                .values(prompt_encrypted=None, code_encrypted=None, stage="done", ended_at=utcnow())
            )
        )
        session.commit()
    return erased


# -- recordings -----------------------------------------------------------------------


def fetch_recording(runtime: Runtime, attachment_id: int) -> str:
    """Download a call recording into an encrypted attachment, then delete it at Twilio.

    Transcription was never asked for; the recording leaves Twilio as soon as we hold it.
    """
    from grievance.channels.voice import VoiceChannel
    from grievance.services.media import fetch_media

    status = fetch_media(runtime, attachment_id)
    if status != "stored" or runtime.settings.twilio_delete_after_minutes < 0:
        return status  # -1: the operator keeps copies at Twilio, recordings as messages
    with runtime.sessions() as session:
        attachment = session.get(Attachment, attachment_id)
        message = session.get(Message, attachment.message_id) if attachment else None
        if message is None or message.provider_deleted_at is not None:
            return status
        sid = (message.fields or {}).get("RecordingSid")
        channel = runtime.channel
        if sid and isinstance(channel, VoiceChannel):
            channel.delete_recording(sid)
        message.provider_deleted_at = utcnow()
        session.commit()
    return status


# -- missed calls ---------------------------------------------------------------------


def missed_call(runtime: Runtime, caller: str, line: str) -> Script:
    """A call to a missed-call line: rejected unanswered (free for the caller where rejected
    calls are), and called back, within limits: one callback per number per hour, none to a
    number that opted out, and a global hourly cap so that a flood of missed calls cannot
    make the line call strangers."""
    if not _is_number(caller):
        return Script((Reject(),))
    now = utcnow()
    callback_id: int | None = None
    with runtime.sessions() as session:
        contact_id = contact_for(session.connection(), runtime, caller, "sms")
        contact = session.get(Contact, contact_id)
        assert contact is not None
        hour_ago = now - timedelta(hours=1)
        recent = session.scalar(
            select(VoiceCallback.id).where(
                VoiceCallback.contact_id == contact_id, VoiceCallback.created_at >= hour_ago
            )
        )
        placed = session.scalar(
            select(func.count(VoiceCallback.id)).where(
                VoiceCallback.created_at >= hour_ago, VoiceCallback.status != "refused"
            )
        )
        if contact.opted_out:
            reason = "opted_out"
        elif recent is not None:
            reason = "too_soon"
        elif (placed or 0) >= runtime.settings.voice_callbacks_per_hour:
            reason = "hourly_cap"
        else:
            reason = None
        if reason == "hourly_cap":
            log.warning("missed call not called back: the hourly callback cap is reached")
        if reason != "too_soon":
            callback = VoiceCallback(
                contact_id=contact_id,
                our_number=line[:32],
                status="refused" if reason else "pending",
                attempts=0,
                due_at=None if reason else now,
                last_error=reason,
                created_at=now,
            )
            session.add(callback)
            session.flush()
            callback_id = None if reason else callback.id
        session.commit()
    if callback_id is not None:
        runtime.queue.enqueue("place_callback", callback_id)
    return Script((Reject(),))


def place_callback(runtime: Runtime, callback_id: int) -> str:
    """Call a missed caller back into the phone menu; returns the callback's status.

    Idempotent: the callback is claimed from 'pending' once per attempt.
    """
    from sqlalchemy import update

    with runtime.sessions() as session:
        claimed = affected(
            session.execute(
                update(VoiceCallback)
                .where(VoiceCallback.id == callback_id, VoiceCallback.status == "pending")
                .values(status="calling", attempts=VoiceCallback.attempts + 1)
            )
        )
        session.commit()
        callback = session.get(VoiceCallback, callback_id)
        if callback is None or not claimed:
            return callback.status if callback is not None else "missing"
        contact = session.get(Contact, callback.contact_id) if callback.contact_id else None
        if contact is None or contact.address_encrypted is None or contact.opted_out:
            callback.status = "refused"
            callback.last_error = "no_contact" if contact is None else "opted_out"
            session.commit()
            return callback.status
        number = runtime.protector.decrypt(contact.address_encrypted)
        line = callback.our_number or runtime.settings.twilio_sms_from or ""
        contact_id = contact.id
    channel = runtime.channel
    if not isinstance(channel, VoiceChannel):
        return _callback_failed(runtime, callback_id, "no voice channel", retry=False)
    try:
        sid = channel.create_call(
            number,
            line,
            _url(runtime, "callback", id=callback_id),
            _url(runtime, "status"),
        )
    except DeliveryError as exc:
        return _callback_failed(runtime, callback_id, exc.reason, retry=exc.retryable)
    with runtime.sessions() as session:
        callback = session.get(VoiceCallback, callback_id)
        assert callback is not None
        callback.call_sid = sid
        session.add(
            VoiceCall(
                call_sid=sid,
                contact_id=contact_id,
                direction="callback",
                our_number=line[:32] or None,
                stage="language",
                step=0,
                silent=0,
            )
        )
        session.commit()
    return "calling"


def _callback_failed(runtime: Runtime, callback_id: int, reason: str, *, retry: bool) -> str:
    """A callback that did not reach the worker: tried again later, up to the limit, then
    given up (and recorded)."""
    with runtime.sessions() as session:
        callback = session.get(VoiceCallback, callback_id)
        if callback is None:
            return "missing"
        callback.last_error = reason[:200]
        if retry and callback.attempts < CALLBACK_ATTEMPTS:
            callback.status = "pending"
            delay = CALLBACK_RETRY * callback.attempts
            callback.due_at = utcnow() + delay
            session.commit()
            runtime.queue.enqueue_in(delay, "place_callback", callback_id)
            return "pending"
        callback.status = "given_up"
        session.commit()
        log.info("callback %s given up after %s attempt(s)", callback_id, callback.attempts)
        return "given_up"


def callback_answered(runtime: Runtime, call_sid: str) -> Script:
    """The worker picked up the line's callback: the phone menu, as for a call of theirs."""
    with runtime.sessions() as session:
        call = _locked_call(session, runtime, call_sid)
        if call is None or call.direction != "callback":
            return _end(runtime, None, "voice.sorry")
        if call.stage != "language" or call.step != 0:
            script = _repeat(runtime, call)
        else:
            contact = session.get(Contact, call.contact_id) if call.contact_id else None
            script = _language_menu(runtime, call, contact, 0)
        session.commit()
        return script
