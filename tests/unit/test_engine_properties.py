"""Random worker input to every flow in every language, for workers with and without cases,
opted in or out: the engine always answers (a reply, or the words put where a person reads
them), never raises, and always ends or waits."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grievance.conversation import (
    Appeal,
    Expired,
    Handover,
    LookupStatus,
    Message,
    OpenCase,
    Send,
    TimedOut,
    ToCase,
    Urgent,
    new_session,
)
from grievance.conversation.render import render_send
from grievance.language.words import story_like
from tests.support.golden import Harness

HARNESS = Harness.create()
ENGINE = HARNESS.engine
FLOWS = sorted(ENGINE.flowset.flows)
LANGUAGES = [None, *ENGINE.languages]
WORDS = sorted(
    {w for c in ENGINE.catalogs.values() for words in c.keywords.values() for w in words}
    | {w for c in ENGINE.catalogs.values() for w in (*c.yes, *c.no)}
)

texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(WORDS),
    st.integers(min_value=-3, max_value=15).map(str),
    st.sampled_from(
        ["१", "၂", "৩", "๔", "٥", "1234 5678 9012", "482109375523", "", " ", "\x00", "🙏"]
    ),
    st.builds(lambda w, rest: f"{w} {rest}", st.sampled_from(WORDS), st.text(max_size=20)),
    st.text(min_size=1500, max_size=2000),
)
events = st.one_of(
    st.builds(
        lambda t, m: ("message", t, m),
        texts,
        st.lists(st.sampled_from(["image", "audio", "document"]), max_size=2),
    ),
    st.sampled_from([("timeout", "", []), ("expire", "", [])]),
)


# What counts as being heard: a reply, or the message put where a person reads it.
HEARD = (Send, LookupStatus, Appeal, ToCase, Urgent, Handover, OpenCase)
REFS = {
    "case.code": "1",
    "link.procedure": "https://example.org/p/en",
    "contacts.emergency": "Police 999",
    # The host fills these, or sends nothing when it has none (no contacts, no fact).
    "contacts.help": "Workers Help Centre +60 3-0000 0001",
    **{
        f"facts.{topic}": "A fact the operator wrote."
        for topic in ("documents", "fees", "debts", "hours")
    },
}


def _facts(has_case: bool, opted_out: bool) -> dict[str, bool]:
    return {
        "has_case": has_case,
        "has_open_case": has_case,
        "has_active_case": has_case,
        "opted_out": opted_out,
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    flow=st.sampled_from(FLOWS),
    language=st.sampled_from(LANGUAGES),
    channel=st.sampled_from(["sms", "whatsapp", "voice"]),
    inputs=st.lists(events, min_size=1, max_size=12),
    has_case=st.booleans(),
    opted_out=st.booleans(),
)
def test_engine_always_answers_and_settles(
    flow: str, language: str | None, channel: str, inputs: list, has_case: bool, opted_out: bool
) -> None:
    now = HARNESS.now
    facts = _facts(has_case, opted_out)
    step = ENGINE.start(new_session(language, language is not None), flow, now, facts, channel)
    session = step.session
    for kind, text, media in inputs:
        if kind == "message":
            now += timedelta(minutes=1)
            step = ENGINE.resume(session, Message(text, tuple(media), ref=1), now, facts, channel)
            heard = [e for e in step.effects if isinstance(e, HEARD)]
            # The one exception: after STOP, short words get the reminder once a day.
            stopped = facts["opted_out"] and not story_like(text)
            assert heard or stopped, (
                f"{text!r} was neither answered nor put where a person reads it"
            )
        else:
            now += timedelta(hours=20)
            step = ENGINE.resume(
                session, Expired() if kind == "expire" else TimedOut(), now, facts, channel
            )
        for effect in step.effects:
            if isinstance(effect, Send):
                # Every message renders in its language with no placeholder left unfilled.
                text_out = render_send(
                    ENGINE.catalogs, ENGINE.default_language, effect, channel, REFS
                )
                assert text_out.strip()
                assert "{" not in text_out, text_out
        session = step.session
        run = session["run"]
        assert run is None or run["waiting"], "the engine stopped between nodes"
