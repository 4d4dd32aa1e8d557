"""The flow engine: ``start`` and ``resume`` take a session and give back a new one plus effects.

Pure by construction: the clock (``now``) and the id source are passed in, and
side effects come back as data (:mod:`effects`). The session is a JSON-ready
dict the host stores as it is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from grievance import casecode
from grievance.conversation.effects import (
    Answer,
    Appeal,
    CallRequest,
    CaseDetails,
    Effect,
    Handover,
    LookupStatus,
    OpenCase,
    OptIn,
    Option,
    OptOut,
    Send,
    SetLanguage,
    ToCase,
    Urgent,
    WaitUntil,
    WellbeingRecord,
)
from grievance.conversation.loader import ACTIONS, HOST_REFERENCES, WATCH_KINDS
from grievance.conversation.model import (
    NO_RESPONSE,
    OTHER,
    Flow,
    FlowSet,
    Node,
    Say,
    Wait,
    WatchRule,
    parse_condition,
)
from grievance.language.catalog import Catalog
from grievance.language.detect import detect, digit_languages
from grievance.language.digits import only_digits
from grievance.language.menuwords import LANGUAGE as LANGUAGE_OPTION
from grievance.language.menuwords import MenuWords
from grievance.language.words import (
    PhraseList,
    YesNo,
    bare_number,
    excerpt,
    leading_number,
    phone_number,
    story_like,
    strip_edges,
)

SESSION_VERSION = 2
MAX_STEPS = 64  # nodes entered in one step; more means a loop without a wait
# Interrupted flows kept to return to (HELP in the middle of a danger question in the
# middle of a report); an older one is let go.
MAX_PARENTS = 3
# After a worker said yes, they are in danger (a P0 case, a person on the way), danger
# words are not asked about again for this long: what they write goes to their case.
DANGER_QUIET = timedelta(hours=12)
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
REASK_DEFAULTS = {
    "menu": "common.reask_menu",
    "yes_no": "common.reask_yes_no",
    "text": "common.reask_text",
    "media": "common.reask_media",
    "code": "common.reask_code",
    "scale": "common.reask_scale",
}
TEXT_TOO_LONG = "common.reask_text_long"
# The language menu asked again: its options are names, each in its own script.
REASK_LANGUAGE = "common.reask_language"
# English keywords (STOP, HELP, START are the carriers'; STATUS and MENU are on the posters)
# are known to workers who read no English: sent by a worker whose language we know, they
# say nothing about the language of the reply.
CARRIER_LANGUAGE = "en"
# Two options fit the worker's words: which one? (only those two are shown)
WHICH_ONE = "common.which_one"
# What is wrong with a code that is no code: a digit mistyped, or too few or many digits.
CODE_PROBLEMS = {"mistyped": "common.reask_code_mistyped", "length": "common.reask_code_length"}
# Back at a question whose wording the host sent (a handler's question): point to it.
BACK_TO_QUESTION = "common.back_to_question"
FLOW_CHANGED = "common.flow_changed"
LOOP_ERROR = "common.sorry_error"


@dataclass(frozen=True)
class Message:
    """An inbound message: cleaned text, kinds of attached media, and the host's id for it."""

    text: str
    media: tuple[str, ...] = ()
    ref: int | str | None = None


@dataclass(frozen=True)
class TimedOut:
    """The current wait's timeout has passed."""


@dataclass(frozen=True)
class Expired:
    """The flow's expiry has passed."""


Input = Message | TimedOut | Expired


@dataclass(frozen=True)
class Step:
    """The result of one engine call: the session to store and the effects to apply."""

    session: dict[str, Any]
    effects: list[Effect]

    @property
    def waiting(self) -> bool:
        """True when the session waits for the worker."""
        run = self.session.get("run")
        return bool(run and run.get("waiting"))


