"""What a call says in each language, and how: a recording, a Twilio voice, or neither.

Operators record prompts as ``locales/audio/<lang>/<key>.(wav|mp3)``; where one is missing a
call reads the text with a Twilio voice for the language, where one exists. ``generate``
makes draft recordings with espeak-ng (converted to telephone audio with sox) for the
languages it speaks, listed with the hash of the words each was made from in the folder's
``drafts.txt``, as unreviewed translations are marked ``reviewed: false``: a person's
recording replaces a draft. A draft is played only where Twilio has no voice for the
language, and only while the catalog still says what it was made from.

The prompts of a language are its catalog's phone sentences, every message worded for the
ear, the STATUS answers and the options of the menus asked on calls; a sentence filled on
the call is recorded in pieces (:mod:`voice_pieces`): its stretches of words, numbers 0 to
31, the months and the years around this one.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from grievance.channels.voice import has_say_voice
from grievance.clock import utcnow
from grievance.conversation import FlowSet
from grievance.language.catalog import Catalog, placeholders
from grievance.services import cases, voice_pieces
from grievance.services.voice import (
    AUDIO_EXTENSIONS,
    DRAFTS,
    MESSAGE_KEYS,
    draft_hash,
    draft_index,
    month_names,
)

# Messages whose only parameter is the key to press: recorded once per key, 1 to 9.
BY_KEY = frozenset({"voice.language_option", "voice.press_key"})
# espeak-ng's voice for each catalog language it speaks (`espeak-ng --voices`; it has no
# Khmer or Lao).
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
    """How one language's prompts are spoken on a call (by recording name)."""

    language: str
    recorded: list[str] = field(default_factory=list)  # a person's recording
    drafts: list[str] = field(default_factory=list)  # a machine-made draft, played
    say: list[str] = field(default_factory=list)  # read by a Twilio voice
    neither: list[str] = field(default_factory=list)
    # Drafts of words the catalog has since changed: not played (among ``neither`` or
    # ``say``) until made again.
    stale: list[str] = field(default_factory=list)
    # Phone-menu sentences the catalog lacks: they are said in the source language.
    unworded: list[str] = field(default_factory=list)


def prompt_keys(source: Catalog, labels: Iterable[str] = ()) -> list[str]:
    """The messages a call says: the phone menu's own, every message worded for the ear,
    the STATUS answers, and ``labels``: what the flows that run on calls say, their options'
    labels among it (:func:`voice_keys`)."""
    worded = [key for key, text in source.messages.items() if text.voice is not None]
    return list(dict.fromkeys([*MESSAGE_KEYS, *worded, *cases.MESSAGE_KEYS, *labels]))


def prompt_texts(
    catalog: Catalog, source: Catalog, labels: Iterable[str] = (), today: date | None = None
) -> dict[str, str]:
    """Every recording a call in ``catalog``'s language may play, by name, with the words
    it says: whole messages, a message per key pressed, the pieces of the sentences filled
    on the call, the numbers, months and years those pieces need."""
    texts: dict[str, str] = {}
    filled = False
    for key in prompt_keys(source, labels):
        message = catalog.messages.get(key)
        if message is None:
            continue
        text = message.for_channel("voice")
        if key in BY_KEY:
            texts |= {f"{key}.{n}": text.format(n=n) for n in range(1, 10)}
        elif placeholders(text):
            filled = True
            texts |= {piece.name: piece.text for piece in voice_pieces.fixed_parts(key, text)}
        else:
            texts[key] = text
    if filled:
        today = today or utcnow().date()
        numbers = [*voice_pieces.NUMBERS, today.year, *voice_pieces.years(today)]
        texts |= {p.name: p.text for n in numbers for p in voice_pieces.number(n)}
        months = month_names(catalog)
        texts |= {
            p.name: p.text for m in range(1, 13) for p in voice_pieces.month(m, months.get(m, ""))
        }
    return texts


def voice_keys(flowset: FlowSet) -> list[str]:
    """The messages the flows that run on calls say: each node's messages, its question's
    re-ask, and its options' labels (each followed by "press N")."""
    keys: list[str] = []
    for flow in flowset.flows.values():
        if "voice" not in flow.channels:
            continue
        for node in flow.nodes.values():
            keys += [say.key for say in node.say]
            if node.wait is not None:
                keys += [node.wait.reask] if node.wait.reask else []
                keys += [option.label for option in node.wait.options if option.label]
    return list(dict.fromkeys(keys))


def audio_folder(locales_dir: Path, language: str) -> Path:
    """Where ``language``'s recorded prompts live."""
    return locales_dir / "audio" / language


def drafts(drafts_dir: Path, language: str) -> set[str]:
    """The prompts of ``language`` that have a machine-made draft."""
    return set(draft_index(drafts_dir, language))


