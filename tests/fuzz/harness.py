"""What the fuzzers check, shared by the Hypothesis tests and ``scripts/fuzz_atheris.py``.

Two parts: helpers and properties of the Twilio webhooks (signing, snapshots of what
is stored and sent, the webhook's specification), and :class:`Conversation`, one
contact's conversation with the flow engine that checks every step it takes.
Nothing here depends on Hypothesis or pytest.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from grievance.app import MAX_REQUEST_BYTES
from grievance.channels.twilio import empty_twiml
from grievance.conversation import (
    Appeal,
    Engine,
    Expired,
    Handover,
    Input,
    LookupStatus,
    Message,
    OpenCase,
    OptIn,
    OptOut,
    Send,
    Step,
    TimedOut,
    ToCase,
    Urgent,
    WaitUntil,
    due_timer,
    load_flowset,
    new_session,
    wake_at,
)
from grievance.conversation.render import render_send
from grievance.language.catalog import placeholders
from grievance.language.words import story_like
from grievance.models import INBOUND, OUTBOUND, Attachment, Contact
from grievance.models import Message as StoredMessage
from grievance.runtime import Runtime
from grievance.services.conversations import MAX_MESSAGE
from grievance.services.prompts import FLOWS as PROMPTS
from grievance.web.webhooks import KEPT_FIELDS
from tests.conftest import PUBLIC_URL
from tests.fuzz.strategies import ALL_CATALOGS, ALL_LANGUAGES, ROOT
from tests.support.fake_twilio import AUTH_TOKEN, FakeTwilio

# -- the webhooks ----------------------------------------------------------------------

MESSAGING = "/twilio/messaging"
STATUS = "/twilio/status"
TWIML = empty_twiml().encode()
VALID_SID = re.compile(r"[A-Za-z]{2}[0-9a-fA-F]{32}")
FAKE_MEDIA = "<fake-media-url>"  # replaced by a URL the fake Twilio server serves
PNG = b"\x89PNG\r\n\x1a\n fuzz image"


def sign(
    form: Any, path: str = MESSAGING, *, token: str = AUTH_TOKEN, base: str = PUBLIC_URL
) -> str:
    """The signature Twilio would send for ``form`` (a dict or a MultiDict) posted to ``base + path``."""
    return str(RequestValidator(token).compute_signature(base + path, form))


def post(client: Any, form: Any, path: str = MESSAGING, sig: str | None = None) -> Any:
    """POST ``form`` with ``sig`` as X-Twilio-Signature (none when None)."""
    headers = {"X-Twilio-Signature": sig} if sig is not None else {}
    return client.post(path, data=form, headers=headers)


def count(runtime: Runtime, model: type, *where: Any) -> int:
    with runtime.sessions() as session:
        query = select(func.count()).select_from(model)
        for condition in where:
            query = query.where(condition)
        return int(session.scalar(query) or 0)


def snapshot(runtime: Runtime, fake: FakeTwilio) -> dict[str, int]:
    """How much is stored and sent: equal snapshots mean a request changed nothing."""
    return {
        "inbound": count(runtime, StoredMessage, StoredMessage.direction == INBOUND),
        "outbound": count(runtime, StoredMessage, StoredMessage.direction == OUTBOUND),
        "contacts": count(runtime, Contact),
        "attachments": count(runtime, Attachment),
        "sent": len(fake.messages),
    }


NOTHING = {"inbound": 0, "outbound": 0, "contacts": 0, "attachments": 0, "sent": 0}


def as_read(form: dict[str, str]) -> dict[str, str]:
    """``form`` as the webhook reads it once the signature is checked: without NUL characters."""
    return {key: value.replace("\x00", "") for key, value in form.items()}


def expected_status(form: dict[str, str]) -> int:
    """What the webhook must answer a correctly signed ``form`` (its specification)."""
    if len(urlencode(form).encode()) > MAX_REQUEST_BYTES:
        return 413
    form = as_read(form)
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    has_sender = form.get("From", "").strip() or form.get("ExternalUserId", "").strip()
    return 200 if VALID_SID.fullmatch(sid) and has_sender else 400


def worker_address(form: dict[str, str]) -> str:
    """The address the line stores and answers for a signed ``form``."""
    form = as_read(form)
    sender = form.get("From", "").strip()
    return sender or f"whatsapp-user:{form.get('ExternalUserId', '').strip()}"


def secrets_of(form: dict[str, str]) -> list[str]:
    """The personal values of ``form`` long enough to be recognised in output."""
    form = as_read(form)
    values = [form.get("From", "").strip(), form.get("ExternalUserId", "").strip()]
    return [v for v in values if len(v) >= 7]


def check_response(response: Any, form: dict[str, str]) -> None:
    """Never a 5xx; the body is the fixed empty TwiML or nothing, so it echoes nothing."""
    assert response.status_code < 500, response.status_code
    assert response.data in (TWIML, b""), response.data[:200]
    for value in secrets_of(form):
        for name, header in response.headers.items():
            assert value not in header, f"header {name} echoes the sender"


def check_logs(records: Iterable[logging.LogRecord], form: dict[str, str]) -> None:
    """No log line quotes the sender; no job failed except media the channel refused."""
    for record in records:
        if record.name == "werkzeug":
            continue  # the fake Twilio server's access log, in this process
        message = record.getMessage()
        for value in secrets_of(form):
            assert value not in message, f"log line quotes the sender: {message[:200]!r}"
        if record.levelno >= logging.ERROR and record.name == "grievance.jobs":
            # "job fetch_media: MediaError": a download that may work later (5xx, timeout);
            # the sweeper retries it. Media that can never be fetched is marked failed.
            assert message.endswith(": MediaError"), message


def check_no_nul(runtime: Runtime) -> None:
    """PostgreSQL text columns cannot hold NUL: anything that stores one is a 5xx there."""
    with runtime.sessions() as session:
        values = [
            *session.scalars(select(Contact.our_address)),
            *session.scalars(select(Contact.channel)),
            *session.scalars(select(StoredMessage.provider_sid)),
            *session.scalars(select(StoredMessage.error_code)),
            *session.scalars(select(StoredMessage.delivery_status)),
            *session.scalars(select(Attachment.source_url)),
            *session.scalars(select(Attachment.content_type)),
        ]
    for value in values:
        assert value is None or "\x00" not in value, f"NUL stored in a text column: {value!r}"


def with_fake_media(form: dict[str, str], fake: FakeTwilio) -> dict[str, str]:
    """``form`` with :data:`FAKE_MEDIA` replaced by a media URL the fake server serves."""
    url = fake.add_media("fuzz", PNG, "image/png")
    return {k: url if v == FAKE_MEDIA else v for k, v in form.items()}


def check_signed_inbound(
    client: Any,
    runtime: Runtime,
    fake: FakeTwilio,
    form: dict[str, str],
    path: str = MESSAGING,
    records: Callable[[], Iterable[logging.LogRecord]] = lambda: (),
) -> int:
    """Post a correctly signed ``form`` to an empty line, twice; check every property.

    Returns the status of the first answer.
    """
    expected = expected_status(form)
    response = post(client, form, path, sign(form, path))
    check_response(response, form)
    assert response.status_code == expected, (response.status_code, expected)
    after = snapshot(runtime, fake)
    if expected != 200:
        assert after == NOTHING, after
        check_logs(records(), form)
        return expected

    read = as_read(form)
    sid = read.get("MessageSid") or read.get("SmsSid")
    address = worker_address(form)
    assert after["inbound"] == 1, after
    with runtime.sessions() as session:
        stored = session.scalars(
            select(StoredMessage).where(StoredMessage.direction == INBOUND)
        ).one()
        assert stored.provider_sid == sid
        contact = session.get(Contact, stored.contact_id)
        assert contact is not None
        assert runtime.protector.decrypt(contact.address_encrypted or b"") == address
        assert contact.channel == ("whatsapp" if address.startswith("whatsapp:") else "sms")
        # Only the allowlisted fields, cut to 64 characters: never the profile name, WaId, ...
        kept = {k: read[k][:64] for k in KEPT_FIELDS if read.get(k)}
        assert {k: v for k, v in stored.fields.items() if k != "converted_from"} == kept
    # The worker hears back, whatever they sent.
    assert fake.bodies_to(address), "a stored message got no reply"
    check_no_nul(runtime)

    # Twilio retries: the same signed request again changes nothing and sends nothing.
    again = post(client, form, path, sign(form, path))
    check_response(again, form)
    assert again.status_code == 200, again.status_code
    assert snapshot(runtime, fake) == after
    check_logs(records(), form)
    return expected


# -- the flow engine ---------------------------------------------------------------------

FLOWSET, _problems = load_flowset(ROOT / "flows")
assert FLOWSET is not None, _problems
FLOWS = sorted(FLOWSET.flows)
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
FAKE_CODE = "1234 5678 9012"
PLACEHOLDER = re.compile(r"\{[^{}\s]*\}")
# Deployments: the usual one, every catalog, a single right-to-left language as the
# default, two languages sharing a script, and three with their own scripts.
DEPLOYMENTS = [
    ("en", "ne", "my"),
    ("en", *(lang for lang in ALL_LANGUAGES if lang != "en")),
    ("ar",),
    ("ne", "hi"),
    ("my", "th", "km"),
]


PROMPT_FLOWS = frozenset(PROMPTS.values())
PROMPT_RESULTS = {"prompt": 1, "date": "2026-11-27", "appeal_days": "90"}


class Ids:
    """The engine's id source: a counter the checks rewind to replay a step exactly."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"run-{self.n}"


