"""Twilio Voice: a :class:`Script` as TwiML, built only through the library's VoiceResponse.

Transcription is never asked for: the worker's words do not go to a third party unasked.
"""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from grievance.channels.voice import (
    SAY_VOICES,
    Dial,
    Gather,
    Hangup,
    Record,
    Redirect,
    Reject,
    Script,
    Speech,
)


def _speak(parent: VoiceResponse, speech: Speech) -> None:
    if speech.audio_url:
        parent.play(speech.audio_url)
    else:
        found = SAY_VOICES.get(speech.language)
        if found is None:
            parent.say(speech.text)
        else:
            language, voice = found
            parent.say(speech.text, language=language, voice=voice)
    if speech.pause:
        parent.pause(length=speech.pause)


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