def clean_text(text: str) -> str:
    """Normalise inbound text: NFC, no control or direction characters, trimmed."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass
class _Run:
    """One flow in progress (mutable while a step runs; stored as a dict)."""

    flow: str
    version: int
    node: str
    started_at: datetime
    expires_at: datetime
    id: str
    results: dict[str, Any] = field(default_factory=dict)
    # What the host gave the run at its start (the question's case date): kept on a restart.
    seed: dict[str, Any] = field(default_factory=dict)
    refs: list[int | str] = field(default_factory=list)
    retries: int = 0
    waiting: bool = False
    timeout_at: datetime | None = None
    # Whether questions about a case wait while this run waits (a report in progress).
    busy: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "version": self.version,
            "node": self.node,
            "id": self.id,
            "started_at": _iso(self.started_at),
            "expires_at": _iso(self.expires_at),
            "results": self.results,
            "seed": self.seed,
            "refs": self.refs,
            "retries": self.retries,
            "waiting": self.waiting,
            "timeout_at": _iso(self.timeout_at),
            "busy": self.busy,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> _Run | None:
        if not data:
            return None
        return cls(
            flow=data["flow"],
            version=data["version"],
            node=data["node"],
            id=data.get("id", ""),
            started_at=_time(data["started_at"]) or datetime.min,
            expires_at=_time(data["expires_at"]) or datetime.min,
            results=dict(data.get("results", {})),
            seed=dict(data.get("seed", {})),
            refs=list(data.get("refs", [])),
            retries=data.get("retries", 0),
            waiting=data.get("waiting", False),
            timeout_at=_time(data.get("timeout_at")),
            busy=data.get("busy", True),
        )


@dataclass
class _Session:
    language: str | None = None
    language_confirmed: bool = False
    run: _Run | None = None
    # Interrupted runs to return to, the most recent last.
    parents: list[_Run] = field(default_factory=list)
    draft: _Run | None = None
    # When each throttled node last spoke ("flow.node": time): acknowledgements, reminders.
    said: dict[str, str] = field(default_factory=dict)
    # When the worker last said yes, they are in danger.
    urgent_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": SESSION_VERSION,
            "language": self.language,
            "language_confirmed": self.language_confirmed,
            "run": self.run.to_dict() if self.run else None,
            "parents": [run.to_dict() for run in self.parents],
            "draft": self.draft.to_dict() if self.draft else None,
            "said": self.said,
            "urgent_at": _iso(self.urgent_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> _Session:
        data = data or {}
        # Version 1 kept one interrupted run under "parent".
        raw_parents = data.get("parents") or ([data["parent"]] if data.get("parent") else [])
        return cls(
            language=data.get("language"),
            language_confirmed=bool(data.get("language_confirmed", False)),
            run=_Run.from_dict(data.get("run")),
            parents=[run for run in map(_Run.from_dict, raw_parents) if run is not None],
            draft=_Run.from_dict(data.get("draft")),
            said=dict(data.get("said") or {}),
            urgent_at=_time(data.get("urgent_at")),
        )


def new_session(language: str | None = None, confirmed: bool = False) -> dict[str, Any]:
    """An idle session for a contact, optionally with a known language."""
    return _Session(language=language, language_confirmed=confirmed).to_dict()


def due_timer(session: Mapping[str, Any], now: datetime) -> Input | None:
    """The timer input that is due at ``now`` for ``session`` (expiry first), or None."""
    run = _Run.from_dict(session.get("run"))
    if run is None:
        return None
    if run.expires_at <= now:
        return Expired()
    if run.waiting and run.timeout_at is not None and run.timeout_at <= now:
        return TimedOut()
    return None


def busy(session: Mapping[str, Any] | None, now: datetime) -> bool:
    """True while the contact is in the middle of a flow of their own that waits for them
    (a report), so a question about a case should wait. A handler's question or an
    acknowledgement does not make a worker busy."""
    run = _Run.from_dict((session or {}).get("run"))
    return run is not None and run.waiting and run.busy and run.expires_at > now


def wake_at(session: Mapping[str, Any]) -> datetime | None:
    """When the engine next needs a timer input for ``session``."""
    run = _Run.from_dict(session.get("run"))
    if run is None:
        return None
    times = [run.expires_at] + ([run.timeout_at] if run.waiting and run.timeout_at else [])
    return min(times)


class _Turn:
    """The state of one engine call: session, effects, clock, trigger message."""

    def __init__(
        self, session: _Session, now: datetime, facts: Mapping[str, bool], channel: str
    ) -> None:
        self.session = session
        self.now = now
        self.facts = facts
        self.channel = channel
        self.effects: list[Effect] = []
        self.trigger: Message | None = None
        self.steps = 0
        # An interrupted run whose question the interruption answered (danger words told
        # as the story): it moves on instead of asking again.
        self.answered: str | None = None
        # The language of a keyword in another language than the worker's: this message's
        # replies are in it.
        self.language: str | None = None


class Engine:
    """Runs a :class:`FlowSet` in the deployment's languages. Holds only static data."""

    def __init__(
        self,
        flowset: FlowSet,
        catalogs: Mapping[str, Catalog],
        languages: Sequence[str],
        new_id: Callable[[], str],
        known_catalogs: Mapping[str, Catalog] | None = None,
    ) -> None:
        """``known_catalogs`` (default: the deployment's) are every catalog the project has:
        their danger and retaliation words, and their yes and no words, count too, so a
        worker writing in a language the line does not serve is still asked whether they
        are in danger, and understood when they answer "haan"."""
        if not languages:
            raise ValueError("at least one deployment language is needed")
        self.flowset = flowset
        self.catalogs = catalogs
        self.languages = tuple(languages)
        self.default_language = self.languages[0]
        self.new_id = new_id
        self._keywords = self._keyword_table()
        deployed = [self.catalogs[lang] for lang in self.languages if lang in self.catalogs]
        known = dict(known_catalogs or {}) | {c.language: c for c in deployed}
        self.yes_no = YesNo.of(
            {lang: (c.yes, c.no) for lang, c in known.items()}, deployed=self.languages
        )
        # Watched words of every language at once: a worker may write in another.
        watched = list(known.values())
        self._watched = {
            kind: PhraseList.of(getattr(c, kind) for c in watched) for kind in WATCH_KINDS
        }
        labels = {
            o.label
            for flow in flowset.flows.values()
            for node in flow.nodes.values()
            if node.wait is not None
            for o in node.wait.options
            if o.label
        }
        self.menu_words = MenuWords.of(known.values(), labels)

    # -- public API -------------------------------------------------------------

    def start(
        self,
        session: Mapping[str, Any] | None,
        flow_id: str,
        now: datetime,
        facts: Mapping[str, bool] | None = None,
        channel: str = "sms",
        results: Mapping[str, Any] | None = None,
        interrupt: bool = False,
    ) -> Step:
        """Start ``flow_id`` for a contact (a broadcast, a check-in, a handler's question).

        ``results`` seed the run's results (``results.prompt``, ``results.date``). With
        ``interrupt`` a question the worker is waiting on is asked again once this flow
        ends; otherwise it is abandoned.
        """
        turn = _Turn(_Session.from_dict(session), now, facts or {}, channel)
        s = turn.session
        if interrupt and s.run is not None and s.run.waiting and self._resumable(s.run, now):
            self._push_parent(turn, s.run)
        else:
            s.parents = []
        self._start_flow(turn, flow_id, dict(results or {}))
        return self._finish(turn)

    def resume(
        self,
        session: Mapping[str, Any] | None,
        event: Input,
        now: datetime,
        facts: Mapping[str, bool] | None = None,
        channel: str = "sms",
    ) -> Step:
        """Feed one input (a message or a timer) to the session and step until it waits or ends.

        Every message is heard: a keyword; while opted out, the stopped flow; danger or
        retaliation words, asked about first; the answer to a waiting question; the
        worker's draft; words for their case; otherwise a new report.
        """
        turn = _Turn(_Session.from_dict(session), now, facts or {}, channel)
        s = turn.session
        if isinstance(event, Message):
            event = Message(clean_text(event.text), event.media, event.ref)
            turn.trigger = event
            if s.run is not None and s.run.expires_at <= now:
                self._expire(turn)
            if s.run is not None and event.ref is not None:
                s.run.refs.append(event.ref)
            keyword = self._match_keyword(turn, event.text)
            watched = self._watch(turn, event.text) if keyword is None else None
            if keyword is not None and keyword[0] in ("stop", "start"):
                self._keyword(turn, keyword[0], keyword[1])
            elif self._fact(turn, "opted_out") and self.flowset.stopped_flow:
                self._stopped(turn, event, watched)
            elif keyword is not None:
                self._keyword(turn, keyword[0], keyword[1])
            elif watched is not None:
                self._interrupt(turn, watched.flow, {"said": event.text})
            elif s.run is not None and s.run.waiting:
                self._answer(turn, event)
            elif s.draft is not None and self.flowset.draft_flow:
                self._start_flow(turn, self.flowset.draft_flow)
            elif self.flowset.case_flow and self._fact(turn, "has_active_case"):
                self._start_flow(turn, self.flowset.case_flow)
            else:
                self._start_flow(turn, self.flowset.default_flow)
        elif isinstance(event, Expired):
            if s.run is not None and s.run.expires_at <= now:
                self._expire(turn)
        elif isinstance(event, TimedOut):
            run = s.run
            if (
                run is not None
                and run.waiting
                and run.timeout_at is not None
                and run.timeout_at <= now
            ):
                if self._exists(run):
                    self._route(turn, self._node(run), NO_RESPONSE)
                else:
                    self._end_run(turn)  # its flow or node is gone since; nobody waits any more
        return self._finish(turn)

    def keyword(self, text: str) -> str | None:
        """The keyword ``text`` is, in any of the line's languages ("help" for "मद्दत")."""
        match = self._keyword_match(clean_text(text))
        return match[0] if match else None

    # -- keywords and watched words -------------------------------------------------

    def _keyword_table(self) -> dict[str, str]:
        table: dict[str, str] = {}
        # The language a keyword word belongs to, when only one of the line's catalogs has it:
        # "मद्दत" as a first message tells us the worker reads Nepali.
        owners: dict[str, set[str]] = {}
        for lang in self.languages:
            catalog = self.catalogs.get(lang)
            if catalog is None:
                continue
            for keyword, words in catalog.keywords.items():
                if keyword not in self.flowset.keywords:
                    continue
                for word in words:
                    table.setdefault(word.casefold(), keyword)
                    owners.setdefault(word.casefold(), set()).add(lang)
        self._keyword_owners = {
            w: tuple(lang for lang in self.languages if lang in o) for w, o in owners.items()
        }
        return table

    def _keyword_match(self, text: str) -> tuple[str, str] | None:
        if not text:
            return None
        word = strip_edges(text).casefold()
        if word in self._keywords:
            return self._keywords[word], ""
        # The first word counts only when what follows is a case code ("STATUS 4821 0937 5523"):
        # "Stop paying us" or "स्थिति बहुत खराब है" (the situation is very bad) is a worker's words.
        first, _, rest = text.partition(" ")
        keyword = self._keywords.get(strip_edges(first).casefold())
        if keyword == "status" and casecode.digits_of(rest) is not None:
            return keyword, rest.strip()
        return None

    def _match_keyword(self, turn: _Turn, text: str) -> tuple[str, str] | None:
        match = self._keyword_match(text)
        if match is None:
            return None
        run = turn.session.run
        if run is None or not run.waiting:
            return match
        flow = self.flowset.flows.get(run.flow)
        node = flow.nodes.get(run.node) if flow else None
        if node is not None and node.wait is not None and node.wait.kind == "text" and match[1]:
            # In free text "Stop paying us..." is an answer, not STOP: only a bare keyword counts.
            return None
        if match[0] in ("stop", "start"):
            return match  # opting out always works
        if flow is not None and (
            not flow.interruptible or (node is not None and not node.keywords)
        ):
            return None
        return match

    def _keyword(self, turn: _Turn, keyword: str, argument: str) -> None:
        rule = self.flowset.keywords[keyword]
        s = turn.session
        if turn.trigger is not None:
            self._keyword_speaks(turn, turn.trigger.text, argument)
        run = s.run
        waiting = run is not None and run.waiting
        if keyword == "stop" and run is not None and waiting and self._keeps_draft(turn, run):
            # A half-written report survives STOP: START takes it up again.
            run.waiting = False
            s.draft = run
        if rule.resume and run is not None and waiting and run.flow != rule.flow:
            self._push_parent(turn, run)
        else:
            s.parents = []
        if keyword == "menu":
            s.draft = None
        self._start_flow(turn, rule.flow, {"argument": argument} if argument else {})

    def _keyword_speaks(self, turn: _Turn, text: str, argument: str) -> None:
        """A keyword in a language is answered in that language, for this message: "मदद"
        gets Hindi even on a line that took the worker for English. A keyword only one
        catalog has, or whose code is written in one language's digits ("स्थिति १२६२…"
        narrows nothing, "متابعة ٤٨٢١…" is Arabic), also tells an unknown language."""
        first = text.partition(" ")[0] if argument else text
        owners = self._keyword_owners.get(strip_edges(first).casefold(), ())
        if not owners:
            return
        s = turn.session
        by_digits = digit_languages(argument, owners)
        narrowed = by_digits or owners
        if s.language in narrowed or (s.language is not None and CARRIER_LANGUAGE in owners):
            return
        if len(narrowed) == 1 and s.language is None:
            s.language = narrowed[0]
            turn.effects.append(SetLanguage(narrowed[0], confirmed=False))
            return
        # Shared by several of the line's languages, none the worker's: the first of them
        # the line serves, for this message only.
        turn.language = narrowed[0]

    def _watch(self, turn: _Turn, text: str) -> WatchRule | None:
        """The watch rule whose words ``text`` holds, if the moment allows asking."""
        s = turn.session
        if not text or not self.flowset.watch:
            return None
        run = s.run
        kinds: tuple[str, ...] | None = None  # every kind
        if run is not None and run.waiting:
            flow = self.flowset.flows.get(run.flow)
            node = flow.nodes.get(run.node) if flow else None
            if node is not None and node.watch is False:
                return None
            if node is not None and isinstance(node.watch, tuple):
                kinds = node.watch
            if run.flow in {rule.flow for rule in self.flowset.watch}:
                return None  # already asking about it
        for rule in self.flowset.watch:
            if kinds is not None and rule.kind not in kinds:
                continue  # this question is about a person already
            if rule.kind == "danger" and s.urgent_at and turn.now - s.urgent_at < DANGER_QUIET:
                continue  # a person is already on the way; the words go to the case
            words = self._watched.get(rule.kind)
            if words is None or words.match(text) is None:
                continue
            # The words first: a condition may cost the host a query.
            if rule.condition and not self._holds(turn, rule.condition):
                continue
            return rule
        return None

    def _stopped(self, turn: _Turn, message: Message, watched: WatchRule | None) -> None:
        """A message while the worker has opted out: nothing can be asked, so the stopped
        flow decides from what the words are (danger, a story) where they go."""
        s = turn.session
        results: dict[str, Any] = {"said": message.text}
        if watched is not None and watched.kind == "danger":
            results["danger"] = "yes"
        if story_like(message.text):
            results["words"] = "yes"
        draft = s.draft
        if draft is not None:
            # Words for the report left half-way at STOP are kept with it for START.
            if message.ref is not None and message.ref not in draft.refs:
                draft.refs.append(message.ref)
            if story_like(message.text):
                self._add_to_story(draft, message.text)
        assert self.flowset.stopped_flow is not None
        self._start_flow(turn, self.flowset.stopped_flow, results)

    def _interrupt(self, turn: _Turn, flow_id: str, results: dict[str, Any]) -> None:
        """Start ``flow_id`` now and return to the waiting question when it ends."""
        s = turn.session
        if s.run is not None and s.run.waiting and self._resumable(s.run, turn.now):
            self._push_parent(turn, s.run)
        self._start_flow(turn, flow_id, results)

    def _push_parent(self, turn: _Turn, run: _Run) -> None:
        parents = turn.session.parents
        parents.append(run)
        del parents[:-MAX_PARENTS]

    # -- running nodes ------------------------------------------------------------

    def _start_flow(self, turn: _Turn, flow_id: str, results: dict[str, Any] | None = None) -> None:
        flow = self.flowset.flows[flow_id]
        results = dict(results or {})
        trigger = turn.trigger
        if (
            flow.story
            and not results.get(flow.story)
            and trigger is not None
            and story_like(trigger.text)
        ):
            # A whole story in the message that starts a report is its first draft.
            results[flow.story] = trigger.text
        run = _Run(
            flow=flow.id,
            version=flow.version,
            node=flow.start,
            started_at=turn.now,
            expires_at=turn.now + flow.expire_after,
            id=self.new_id(),
            results=results,
            seed=dict(results),
            busy=flow.busy,
        )
        if trigger is not None and trigger.ref is not None:
            run.refs.append(trigger.ref)
        turn.session.run = run
        self._enter(turn, flow.start)

    def _flow(self, run: _Run) -> Flow:
        return self.flowset.flows[run.flow]

    def _node(self, run: _Run) -> Node:
        return self._flow(run).nodes[run.node]

    def _flow_story(self, run: _Run) -> str | None:
        """The result ``run``'s flow keeps the worker's story in, if it keeps one."""
        flow = self.flowset.flows.get(run.flow)
        return flow.story if flow is not None else None

    def _story_run(self, turn: _Turn) -> _Run | None:
        """The run (current or interrupted, nearest first) that keeps the worker's story."""
        s = turn.session
        for run in [s.run, *reversed(s.parents)]:
            if run is not None and self._flow_story(run):
                return run
        return None

    def _keeps_draft(self, turn: _Turn, run: _Run) -> bool:
        """True when ``run`` is a report worth keeping (its flow's keep_draft_if holds)."""
        flow = self.flowset.flows.get(run.flow)
        return flow is not None and any(self._holds(turn, c) for c in flow.keep_draft_if)

    def _waits_for_story(self, run: _Run) -> bool:
        """True when ``run`` waits at the question whose answer is its story."""
        flow = self.flowset.flows.get(run.flow)
        node = flow.nodes.get(run.node) if flow else None
        wait = node.wait if node else None
        return bool(
            run.waiting and wait and wait.kind == "text" and wait.save_as == self._flow_story(run)
        )

    def _add_to_story(self, run: _Run, text: str) -> None:
        name = self._flow_story(run)
        if not name or not text.strip():
            return
        before = str(run.results.get(name) or "")
        if text in before:
            return
        run.results[name] = f"{before}\n{text}" if before else text

    def _exists(self, run: _Run) -> bool:
        """True when ``run``'s flow and node are still in the flowset (flows change on deploys)."""
        flow = self.flowset.flows.get(run.flow)
        return flow is not None and run.node in flow.nodes

    def _resumable(self, run: _Run, now: datetime) -> bool:
        """True when an interrupted ``run`` can be taken up again at ``now``."""
        return run.expires_at > now and self._exists(run)

    def _language(self, turn: _Turn) -> str:
        if turn.language is not None:
            return turn.language
        lang = turn.session.language
        return lang if lang is not None and lang in self.catalogs else self.default_language

    def _enter(self, turn: _Turn, name: str) -> None:
        """Run node ``name`` and the nodes it leads to, until a wait or the end."""
        while True:
            run = turn.session.run
            if run is None:
                return
            turn.steps += 1
            if turn.steps > MAX_STEPS:
                self._send(turn, LOOP_ERROR)
                self._end_run(turn)
                return
            node = self._flow(run).nodes[name]
            run.node = name
            run.waiting = False
            run.timeout_at = None
            run.retries = 0
            if node.skip_if and any(self._holds(turn, c) for c in node.skip_if):
                if node.next is None:
                    self._end_run(turn)
                    return
                name = node.next
                continue
            for action in node.actions:
                self._act(turn, action.name, action.params)
                if turn.session.run is not run:
                    return  # the action started another flow or restored a draft
            if self._may_speak(turn, run, node):
                self._say(turn, node)
            target = next((c.target for c in node.switch if self._holds(turn, c.condition)), None)
            if target is not None:
                name = target
                continue
            if node.wait is not None:
                run.waiting = True
                if node.wait.timeout is not None:
                    run.timeout_at = turn.now + node.wait.timeout
                return
            if node.end or node.next is None:
                self._end_run(turn)
                return
            name = node.next

    def _may_speak(self, turn: _Turn, run: _Run, node: Node) -> bool:
        """False when a throttled node (``once_per``) spoke too recently.

        The throttle follows the message, not the node: the same acknowledgement said by
        two flows counts once.
        """
        if node.once_per is None:
            return True
        key = node.say[0].key if node.say else f"{run.flow}.{node.name}"
        last = _time(turn.session.said.get(key))
        if last is not None and turn.now - last < node.once_per:
            return False
        turn.session.said[key] = turn.now.isoformat()
        return True

    def _end_run(self, turn: _Turn) -> None:
        s = turn.session
        ended, s.run = s.run, None
        while s.parents:
            parent = s.parents.pop()
            if not self._resumable(parent, turn.now):
                continue
            if ended is not None:
                # What the worker sent during the interruption belongs to what they were doing.
                parent.refs.extend(ref for ref in ended.refs if ref not in parent.refs)
            s.run = parent
            node = self._node(parent)
            if turn.answered == parent.id:
                self._route(turn, node, "text")  # answered already by what was said
                return
            if node.wait is not None and not self._says(turn, node):
                self._send(turn, BACK_TO_QUESTION)
            # Back at the question: only the question (and its options) again, not what led
            # to it ("This line is confidential..." once is enough; SMS is paid by segment).
            self._say(turn, node, only_last=True)
            parent.waiting = node.wait is not None
            parent.retries = 0
            if node.wait is not None and node.wait.timeout is not None:
                # Asked again: the worker has the whole time to answer again, not what was
                # left when the interruption began (often nothing: it was due meanwhile).
                parent.timeout_at = turn.now + node.wait.timeout
            if not parent.waiting:
                self._enter(turn, parent.node)
            return

    def _expire(self, turn: _Turn) -> None:
        s = turn.session
        run = s.run
        if run is None:
            return
        if self._keeps_draft(turn, run):
            run.waiting = False
            s.draft = run
        s.run = None
        s.parents = []

    def _answer(self, turn: _Turn, message: Message) -> None:
        run = turn.session.run
        assert run is not None
        flow = self.flowset.flows.get(run.flow)
        if flow is None or run.node not in flow.nodes:
            self._restart_changed(turn, run)
            return
        node = flow.nodes[run.node]
        if run.version != flow.version:
            if node.wait is None or self._node_wait_kind(run) != node.wait.kind:
                self._restart_changed(turn, run)
                return
            run.version = flow.version
        wait = node.wait
        assert wait is not None
        category, value, problem = self._evaluate(turn, wait, message)
        problem_params: dict[str, str] = {}
        if problem is None and wait.kind == "code":
            found = casecode.problem(message.text)
            if found is not None:
                problem, problem_params = CODE_PROBLEMS[found[0]], {"n": str(found[1])}
        if category is None and wait.if_words and story_like(message.text):
            category, value = wait.if_words, wait.if_words
        story = self._story_run(turn)
        if (
            story is not None
            and wait.kind == "menu"
            and (category is not None or problem == WHICH_ONE)
            and story_like(message.text)
        ):
            # "They took my passport and my visa" picks an option and tells the story.
            self._add_to_story(story, message.text)
        if problem == WHICH_ONE:
            self._reask(turn, wait, WHICH_ONE, only=value)  # no wrong answer: not counted
            return
        if category is None:
            if story is not None and story_like(message.text):
                # Words that answer no question are part of the worker's story: keep them
                # and ask the question again (it was not refused), without counting it.
                self._add_to_story(story, message.text)
                self._say(turn, node, only_last=True)
                return
            run.retries += 1
            if run.retries > wait.retries:
                self._route(turn, node, OTHER)
                return
            self._reask(turn, wait, problem, problem_params or None)
            return
        if wait.save_as:
            if wait.append and value and run.results.get(wait.save_as):
                before = str(run.results[wait.save_as])
                value = before if value in before else f"{before}\n{value}"
            run.results[wait.save_as] = value
        self._route(turn, node, category)

    def _node_wait_kind(self, run: _Run) -> str | None:
        flow = self.flowset.flows.get(run.flow)
        node = flow.nodes.get(run.node) if flow else None
        return node.wait.kind if node and node.wait else None

    def _restart_changed(self, turn: _Turn, run: _Run) -> None:
        """The flow changed under a waiting conversation: say so and start it again."""
        self._send(turn, FLOW_CHANGED)
        turn.session.run = None
        turn.session.parents = []
        if run.flow in self.flowset.flows:
            self._start_flow(turn, run.flow, run.seed)
        else:
            self._start_flow(turn, self.flowset.default_flow)

    def _route(self, turn: _Turn, node: Node, category: str) -> None:
        target = node.route_for(category)
        if target is None:
            self._end_run(turn)
        else:
            self._enter(turn, target)

    # -- answers ----------------------------------------------------------------

    def _evaluate(
        self, turn: _Turn, wait: Wait, message: Message
    ) -> tuple[str | None, Any, str | None]:
        """Categorise an answer: (category, value, specific re-ask key) or (None, None, key)."""
        text = message.text
        if wait.kind == "menu":
            return self._menu(turn, wait, text)
        if wait.kind == "yes_no":
            answer = self.yes_no.answer(text, self._language(turn), wait.clear_no)
            return (answer, answer, None) if answer else (None, None, None)
        if wait.kind == "scale":
            return self._scale(wait, text)
        if wait.kind == "code":
            code = casecode.normalize(text)
            return ("code", code, None) if code else (None, None, None)
        accepted_media = [m for m in message.media if m in wait.media]
        if turn.channel == "voice" and "audio" in message.media and wait.kind == "text":
            # On a call every free-text answer is spoken: the recording is the answer
            # (kept with the message), whatever media the question takes in writing.
            return ("media" if wait.media else "text"), "", None
        if wait.kind == "media":
            return ("media", text, None) if accepted_media else (None, None, None)
        # text, possibly with media
        if accepted_media and not text:
            return "media", "", None
        if len(text) > wait.max_length and not wait.append:
            return None, None, TEXT_TOO_LONG  # a story being collected may be long
        if len(text) < max(wait.min_length, 1):
            return None, None, None
        if wait.plausible and (self.yes_no.is_bare(text) or bare_number(text)):
            return None, None, None  # "1" or "yes" is an answer to another question
        return "text", text, None

    def _menu(self, turn: _Turn, wait: Wait, text: str) -> tuple[str | None, Any, str | None]:
        """An option by its number (any script), its label or words, a yes or no word for an
        option that means one, or with a small typo; (None, the options that fit, WHICH_ONE)
        when several do."""
        number = only_digits(text) or leading_number(text)
        language = self._language(turn)
        if wait.dynamic_options:
            languages = self._language_options(turn)
            if number is not None and 1 <= int(number) <= len(languages):
                return "chosen", languages[int(number) - 1], None
            keys = [LANGUAGE_OPTION + lang for lang in languages]
            found = self.menu_words.exact(text, keys, language) or self.menu_words.near(
                text, keys, language
            )
            if len(found) == 1:
                return "chosen", found[0].removeprefix(LANGUAGE_OPTION), None
            chosen = [k.removeprefix(LANGUAGE_OPTION) for k in found]
            return (None, chosen, WHICH_ONE) if chosen else (None, None, None)
        if number is not None:
            for option in wait.options:
                if option.number == number.lstrip("0") or option.number == number:
                    return option.value, option.value, None
            return None, None, None  # a number not on the menu is no word for an option
        labelled = [o for o in wait.options if o.label]
        keys = [o.label for o in labelled if o.label]
        found = self.menu_words.exact(text, keys, language)
        if not found and any(o.means for o in wait.options):
            answer = self.yes_no.answer(text, language, clear_no=True)
            meant = next((o for o in wait.options if answer and o.means == answer), None)
            if meant is not None:
                return meant.value, meant.value, None
        found = found or self.menu_words.near(text, keys, language)
        options = [o for o in labelled if o.label in found]
        if len(options) == 1:
            return options[0].value, options[0].value, None
        if options:
            return None, [o.value for o in options], WHICH_ONE
        return None, None, None

    @staticmethod
    def _scale(wait: Wait, text: str) -> tuple[str | None, Any, str | None]:
        """One number on the scale ("4", "٤", " 4. "), or the skip number."""
        number = only_digits(text)
        if number is None or len(number) != 1:
            return None, None, None
        low, high, skip = wait.scale
        if skip is not None and int(number) == skip:
            return "skipped", skip, None
        if low <= int(number) <= high:
            return "answered", int(number), None
        return None, None, None

    # -- conditions and values ----------------------------------------------------

    def _holds(self, turn: _Turn, condition: str) -> bool:
        parsed = parse_condition(condition)
        if parsed.name.startswith("results."):
            run = turn.session.run
            value = run.results.get(parsed.name.removeprefix("results.")) if run else None
            result = str(value) == parsed.expected if parsed.expected else bool(value)
        else:
            result = self._fact(turn, parsed.name)
        return result != parsed.negate

    def _fact(self, turn: _Turn, name: str) -> bool:
        s = turn.session
        facts = {
            "language_known": s.language is not None,
            "language_confirmed": s.language_confirmed,
            "whatsapp": turn.channel == "whatsapp",
            "voice": turn.channel == "voice",
            "has_draft": s.draft is not None,
            # Only a flow that can be taken up again counts: otherwise nobody would answer.
            "interrupted": bool(s.parents) and self._resumable(s.parents[-1], turn.now),
        }
        if name in facts:
            return facts[name]
        return bool(turn.facts.get(name, False))

    def _value(self, turn: _Turn, reference: Any) -> Any:
        if not isinstance(reference, str):
            return reference
        run = turn.session.run
        if reference.startswith("results."):
            return run.results.get(reference.removeprefix("results.")) if run else None
        if reference == "contact.language":
            return self._language(turn)
        if reference == "contact.language_name":
            catalog = self.catalogs.get(self._language(turn))
            return catalog.name if catalog else self._language(turn)
        if reference in ("input.text", "input.phone"):
            text = turn.trigger.text if turn.trigger is not None else ""
            if reference == "input.phone":
                return phone_number(text)
            # The worker's own words, not a bare "1" or "yes" answering the question.
            bare = not text or bare_number(text) or self.yes_no.is_bare(text)
            return None if bare else text
        if reference == "story.excerpt":
            story = self._story_run(turn)
            name = self._flow_story(story) if story is not None else None
            return excerpt(str(story.results.get(name) or "")) if story and name else ""
        return reference

    # -- actions ----------------------------------------------------------------

    def _refs(self, turn: _Turn) -> tuple[int | str, ...]:
        """The messages behind what is going on: this run's and those it interrupted."""
        s = turn.session
        runs = [*s.parents, s.run] if s.run is not None else list(s.parents)
        return tuple(dict.fromkeys(ref for run in runs for ref in run.refs))

    def _act(self, turn: _Turn, name: str, params: Mapping[str, Any]) -> None:
        """Run the action ``name``: one of the loader's ACTIONS, each a ``_do_<name>``."""
        handler = _HANDLERS.get(name)
        if handler is None:
            raise ValueError(f"unknown action {name!r}; the loader should have refused it")
        run = turn.session.run
        assert run is not None
        handler(self, turn, run, params)

    def _do_detect_language(self, turn: _Turn, run: _Run, _params: Mapping[str, Any]) -> None:
        s = turn.session
        if s.language is None and turn.trigger is not None:
            found = detect(turn.trigger.text, self.languages)
            if found.language is None and len(found.alternatives) > 1:
                # Ask the narrow question ("नेपाली / हिन्दी?") instead of the whole menu;
                # never a menu of one.
                run.results["language_options"] = list(found.alternatives)
            if found.language is not None:
                s.language = found.language
                turn.effects.append(SetLanguage(found.language, confirmed=False))

    def _do_set_language(self, turn: _Turn, _run: _Run, params: Mapping[str, Any]) -> None:
        s = turn.session
        chosen = self._value(turn, params.get("from", "results.language"))
        if isinstance(chosen, str) and chosen in self.languages:
            s.language = chosen
            s.language_confirmed = True
            turn.effects.append(SetLanguage(chosen, confirmed=True))

    def _do_open_case(self, turn: _Turn, run: _Run, params: Mapping[str, Any]) -> None:
        lang = self._language(turn)
        turn.effects.append(self._open_case(turn, run, lang, params))

    def _do_lookup_status(self, turn: _Turn, _run: _Run, params: Mapping[str, Any]) -> None:
        lang = self._language(turn)
        code = self._value(turn, params.get("code", "results.code"))
        turn.effects.append(LookupStatus(lang, str(code) if code else None))

    def _do_opt_out(self, turn: _Turn, _run: _Run, _params: Mapping[str, Any]) -> None:
        turn.effects.append(OptOut())

    def _do_opt_in(self, turn: _Turn, _run: _Run, _params: Mapping[str, Any]) -> None:
        turn.effects.append(OptIn())

    def _do_answer(self, turn: _Turn, run: _Run, params: Mapping[str, Any]) -> None:
        prompt = run.results.get("prompt")
        value = self._value(turn, params.get("value", "results.answer"))
        turn.effects.append(
            Answer(int(prompt) if isinstance(prompt, int) else None, str(value or ""))
        )

    def _do_appeal(self, turn: _Turn, _run: _Run, _params: Mapping[str, Any]) -> None:
        lang = self._language(turn)
        turn.effects.append(Appeal(lang))

    def _do_handover(self, turn: _Turn, run: _Run, params: Mapping[str, Any]) -> None:
        turn.effects.append(
            Handover(
                str(params.get("reason", run.flow)),
                self._refs(turn),
                self._told(turn, run),
            )
        )

    def _do_to_case(self, turn: _Turn, _run: _Run, params: Mapping[str, Any]) -> None:
        case = self._value(turn, params.get("case", "results.case"))
        question, answer = (self._value(turn, params.get(k)) for k in ("question", "answer"))
        turn.effects.append(
            ToCase(
                self._refs(turn),
                case if isinstance(case, int) else None,
                str(question) if question else None,
                str(answer) if answer else None,
            )
        )

    def _do_urgent(self, turn: _Turn, run: _Run, params: Mapping[str, Any]) -> None:
        lang = self._language(turn)
        turn.effects.append(self._urgent(turn, run, lang, str(params.get("reason", "danger"))))

    def _do_call_request(self, turn: _Turn, _run: _Run, params: Mapping[str, Any]) -> None:
        case = self._value(turn, params.get("case", "results.case"))
        time, number = (self._value(turn, params.get(k)) for k in ("time", "number"))
        turn.effects.append(
            CallRequest(
                case if isinstance(case, int) else None,
                str(time) if time else None,
                str(number) if number else None,
            )
        )

    def _do_case_details(self, turn: _Turn, run: _Run, params: Mapping[str, Any]) -> None:
        case = run.results.get("case")
        values = {key: self._value(turn, reference) for key, reference in params.items()}
        said = {key: str(value) for key, value in values.items() if value not in (None, "")}
        if said:
            turn.effects.append(CaseDetails(case if isinstance(case, int) else None, said))

    def _do_save(self, turn: _Turn, run: _Run, params: Mapping[str, Any]) -> None:
        for key, reference in params.items():
            value = self._value(turn, reference)
            if value is None:
                run.results.pop(key, None)
            else:
                run.results[key] = value

    def _do_pass_back(self, turn: _Turn, _run: _Run, params: Mapping[str, Any]) -> None:
        s = turn.session
        parent = s.parents[-1] if s.parents else None
        if parent is not None:
            for key, reference in params.items():
                value = self._value(turn, reference)
                if value is None:
                    continue
                if key == "story":
                    self._add_to_story(parent, str(value))
                    if self._waits_for_story(parent):
                        turn.answered = parent.id  # the words answer "what happened?"
                else:
                    parent.results[key] = value

    def _do_start_flow(self, turn: _Turn, _run: _Run, params: Mapping[str, Any]) -> None:
        s = turn.session
        carried = {
            new: self._value(turn, reference)
            for new, reference in (params.get("carry") or {}).items()
        }
        s.parents = []
        self._start_flow(turn, str(params["flow"]), {k: v for k, v in carried.items() if v})

    def _do_wellbeing_record(self, turn: _Turn, run: _Run, params: Mapping[str, Any]) -> None:
        def result(param: str) -> Any:
            # A parameter names a result, or lists names of which the first one set counts:
            # a run started before the flow renamed a result still holds the old name.
            names = params.get(param) or ()
            for name in [names] if isinstance(names, str) else names:
                if name in run.results:
                    return run.results[name]
            return None

        scales = [
            node.wait.save_as
            for node in self._flow(run).nodes.values()
            if node.wait is not None and node.wait.kind == "scale" and node.wait.save_as
        ]
        token, wave = result("token"), result("wave")
        turn.effects.append(
            WellbeingRecord(
                token=str(token) if token else None,
                wave=wave if isinstance(wave, int) else None,
                answers={q: int(run.results[q]) for q in scales if q in run.results},
                said_more=str(result("said_more") or "").strip() not in ("", "0"),
                reported=result("reported") == "yes",
            )
        )

    def _do_restore_draft(self, turn: _Turn, run: _Run, _params: Mapping[str, Any]) -> None:
        s = turn.session
        draft, s.draft = s.draft, None
        if (
            draft is None
            or draft.flow not in self.flowset.flows
            or draft.node not in self._flow(draft).nodes
        ):
            # Nothing (usable) to continue: the worker still wants to report.
            self._start_flow(turn, self.flowset.default_flow)
            return
        draft.expires_at = turn.now + self._flow(draft).expire_after
        s.run = draft
        node = self._node(draft)
        self._say(turn, node)
        draft.waiting = node.wait is not None

    def _do_discard_draft(self, turn: _Turn, _run: _Run, _params: Mapping[str, Any]) -> None:
        s = turn.session
        s.draft = None

    def _do_answer_interrupted(self, turn: _Turn, run: _Run, _params: Mapping[str, Any]) -> None:
        s = turn.session
        # The message was no answer here but may be one to the interrupted question
        # ("6" after HELP, meant for the category menu): give it to that question.
        parent = s.parents.pop() if s.parents else None
        trigger = turn.trigger
        if parent is None or not self._resumable(parent, turn.now) or trigger is None:
            if parent is not None:
                s.parents.append(parent)
            self._end_run(turn)
            return
        parent.refs.extend(ref for ref in run.refs if ref not in parent.refs)
        s.run = parent
        if self._node(parent).wait is None:
            self._enter(turn, parent.node)
        else:
            parent.waiting = True
            self._answer(turn, trigger)

    def _open_case(
        self, turn: _Turn, run: _Run, language: str, params: Mapping[str, Any]
    ) -> OpenCase:
        def value(name: str) -> Any:
            return self._value(turn, params.get(name, f"results.{name}"))

        return OpenCase(
            flow=run.flow,
            flow_version=run.version,
            language=language,
            category=value("category"),
            workplace=value("workplace"),
            description=value("description"),
            in_danger=value("in_danger") == "yes",
            wants_updates=value("wants_updates") == "yes",
            message_refs=self._refs(turn),
            sms_fallback=value("sms_fallback") == "yes",
            full_updates=value("full_updates") == "yes",
            retaliation=value("retaliation") == "yes",
            category_unclear=run.results.get("category_unclear") == "yes",
        )

    def _told(self, turn: _Turn, run: _Run) -> str | None:
        """What the worker has told so far: the story being written, and the words that
        started this flow (danger words, words while opted out)."""
        story = self._story_run(turn)
        name = self._flow_story(story) if story is not None else None
        parts = [str(story.results.get(name) or "")] if story is not None and name else []
        said = str(run.results.get("said") or "")
        if said and not any(said in part for part in parts):
            parts.append(said)
        return "\n".join(p for p in parts if p) or None

    def _urgent(self, turn: _Turn, run: _Run, language: str, reason: str) -> Urgent:
        """Possible danger now: what the worker wrote so far goes with it."""
        if reason != "danger_unclear":
            turn.session.urgent_at = turn.now
        story = self._story_run(turn)
        category = story.results.get("category") if story is not None else None
        return Urgent(
            reason=reason,
            language=language,
            description=self._told(turn, run),
            category=str(category) if category else None,
            message_refs=self._refs(turn),
        )

    # -- messages ---------------------------------------------------------------

    def _says(self, turn: _Turn, node: Node) -> list[Say]:
        return [say for say in node.say if say.when is None or self._holds(turn, say.when)]

    def _say(self, turn: _Turn, node: Node, only_last: bool = False) -> None:
        says = self._says(turn, node)
        if only_last:
            says = says[-1:]
        language = self._language(turn)
        if turn.session.language is None and node.wait is not None and node.wait.dynamic_options:
            # A narrow language question is asked in the first of the languages it offers.
            language = self._language_options(turn)[0]
        for i, say in enumerate(says):
            last = i == len(says) - 1
            options: tuple[Option, ...] = ()
            if last and node.wait is not None and node.wait.kind == "menu":
                options = self._options(turn, node.wait)
            params: dict[str, str] = {}
            refs: dict[str, str] = {}
            for key, reference in say.params.items():
                if reference.startswith(HOST_REFERENCES):
                    refs[key] = reference  # filled by the host: a code, a link, contacts
                else:
                    value = self._value(turn, reference)
                    params[key] = "" if value is None else str(value)
            turn.effects.append(Send(say.key, language, params, refs, options))

    def _language_options(self, turn: _Turn) -> tuple[str, ...]:
        run = turn.session.run
        narrowed = run.results.get("language_options") if run else None
        if narrowed and all(lang in self.languages for lang in narrowed):
            return tuple(narrowed)
        return self.languages

    def _options(
        self, turn: _Turn, wait: Wait, only: Sequence[str] | None = None
    ) -> tuple[Option, ...]:
        if wait.dynamic_options:
            return tuple(
                Option(
                    str(i), label_text=self.catalogs[lang].name if lang in self.catalogs else lang
                )
                for i, lang in enumerate(self._language_options(turn), start=1)
                if only is None or lang in only
            )
        return tuple(
            Option(o.number, label_key=o.label)
            for o in wait.options
            if o.label and (only is None or o.value in only)
        )

    def _reask(
        self,
        turn: _Turn,
        wait: Wait,
        key: str | None = None,
        params: Mapping[str, str] | None = None,
        only: Sequence[str] | None = None,
    ) -> None:
        """Ask again in one line, with the options of a menu (``only`` those values, when
        the worker's words fit several) and never the preamble: each re-ask costs a worker
        on a prepaid SMS plan, and a long one reads as a refusal."""
        options: tuple[Option, ...] = ()
        language = self._language(turn)
        if wait.kind == "menu":
            options = self._options(turn, wait, only)
            if wait.dynamic_options:
                key = key or wait.reask or REASK_LANGUAGE
                if turn.session.language is None:
                    language = self._language_options(turn)[0]  # as the question was asked
        key = key or wait.reask or REASK_DEFAULTS[wait.kind]
        if wait.kind == "scale" and params is None:
            low, high, _skip = wait.scale
            params = {"low": str(low), "high": str(high)}
        turn.effects.append(Send(key, language, dict(params or {}), {}, options))

    def _send(self, turn: _Turn, key: str) -> None:
        turn.effects.append(Send(key, self._language(turn)))

    def _finish(self, turn: _Turn) -> Step:
        session = turn.session.to_dict()
        when = wake_at(session)
        if when is not None:
            turn.effects.append(WaitUntil(when))
        return Step(session, turn.effects)


# The engine's half of the action registry: every action the loader accepts has its
# ``Engine._do_<name>``, and nothing else does (checked when the module is imported).
_HANDLERS: dict[str, Callable[[Engine, _Turn, _Run, Mapping[str, Any]], None]] = {
    name: getattr(Engine, f"_do_{name}") for name in ACTIONS if hasattr(Engine, f"_do_{name}")
}
_missing = set(ACTIONS) - set(_HANDLERS)
_unknown = {n.removeprefix("_do_") for n in vars(Engine) if n.startswith("_do_")} - set(ACTIONS)
if _missing or _unknown:
    raise RuntimeError(
        f"the action registry and the engine disagree: no handler for {sorted(_missing)}, "
        f"no registry entry for {sorted(_unknown)}"
    )
