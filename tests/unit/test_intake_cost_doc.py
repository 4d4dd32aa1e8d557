"""docs/languages.md shows what an intake costs today, in every catalog."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "intake_cost.py"


def test_the_documented_cost_table_matches_the_catalogs() -> None:
    spec = importlib.util.spec_from_file_location("intake_cost", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.documented() == module.current(), (
        "docs/languages.md is out of date: run scripts/intake_cost.py --write"
    )
