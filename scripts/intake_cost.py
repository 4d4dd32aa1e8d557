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

from grievance.conversation import Message, Send, new_session  # noqa: E402
from grievance.conversation.render import render_send  # noqa: E402
from grievance.language import count_segments  # noqa: E402
from tests.support.golden import FAKE_CODE, Harness  # noqa: E402


def intake_cost(harness: Harness, language: str, channel: str = "sms") -> tuple[int, int, int]:
    """(messages, segments, characters) of one intake in ``language``."""
    engine = harness.engine
    catalog = engine.catalogs[language]
    session = new_session(language, confirmed=True)
    answers = [
        "hello",
        catalog.yes[0],
        "3",
        "Factory 7, Penang",
        "They keep our pay",
        catalog.no[0],
        catalog.yes[0],
    ]
    messages = segments = characters = 0
    for text in answers:
        step = engine.resume(session, Message(text), harness.now)
        session = step.session
        parts = [
            render_send(engine.catalogs, "en", e, channel, {"case.code": FAKE_CODE})
            for e in step.effects
            if isinstance(e, Send)
        ]
        if parts:
            body = "\n\n".join(parts)
            messages += 1
            segments += count_segments(body).segments
            characters += len(body)
    return messages, segments, characters


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
