"""Twilio: SMS and WhatsApp through the twilio library's REST client, signatures, TwiML.

The only module that imports ``twilio``. Errors are turned into
:class:`DeliveryError` with the Twilio error code and a fixed reason, because
Twilio's error texts echo phone numbers.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from grievance.channels.base import DeliveryError, MediaError, OutboundMessage, SendResult

# The twilio HTTP client logs URLs and form parameters (phone numbers) at INFO.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

RETRYABLE_CODES = frozenset({"20429", "63018"})  # too many requests; channel rate limit
OPTED_OUT_CODE = "21610"
REASONS = {
    "21211": "invalid 'To' number",
    "21408": "no permission to send to this region",
    "21610": "the recipient has opted out (STOP)",
    "21614": "the number cannot receive SMS",
    "63016": "outside the WhatsApp 24-hour window; a template is needed",
    "20429": "too many concurrent requests",
    "63018": "channel rate limit reached",
}


@cache
def empty_twiml() -> str:
    """An empty ``<Response/>``: we answer at once and reply from the outbox."""
    return str(MessagingResponse())


class SignatureValidator:
    """Checks ``X-Twilio-Signature`` with twilio's RequestValidator (constant-time compare)."""

    def __init__(self, auth_token: str) -> None:
        self._validator = RequestValidator(auth_token)

    def is_valid(self, url: str, params: Mapping[str, Any], signature: str | None) -> bool:
        """True when ``signature`` signs ``url`` and ``params`` with our auth token."""
        if not signature:
            return False
        # Twilio signs the URL the number is configured with, which is ours exactly: one HMAC
        # answers a genuine request. The library's own check (which tries the URL with and
        # without its port, two HMACs every time) decides the rest.
        if "bodySHA256" not in url:
            expected = self._validator.compute_signature(url, params)
            if hmac.compare_digest(expected.encode(), signature.encode()):
                return True
        return bool(self._validator.validate(url, params, signature))


def _http_client(api_base_url: str, timeout: float) -> TwilioHttpClient:
    """The twilio library's HTTP client, with the environment's proxy and CA settings read
    once, here, for the API's URL. By default requests reads them again for every message
    (walking the whole environment twice), which cost more CPU per message than the
    rest of sending it."""
    client = TwilioHttpClient(timeout=timeout)
    session = client.session
    if session is not None:
        settings = session.merge_environment_settings(api_base_url, {}, None, None, None)
        session.proxies = settings["proxies"]
        session.verify = settings["verify"]
        session.cert = settings["cert"]
        session.trust_env = False
    return client


