"""What a call says in each language, and how: a recording, a Twilio voice, or neither.

Operators record prompts as ``locales/audio/<lang>/<key>.(wav|mp3)``; where one is missing a
call reads the text with a Twilio voice for the language, where one exists. ``generate``
makes draft recordings with espeak-ng (converted to telephone audio with sox) for the
languages it speaks, listed in the folder's ``drafts.txt`` as unreviewed translations are
marked ``reviewed: false``: a person's recording replaces a draft.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grievance.channels.voice import has_say_voice
from grievance.conversation import FlowSet
from grievance.language.catalog import Catalog, placeholders
from grievance.services.voice import AUDIO_EXTENSIONS, MESSAGE_KEYS

DRAFTS = "drafts.txt"
# Messages whose only parameter is the key to press: recorded once per key, 1 to 9.
BY_KEY = frozenset({"voice.language_option", "voice.press_key"})
# espeak-ng's voice for each catalog language it speaks (`espeak-ng --voices`).
ESPEAK_VOICES = {
    "am": "am",
    "ar": "ar",
    "bn": "bn",
    "en": "en-us",
    "es": "es-419",
    "hi": "hi",
    "id": "id",
    "ms": "ms",
    "my": "my",
    "ne": "ne",
    "si": "si",
    "ta": "ta",
    "th": "th",
    "ur": "ur",
    "vi": "vi",
}


@dataclass
class Coverage:
    """How one language's prompts are spoken on a call."""

    language: str
    recorded: list[str] = field(default_factory=list)
    drafts: list[str] = field(default_factory=list)
    say: list[str] = field(default_factory=list)
    neither: list[str] = field(default_factory=list)
    # Phone-menu sentences the catalog lacks: they are said in the source language.
    unworded: list[str] = field(default_factory=list)


def prompt_keys(source: Catalog, labels: Iterable[str] = ()) -> list[str]:
    """The messages a call says: the phone menu's own, every message worded for the ear,
    and ``labels``, the options of the menus asked on calls (each followed by "press N")."""
    worded = [key for key, text in source.messages.items() if text.voice is not None]
    return list(dict.fromkeys([*MESSAGE_KEYS, *worded, *labels]))


def voice_labels(flowset: FlowSet) -> list[str]:
    """The option labels of the menus of every flow that runs on calls."""
    return list(
        dict.fromkeys(
            option.label
            for flow in flowset.flows.values()
            if "voice" in flow.channels
            for node in flow.nodes.values()
            if node.wait is not None
            for option in node.wait.options
            if option.label
        )
    )


def audio_folder(locales_dir: Path, language: str) -> Path:
    """Where ``language``'s recorded prompts live."""
    return locales_dir / "audio" / language


def drafts(locales_dir: Path, language: str) -> set[str]:
    """The prompts of ``language`` whose recording is a machine-made draft."""
    path = audio_folder(locales_dir, language) / DRAFTS
    if not path.is_file():
        return set()
    return {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def recorded(locales_dir: Path, language: str, key: str) -> bool:
    """True when a recording of ``key`` exists for ``language`` (for a message whose only
    parameter is a key on the phone, a recording for each of 1 to 9)."""
    folder = audio_folder(locales_dir, language)
    names = [key] if key not in BY_KEY else [f"{key}.{n}" for n in range(1, 10)]
    return all(
        any((folder / f"{name}.{extension}").is_file() for extension in AUDIO_EXTENSIONS)
        for name in names
    )


def coverage(
    catalogs: Mapping[str, Catalog],
    locales_dir: Path,
    source: str = "en",
    labels: Iterable[str] = (),
) -> list[Coverage]:
    """Per language: which prompts are recorded (and which of those are drafts), which are
    read by a Twilio voice, and which have neither."""
    keys = prompt_keys(catalogs[source], labels)
    found = []
    for language, catalog in catalogs.items():
        row = Coverage(language)
        marked = drafts(locales_dir, language)
        for key in keys:
            if key in MESSAGE_KEYS and key not in catalog.messages:
                row.unworded.append(key)
            if recorded(locales_dir, language, key):
                row.recorded.append(key)
                if key in marked:
                    row.drafts.append(key)
            elif has_say_voice(language):
                row.say.append(key)
            else:
                row.neither.append(key)
        found.append(row)
    return found


Runner = Callable[[Sequence[str]], None]


def _run(command: Sequence[str]) -> None:
    subprocess.run(list(command), check=True, capture_output=True, timeout=60)


def generate(
    catalogs: Mapping[str, Catalog],
    locales_dir: Path,
    languages: Sequence[str],
    run: Runner = _run,
    labels: Iterable[str] = (),
) -> dict[str, list[str]]:
    """Draft recordings of every prompt without a recording, in each of ``languages`` that
    espeak-ng speaks: 8 kHz mono WAV, as a telephone plays it. The language menu's option
    is recorded once per key (1 to 9); other prompts with parameters (filled on the call)
    cannot be recorded whole and are left to <Say>. Returns the keys drafted per language."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        raise RuntimeError("espeak-ng and sox are needed: apt-get install espeak-ng sox")
    made: dict[str, list[str]] = {}
    for language in languages:
        voice = ESPEAK_VOICES.get(language)
        catalog = catalogs.get(language)
        if voice is None or catalog is None:
            continue
        folder = audio_folder(locales_dir, language)
        for key in prompt_keys(catalogs.get("en") or catalog, labels):
            message = catalog.messages.get(key)
            if message is None or recorded(locales_dir, language, key):
                continue
            text = message.for_channel("voice")
            if key in BY_KEY:
                takes = [(f"{key}.{n}", text.format(n=n)) for n in range(1, 10)]
            elif placeholders(text):
                continue
            else:
                takes = [(key, text)]
            folder.mkdir(parents=True, exist_ok=True)
            for name, said in takes:
                _record(run, voice, said, folder / f"{name}.wav")
            made.setdefault(language, []).append(key)
        if made.get(language):
            marked = drafts(locales_dir, language) | set(made[language])
            (folder / DRAFTS).write_text("\n".join(sorted(marked)) + "\n", encoding="utf-8")
    return made


def _record(run: Runner, voice: str, text: str, target: Path) -> None:
    """``text`` read by espeak-ng, as 8 kHz mono 16-bit WAV at ``target``."""
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "raw.wav"
        run(["espeak-ng", "-v", voice, "-w", str(raw), text])
        run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(target)])
