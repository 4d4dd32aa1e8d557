"""What one whole intake costs in SMS segments, per language, as a Markdown table.

Plays the standard intake (the same answers in every language) through the engine, joins
each step's replies as the outbox does (one message per step), and counts segments as
Twilio bills them. `grievance flows check --segments` prints the same table and enforces
the targets; this script prints only the table, or writes it into docs/languages.md.

    .venv/bin/python scripts/intake_cost.py            # print
    .venv/bin/python scripts/intake_cost.py --write    # update docs/languages.md
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from doctable import between, run  # noqa: E402

from grievance.conversation import load_flowset  # noqa: E402
from grievance.conversation.cost import costs, table  # noqa: E402
from grievance.language import load_catalogs  # noqa: E402

DOC = ROOT / "docs" / "languages.md"
START, END = "<!-- intake-cost: start -->\n", "<!-- intake-cost: end -->\n"


def current() -> str:
    """The table for the repository's flows and catalogs."""
    flowset, problems = load_flowset(ROOT / "flows")
    if flowset is None:
        sys.exit("\n".join(str(p) for p in problems))
    return "\n".join(table(costs(flowset, load_catalogs(ROOT / "locales")))) + "\n"


def documented() -> str:
    """The table as docs/languages.md shows it."""
    return between(DOC, START, END)


def main() -> None:
    """Print the table, or write it into the docs with --write."""
    run(DOC, START, END, current)


if __name__ == "__main__":
    main()
