"""A LibreTranslate-compatible HTTP server for tests.

It speaks LibreTranslate's ``POST /translate`` (JSON ``q`` as a text or a list, ``source``,
``target``, ``format``, ``api_key``; answers ``{"translatedText": ...}`` or
``{"error": ...}``) and records every request body, so tests check exactly what left the
application. Its "translation" is deterministic: a phrase book of known sentences, and
otherwise the text tagged with the target language (``[my] text``); a tagged text
translated back loses its tag, so a back-translation reads as the original.
Failures are scripted with :meth:`FakeLibreTranslate.fail_next`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Failure:
    """One scripted answer instead of a translation: an HTTP error, or a slow answer."""

    status: int = 500
    error: str = "Internal error"
    delay: float = 0.0


@dataclass
class FakeLibreTranslate:
    """The server's state: what was asked, the phrase book, scripted failures."""

    languages: frozenset[str] = frozenset({"en", "my", "ne", "bn", "ar", "ms", "th"})
    api_key: str | None = None
    phrases: dict[tuple[str, str, str], str] = field(default_factory=dict)
    # Every request's JSON body, and its headers, in order.
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    failures: deque[Failure | None] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Where the server listens (GRIEVANCE_TRANSLATION_URL), once it runs.
    url: str = ""

    def phrase(self, source: str, target: str, text: str, translation: str) -> None:
        """Translate ``text`` from ``source`` to ``target`` as ``translation``."""
        with self.lock:
            self.phrases[(source, target, text)] = translation

    def fail_next(self, *failures: Failure | None) -> None:
        """Answer the next requests with these failures, in order (None: answer normally)."""
        with self.lock:
            self.failures.extend(failures)

    def texts(self) -> list[str]:
        """Every text sent to be translated, in order."""
        with self.lock:
            found: list[str] = []
            for body in self.requests:
                q = body.get("q")
                found += q if isinstance(q, list) else [str(q)]
            return found

    def reset(self) -> None:
        """Forget everything (between tests)."""
        with self.lock:
            self.requests.clear()
            self.headers.clear()
            self.failures.clear()
            self.phrases.clear()
            self.api_key = None

    def translate(self, text: str, source: str, target: str) -> str:
        """The fake translation of one text."""
        known = self.phrases.get((source, target, text))
        if known is not None:
            return known
        tag = f"[{source}] "
        return text.removeprefix(tag) if text.startswith(tag) else f"[{target}] {text}"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self.answer(request)
        return response(environ, start_response)

    def answer(self, request: Request) -> Response:
        """One request to the API."""
        if request.path != "/translate":
            return _json({"error": "Not found"}, 404)
        if request.method != "POST":
            return _json({"error": "Method not allowed"}, 405)
        try:
            body = json.loads(request.get_data(as_text=True) or "{}")
        except ValueError:
            return _json({"error": "Invalid request: not JSON"}, 400)
        with self.lock:
            self.requests.append(body)
            self.headers.append(dict(request.headers))
            failure = self.failures.popleft() if self.failures else None
            api_key = self.api_key
        if failure is not None:
            time.sleep(failure.delay)
            return _json({"error": failure.error}, failure.status)
        if api_key is not None and body.get("api_key") != api_key:
            return _json({"error": "Invalid API key"}, 403)
        source, target, q = body.get("source"), body.get("target"), body.get("q")
        for code in (source, target):
            if code not in self.languages:
                return _json({"error": f"{code} is not supported"}, 400)
        if body.get("format", "text") not in ("text", "html") or q is None:
            return _json({"error": "Invalid request: missing q"}, 400)
        if isinstance(q, list):
            return _json({"translatedText": [self.translate(t, source, target) for t in q]})
        return _json({"translatedText": self.translate(str(q), source, target)})


def _json(data: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


class FakeLibreTranslateServer:
    """Runs :class:`FakeLibreTranslate` on a free localhost port in a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = FakeLibreTranslate()
        self._server = make_server(host, port, self.app, threaded=True)
        self.url = f"http://{host}:{self._server.server_port}"
        self.app.url = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeLibreTranslateServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