IDS = Ids()
ENGINES = {
    languages: Engine(FLOWSET, {lang: ALL_CATALOGS[lang] for lang in languages}, languages, IDS)
    for languages in DEPLOYMENTS
}


def check_send(engine: Engine, send: Send, channel: str, before: list[Any]) -> str:
    """The rendered text of ``send``, after checking it is complete; ``before`` are earlier effects."""
    assert send.language in engine.languages, send
    catalog = engine.catalogs[send.language]
    assert send.key in catalog.messages, f"{send.language} has no message {send.key!r}"
    template = catalog.messages[send.key].for_channel(channel)
    missing = placeholders(template) - set(send.params) - set(send.refs)
    assert not missing, f"{send.key} in {send.language}: nothing fills {sorted(missing)}"
    assert all(value.strip() for value in send.params.values()), send
    # The host fills only the case code, in a step that opened the case, web links, the
    # emergency and help contacts, the time frames of its rules and the operator's country
    # facts (RIGHTS).
    host = {"case.code", "link.procedure", "contacts.emergency", "contacts.help"}
    host |= {"rules.urgent", "rules.standard", "rules.appeal_days"}
    host |= {f"facts.{topic}" for topic in ("documents", "fees", "debts", "hours")}
    assert set(send.refs.values()) <= host, send
    if "case.code" in send.refs.values():
        assert any(isinstance(e, OpenCase) for e in before), f"{send.key} before open_case"
    for option in send.options:
        if option.label_key is not None:
            assert option.label_key in catalog.messages, option
        else:
            assert (option.label_text or "").strip(), option
    text = render_send(
        engine.catalogs,
        engine.default_language,
        send,
        channel,
        {
            "case.code": FAKE_CODE,
            "contacts.emergency": "Police 999",
            "contacts.help": "Workers Help Centre 999 000",
            **{
                f"facts.{t}": "A fact the operator wrote."
                for t in ("documents", "fees", "debts", "hours")
            },
        },
    )
    assert text.strip(), send
    scrubbed = text
    for value in send.params.values():
        scrubbed = scrubbed.replace(value, "")
    assert not PLACEHOLDER.search(scrubbed), text
    assert len(text) <= MAX_MESSAGE, f"{send.key}: {len(text)} characters"
    return text


