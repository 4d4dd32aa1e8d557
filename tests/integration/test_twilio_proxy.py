"""An operator behind an egress proxy: the Twilio channel honours the environment's proxy
settings (read once, when the channel is built), and NO_PROXY still bypasses it."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from grievance.channels.base import OutboundMessage
from grievance.channels.twilio import TwilioChannel
from tests.support.fake_twilio import FakeTwilio

# The proxy itself goes straight to the server, whatever the environment says.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class _Proxy(BaseHTTPRequestHandler):
    """A plain HTTP forward proxy: notes the absolute URL asked for and passes it on."""

    seen: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.seen.append(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        forwarded = urllib.request.Request(  # noqa: S310 - an http:// URL of a test server
            self.path, data=body, headers=headers, method="POST"
        )
        with _DIRECT.open(forwarded, timeout=10) as answer:
            payload = answer.read()
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.headers.get("Content-Type", ""))
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[str]:
    _Proxy.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _send(fake: FakeTwilio) -> str:
    channel = TwilioChannel(
        fake.account_sid, fake.auth_token, sms_from="+15005550006", api_base_url=fake.base_url
    )
    return channel.send(
        OutboundMessage(to="+9779800000001", body="Your report is received.", channel="sms")
    ).provider_sid


def test_messages_go_through_the_proxy_the_environment_names(
    fake_twilio: FakeTwilio, proxy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("http_proxy", proxy)
    sid = _send(fake_twilio)
    assert sid.startswith("SM")
    assert [m["Body"] for m in fake_twilio.messages] == ["Your report is received."]
    assert len(_Proxy.seen) == 1
    assert _Proxy.seen[0].startswith(fake_twilio.base_url + "/2010-04-01/Accounts/")


def test_no_proxy_sends_straight_to_twilio(
    fake_twilio: FakeTwilio, proxy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("http_proxy", proxy)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    _send(fake_twilio)
    assert len(fake_twilio.messages) == 1
    assert _Proxy.seen == []
