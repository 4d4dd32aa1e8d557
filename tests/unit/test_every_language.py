"""The whole intake works in every catalog language, with that language's own yes and no words."""

from __future__ import annotations

from pathlib import Path

import pytest

from grievance.conversation.cost import SAMPLE_CODE, play_intake
from grievance.language import load_catalogs
from tests.support.golden import Harness

LANGUAGES = tuple(
    sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "locales").glob("*.yaml"))
)


@pytest.fixture(scope="module")
def harness() -> Harness:
    return Harness.create(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_full_intake_in_language(harness: Harness, language: str) -> None:
    run = play_intake(harness.engine, language)
    replies = list(run.bodies)
    assert len(run.opened) == 1, replies
    case = run.opened[0]
    assert (case.category, case.in_danger, case.wants_updates, case.language) == (
        "FL-DEBT",
        False,
        True,
        language,
    )
    assert case.workplace == "Factory 7, Penang"
    assert run.languages_sent == {language}
    assert replies[-1].count(SAMPLE_CODE) == 2  # the code, and STATUS <code>
    # Every reply is the catalog's own text, never English filler (except in English).
    english = load_catalogs(Path(__file__).resolve().parents[2] / "locales", ["en"])["en"]
    if language != "en":
        assert not any(english.messages["intake.ask_workplace"].sms in r for r in replies)


def test_rtl_catalogs_say_so(harness: Harness) -> None:
    directions = {lang: c.direction for lang, c in harness.engine.catalogs.items()}
    assert {lang for lang, d in directions.items() if d == "rtl"} == {"ar", "ur"} & set(directions)
