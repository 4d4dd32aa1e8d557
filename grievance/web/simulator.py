"""The phone simulator: a chat in the browser that drives the real inbox through the console channel.

Registered only while the console channel is active, so it can never inject
messages into a production line that talks to Twilio. It takes messages from
anyone who reaches it, without a sign-in or a CSRF token, so it answers only
clients on the machine itself (loopback) unless ``GRIEVANCE_SIMULATOR_OPEN=true``:
a demo server bound to a public address is not an open message injector.
"""

from __future__ import annotations

import ipaddress
import re
import secrets

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from grievance.channels.console import ConsoleChannel, simulator_address
from grievance.services import inbox

bp = Blueprint("simulator", __name__)
_PHONE_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
MAX_TEXT = 4000


@bp.before_request
def _loopback_only() -> None:
    """Anyone off this machine gets 404, as if there were no simulator, unless opted in."""
    if current_app.extensions["grievance"].settings.simulator_open:
        return
    try:
        local = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        local = False
    if not local:
        abort(404)


def _console() -> ConsoleChannel:
    channel = current_app.extensions["grievance"].channel
    assert isinstance(channel, ConsoleChannel)
    return channel


def _phone() -> tuple[str, str] | None:
    data = request.get_json(silent=True) if request.method == "POST" else request.args
    if not data:
        return None
    phone_id = str(data.get("phone", ""))
    channel = "whatsapp" if data.get("channel") == "whatsapp" else "sms"
    if not _PHONE_ID.match(phone_id):
        return None
    return phone_id, channel


@bp.get("/simulator")
def page() -> ResponseReturnValue:
    """The simulated phone."""
    runtime = current_app.extensions["grievance"]
    return render_template("simulator.html", languages=runtime.settings.languages)


@bp.post("/simulator/messages")
def send() -> ResponseReturnValue:
    """A message typed on the simulated phone enters the inbox like one from Twilio."""
    phone = _phone()
    data = request.get_json(silent=True) or {}
    text = data.get("text", "")
    if phone is None or not isinstance(text, str):
        return jsonify(error="send JSON with phone (8-64 letters, digits, -) and text"), 400
    if len(text) > MAX_TEXT:
        return jsonify(error=f"text is limited to {MAX_TEXT} characters"), 400
    phone_id, channel = phone
    receipt = inbox.receive(
        current_app.extensions["grievance"],
        inbox.InboundMessage(
            provider_sid="SM" + secrets.token_hex(16),
            address=simulator_address(phone_id, channel),
            channel=channel,
            body=text,
            our_address="simulator",
        ),
    )
    return jsonify(accepted=receipt.message_id is not None), 202


@bp.get("/simulator/messages")
def receive() -> ResponseReturnValue:
    """Replies sent to the simulated phone after message number ``after``."""
    phone = _phone()
    if phone is None:
        return jsonify(error="pass phone=<id> and optionally after=<n>"), 400
    try:
        after = int(request.args.get("after", "0"))
    except ValueError:
        after = 0
    messages = _console().mailbox(simulator_address(*phone), after)
    return jsonify(messages=[{"n": n, "text": body} for n, body in messages])
