"""What a call says and waits for, as plain data: the voice channel renders it as TwiML.

Services build a :class:`Script`; only ``channels/twilio_voice`` turns it into Twilio's
XML. A script holds no phone number of a worker: <Dial> goes to the line's own staff.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

# Twilio <Say> voices for the catalog languages that have one (docs/voice.md lists them).
# Languages without a voice are spoken only from recorded prompts; <Say> then has no voice
# of its own and the prompt coverage table says so.
SAY_VOICES: dict[str, tuple[str, str]] = {
    "en": ("en-US", "Polly.Joanna"),
    "hi": ("hi-IN", "Polly.Aditi"),
    "es": ("es-US", "Polly.Lupe"),
    "ar": ("arb", "Polly.Zeina"),
    "bn": ("bn-IN", "Google.bn-IN-Standard-A"),
    "id": ("id-ID", "Google.id-ID-Standard-A"),
    "ms": ("ms-MY", "Google.ms-MY-Standard-A"),
    "ta": ("ta-IN", "Google.ta-IN-Standard-A"),
    "th": ("th-TH", "Google.th-TH-Standard-A"),
    "tl": ("fil-PH", "Google.fil-PH-Standard-A"),
    "vi": ("vi-VN", "Google.vi-VN-Standard-A"),
    "ur": ("ur-IN", "Google.ur-IN-Standard-A"),
}


def has_say_voice(language: str) -> bool:
    """True when Twilio can read ``language`` aloud."""
    return language in SAY_VOICES


@dataclass(frozen=True)
class Speech:
    """One sentence: a recorded prompt (``audio_url``) when there is one, else ``text`` read
    aloud in ``language``."""

    text: str
    language: str
    audio_url: str | None = None
    # Seconds of silence after it (between the groups of a case code's digits).
    pause: int = 0


@dataclass(frozen=True)
class Gather:
    """Say ``prompts`` and wait for keys: ``num_digits`` of them, or up to ``finish_on_key``."""

    action: str
    prompts: tuple[Speech, ...]
    num_digits: int | None = 1
    finish_on_key: str | None = None
    timeout: int = 6


@dataclass(frozen=True)
class Record:
    """Record the caller after a beep, up to ``max_length`` seconds or the # key."""

    action: str
    max_length: int


@dataclass(frozen=True)
class Dial:
    """Put the call through to the line's staff, showing the line's number."""

    number: str
    caller_id: str | None
    action: str
    timeout: int = 20


@dataclass(frozen=True)
class Redirect:
    """Go on at ``url`` (what comes after a question nobody answered)."""

    url: str


@dataclass(frozen=True)
class Hangup:
    """End the call."""


@dataclass(frozen=True)
class Reject:
    """Refuse the call unanswered: a missed-call line, free for the caller where rejected
    calls are."""


Verb = Speech | Gather | Record | Dial | Redirect | Hangup | Reject


@dataclass(frozen=True)
class Script:
    """What to do on a call, in order."""

    verbs: tuple[Verb, ...] = field(default_factory=tuple)

    def __add__(self, other: Script) -> Script:
        return Script(self.verbs + other.verbs)


def question_to_json(gather: Gather) -> str:
    """A question as JSON, to be asked again when nobody pressed a key."""
    return json.dumps(asdict(gather), ensure_ascii=False)


def question_from_json(text: str) -> Gather:
    """The question :func:`question_to_json` stored."""
    data: dict[str, Any] = json.loads(text)
    data["prompts"] = tuple(Speech(**p) for p in data["prompts"])
    return Gather(**data)


@runtime_checkable
class VoiceChannel(Protocol):
    """A channel that can also place calls and delete call recordings."""

    def create_call(self, to: str, from_: str, url: str, status_callback: str) -> str:
        """Call ``to`` from ``from_``; Twilio fetches ``url`` when answered. Returns the sid."""
        ...

    def delete_recording(self, recording_sid: str) -> bool:
        """Delete a recording at the provider; False when it was gone already."""
        ...
