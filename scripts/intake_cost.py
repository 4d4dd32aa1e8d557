"""What one whole intake costs in SMS segments, per language.

Plays the standard intake (the same answers in every language) through the
engine, joins each step's replies as the outbox does (one message per step),
and counts segments as Twilio bills them. Prints a Markdown table.

    .venv/bin/python scripts/intake_cost.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grievance.language import count_segments  # noqa: E402
from tests.support.golden import Harness, play_intake  # noqa: E402


def intake_cost(harness: Harness, language: str, channel: str = "sms") -> tuple[int, int, int]:
    """(messages, segments, characters) of one intake in ``language``; a step's replies are one message."""
    bodies = ["\n\n".join(step) for step in play_intake(harness, language, channel).steps if step]
    return len(bodies), sum(count_segments(b).segments for b in bodies), sum(len(b) for b in bodies)


def main() -> None:
    """Print the table."""
    languages = tuple(sorted(p.stem for p in (ROOT / "locales").glob("*.yaml")))
    harness = Harness.create(languages)
    english = intake_cost(harness, "en")[1]
    print("| language | messages | SMS segments | characters | vs English |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for language in languages:
        messages, segments, characters = intake_cost(harness, language)
        print(
            f"| {language} | {messages} | {segments} | {characters} | {segments / english:.1f}x |"
        )


if __name__ == "__main__":
    main()
