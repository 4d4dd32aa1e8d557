"""Twilio webhooks: inbound messages and delivery status callbacks.

Fast and strict: check the signature over the public URL, store through the
inbox service, answer an empty TwiML at once. Malformed input gets a 4xx and a
log line without personal data, never a 5xx.
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, abort, current_app, request

from grievance.channels.twilio import SignatureValidator, empty_twiml
from grievance.runtime import Runtime
from grievance.services import inbox, outbox

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)

# Inbound fields kept besides From (hashed, encrypted) and Body (encrypted).
# Profile names, WaId and geo fields are dropped: Twilio adds fields without notice.
KEPT_FIELDS = ("AccountSid", "MessagingServiceSid", "MessageType", "ButtonPayload", "NumSegments")
# fullmatch: "$" alone would also accept a trailing newline ("SM...\n" is another sid).
_SID = re.compile(r"[A-Za-z]{2}[0-9a-fA-F]{32}")
_MEDIA_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["grievance"]
    return runtime


def _twiml(status: int = 200) -> Response:
    return Response(empty_twiml(), status=status, mimetype="application/xml")


def _verified_form() -> dict[str, str]:
    """The form, if Twilio signed it; otherwise abort (404 without Twilio, 403 when unsigned)."""
    runtime = _runtime()
    token = runtime.settings.twilio_auth_token
    if not token:
        abort(404, "Twilio is not configured: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
    url = runtime.settings.public_base_url + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    form = request.form
    if not SignatureValidator(token).is_valid(url, form, request.headers.get("X-Twilio-Signature")):
        log.warning("rejected a %s request with a bad or missing signature", request.path)
        abort(403)
    # NUL after the signature check: PostgreSQL text cannot hold it (a 5xx), and no real value has one.
    return {key: form.get(key, "").replace("\x00", "") for key in form}


@bp.post("/twilio/messaging")
def messaging() -> Response:
    """Store an inbound SMS or WhatsApp message once and answer empty TwiML."""
    form = _verified_form()
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    sender = form.get("From", "").strip()
    external_id = form.get("ExternalUserId", "").strip()
    if not _SID.fullmatch(sid) or not (sender or external_id):
        log.warning("inbound request without a valid MessageSid or From; ignored")
        return _twiml(400)
    channel = "whatsapp" if sender.startswith("whatsapp:") else "sms"
    address = sender or f"whatsapp-user:{external_id}"
    try:
        num_media = max(0, min(int(form.get("NumMedia", "0") or 0), inbox.MAX_MEDIA))
    except ValueError:
        num_media = 0
    media = []
    for i in range(num_media):
        url = form.get(f"MediaUrl{i}", "")
        ctype = form.get(f"MediaContentType{i}", "application/octet-stream")
        if url.startswith(("https://", "http://")):
            media.append((url, ctype if _MEDIA_TYPE.match(ctype) else "application/octet-stream"))
    receipt = inbox.receive(
        _runtime(),
        inbox.InboundMessage(
            provider_sid=sid,
            address=address,
            channel=channel,
            body=form.get("Body", ""),
            our_address=form.get("To", "")[:64] or None,
            media=tuple(media),
            fields={k: form[k][:64] for k in KEPT_FIELDS if form.get(k)},
        ),
    )
    if receipt.duplicate:
        log.info("duplicate delivery of an inbound message ignored")
    return _twiml()


@bp.post("/twilio/status")
def status() -> Response:
    """Record a delivery status; duplicates and late, older statuses change nothing."""
    form = _verified_form()
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    state = form.get("MessageStatus") or form.get("SmsStatus") or ""
    if not _SID.fullmatch(sid) or not state:
        return Response("", status=400)
    outbox.record_status(_runtime(), sid, state, form.get("ErrorCode") or None)
    return Response("", status=204)
