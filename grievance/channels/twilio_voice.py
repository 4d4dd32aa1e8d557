"""Twilio Voice: a :class:`Script` as TwiML, built only through the library's VoiceResponse.

Transcription is never asked for: the worker's words do not go to a third party unasked.
"""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from grievance.channels.voice import Dial, Gather, Hangup, Record, Redirect, Reject, Script, Speech

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


def _speak(parent: VoiceResponse, speech: Speech) -> None:
    if speech.audio_url:
        parent.play(speech.audio_url)
        return
    found = SAY_VOICES.get(speech.language)
    if found is None:
        parent.say(speech.text)
    else:
        language, voice = found
        parent.say(speech.text, language=language, voice=voice)


def twiml(script: Script) -> str:
    """The TwiML document for ``script``."""
    response = VoiceResponse()
    for verb in script.verbs:
        if isinstance(verb, Speech):
            _speak(response, verb)
        elif isinstance(verb, Gather):
            gather = response.gather(
                input="dtmf",
                action=verb.action,
                method="POST",
                timeout=verb.timeout,
                num_digits=verb.num_digits,
                finish_on_key=verb.finish_on_key if verb.finish_on_key is not None else "",
                action_on_empty_result=False,
            )
            for prompt in verb.prompts:
                _speak(gather, prompt)
        elif isinstance(verb, Record):
            response.record(
                action=verb.action,
                method="POST",
                max_length=verb.max_length,
                finish_on_key="#",
                play_beep=True,
                timeout=5,
                transcribe=False,
            )
        elif isinstance(verb, Dial):
            dial = response.dial(
                caller_id=verb.caller_id, action=verb.action, method="POST", timeout=verb.timeout
            )
            dial.number(verb.number)
        elif isinstance(verb, Redirect):
            response.redirect(verb.url, method="POST")
        elif isinstance(verb, Hangup):
            response.hangup()
        elif isinstance(verb, Reject):
            response.reject()
    return str(response)
