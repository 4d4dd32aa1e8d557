"""Twilio Voice webhooks: an incoming call, its follow-up actions, its status, and the
recorded prompts Twilio plays.

Signed like the messaging webhook (the same check over the public URL). Every answer is
TwiML built by the voice channel; input that makes no sense gets a 4xx or a spoken
"sorry", never a 5xx.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, Response, abort, send_file

from grievance.channels.twilio_voice import twiml
from grievance.channels.voice import Script
from grievance.logs import log_failure
from grievance.runtime import Runtime
from grievance.services import voice
from grievance.web.webhooks import _runtime, _verified_form

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__)

_CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")
_RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")
_DIGITS = re.compile(r"[0-9*#]{0,32}")
_STATUS = re.compile(r"[a-z-]{1,20}")
_AUDIO = re.compile(r"[A-Za-z0-9_.-]{1,120}")


def _xml(script: Script, status: int = 200) -> Response:
    return Response(twiml(script), status=status, mimetype="application/xml")


@bp.errorhandler(Exception)
def _failed(exc: Exception) -> Response:
    """A caller is never left with Twilio's "application error": a 4xx stays a 4xx; anything
    unexpected is logged without personal data and the caller is told to call again."""
    from werkzeug.exceptions import HTTPException

    if isinstance(exc, HTTPException):
        return Response("", status=exc.code or 400)
    log_failure(log, "voice webhook", exc)
    return _xml(voice.apology(_runtime()))


def _call_sid(form: dict[str, str]) -> str:
    sid = form.get("CallSid", "")
    if not _CALL_SID.fullmatch(sid):
        log.warning("voice request without a valid CallSid; refused")
        abort(400)
    return sid


def _step(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and len(raw) < 7 else None


@bp.post("/twilio/voice")
def incoming() -> Response:
    """An incoming call: the language menu (or, on a missed-call line, a rejection)."""
    form = _verified_form()
    sid = _call_sid(form)
    caller = form.get("From", "").strip()
    line = form.get("To", "").strip()
    return _xml(voice.incoming(_runtime(), sid, caller, line))


@bp.post("/twilio/voice/answer")
def answer() -> Response:
    """Keys pressed or a recording made, for the question of step ``step``."""
    from flask import request

    form = _verified_form()
    sid = _call_sid(form)
    digits = form.get("Digits", "")
    if not _DIGITS.fullmatch(digits):
        digits = ""
    recording_url = form.get("RecordingUrl", "") or None
    recording_sid = form.get("RecordingSid", "") or None
    if recording_sid is not None and not _RECORDING_SID.fullmatch(recording_sid):
        recording_url = recording_sid = None
    if recording_url is not None and not recording_url.startswith(("https://", "http://")):
        recording_url = recording_sid = None
    given = voice.CallAnswer(
        call_sid=sid,
        step=_step(request.args.get("step")),
        digits=digits.rstrip("#"),
        recording_url=recording_url,
        recording_sid=recording_sid,
    )
    return _xml(voice.answer(_runtime(), given))


@bp.post("/twilio/voice/silence")
def silence() -> Response:
    """The question heard no key."""
    from flask import request

    form = _verified_form()
    return _xml(voice.silence(_runtime(), _call_sid(form), _step(request.args.get("step"))))


@bp.post("/twilio/voice/dialed")
def dialed() -> Response:
    """After <Dial>: answered, or not (a message is taken)."""
    form = _verified_form()
    status = form.get("DialCallStatus", "")
    return _xml(voice.dialed(_runtime(), _call_sid(form), status))


@bp.post("/twilio/voice/callback")
def callback() -> Response:
    """The worker answered the line's callback after a missed call: the phone menu."""
    form = _verified_form()
    return _xml(voice.callback_answered(_runtime(), _call_sid(form)))


@bp.post("/twilio/voice/status")
def status() -> Response:
    """A call's status, recorded once per (CallSid, status)."""
    form = _verified_form()
    sid = _call_sid(form)
    state = form.get("CallStatus", "")
    if not _STATUS.fullmatch(state):
        return Response("", status=400)
    voice.record_status(_runtime(), sid, state)
    return Response("", status=204)


@bp.get("/twilio/voice/audio/<language>/<name>")
def audio(language: str, name: str) -> Response:
    """A recorded prompt, public so that Twilio's <Play> can fetch it; it holds no
    personal data."""
    return _prompt(language, name, voice.audio_path)


@bp.get("/twilio/voice/drafts/<language>/<name>")
def draft(language: str, name: str) -> Response:
    """A machine-made draft prompt (`grievance voice prompts --generate`), public like a
    recorded one."""
    return _prompt(language, name, voice.draft_path)


def _prompt(language: str, name: str, find: Callable[[Runtime, str, str], Path | None]) -> Response:
    runtime = _runtime()
    if language not in runtime.catalogs or not _AUDIO.fullmatch(name):
        abort(404)
    key, _, extension = name.rpartition(".")
    if extension not in voice.AUDIO_EXTENSIONS:
        abort(404)
    path = find(runtime, language, key)
    if path is None or path.name != name:
        abort(404)
    response = send_file(path, mimetype="audio/wav" if extension == "wav" else "audio/mpeg")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
