"""docs/worker-experience.md's table of first messages says what the engine does."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "first_messages.py"


def test_the_documented_table_matches_the_flows() -> None:
    spec = importlib.util.spec_from_file_location("first_messages", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.documented() == module.table(), (
        "docs/worker-experience.md is out of date: run scripts/first_messages.py --write"
    )
