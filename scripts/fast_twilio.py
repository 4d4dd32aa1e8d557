"""A fast Twilio-compatible server for throughput benchmarks (asyncio, one process).

The test server (tests/support/fake_twilio.py, werkzeug) spends a few
milliseconds of CPU per request, which on a 2-core machine caps what a
benchmark can show. This one speaks only what a drain needs, with the same
wire format: ``POST .../Messages.json`` (basic auth, form body, 201 with
Twilio's JSON) and ``GET /_bench/messages?after=N`` (arrival times, From,
To), over HTTP/1.1 keep-alive.

    .venv/bin/python scripts/fast_twilio.py --port 8766
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import time
from urllib.parse import parse_qs, urlsplit

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
EXPECTED_AUTH = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()

messages: list[dict[str, object]] = []
ids = itertools.count(1)


def respond(status: int, reason: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


def create(form: dict[str, list[str]]) -> bytes:
    sid = f"SM{next(ids):032x}"
    to = form.get("To", [""])[0]
    sender = form.get("From", [""])[0]
    messages.append({"sid": sid, "to": to, "from": sender, "received_at": time.time()})
    body = {
        "sid": sid,
        "account_sid": ACCOUNT_SID,
        "to": to,
        "from": sender,
        "body": form.get("Body", [""])[0],
        "status": "queued",
        "num_segments": "1",
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
    }
    return respond(201, "Created", json.dumps(body).encode())


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0") or 0)
            body = await reader.readexactly(length) if length else b""
            url = urlsplit(target)
            if headers.get("authorization") != EXPECTED_AUTH:
                out = respond(401, "Unauthorized", b'{"code": 20003, "message": "Authenticate"}')
            elif method == "POST" and url.path.endswith("/Messages.json"):
                out = create(parse_qs(body.decode(), keep_blank_values=True))
            elif method == "GET" and url.path == "/_bench/messages":
                after = int(parse_qs(url.query).get("after", ["0"])[0])
                payload = {"total": len(messages), "messages": messages[after:]}
                out = respond(200, "OK", json.dumps(payload).encode())
            else:
                out = respond(404, "Not Found", b'{"code": 20404, "message": "not found"}')
            writer.write(out)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8766)
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
