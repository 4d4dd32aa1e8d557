"""The case lifecycle as a table: every status has its moves, every open case can be
closed, an appeal reopens what it may, withdrawn is final, and the demo's cases only
ever took allowed steps."""

from __future__ import annotations

import itertools
from collections import deque

import pytest

from grievance.demo import PATHS
from grievance.models.cases import OPEN_STATUSES, STATUSES, TRANSITIONS, StatusError, check_move


def reachable(start: str) -> set[str]:
    seen, queue = {start}, deque([start])
    while queue:
        for nxt in TRANSITIONS[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def test_every_status_has_its_moves_and_they_are_statuses() -> None:
    assert set(TRANSITIONS) == set(STATUSES)
    for targets in TRANSITIONS.values():
        assert targets <= set(STATUSES)


@pytest.mark.parametrize("status", OPEN_STATUSES)
def test_every_open_case_can_end(status: str) -> None:
    ends = reachable(status)
    assert {"closed", "out_of_scope", "withdrawn", "referred"} <= ends


def test_an_appeal_reopens_what_it_may_and_withdrawn_is_final() -> None:
    for closed in ("closed", "resolved", "out_of_scope", "referred"):
        check_move(closed, "in_triage")
    assert TRANSITIONS["withdrawn"] == frozenset()
    with pytest.raises(StatusError, match="from withdrawn to in triage"):
        check_move("withdrawn", "in_triage")


@pytest.mark.parametrize(
    ("current", "new"),
    [
        ("received", "closed"),  # closing needs triage first
        ("received", "awaiting_worker"),  # a remedy needs someone to have triaged the case
        ("closed", "with_supplier"),  # a closed case is reopened by an appeal, into triage
        ("with_supplier", "resolved"),  # only the worker's answer resolves a case
        ("resolved", "with_supplier"),
    ],
)
def test_moves_the_lifecycle_does_not_allow_are_refused_in_words(current: str, new: str) -> None:
    with pytest.raises(StatusError) as refused:
        check_move(current, new)
    assert current.replace("_", " ") in str(refused.value)
    assert new.replace("_", " ") in str(refused.value)


@pytest.mark.parametrize("status", sorted(PATHS))
def test_the_demo_cases_took_only_allowed_steps(status: str) -> None:
    path = PATHS[status]
    for current, new in itertools.pairwise(path):
        check_move(current, new)
