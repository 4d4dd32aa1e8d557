"""The usual deployment: nginx terminates TLS and forwards to the app. A real Chromium signs in
through it (password, then enrolling a second factor), works a form, and signs out; a request
naming another host is refused. Every POST used to fail here with "The referrer header is
missing": the app asked browsers to send no Referer, and CSRF protection on https needs one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, expect

from grievance.config import PROJECT_ROOT
from tests.web.conftest import Server, free_port, run_server, server_environment, wait_until
from tests.web.support import (
    enrol_totp,
    expect_queue,
    grievance,
    sign_in_with_password,
)

NGINX = Path("/usr/sbin/nginx")
EMAIL = "proxy.handler@example.org"
PASSWORD = "a kettle of purple lanterns"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, made with openssl as an operator would for a test."""
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return key, cert


def procfile_web(port: int) -> str:
    """The Procfile's ``web`` command, as a platform would run it on ``port``."""
    line = next(
        line for line in (PROJECT_ROOT / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    )  # fmt: skip
    return line.removeprefix("web:").strip().replace("${PORT:-8000}", str(port))


@pytest.fixture(scope="module")
def proxied(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Server, str, Path, list[str]]]:
    """The Procfile's gunicorn behind nginx on https, as deployed: the first server (which made
    the instance's secrets), the public URL, the certificate, and gunicorn's output lines."""
    if not NGINX.exists():
        message = f"{NGINX} is missing (apt-get install nginx)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI=true requires it", pytrace=False)
        pytest.skip(message)
    root = tmp_path_factory.mktemp("proxy")
    key, cert = self_signed(root)
    public_port, app_port = free_port(), free_port()
    public = f"https://127.0.0.1:{public_port}"
    settings = {"PUBLIC_BASE_URL": public, "GRIEVANCE_TRUSTED_PROXIES": "1"}
    with run_server(root / "instance", **settings) as server:
        env = server_environment(server.instance) | settings | {"WEB_CONCURRENCY": "1"}
        gunicorn = subprocess.Popen(
            ["bash", "-c", f"exec {procfile_web(app_port)}"],
            cwd=server.instance.parent,
            env=env | {"PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        output: list[str] = []
        pump = threading.Thread(
            target=lambda: output.extend(iter(gunicorn.stdout.readline, "")),  # type: ignore[union-attr]
            daemon=True,
        )
        pump.start()
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (root / name).mkdir()
        (root / "nginx.conf").write_text(
            f"""
daemon off;
master_process off;
pid {root}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {root}/client_body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  server {{
    listen 127.0.0.1:{public_port} ssl;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    location / {{
      proxy_pass http://127.0.0.1:{app_port};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Port $server_port;
    }}
  }}
}}
"""
        )
        nginx = subprocess.Popen(
            [str(NGINX), "-p", str(root), "-c", str(root / "nginx.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:

            def answers() -> bool:
                try:
                    return requests.get(f"{public}/healthz", verify=cert, timeout=2).ok
                except requests.RequestException:
                    return False

            wait_until(answers, lambda: "gunicorn behind nginx:\n" + "".join(output))
            yield server, public, cert, output
        finally:
            nginx.terminate()
            gunicorn.terminate()
            nginx.wait(timeout=10)
            gunicorn.wait(timeout=30)


def test_a_handler_works_through_a_tls_proxy(
    browser: Browser, proxied: tuple[Server, str, Path, list[str]]
) -> None:
    server, public, _cert, _output = proxied
    grievance(
        server, "users", "create", EMAIL, "--role", "handler", "--password-stdin", stdin=PASSWORD
    )
    context = browser.new_context(base_url=public, ignore_https_errors=True, locale="en-GB")
    try:
        page = context.new_page()
        sign_in_with_password(page, EMAIL, PASSWORD)  # a POST through the proxy
        enrol_totp(page)  # another
        expect_queue(page)
        assert page.url.startswith(public)  # redirects kept the public scheme, host and port
        page.get_by_role("button", name=f"Sign out ({EMAIL})").click()
        expect(page).to_have_url(re.compile(r"/login$"))
        assert page.url.startswith(public)
    finally:
        context.close()


def test_a_request_for_another_host_is_refused(
    proxied: tuple[Server, str, Path, list[str]],
) -> None:
    _server, public, cert, _output = proxied
    ok = requests.get(f"{public}/healthz", verify=cert, timeout=10)
    assert ok.status_code == 200
    other = requests.get(
        f"{public}/login", headers={"Host": "evil.example"}, verify=cert, timeout=10
    )
    assert other.status_code == 400


def test_the_access_log_keeps_no_addresses_or_searches(
    proxied: tuple[Server, str, Path, list[str]],
) -> None:
    _server, public, cert, output = proxied
    search = "agent+who+kept+passports"
    # The browser of another test may have logged a GET /cases already: wait for this one's.
    before = sum('"GET /cases"' in line for line in output)
    requests.get(f"{public}/cases?q={search}", verify=cert, timeout=10, allow_redirects=False)
    logged = wait_until(
        lambda: [line for line in output if '"GET /cases"' in line][before:],
        "the access log line",
    )
    assert logged[-1].split('"GET /cases"')[1].split()[0] == "302"  # status and time only
    everything = "".join(output)
    assert "passports" not in everything  # a handler's search is worker-written text
    assert "127.0.0.1" not in everything  # nor who made the request