def recorded(folder: Path, name: str) -> bool:
    """True when ``folder`` holds a recording named ``name``."""
    return any((folder / f"{name}.{extension}").is_file() for extension in AUDIO_EXTENSIONS)


def coverage(
    catalogs: Mapping[str, Catalog],
    locales_dir: Path,
    drafts_dir: Path,
    source: str = "en",
    labels: Iterable[str] = (),
) -> list[Coverage]:
    """Per language: which prompts a person recorded, which are played from a draft, which
    are read by a Twilio voice, and which have neither (as a call chooses: a person's
    recording, then a Twilio voice, then a draft made from the catalog's present words)."""
    found = []
    for language, catalog in catalogs.items():
        row = Coverage(language)
        row.unworded = [key for key in MESSAGE_KEYS if key not in catalog.messages]
        index = draft_index(drafts_dir, language)
        for name, text in prompt_texts(catalog, catalogs[source], labels).items():
            drafted = name in index and recorded(drafts_dir / language, name)
            if recorded(audio_folder(locales_dir, language), name):
                row.recorded.append(name)
            elif has_say_voice(language):
                row.say.append(name)
            elif drafted and index[name] == draft_hash(text):
                row.drafts.append(name)
            else:
                row.neither.append(name)
            if drafted and index[name] != draft_hash(text):
                row.stale.append(name)
        found.append(row)
    return found


Runner = Callable[[Sequence[str]], None]


def _run(command: Sequence[str]) -> None:
    subprocess.run(list(command), check=True, capture_output=True, timeout=60)


def generate(
    catalogs: Mapping[str, Catalog],
    locales_dir: Path,
    drafts_dir: Path,
    languages: Sequence[str],
    run: Runner = _run,
    labels: Iterable[str] = (),
    failed: dict[str, list[str]] | None = None,
) -> dict[str, list[str]]:
    """Draft recordings into ``drafts_dir``, in each of ``languages`` that espeak-ng speaks
    and Twilio has no voice for (a draft is never played over a Twilio voice), of every
    prompt that has no recording by a person, or whose draft was made from words since
    changed: 8 kHz mono WAV, as a telephone plays it. Returns the names drafted per
    language; those espeak-ng could not say go into ``failed``."""
    if run is _run and (shutil.which("espeak-ng") is None or shutil.which("sox") is None):
        raise RuntimeError("espeak-ng and sox are needed: apt-get install espeak-ng sox")
    source = catalogs.get("en")
    made: dict[str, list[str]] = {}
    for language in languages:
        voice = ESPEAK_VOICES.get(language)
        catalog = catalogs.get(language)
        if voice is None or catalog is None or has_say_voice(language):
            continue
        folder = drafts_dir / language
        index = dict(draft_index(drafts_dir, language))
        for name, text in prompt_texts(catalog, source or catalog, labels).items():
            person = recorded(audio_folder(locales_dir, language), name)
            made_from = index.get(name) == draft_hash(text) and recorded(folder, name)
            if person or made_from or not text.strip():
                continue
            folder.mkdir(parents=True, exist_ok=True)
            try:
                _record(run, voice, text, folder / f"{name}.wav")
            except (subprocess.SubprocessError, OSError):
                # espeak-ng aborts on some text (Burmese, at times): that prompt stays
                # without a draft, and the rest are still made.
                if failed is not None:
                    failed.setdefault(language, []).append(name)
                continue
            index[name] = draft_hash(text)
            made.setdefault(language, []).append(name)
        if made.get(language):
            lines = [f"{name}\t{index[name]}" for name in sorted(index)]
            (folder / DRAFTS).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return made


# Where a sentence ends, in the catalogs' scripts (Latin, Devanagari, Burmese, Ethiopic,
# Sinhala uses the full stop; Arabic and Urdu the question mark ؟).
_SENTENCE_END = re.compile(r"(?<=[.?!।॥။።؟])\s+|(?<=[။።])")


def sentences(text: str) -> list[str]:
    """``text`` cut into sentences, each said apart: espeak-ng aborts on some long Burmese
    texts that it says well a sentence at a time."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def _record(run: Runner, voice: str, text: str, target: Path) -> None:
    """``text`` read by espeak-ng a sentence at a time, joined as 8 kHz mono μ-law WAV at
    ``target``."""
    with tempfile.TemporaryDirectory() as scratch:
        raws = []
        for i, sentence in enumerate(sentences(text) or [text]):
            raw = Path(scratch) / f"raw{i}.wav"
            run(["espeak-ng", "-v", voice, "-w", str(raw), sentence])
            raws.append(str(raw))
        # μ-law: what a telephone carries, half the size of 16-bit PCM, and played by Twilio.
        run(["sox", *raws, "-r", "8000", "-c", "1", "-e", "u-law", str(target)])
