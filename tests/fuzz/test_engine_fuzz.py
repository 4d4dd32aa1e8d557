"""Fuzz the flow engine's input handling with a Hypothesis state machine.

Goes further than ``tests/unit/test_engine_properties.py``: long conversations that
mix random and well-formed answers (so they reach the end of every flow), keywords of
every catalog as phones type them, native digits, timers when due and when not, flow
broadcasts, and stored sessions from an older deployment of the flows, in five
deployments (one to fourteen languages). After every input
(:class:`tests.fuzz.harness.Conversation`) it checks what the host relies on:

* the engine never raises and never changes the session it was given;
* every message gets an answer (a message or a status lookup); a due timer ends the
  conversation or moves it on; a timer that is not due changes nothing;
* the session settles (idle or waiting), round-trips through JSON, and resuming from
  the JSON copy gives exactly the same step (the host stores the state as JSON);
* ``WaitUntil`` is last and names the session's next timer; no timer is due right
  after a message, and none is left due after the host handled the due one;
* every message renders in its language with no placeholder left unfilled, no
  missing catalog key, no case code before the case is opened, within Twilio's
  1600 characters;
* STOP and START in every deployment language, typed any way, always work.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from grievance.conversation import due_timer, wake_at
from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.harness import DEPLOYMENTS, FLOWS, Conversation
from tests.fuzz.strategies import (
    ALL_CATALOGS,
    case_codes,
    catalog_words,
    decorated,
    long_texts,
    media_kinds,
    native,
    numbers,
    scripts,
    worker_texts,
)

DELAYS = st.sampled_from(
    [timedelta(minutes=m) for m in (1, 29, 31, 59, 61, 119, 121)]
    + [timedelta(hours=h) for h in (17, 18, 19, 30)]
    + [timedelta(days=3)]
)


class EngineFuzz(RuleBasedStateMachine):
    """One contact's conversation, driven by random inputs, checked after every step."""

    def __init__(self) -> None:
        super().__init__()
        self.talk = Conversation(log=note)

    @initialize(
        deployment=st.sampled_from(DEPLOYMENTS),
        channel=st.sampled_from(["sms", "whatsapp", "voice"]),
        known=st.booleans(),
        confirmed=st.booleans(),
        pick=st.integers(min_value=0, max_value=20),
        has_case=st.booleans(),
        flow=st.none() | st.sampled_from(FLOWS),
    )
    def begin(
        self,
        deployment: tuple[str, ...],
        channel: str,
        known: bool,
        confirmed: bool,
        pick: int,
        has_case: bool,
        flow: str | None,
    ) -> None:
        language = deployment[pick % len(deployment)] if known else None
        self.talk = Conversation(deployment, channel, language, confirmed, has_case, log=note)
        if flow is not None:
            self.talk.start(flow)

    @rule(text=worker_texts, media=media_kinds)
    def worker_writes(self, text: str, media: list[str]) -> None:
        self.talk.message(text, tuple(media))

    @rule(data=st.data())
    def worker_answers_the_question(self, data: st.DataObject) -> None:
        """A well-formed answer to the question waiting, so conversations get to their end."""
        node = self.talk.waiting_node()
        if node is None or node.wait is None:
            self.talk.message(data.draw(worker_texts, label="text"))
            return
        wait = node.wait
        media: tuple[str, ...] = ()
        if wait.kind == "menu":
            count = len(wait.options) or len(self.talk.engine.languages)
            number = str(data.draw(st.integers(1, count), label="option"))
            text = native(number, data.draw(scripts, label="script"))
        elif wait.kind == "yes_no":
            word = data.draw(st.sampled_from(["yes", "no"]), label="answer")
            text = data.draw(
                st.sampled_from(["1" if word == "yes" else "2"])
                | decorated(catalog_words(word, self.talk.engine.languages)),
                label="word",
            )
        elif wait.kind == "code":
            text = data.draw(case_codes(valid=True), label="code")
        elif wait.kind == "media":
            text = ""
            media = (data.draw(st.sampled_from(wait.media or ("image",))),)
        else:
            text = data.draw(
                st.text(min_size=wait.min_length, max_size=wait.max_length).filter(
                    lambda t: t.strip()
                )
                | long_texts([max(wait.min_length, 1), wait.max_length]),
                label="text",
            )
        self.talk.message(text, media)

    @rule(data=st.data(), kind=st.sampled_from(["stop", "start"]))
    def worker_stops_or_starts(self, data: st.DataObject, kind: str) -> None:
        """STOP and START always work, whatever the conversation is doing."""
        words = catalog_words(kind, self.talk.engine.languages)
        self.talk.keyword(kind, data.draw(decorated(words), label=kind))

    @rule(data=st.data())
    def worker_uses_a_keyword(self, data: st.DataObject) -> None:
        languages = self.talk.engine.languages
        kinds = sorted({k for lang in languages for k in ALL_CATALOGS[lang].keywords})
        kind = data.draw(st.sampled_from(kinds), label="keyword")
        word = data.draw(decorated(catalog_words(kind, languages)), label="word")
        suffix = data.draw(st.sampled_from(["", " "]) | case_codes().map(" ".__add__))
        self.talk.message(word + suffix)

    @rule(number=numbers())
    def worker_types_a_number(self, number: str) -> None:
        self.talk.message(number)

    @rule(delay=DELAYS)
    def time_passes(self, delay: timedelta) -> None:
        self.talk.time_passes(delay)

    @precondition(lambda self: wake_at(self.talk.session) is not None)
    @rule(late=st.sampled_from([timedelta(0), timedelta(seconds=1), timedelta(minutes=5)]))
    def the_worker_goes_quiet_until_the_next_timer(self, late: timedelta) -> None:
        self.talk.until_next_timer(late)

    @precondition(lambda self: due_timer(self.talk.session, self.talk.now) is None)
    @rule(kind=st.sampled_from(["timeout", "expire"]))
    def timer_fires_early(self, kind: str) -> None:
        self.talk.early_timer(kind)

    @rule(flow=st.sampled_from(FLOWS))
    def a_flow_is_started_for_the_worker(self, flow: str) -> None:
        self.talk.start(flow)

    @precondition(lambda self: any(self.talk.session.get(k) for k in ("run", "parent", "draft")))
    @rule(data=st.data(), change=st.sampled_from(["version", "node", "flow"]))
    def the_flows_are_redeployed(self, data: st.DataObject, change: str) -> None:
        """The stored session refers to a flow, node or version the new deployment lacks."""
        present = [k for k in ("run", "parent", "draft") if self.talk.session.get(k)]
        self.talk.redeploy(data.draw(st.sampled_from(present), label="which"), change)


TestEngineFuzz = EngineFuzz.TestCase
TestEngineFuzz.settings = fuzz_settings(150, steps=40)