class TwilioChannel:
    """Sends through the Messages API; ``api_base_url`` may point at a Twilio-compatible server."""

    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        sms_from: str | None = None,
        messaging_service_sid: str | None = None,
        whatsapp_from: str | None = None,
        api_base_url: str = "https://api.twilio.com",
        timeout: float = 10.0,
    ) -> None:
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._sms_from = sms_from
        self._service_sid = messaging_service_sid
        self._whatsapp_from = whatsapp_from
        self._api_base_url = api_base_url.rstrip("/")
        self._timeout = timeout
        self._client = Client(
            account_sid, auth_token, http_client=_http_client(self._api_base_url, timeout)
        )
        self._client.api.base_url = self._api_base_url

    def send(self, message: OutboundMessage) -> SendResult:
        """Create the message at Twilio; map failures to retryable or terminal errors."""
        kwargs: dict[str, str] = {"to": message.to}
        if message.content_sid:
            kwargs["content_sid"] = message.content_sid
            if message.content_variables:
                kwargs["content_variables"] = message.content_variables
        else:
            kwargs["body"] = message.body
        if message.status_callback:
            kwargs["status_callback"] = message.status_callback
        if message.channel == "whatsapp":
            sender = message.from_address or self._whatsapp_from
            if not sender:
                raise DeliveryError(
                    "no WhatsApp sender configured (TWILIO_WHATSAPP_FROM)", retryable=False
                )
            kwargs["from_"] = sender if sender.startswith("whatsapp:") else f"whatsapp:{sender}"
        elif self._service_sid:
            kwargs["messaging_service_sid"] = self._service_sid
        else:
            sender = message.from_address or self._sms_from
            if not sender:
                raise DeliveryError("no SMS sender configured (TWILIO_SMS_FROM)", retryable=False)
            kwargs["from_"] = sender
        with _twilio_errors():
            created = self._client.messages.create(**kwargs)
        return SendResult(provider_sid=str(created.sid), status=str(created.status or "queued"))

    def delete_message(self, provider_sid: str) -> bool:
        """Delete a message (and with it its media) at Twilio; False if Twilio no longer has it."""
        return _deleted(self._client.messages(provider_sid))

    def create_call(self, to: str, from_: str, url: str, status_callback: str) -> str:
        """Call ``to`` from the line's ``from_``; Twilio fetches ``url`` when answered."""
        with _twilio_errors():
            call = self._client.calls.create(
                to=to,
                from_=from_,
                url=url,
                method="POST",
                status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=["initiated", "answered", "completed"],
            )
        return str(call.sid)

    def delete_recording(self, recording_sid: str) -> bool:
        """Delete a call recording at Twilio; False if Twilio no longer has it."""
        return _deleted(self._client.recordings(recording_sid))

    def fetch_media(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        """Download inbound media with the account credentials, refusing other hosts."""
        origin = _origin(url)
        if origin is None or origin != _origin(self._api_base_url):
            raise MediaError(
                "media URL is not on the Twilio API host; refusing to send credentials there",
                retryable=False,
            )
        try:
            with requests.get(
                url, auth=(self._account_sid, self._auth_token), timeout=self._timeout, stream=True
            ) as response:
                if response.status_code != 200:
                    raise MediaError(
                        f"media download answered HTTP {response.status_code}",
                        retryable=response.status_code == 429 or response.status_code >= 500,
                    )
                chunks, total = [], 0
                for chunk in response.iter_content(64 * 1024):
                    total += len(chunk)
                    if total > max_bytes:
                        raise MediaError(f"media larger than {max_bytes} bytes", retryable=False)
                    chunks.append(chunk)
                content_type = response.headers.get("Content-Type", "application/octet-stream")
                return b"".join(chunks), content_type.split(";")[0].strip()
        except requests.RequestException as exc:
            raise MediaError(f"media download failed ({type(exc).__name__})") from None


@contextmanager
def _twilio_errors() -> Iterator[None]:
    """Twilio's failures as :class:`DeliveryError`: its own error when it answered; retryable
    when it could not be reached (connection refused, a timeout: Twilio answered no sid, so
    whatever was asked may not have happened)."""
    try:
        yield
    except TwilioRestException as exc:
        raise _rest_error(exc) from None
    except (TwilioException, requests.RequestException) as exc:
        raise DeliveryError(f"Twilio unreachable ({type(exc).__name__})", retryable=True) from None


def _deleted(resource: Any) -> bool:
    """Delete ``resource`` (a message, a recording) at Twilio; False if Twilio no longer has it."""
    gone = False
    with _twilio_errors():
        try:
            resource.delete()
        except TwilioRestException as exc:
            if exc.status != 404:
                raise
            gone = True
    return not gone


def _origin(url: str) -> tuple[str, str] | None:
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[": not a URL, so not on the API host either
        return None
    return parts.scheme, parts.netloc


def _rest_error(exc: TwilioRestException) -> DeliveryError:
    code = str(exc.code) if exc.code is not None else None
    status = int(exc.status or 0)
    reason = REASONS.get(
        code or "", f"Twilio answered HTTP {status}" + (f", error {code}" if code else "")
    )
    if code == OPTED_OUT_CODE:
        return DeliveryError(reason, retryable=False, code=code, opted_out=True)
    retryable = status == 429 or status >= 500 or code in RETRYABLE_CODES
    return DeliveryError(reason, retryable=retryable, code=code)