class Conversation:
    """One contact's conversation with the engine; every step it takes is checked.

    ``log`` receives a line per input and per reply (Hypothesis's ``note``, or print).
    """

    def __init__(
        self,
        deployment: tuple[str, ...] = DEPLOYMENTS[0],
        channel: str = "sms",
        language: str | None = None,
        confirmed: bool = False,
        has_case: bool = False,
        log: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.engine = ENGINES[deployment]
        self.channel = channel
        self.facts: dict[str, bool] = {
            "has_case": has_case,
            "has_open_case": has_case,
            "has_active_case": has_case,
            "opted_out": False,
        }
        self.session: dict[str, Any] = new_session(language, confirmed and language is not None)
        self.now = START
        self.refs = 0
        self.log = log
        IDS.n = 0

    # -- inputs -------------------------------------------------------------------------

    def start(self, flow: str) -> Step:
        """A broadcast or check-in starts ``flow`` whatever the worker was doing.

        The mechanism's questions start with what the host always gives them (services/prompts).
        """
        self.log(f"{self.now:%d %H:%M} start {flow}")
        results = PROMPT_RESULTS if flow in PROMPT_FLOWS else None
        if flow == "wellbeing":  # a wellbeing wave's invitation carries its token and wave
            results = {"token": "fuzz-token", "wave": 1}
        return self._step(
            lambda s: self.engine.start(s, flow, self.now, self.facts, self.channel, results)
        )

    def message(self, text: str, media: tuple[str, ...] = ()) -> Step:
        """The worker writes: always answered, or put where a person reads it (once a day
        only a reminder after STOP), and no timer is due right after."""
        self.refs += 1
        stopped = self.facts["opted_out"]
        step = self._resume(Message(text, media, ref=self.refs))
        heard = (Send, LookupStatus, Appeal, ToCase, Urgent, Handover, OpenCase)
        answered = [e for e in step.effects if isinstance(e, heard)]
        kept = self.refs in (step.session.get("draft") or {}).get("refs", [])  # for START
        assert answered or kept or (stopped and not story_like(text)), f"no answer to {text!r}"
        when = wake_at(step.session)
        assert when is None or when > self.now, "a timer is already due right after a message"
        return step

    def keyword(self, kind: str, word: str) -> Step:
        """A keyword typed alone: STOP and START always work, whatever is going on."""
        step = self.message(word)
        if kind in ("stop", "start"):
            expected = OptOut if kind == "stop" else OptIn
            assert any(isinstance(e, expected) for e in step.effects), f"{word!r} did not {kind}"
            run = self.session.get("run")
            # START takes up a report left half-way at STOP; nothing else is left running.
            assert run is None or (kind == "start" and run["flow"] == FLOWSET.default_flow)
        return step

    def time_passes(self, delay: timedelta) -> Step | None:
        """The host's timer job after ``delay``: feed the due timer, as ``process_timers`` does."""
        self.now += delay
        event = due_timer(self.session, self.now)
        if event is None:
            return None
        run_before = self.session.get("run")
        step = self._resume(event)
        assert due_timer(step.session, self.now) is None, "a timer is still due after handling it"
        run = step.session.get("run")
        if isinstance(event, Expired):
            assert run is None, "an expired flow is still running"
        elif run is not None and run_before is not None:
            moved = (run["flow"], run["node"], run["id"]) != (
                run_before["flow"],
                run_before["node"],
                run_before["id"],
            )
            sent = any(isinstance(e, Send) for e in step.effects)
            assert moved or sent, "a timeout neither ended, moved nor said anything"
        return step

    def until_next_timer(self, late: timedelta = timedelta(0)) -> Step | None:
        """The worker goes quiet until the conversation's next timer (plus ``late``)."""
        when = wake_at(self.session)
        if when is None:
            return None
        return self.time_passes(max(when - self.now, timedelta(0)) + late)

    def early_timer(self, kind: str) -> Step | None:
        """A duplicate or early timer job changes nothing."""
        if due_timer(self.session, self.now) is not None:
            return None
        before = self.session
        step = self._resume(TimedOut() if kind == "timeout" else Expired())
        assert step.session == before
        assert all(isinstance(e, WaitUntil) for e in step.effects), step.effects
        return step

    def redeploy(self, which: str, change: str) -> None:
        """The stored session now names a flow, node or version the new deployment lacks."""
        session = copy.deepcopy(self.session)
        run = session.get(which)
        if not run:
            return
        if change == "version":
            run["version"] += 1
        else:
            run[change] = f"removed_{change}"
        self.log(f"redeployed: {which}.{change} changed")
        self.session = session

    def waiting_node(self) -> Any:
        """The node whose question the worker is asked, or None."""
        run = self.session.get("run")
        if not run or not run.get("waiting"):
            return None
        flow = FLOWSET.flows.get(run["flow"])
        return flow.nodes.get(run["node"]) if flow else None

    # -- checks ---------------------------------------------------------------------------

    def _resume(self, event: Input) -> Step:
        self.log(f"{self.now:%d %H:%M} {event!r}")
        return self._step(
            lambda s: self.engine.resume(s, event, self.now, self.facts, self.channel)
        )

    def _step(self, call: Callable[[dict[str, Any]], Step]) -> Step:
        """Run ``call(session)``, replay it on the JSON copy of the session, check, keep it."""
        given = copy.deepcopy(self.session)
        mark = IDS.n
        step = call(self.session)
        assert self.session == given, "the engine changed the session it was given"
        after = IDS.n
        IDS.n = mark
        stored = json.loads(json.dumps(given, ensure_ascii=False, allow_nan=False))
        twin = call(stored)
        assert IDS.n == after
        assert twin == step, "the step differs when resumed from the session stored as JSON"
        self._check(step)
        for effect in step.effects:
            if isinstance(effect, OpenCase | Urgent | Handover):
                self.facts.update(has_case=True, has_open_case=True, has_active_case=True)
            if isinstance(effect, OptOut | OptIn):
                self.facts["opted_out"] = isinstance(effect, OptOut)
        self.session = step.session
        return step

    def _check(self, step: Step) -> None:
        session = step.session
        encoded = json.dumps(session, ensure_ascii=False, allow_nan=False)
        assert json.loads(encoded) == session, "the session does not round-trip through JSON"
        assert session.get("language") in (None, *self.engine.languages), session["language"]
        run = session.get("run")
        assert run is None or run["waiting"], "the engine stopped between two nodes"
        waits = [e for e in step.effects if isinstance(e, WaitUntil)]
        if run is None:
            assert not waits, "a timer was asked for an idle conversation"
        else:
            assert len(waits) == 1, step.effects
            assert step.effects[-1] is waits[0], step.effects
            assert waits[0].at == wake_at(session)
        for i, effect in enumerate(step.effects):
            if isinstance(effect, Send):
                text = check_send(self.engine, effect, self.channel, step.effects[:i])
                self.log(f"  -> {text[:100]!r}")
