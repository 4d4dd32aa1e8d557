"""Run the real ``grievance serve`` in a subprocess, as an operator would start it.

The environment is stripped of Twilio, database, Redis and secret settings so the
server falls back to its embedded defaults: console channel, SQLite and generated
secrets in a fresh instance directory.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from playwright.sync_api import Browser, Locator, Page, sync_playwright

from grievance.config import PROJECT_ROOT

WAIT = 20.0  # seconds: upper bound of every wait in these tests
STRIPPED = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PUBLIC_BASE_URL")


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_environment(instance: Path) -> dict[str, str]:
    """This process's environment without anything that would leave the embedded default."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TWILIO_", "GRIEVANCE_")) and k not in STRIPPED
    }
    env["GRIEVANCE_INSTANCE_PATH"] = str(instance)
    return env


def wait_until(
    condition: Callable[[], Any], what: str | Callable[[], str], timeout: float = WAIT
) -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds.

    ``what`` describes the wait in the failure message; a callable is asked only then.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            described = what() if callable(what) else what
            pytest.fail(f"gave up after {timeout:.0f} s waiting for {described}", pytrace=False)
        time.sleep(0.1)


@dataclass
class Server:
    """A running ``grievance serve`` and what it has printed so far."""

    process: subprocess.Popen[str]
    port: int
    instance: Path
    _stdout: list[str] = field(default_factory=list)
    _stderr: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        """Where the server listens."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def stdout(self) -> str:
        """Everything printed on stdout so far (what the operator reads)."""
        with self._lock:
            return "".join(self._stdout)

    @property
    def stderr(self) -> str:
        """Everything logged on stderr so far."""
        with self._lock:
            return "".join(self._stderr)

    def _pump(self, stream: Any, sink: list[str]) -> None:
        for line in iter(stream.readline, ""):
            with self._lock:
                sink.append(line)
        stream.close()

    def start_reading(self) -> None:
        """Collect stdout and stderr on daemon threads (pipes must never fill up)."""
        for stream, sink in (
            (self.process.stdout, self._stdout),
            (self.process.stderr, self._stderr),
        ):
            threading.Thread(target=self._pump, args=(stream, sink), daemon=True).start()

    def describe(self) -> str:
        """The server's output, for failure messages."""
        return f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"

    def wait_for_output(self, text: str) -> None:
        """Wait until stdout contains ``text``."""
        if text not in self.stdout:
            wait_until(
                lambda: text in self.stdout, lambda: f"{text!r} on stdout\n{self.describe()}"
            )

    def get(self, path: str, timeout: float = WAIT, **kwargs: Any) -> requests.Response:
        """GET ``path`` on the server."""
        return requests.get(self.base_url + path, timeout=timeout, **kwargs)

    def post(self, path: str, timeout: float = WAIT, **kwargs: Any) -> requests.Response:
        """POST ``path`` on the server."""
        return requests.post(self.base_url + path, timeout=timeout, **kwargs)

    def ready(self) -> bool:
        """True once /healthz answers; fails at once if the process has exited."""
        if self.process.poll() is not None:
            time.sleep(0.2)  # let the reader threads collect the last lines
            pytest.fail(
                f"grievance serve exited with {self.process.returncode}\n{self.describe()}",
                pytrace=False,
            )
        try:
            return self.get("/healthz", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False


@contextmanager
def run_server(instance: Path, **settings: str) -> Iterator[Server]:
    """Start ``grievance serve`` on ``instance``, wait until it answers, and always stop it."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "grievance.cli", "serve", "--port", str(port)],
        cwd=instance.parent,
        env=server_environment(instance) | settings,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    server = Server(process, port, instance)
    try:
        server.start_reading()
        wait_until(server.ready, lambda: f"GET /healthz on port {port}\n{server.describe()}")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server on a fresh instance directory, shared by the tests of a module."""
    # The questions a minute after a case code would land in the middle of longer browser
    # tests; test_details_browser.py runs its own server with them on.
    with run_server(
        tmp_path_factory.mktemp("serve") / "instance", GRIEVANCE_DETAILS_DELAY="off"
    ) as server:
        yield server


class SimPhone:
    """A simulated phone talking to the server through the simulator's JSON API."""

    def __init__(self, server: Server, phone_id: str, channel: str = "sms") -> None:
        self.server = server
        self.phone_id = phone_id
        self.channel = channel
        self.last = 0

    def send(self, text: str) -> requests.Response:
        """Type ``text`` on the phone."""
        response = self.server.post(
            "/simulator/messages",
            json={"phone": self.phone_id, "channel": self.channel, "text": text},
        )
        assert response.status_code == 202, response.text
        assert response.json() == {"accepted": True}
        return response

    def replies_until(self, expected: str) -> list[str]:
        """Poll for replies until one contains ``expected``; return every new reply."""
        collected: list[str] = []

        def poll() -> bool:
            response = self.server.get(
                "/simulator/messages",
                params={"phone": self.phone_id, "channel": self.channel, "after": self.last},
            )
            assert response.status_code == 200, response.text
            for message in response.json()["messages"]:
                self.last = max(self.last, message["n"])
                collected.append(message["text"])
            return any(expected in text for text in collected)

        wait_until(
            poll,
            lambda: f"a reply containing {expected!r}; got {collected!r}\n{self.server.describe()}",
        )
        return collected


@cache
def english() -> dict[str, Any]:
    """The English catalog's messages, so the tests follow wording changes in locales/en.yaml."""
    catalog = yaml.safe_load((PROJECT_ROOT / "locales" / "en.yaml").read_text(encoding="utf-8"))
    return dict(catalog["messages"])


def say(key: str, channel: str = "sms") -> str:
    """The English text of ``key`` as the worker reads it on ``channel``."""
    text = english()[key]
    return str(text[channel] if isinstance(text, dict) else text)


# -- the browser ------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = int(WAIT * 1000)
SCREENSHOT_DIR = Path("/tmp")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, with nothing that calls home."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI=true requires it", pytrace=False)
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def replies(page: Page) -> Locator:
    """The line's messages in the conversation."""
    return page.get_by_role("log", name="Conversation").locator(".bubble.them")


def mine(page: Page) -> Locator:
    """The worker's own messages in the conversation."""
    return page.get_by_role("log", name="Conversation").locator(".bubble.me")
