"""Tables in the docs that a script generates say what the code does today."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


@pytest.mark.parametrize(
    ("script", "doc", "current"),
    [
        ("first_messages.py", "docs/worker-experience.md", "table"),
        ("intake_cost.py", "docs/languages.md", "current"),
        ("details_cost.py", "docs/languages.md", "current"),
        ("voice_prompts.py", "docs/voice.md", "current"),
    ],
)
def test_the_documented_table_matches_the_code(script: str, doc: str, current: str) -> None:
    spec = importlib.util.spec_from_file_location(script.removesuffix(".py"), SCRIPTS / script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.documented() == getattr(module, current)(), (
        f"{doc} is out of date: run scripts/{script} --write"
    )
