"""A parsed flow definition: plain, immutable data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any

WAIT_KINDS = ("menu", "yes_no", "text", "media", "code", "scale")
MEDIA_KINDS = ("image", "audio", "video", "document")
# Every wait can end in these two categories besides its own.
OTHER = "other"
NO_RESPONSE = "no_response"


@dataclass(frozen=True)
class Say:
    """A message to send: a catalog key and parameters (literals or references).

    ``when`` is a condition: the message is said only while it holds (one wording for a
    case a supplier fixed, another for one the handler resolved).
    """

    key: str
    params: Mapping[str, str] = field(default_factory=dict)
    line: int = 0
    when: str | None = None


@dataclass(frozen=True)
class Action:
    """A named effect from the action registry with its parameters."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True)
class MenuOption:
    """One numbered option: what the worker types, what it means, how it is labelled."""

    number: str
    value: str
    label: str | None
    line: int = 0
    # "yes" or "no": the option a yes or no word chooses, in any language ("sí", "हो").
    means: str | None = None


@dataclass(frozen=True)
class Wait:
    """A typed question the worker answers."""

    kind: str
    save_as: str | None = None
    options: tuple[MenuOption, ...] = ()
    dynamic_options: str | None = None  # "languages": the deployment's languages
    min_length: int = 1
    max_length: int = 1600
    media: tuple[str, ...] = ()
    retries: int = 2
    reask: str | None = None
    timeout: timedelta | None = None
    line: int = 0
    # text: add the answer to what is saved already instead of replacing it
    append: bool = False
    # text: a bare yes/no word or a menu number is not an answer (a workplace, a story)
    plausible: bool = False
    # yes_no: a "no" counts only as the whole answer, never as a sentence's first word
    # (the danger question: "no idea" is not "not in danger")
    clear_no: bool = False
    # A message of words where a number was asked goes to this route at once, not re-asked
    # ("they paid back only half" to "1 solved, 2 not solved, 3 a person").
    if_words: str | None = None
    # scale: the lowest and highest answer, and the number that skips the question (or None)
    scale: tuple[int, int, int | None] = (1, 5, None)

    def categories(self) -> tuple[str, ...]:
        """The categories an answer to this wait can fall into, besides other/no_response."""
        if self.kind == "menu":
            if self.dynamic_options:
                return ("chosen",)
            return tuple(dict.fromkeys(o.value for o in self.options))
        if self.kind == "yes_no":
            return ("yes", "no")
        if self.kind == "scale":
            return ("answered", "skipped") if self.scale[2] is not None else ("answered",)
        if self.kind == "text":
            return ("text", "media") if self.media else ("text",)
        return (self.kind,)


@dataclass(frozen=True)
class Condition:
    """``not results.category == FL-FEE``, read once: negated?, the name, the value wanted
    (empty: the name's truth)."""

    negate: bool
    name: str
    expected: str


@cache
def parse_condition(text: str) -> Condition:
    """A condition as written in a flow (``language_known``, ``not has_case``,
    ``results.category == FL-FEE``), parsed once per distinct text."""
    negate = text.startswith("not ")
    name, _, expected = (part.strip() for part in text.removeprefix("not ").partition("=="))
    return Condition(negate, name, expected)


@dataclass(frozen=True)
class Case:
    """One branch of a switch: go to ``target`` when ``condition`` holds."""

    condition: str
    target: str
    line: int = 0


@dataclass(frozen=True)
class Node:
    """A step of a flow: act, say, then wait or move on."""

    name: str
    line: int = 0
    skip_if: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()
    say: tuple[Say, ...] = ()
    switch: tuple[Case, ...] = ()
    wait: Wait | None = None
    routes: Mapping[str, str] = field(default_factory=dict)
    route_lines: Mapping[str, int] = field(default_factory=dict)
    next: str | None = None
    next_line: int = 0
    end: bool = False
    keywords: bool = True
    # Watched words asked about here: all kinds (True), none (False: the danger question
    # itself), or only those named (a question that offers a person is not offered one).
    watch: bool | tuple[str, ...] = True
    # The node's messages are said at most once in this long (an acknowledgement).
    once_per: timedelta | None = None

    def targets(self) -> list[tuple[str, int]]:
        """Every node this node can lead to, with the line that says so."""
        found = [(c.target, c.line) for c in self.switch]
        found += [(t, self.route_lines.get(cat, self.line)) for cat, t in self.routes.items()]
        if self.next:
            found.append((self.next, self.next_line or self.line))
        return found

    def route_for(self, category: str) -> str | None:
        """The node an answer in ``category`` leads to."""
        return self.routes.get(category, self.next)


@dataclass(frozen=True)
class Flow:
    """A conversation flow loaded from one YAML file."""

    id: str
    version: int
    spec_version: int
    start: str
    nodes: Mapping[str, Node]
    expire_after: timedelta = timedelta(hours=18)
    sms_budget: int | None = None
    interruptible: bool = True
    # Kept as a draft when it expires if any of these holds.
    keep_draft_if: tuple[str, ...] = ()
    # The result that holds the worker's story: words that answer no question are added
    # to it (a story typed at a menu, the second and third part of one), never dropped.
    story: str | None = None
    # While this flow waits, questions about a case (the remedy, check-ins) wait too:
    # the worker is in the middle of something of their own, like a report.
    busy: bool = True
    # The answers are not kept with the contact: the host erases the inbound messages
    # this flow reads once they are processed (the wellbeing pulse).
    private: bool = False
    # The channels the flow runs on; "voice" requires every question to be worded for the
    # ear (a `voice:` variant in the source catalog), which `flows check` enforces.
    channels: tuple[str, ...] = ("sms", "whatsapp")
    path: str = ""
    line: int = 1
    key_lines: Mapping[str, int] = field(default_factory=dict)

    def node(self, name: str) -> Node:
        """The node called ``name``; KeyError when missing."""
        return self.nodes[name]


@dataclass(frozen=True)
class KeywordRule:
    """What a global keyword does: start ``flow``, and resume the interrupted flow after it."""

    keyword: str
    flow: str
    resume: bool = False
    line: int = 0


@dataclass(frozen=True)
class WatchRule:
    """Words of one kind (danger, retaliation) in any message start ``flow`` first."""

    kind: str
    flow: str
    condition: str | None = None
    line: int = 0


@dataclass(frozen=True)
class FlowSet:
    """All flows of a deployment, the default flow, and the global keyword rules."""

    flows: Mapping[str, Flow]
    default_flow: str
    keywords: Mapping[str, KeywordRule]
    path: str = ""
    draft_flow: str | None = None
    # What a message that answers nothing starts when the worker has a case to write to.
    case_flow: str | None = None
    # What any message but START starts while the worker has opted out.
    stopped_flow: str | None = None
    watch: tuple[WatchRule, ...] = ()
