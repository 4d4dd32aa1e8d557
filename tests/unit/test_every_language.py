"""The whole intake works in every catalog language, with that language's own yes and no words."""

from __future__ import annotations

from pathlib import Path

import pytest

from grievance.conversation import Message, OpenCase, Send, new_session
from grievance.conversation.render import render_send
from grievance.language import load_catalogs
from tests.support.golden import FAKE_CODE, Harness

LANGUAGES = tuple(
    sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "locales").glob("*.yaml"))
)


@pytest.fixture(scope="module")
def harness() -> Harness:
    return Harness.create(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_full_intake_in_language(harness: Harness, language: str) -> None:
    engine = harness.engine
    catalog = engine.catalogs[language]
    session = new_session(language, confirmed=True)
    answers = [
        "hello",
        catalog.yes[0],
        "3",
        "Factory 7, Penang",
        "They keep our pay",
        catalog.no[0],
        catalog.yes[0],
    ]
    replies: list[str] = []
    opened: list[OpenCase] = []
    for text in answers:
        step = engine.resume(session, Message(text), harness.now)
        session = step.session
        for effect in step.effects:
            if isinstance(effect, Send):
                assert effect.language == language
                replies.append(
                    render_send(engine.catalogs, "en", effect, "sms", {"case.code": FAKE_CODE})
                )
            elif isinstance(effect, OpenCase):
                opened.append(effect)
    assert len(opened) == 1, replies
    case = opened[0]
    assert (case.category, case.in_danger, case.wants_updates, case.language) == (
        "FL-DEBT",
        False,
        True,
        language,
    )
    assert case.workplace == "Factory 7, Penang"
    assert FAKE_CODE in replies[-1]
    # Every reply is the catalog's own text, never English filler (except in English).
    english = load_catalogs(Path(__file__).resolve().parents[2] / "locales", ["en"])["en"]
    if language != "en":
        assert english.messages["intake.ask_workplace"].sms not in replies


def test_rtl_catalogs_say_so(harness: Harness) -> None:
    directions = {lang: c.direction for lang, c in harness.engine.catalogs.items()}
    assert {lang for lang, d in directions.items() if d == "rtl"} == {"ar", "ur"} & set(directions)
