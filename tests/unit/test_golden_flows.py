"""Golden conversations: tests/flows/*.yaml. Regenerate with `pytest --regen-golden`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.golden import Harness, load_case, run_case, write_case

GOLDEN = sorted((Path(__file__).resolve().parents[1] / "flows").glob("*.yaml"))


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden_conversation(path: Path, request: pytest.FixtureRequest) -> None:
    case = load_case(path)
    languages = tuple(case.get("languages", ("en", "ne", "my")))
    observed = run_case(Harness.create(languages), case)
    if request.config.getoption("--regen-golden"):
        write_case(path, case, observed)
        return
    expected = [step.get("expect") for step in case["steps"]]
    for number, (want, got) in enumerate(zip(expected, observed, strict=True), start=1):
        assert want == got, f"{path.name} step {number} ({case['steps'][number - 1]})"


def test_there_are_golden_cases() -> None:
    assert len(GOLDEN) >= 5
