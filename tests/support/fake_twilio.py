"""A Twilio-compatible HTTP server for tests and benchmarks.

It speaks enough of the Messages API for the real twilio client: basic auth,
form-encoded creates, JSON answers and Twilio's JSON error format. Failures
are scripted with :meth:`FakeTwilio.fail_next` (the next creates) or
:meth:`FakeTwilio.misbehave` (every create for a while: 429s, then 500s, then
timeouts...). Media files are served with basic auth, as Twilio serves
MediaUrl. ``DELETE`` of a message is recorded in ``deleted``.

Voice: ``Calls.json`` creates are recorded in ``calls`` (failures scripted with
:meth:`FakeTwilio.fail_next` as for messages); call recordings are served like media at
``.../Recordings/RE...wav`` (:meth:`FakeTwilio.add_recording`), and their ``DELETE`` is
recorded in ``deleted_recordings``.

Each created message also gets the wall-clock time it arrived
(``FakeTwilio.received_at``, parallel to ``messages``). Benchmarks running the
server as a separate process read them with ``GET /_bench/messages?after=N&wait=S``
(basic auth, JSON; a long poll: it waits up to S seconds for message N+1).
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token-0123456789abcdef"


@dataclass
class Failure:
    """One scripted error answer."""

    status: int
    code: int | None = None
    message: str = "error"
    delay: float = 0.0
    # A body sent as it is instead of Twilio's JSON error (a broken proxy, say).
    raw: str | None = None


@dataclass
class FakeTwilio:
    """The server's state: created messages, media, scripted failures."""

    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    messages: list[dict[str, str]] = field(default_factory=list)
    # time.time() when each message of ``messages`` was created (same index)
    received_at: list[float] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    media_requests: int = 0
    failures: deque[Failure] = field(default_factory=deque)
    # (seconds, failure): every create answers the failure of the current phase (misbehave).
    phases: list[tuple[float, Failure]] = field(default_factory=list)
    # When the current phase began (monotonic), and how many creates it has failed.
    phase_started: float | None = None
    phase_failed: int = 0
    deleted: list[str] = field(default_factory=list)
    calls: list[dict[str, str]] = field(default_factory=list)
    recordings: dict[str, bytes] = field(default_factory=dict)
    recording_requests: int = 0
    deleted_recordings: list[str] = field(default_factory=list)
    failed_creates: int = 0
    # Failed creates by HTTP status: a fault test asserts each of its faults was exercised.
    failed_by_status: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    received: threading.Condition = field(init=False)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    base_url: str = ""

    def __post_init__(self) -> None:
        self.received = threading.Condition(self.lock)

    def fail_next(self, *failures: Failure) -> None:
        """Answer the next creates with these failures, in order."""
        with self.lock:
            self.failures.extend(failures)

    def misbehave(self, *phases: tuple[float, Failure]) -> None:
        """Answer creates with each failure in turn, for its number of seconds.

        A phase's clock starts at the first create it answers, and the phase lasts
        until it has also failed at least one create: however slow or fast the
        machine, every phase really happens.
        """
        with self.lock:
            self.phases = list(phases)
            self.phase_started, self.phase_failed = None, 0

    def add_media(self, name: str, data: bytes, content_type: str) -> str:
        """Serve ``data`` at a media URL on this server and return the URL."""
        self.media[name] = (data, content_type)
        return f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages/MM{name}/Media/ME{name}"

    def add_recording(self, data: bytes) -> tuple[str, str]:
        """Hold a call recording; returns (RecordingSid, RecordingUrl) as Twilio posts them."""
        sid = f"RE{next(self._ids):032x}"
        self.recordings[sid] = data
        return sid, f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Recordings/{sid}"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, str]]:
        """Block until at least ``count`` messages were created; return them all."""
        deadline = time.monotonic() + timeout
        with self.received:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.received.wait(remaining)
            return list(self.messages)

    def bodies_to(self, to: str) -> list[str]:
        """The bodies of every message created for ``to``."""
        with self.lock:
            return [m.get("Body", "") for m in self.messages if m.get("To") == to]

    def reset(self) -> None:
        """Forget everything (between tests)."""
        with self.lock:
            self.messages.clear()
            self.received_at.clear()
            self.failures.clear()
            self.phases.clear()
            self.phase_started, self.phase_failed = None, 0
            self.deleted.clear()
            self.failed_creates = 0
            self.failed_by_status.clear()
            self.media.clear()
            self.media_requests = 0
            self.calls.clear()
            self.recordings.clear()
            self.recording_requests = 0
            self.deleted_recordings.clear()

    # -- WSGI -------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        return self._dispatch(request)(environ, start_response)

    def _authorized(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    def _dispatch(self, request: Request) -> Response:
        if not self._authorized(request):
            return _error(401, 20003, "Authenticate")
        parts = request.path.strip("/").split("/")
        if request.method == "GET" and request.path == "/_bench/messages":
            return self._bench_messages(request)
        if request.method == "POST" and request.path.endswith("/Messages.json"):
            return self._create(request)
        if request.method == "POST" and request.path.endswith("/Calls.json"):
            return self._create_call(request)
        if "Recordings" in parts:
            return self._recording(request, parts[-1])
        if request.method == "DELETE" and "Messages" in parts and "Media" not in parts:
            with self.lock:
                self.deleted.append(parts[-1].removesuffix(".json"))
            return Response("", status=204)
        if request.method == "GET" and "Media" in parts:
            name = parts[-1].removeprefix("ME")
            with self.lock:
                self.media_requests += 1
            if name not in self.media:
                return _error(404, 20404, "not found")
            data, ctype = self.media[name]
            return Response(data, content_type=ctype)
        return _error(404, 20404, "not found")

    def _recording(self, request: Request, name: str) -> Response:
        sid = name.split(".")[0]
        with self.lock:
            if request.method == "DELETE":
                if sid not in self.recordings:
                    return _error(404, 20404, "not found")
                del self.recordings[sid]
                self.deleted_recordings.append(sid)
                return Response("", status=204)
            self.recording_requests += 1
            data = self.recordings.get(sid)
        if request.method != "GET" or data is None:
            return _error(404, 20404, "not found")
        return Response(data, content_type="audio/x-wav")

    def _create_call(self, request: Request) -> Response:
        with self.lock:
            failure = self.failures.popleft() if self.failures else None
            if failure is not None:
                self.failed_creates += 1
                self.failed_by_status[failure.status] += 1
        if failure is not None:
            return _error(failure.status, failure.code, failure.message)
        form = request.form.to_dict()
        sid = f"CA{next(self._ids):032x}"
        with self.received:
            self.calls.append(form | {"Sid": sid})
            self.received.notify_all()
        payload = {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": form.get("To"),
            "from": form.get("From"),
            "status": "queued",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json",
        }
        return Response(json.dumps(payload), status=201, content_type="application/json")

    def _bench_messages(self, request: Request) -> Response:
        """Messages after index ``after`` with their arrival times, waiting up to ``wait`` s for one."""
        try:
            after = max(0, int(request.args.get("after", "0")))
            wait = min(max(0.0, float(request.args.get("wait", "0"))), 30.0)
        except ValueError:
            return _error(400, 21211, "after and wait must be numbers")
        deadline = time.monotonic() + wait
        with self.received:
            while len(self.messages) <= after:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.received.wait(remaining)
            items = [
                {
                    "index": i,
                    "sid": m.get("Sid"),
                    "to": m.get("To"),
                    "from": m.get("From"),
                    "body": m.get("Body", ""),
                    "received_at": self.received_at[i],
                }
                for i, m in enumerate(self.messages[after:], start=after)
            ]
            total = len(self.messages)
        payload = {"total": total, "messages": items}
        return Response(json.dumps(payload), status=200, content_type="application/json")

    def _current_phase(self) -> Failure | None:
        """The failure of the phase in force (under ``lock``), starting phases as creates come."""
        now = time.monotonic()
        while self.phases:
            if self.phase_started is None:
                self.phase_started, self.phase_failed = now, 0
            seconds, failure = self.phases[0]
            if self.phase_failed == 0 or now < self.phase_started + seconds:
                self.phase_failed += 1
                return failure
            self.phases.pop(0)
            self.phase_started = None
        return None

    def _create(self, request: Request) -> Response:
        with self.lock:
            failure = self.failures.popleft() if self.failures else self._current_phase()
            if failure is not None:
                self.failed_creates += 1
                self.failed_by_status[failure.status] += 1
        if failure is not None:
            if failure.delay:
                time.sleep(failure.delay)
            if failure.raw is not None:
                return Response(failure.raw, status=failure.status, content_type="text/html")
            return _error(failure.status, failure.code, failure.message)
        form = request.form.to_dict()
        sid = f"SM{next(self._ids):032x}"
        with self.received:
            self.messages.append(form | {"Sid": sid})
            self.received_at.append(time.time())
            self.received.notify_all()
        payload = {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": form.get("To"),
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form.get("Body"),
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        return Response(json.dumps(payload), status=201, content_type="application/json")


def _error(status: int, code: int | None, message: str) -> Response:
    body = {
        "code": code,
        "message": message,
        "more_info": "https://www.twilio.com/docs/errors",
        "status": status,
    }
    return Response(json.dumps(body), status=status, content_type="application/json")


class FakeTwilioServer:
    """Runs :class:`FakeTwilio` on a free localhost port in a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = FakeTwilio()
        self._server = make_server(host, port, self.app, threaded=True)
        self.url = f"http://{host}:{self._server.server_port}"
        self.app.base_url = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeTwilio:
        self._thread.start()
        return self.app

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def main() -> None:
    """Run the server in the foreground (benchmarks start it as a process)."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--quiet", action="store_true", help="Do not log every request (benchmarks)."
    )
    args = parser.parse_args()
    if args.quiet:
        import logging

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(
        "127.0.0.1", args.port, FakeTwilio(base_url=f"http://127.0.0.1:{args.port}"), threaded=True
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
