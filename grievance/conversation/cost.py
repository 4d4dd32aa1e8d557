"""What a whole intake costs a worker in SMS segments, per language, and the targets it must meet.

A worker on a prepaid SIM pays for what they send, and the programme pays Twilio for every
segment the line sends. Scripts other than Latin travel as UCS-2 (70 characters a segment,
67 when split), so the same words cost about twice as much in Nepali as in English. The
targets hold in every catalog:

- a happy-path intake costs at most ``INTAKE_SEGMENTS`` segments;
- the reply to the first message costs at most ``FIRST_REPLY_SEGMENTS``;
- each message of ``MESSAGE_SEGMENTS`` (the answers of RIGHTS) at most its own limit.

`grievance flows check --segments` plays the standard intake through the engine in every
catalog, as the outbox sends it (a step's replies joined into one message), and reports the
catalogs over a target. Pure: no database, no clock but the one passed in.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from grievance.conversation.effects import OpenCase, Send
from grievance.conversation.engine import Engine, Message, new_session
from grievance.conversation.loader import Problem
from grievance.conversation.model import FlowSet
from grievance.conversation.render import render_send
from grievance.language.catalog import Catalog
from grievance.language.segments import count_segments, is_gsm7

INTAKE_SEGMENTS = 12
FIRST_REPLY_SEGMENTS = 2
# Messages with a cost of their own: each answer of RIGHTS is one or two segments.
MESSAGE_SEGMENTS = {
    "rights.documents": 2,
    "rights.fees": 2,
    "rights.debts": 2,
    "rights.hours": 2,
}
# Stands in for the case code the host fills in: same length and shape as a real one.
SAMPLE_CODE = "4821 0937 5523"
# A Latin-script message pushed into UCS-2 by this many characters or fewer costs twice
# what it should for a typo's worth of text (a curly quote, an accent).
FEW_CHARACTERS = 3
# The replies of one step travel as one message (separate SMS can arrive out of order).
JOIN = "\n\n"
_CLOCK = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class IntakeCost:
    """One standard intake in one language, as the worker receives it."""

    language: str
    bodies: tuple[str, ...]  # one message per step that answered anything
    opened: tuple[OpenCase, ...]
    languages_sent: frozenset[str]

    @property
    def segments(self) -> int:
        return sum(count_segments(body).segments for body in self.bodies)

    @property
    def first_reply_segments(self) -> int:
        return count_segments(self.bodies[0]).segments if self.bodies else 0

    @property
    def breakdown(self) -> str:
        """Segments per message, in order: "2+3+1+1+1+1+1+2"."""
        return "+".join(str(count_segments(body).segments) for body in self.bodies)

    @property
    def characters(self) -> int:
        return sum(len(body) for body in self.bodies)


def standard_answers(catalog: Catalog) -> list[str]:
    """The same intake in every language, in that language's own yes/no words: a greeting,
    yes to report, debt or pay held back, a workplace, a story, not in danger, yes to news,
    and content-free news."""
    yes, no = catalog.yes[0], catalog.no[0]
    return ["hello", yes, "3", "Factory 7, Penang", "They keep our pay", no, yes, no]


def play_intake(
    engine: Engine,
    language: str,
    channel: str = "sms",
    answers: list[str] | None = None,
    now: datetime = _CLOCK,
) -> IntakeCost:
    """Play the standard intake in ``language`` (a language the worker confirmed)."""
    catalogs = engine.catalogs
    session = new_session(language, confirmed=True)
    bodies: list[str] = []
    opened: list[OpenCase] = []
    sent_in: set[str] = set()
    for text in answers or standard_answers(catalogs[language]):
        step = engine.resume(session, Message(text), now)
        session = step.session
        replies = []
        for effect in step.effects:
            if isinstance(effect, Send):
                sent_in.add(effect.language)
                replies.append(
                    render_send(
                        catalogs, language, effect, channel, {"case.code": SAMPLE_CODE}, now.date()
                    )
                )
            elif isinstance(effect, OpenCase):
                opened.append(effect)
        if replies:
            bodies.append(JOIN.join(replies))
    return IntakeCost(language, tuple(bodies), tuple(opened), frozenset(sent_in))


def costs(flowset: FlowSet, catalogs: Mapping[str, Catalog]) -> list[IntakeCost]:
    """The standard intake in every catalog, each as the only language of its line. A catalog
    that lacks a message the intake sends has no cost (`flows check` names the missing key)."""
    result = []
    for language in catalogs:
        engine = Engine(flowset, {language: catalogs[language]}, [language], new_id=lambda: "cost")
        try:
            result.append(play_intake(engine, language))
        except KeyError:
            continue
    return result


def over_target(cost: IntakeCost) -> list[tuple[str, str]]:
    """What is over a target, in words an operator can act on."""
    problems = []
    if cost.segments > INTAKE_SEGMENTS:
        problems.append(
            (
                "intake.choose_category",
                f"a whole intake costs {cost.segments} SMS segments, more than the target of "
                f"{INTAKE_SEGMENTS} (per message: {cost.breakdown}): shorten the longest "
                "questions",
            )
        )
    if cost.first_reply_segments > FIRST_REPLY_SEGMENTS:
        problems.append(
            (
                "intake.continue_question",
                f"the reply to a first message costs {cost.first_reply_segments} SMS segments, more "
                f"than the target of {FIRST_REPLY_SEGMENTS}: shorten intake.promise and "
                "intake.continue_question",
            )
        )
    return problems


def needless_ucs2(text: str) -> str | None:
    """The few characters that push a Latin-script message into UCS-2 and so cost the
    worker more segments (a curly apostrophe, an accent the language can do without), or
    None. A message in another script is UCS-2 anyway, and one that fits a single UCS-2
    segment costs nothing extra."""
    count = count_segments(text)
    if count.encoding != "UCS-2":
        return None
    outside = [ch for ch in text if not is_gsm7(ch)]
    if len(outside) > FEW_CHARACTERS or not all(_latin_or_symbol(ch) for ch in outside):
        return None
    without = "".join(ch for ch in text if is_gsm7(ch))
    if count_segments(without).segments >= count.segments:
        return None
    return "".join(dict.fromkeys(outside))


def _latin_or_symbol(ch: str) -> bool:
    return "LATIN" in unicodedata.name(ch, "") or unicodedata.category(ch)[0] in "PSZ"


def segment_problems(
    flowset: FlowSet, catalogs: Mapping[str, Catalog], page_keys: frozenset[str] = frozenset()
) -> tuple[list[IntakeCost], list[Problem]]:
    """The intake's cost per catalog, and what misses a target, as ``file:line: problem``.

    ``page_keys`` are messages shown on web pages, never sent by SMS, and so not checked for
    characters that cost segments.
    """
    results = costs(flowset, catalogs)
    problems = []
    for cost in results:
        catalog = catalogs[cost.language]
        for key, problem in over_target(cost):
            text = catalog.messages.get(key)
            problems.append(Problem(catalog.path, text.line if text else 1, problem))
        for key, text in catalog.messages.items():
            if key in page_keys:
                continue
            for channel, body in text.variants():
                if channel == "voice":
                    continue
                limit = MESSAGE_SEGMENTS.get(key)
                if limit is not None and count_segments(body).segments > limit:
                    problems.append(
                        Problem(
                            catalog.path,
                            text.line,
                            f"'{key}' costs {count_segments(body).segments} SMS segments; it "
                            f"must fit in {limit}: shorten it",
                        )
                    )
                chars = needless_ucs2(body)
                if chars:
                    problems.append(
                        Problem(
                            catalog.path,
                            text.line,
                            f"'{key}' costs {count_segments(body).segments} SMS segments "
                            f"instead of fewer only because of {chars!r} (UCS-2); write it "
                            "without them",
                        )
                    )
    return results, problems


def table(results: list[IntakeCost]) -> list[str]:
    """The cost per language as a Markdown table, with English as the yardstick."""
    english = next((c.segments for c in results if c.language == "en"), 0)
    rows = [
        "| language | messages | SMS segments | first reply | characters | vs English |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for cost in sorted(results, key=lambda c: c.language):
        ratio = f"{cost.segments / english:.1f}x" if english else "-"
        rows.append(
            f"| {cost.language} | {len(cost.bodies)} | {cost.segments} | "
            f"{cost.first_reply_segments} | {cost.characters} | {ratio} |"
        )
    return rows
