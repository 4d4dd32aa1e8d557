"""What the optional questions after the case code cost, in SMS segments, per language.

The questions of flows/details.yaml come a minute after the code: who the problem affects,
and in fees and debt reports who recruited the worker, where, and what they paid. Each is
at most two segments (the flow's sms_budget, which `grievance flows check` enforces); this
table shows each and the whole of both paths, and is written into docs/languages.md.

    .venv/bin/python scripts/details_cost.py            # print
    .venv/bin/python scripts/details_cost.py --write    # update docs/languages.md
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from doctable import between, run  # noqa: E402

from grievance.conversation import load_flowset  # noqa: E402
from grievance.conversation.inspect import prompt_sizes  # noqa: E402
from grievance.language import load_catalogs  # noqa: E402

DOC = ROOT / "docs" / "languages.md"
START, END = "<!-- details-cost: start -->\n", "<!-- details-cost: end -->\n"
NODES = ("affected", "agency", "country", "fee", "thanks")


def current() -> str:
    """The table for the repository's flows and catalogs."""
    flowset, problems = load_flowset(ROOT / "flows")
    if flowset is None:
        sys.exit("\n".join(str(p) for p in problems))
    catalogs = load_catalogs(ROOT / "locales")
    sizes = {
        (s.language, s.node): s.segments
        for s in prompt_sizes(flowset, catalogs, sorted(catalogs))
        if s.flow == "details" and s.node in NODES
    }
    lines = [
        "| language | who is affected | agency | country | paid | thanks | other reports | fees and debt |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for language in sorted(catalogs):
        each = [sizes[(language, node)] for node in NODES]
        other = each[0] + each[-1]
        lines.append(
            f"| {language} | " + " | ".join(map(str, each)) + f" | {other} | {sum(each)} |"
        )
    return "\n".join(lines) + "\n"


def documented() -> str:
    """The table as docs/languages.md shows it."""
    return between(DOC, START, END)


def main() -> None:
    """Print the table, or write it into the docs with --write."""
    run(DOC, START, END, current)


if __name__ == "__main__":
    main()
