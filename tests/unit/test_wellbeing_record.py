"""The wellbeing survey records its answers under the token and wave the run holds, including a
run started before the flow's version 4, which holds them under their old names (pulse and
campaign) in the conversation's stored state."""

from __future__ import annotations

import copy
from typing import Any

from grievance.conversation import Message, WellbeingRecord
from tests.support.golden import START, Harness


def records(harness: Harness, session: dict[str, Any], *texts: str) -> list[WellbeingRecord]:
    found = []
    for ref, text in enumerate(texts, start=1):
        step = harness.engine.resume(session, Message(text, ref=ref), START)
        session = step.session
        found += [e for e in step.effects if isinstance(e, WellbeingRecord)]
    return found


def invited(harness: Harness, results: dict[str, Any]) -> dict[str, Any]:
    return dict(harness.engine.start(None, "wellbeing", START, results=results).session)


def test_a_wave_started_now_records_under_token_and_wave() -> None:
    harness = Harness.create()
    session = invited(harness, {"token": "tok-new", "wave": 7})
    (record,) = records(harness, session, "1", "4")
    assert (record.token, record.wave, dict(record.answers)) == ("tok-new", 7, {"safety_1": 4})


def test_a_survey_started_before_the_rename_still_records_its_answers() -> None:
    harness = Harness.create()
    session = invited(harness, {"token": "unused", "wave": 1})
    # What a conversation stored before the upgrade holds: version 3 of the flow, the token
    # under ``pulse`` and the wave under ``campaign``.
    old = copy.deepcopy(session)
    old["run"]["version"] = 3
    old["run"]["results"] = {"pulse": "tok-old", "campaign": 5}
    first, second = records(harness, old, "1", "4", "5")
    assert (second.token, second.wave) == ("tok-old", 5)
    assert dict(second.answers) == {"safety_1": 4, "safety_2": 5}
    assert first.token == "tok-old"


def test_the_new_name_wins_when_a_run_holds_both() -> None:
    harness = Harness.create()
    session = invited(harness, {"token": "tok-new", "pulse": "tok-old", "wave": 2, "campaign": 9})
    (record,) = records(harness, session, "1", "3")
    assert (record.token, record.wave) == ("tok-new", 2)
