"""What the line does with typical first messages, in three deployments: a Markdown table.

Plays each message through the flow engine (no database, no network) as the first message
of a new worker, and again for a worker whose report is open, and describes the reply in
words. ``docs/worker-experience.md`` carries the table between markers; a unit test checks
that it matches what the engine does, so the page stays true.

    .venv/bin/python scripts/first_messages.py            # print the table
    .venv/bin/python scripts/first_messages.py --write    # rewrite it in the docs
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grievance.conversation import (  # noqa: E402
    Engine,
    Handover,
    LookupStatus,
    Message,
    OptOut,
    Send,
    ToCase,
    Urgent,
    load_flowset,
    new_session,
)
from grievance.language import load_catalogs  # noqa: E402

DOC = ROOT / "docs" / "worker-experience.md"
BEGIN = "<!-- first-messages: begin (scripts/first_messages.py --write) -->"
END = "<!-- first-messages: end -->"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

DEPLOYMENTS: dict[str, tuple[str, ...]] = {
    "Malaysia (en, ne, my)": ("en", "ne", "my"),
    "Gulf (ar, en, ur, hi)": ("ar", "en", "ur", "hi"),
    "Thailand (th, my, km)": ("th", "my", "km"),
}
# (what it is, the message, kinds of media attached)
MESSAGES: list[tuple[str, str, tuple[str, ...]]] = [
    ("greeting", "hi", ()),
    ("greeting", "hello sir", ()),
    ("greeting, romanized Arabic", "assalamualaikum", ()),
    ("greeting, Nepali", "नमस्ते", ()),
    ("greeting, Burmese", "မင်္ဂလာပါ", ()),
    ("greeting, Thai", "สวัสดีครับ", ()),
    ("a question mark", "?", ()),
    ("an emoji", "🙏", ()),
    ("a question", "is this free?", ()),
    ("a question", "who are you", ()),
    ("a bare number", "1", ()),
    ("yes", "yes", ()),
    ("a photo, no words", "", ("image",)),
    ("HELP", "HELP", ()),
    ("HELP, Nepali", "मद्दत", ()),
    ("asking for a person", "can someone call me?", ()),
    ("STATUS", "STATUS", ()),
    ("STATUS and a code", "STATUS 1234 5678 9012", ()),
    ("a code alone", "1234 5678 9012", ()),
    ("STOP", "STOP", ()),
    ("MENU", "MENU", ()),
    ("a story", "The agent took 3000 dollars from me and the company keeps my passport", ()),
    ("a story, Nepali", "एजेन्टले दुई लाख रुपैयाँ लियो र कम्पनीले मेरो राहदानी राखेको छ", ()),
    ("a story, romanized Hindi", "mera 3 mahine ka paisa nahi diya company ne", ()),
    (
        "danger",
        "please help me I am in danger, madam beat me and locked me in the room",
        (),
    ),
    ("danger, Arabic", "ساعدني أنا في خطر", ()),
]

WAITING = {
    "intake.choose_language": "asks which language",
    "intake.consent": "says who sees what; asks whether to report",
    "danger.ask": "asks first: in danger right now?",
    "help.offer": "explains the line; offers a person",
    "person.offer": "offers a person",
    "status.ask_code": "asks for the case code",
    "language.choose": "asks which language",
    "intake.category": "asks what the problem is about",
}


def engine(languages: Sequence[str]) -> Engine:
    """An engine over the project's flows and catalogs for these languages."""
    flowset, problems = load_flowset(ROOT / "flows")
    if flowset is None or problems:
        raise SystemExit("\n".join(map(str, problems)))
    ids = itertools.count(1)
    catalogs = load_catalogs(ROOT / "locales", languages)
    return Engine(
        flowset,
        catalogs,
        languages,
        new_id=lambda: f"run-{next(ids)}",
        known_catalogs=load_catalogs(ROOT / "locales"),
    )


def describe(engine: Engine, text: str, media: tuple[str, ...], has_case: bool) -> str:
    """What the line does with this first message, in a few words."""
    facts = {
        "has_case": has_case,
        "has_open_case": has_case,
        "has_active_case": has_case,
        "opted_out": False,
    }
    # A worker with a report chose their language when they made it.
    session = new_session(engine.default_language, confirmed=True) if has_case else new_session()
    step = engine.resume(session, Message(text, media, ref=1), NOW, facts, "sms")
    effects = step.effects
    sends = [e for e in effects if isinstance(e, Send)]
    languages = sorted({e.language for e in sends})
    run = step.session.get("run") or {}
    where = f"{run.get('flow')}.{run.get('node')}" if run.get("waiting") else None
    parts = []
    if any(isinstance(e, OptOut) for e in effects):
        parts.append("confirms STOP; nothing more is sent")
    elif any(isinstance(e, LookupStatus) for e in effects):
        parts.append("looks up the case and answers")
    elif any(isinstance(e, ToCase) for e in effects):
        told = " and says so" if sends else ""
        parts.append(f"puts it on the worker's case{told}")
    elif any(isinstance(e, Urgent | Handover) for e in effects):
        parts.append("acts on danger")
    if where in WAITING:
        phrase = WAITING[where]
        options = run.get("results", {}).get("language_options")
        if where == "intake.choose_language" and options:
            phrase = f"asks which language: {' or '.join(options)}"
        if where == "intake.consent" and run.get("results", {}).get("description"):
            phrase += "; keeps the story"
        parts.append(phrase)
    elif where is not None:
        parts.append(f"waits at {where}")
    if not parts:
        parts.append("answers")
    if languages and where != "intake.choose_language":
        parts.append(f"in {'/'.join(languages)}")
    return ", ".join(parts)


def table() -> str:
    """The whole Markdown table."""
    engines = {name: engine(langs) for name, langs in DEPLOYMENTS.items()}
    names = list(DEPLOYMENTS)
    lines = [
        "| # | first message | "
        + " | ".join(f"new worker, {n}" for n in names)
        + " | worker with an open report (Malaysia) |",
        "| ---: | --- |" + " --- |" * (len(names) + 1),
    ]
    for number, (kind, text, media) in enumerate(MESSAGES, start=1):
        shown = f"`{text}`" if text else "(no text)"
        cells = [describe(engines[n], text, media, has_case=False) for n in names]
        cells.append(describe(engines[names[0]], text, media, has_case=True))
        lines.append(f"| {number} | {kind}: {shown} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def documented() -> str:
    """The table as the docs have it now."""
    text = DOC.read_text(encoding="utf-8")
    return text[text.index(BEGIN) + len(BEGIN) : text.index(END)].strip("\n") + "\n"


def main() -> None:
    """Print the table, or write it into the docs with --write."""
    if "--write" in sys.argv:
        text = DOC.read_text(encoding="utf-8")
        start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
        DOC.write_text(text[:start] + "\n" + table() + text[end:], encoding="utf-8")
    else:
        sys.stdout.write(table())


if __name__ == "__main__":
    main()
