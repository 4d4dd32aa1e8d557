"""The prompt coverage of a call, per language: which Twilio voice reads it, whether
espeak-ng can draft it, whether the catalog has the phone menu's own sentences, and how many
prompts a person recorded (drafts are made on each machine, so the repository counts none).

Written into docs/voice.md; `grievance voice prompts` gives the same figures for a
deployment's own locales.

    .venv/bin/python scripts/voice_prompts.py            # print
    .venv/bin/python scripts/voice_prompts.py --write    # update docs/voice.md
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from doctable import between, run  # noqa: E402

from grievance.channels.voice import SAY_VOICES  # noqa: E402
from grievance.conversation import load_flowset  # noqa: E402
from grievance.language import load_catalogs  # noqa: E402
from grievance.services import voice_prompts  # noqa: E402

DOC = ROOT / "docs" / "voice.md"
START, END = "<!-- voice-prompts: start -->\n", "<!-- voice-prompts: end -->\n"


def current() -> str:
    """The table for the repository's catalogs and recordings."""
    locales = ROOT / "locales"
    catalogs = load_catalogs(locales)
    lines = [
        "| language | Twilio voice (`<Say>`) | drafts (`--generate`) | phone-menu sentences | prompts | recorded | neither |",
        "| --- | --- | --- | --- | ---: | ---: | ---: |",
    ]
    flowset, _problems = load_flowset(ROOT / "flows")
    labels = voice_prompts.voice_keys(flowset) if flowset is not None else []
    # The repository's own recordings; drafts are made on each machine, not shipped.
    for row in voice_prompts.coverage(catalogs, locales, ROOT / "no-drafts", labels=labels):
        found = SAY_VOICES.get(row.language)
        voice = f"`{found[1]}` ({found[0]})" if found else "none"
        if found:
            draft = "not needed"
        elif row.language in voice_prompts.ESPEAK_VOICES:
            draft = f"espeak-ng `{voice_prompts.ESPEAK_VOICES[row.language]}`"
        else:
            draft = "none: record the prompts"
        menu = "in English (to translate)" if row.unworded else "own"
        total = len(row.recorded) + len(row.drafts) + len(row.say) + len(row.neither)
        lines.append(
            f"| {row.language} | {voice} | {draft} | {menu} | {total} | {len(row.recorded)} "
            f"| {len(row.neither)} |"
        )
    return "\n".join(lines) + "\n"


def documented() -> str:
    """The table as docs/voice.md shows it."""
    return between(DOC, START, END)


if __name__ == "__main__":
    run(DOC, START, END, current)
