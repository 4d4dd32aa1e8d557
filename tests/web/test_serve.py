"""``grievance serve`` with nothing configured: what an operator sees on a first and second start."""

from __future__ import annotations

import re
import secrets
import stat
from pathlib import Path

from tests.web.conftest import Server, SimPhone, run_server, say

GENERATED = re.compile(r"^generated a new secret in (?P<path>.+?) \(", re.MULTILINE)


def generated_paths(stdout: str) -> list[Path]:
    """The secret files the server says it generated."""
    return [Path(m["path"]) for m in GENERATED.finditer(stdout)]


def test_first_start_uses_console_sqlite_and_generated_secrets(live_server: Server) -> None:
    server, instance = live_server, live_server.instance
    server.wait_for_output("/simulator")
    out = server.stdout

    # It says which channel it uses and where the simulator is.
    assert re.search(r"^channel: console\b", out, re.MULTILINE), server.describe()
    simulator = re.search(r"^phone simulator: (\S+)$", out, re.MULTILINE)
    assert simulator, server.describe()
    assert simulator[1] == f"{server.base_url}/simulator"

    # It generated its secrets into the instance directory, readable by the owner only.
    paths = generated_paths(out)
    assert len(paths) >= 2, server.describe()  # the Flask secret key and the data key
    for path in paths:
        assert path.parent == instance, path
        assert path.is_file(), path
        assert path.read_text().strip(), f"{path} is empty"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{path}: {oct(path.stat().st_mode)}"

    # The first admin, and the first sign-in's steps in the order the pages ask for them.
    assert re.search(
        r"^created the first admin: admin@localhost with the one-time password \S+$",
        out,
        re.MULTILINE,
    ), server.describe()
    assert (
        f"sign in at {server.base_url}/login, set up two-step sign-in with an authenticator app, "
        "then choose your own password"
    ) in out

    # The SQLite database lives in the instance directory too.
    database = instance / "grievance.db"
    assert database.is_file()
    assert database.stat().st_size > 0
    assert str(database) in out

    health = server.get("/healthz")
    assert health.status_code == 200
    assert health.headers["Content-Type"].startswith("application/json")
    assert health.json() == {"status": "ok"}  # the figures are for the monitor's token

    page = server.get("/simulator")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Phone simulator" in page.text
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        assert server.get(asset).status_code == 200, asset

    phone = SimPhone(server, "first-" + secrets.token_hex(6))
    phone.send("hi I need help")
    replies = phone.replies_until(say("intake.promise"))
    # One step's texts arrive as one message, so they cannot arrive out of order: the promise,
    # the question and its options.
    assert replies[0] == (
        say("intake.promise")
        + "\n\n"
        + say("intake.continue_question")
        + f"\n1 {say('intake.option_report')}\n2 {say('intake.option_no_report')}"
        + f"\n3 {say('intake.option_who_sees')}\n4 {say('intake.option_rights')}"
    )
    # The console channel also prints the reply for the operator.
    server.wait_for_output(say("intake.promise"))


def test_simulator_api_rejects_bad_requests(live_server: Server) -> None:
    server = live_server
    assert server.post("/simulator/messages", json={"phone": "x", "text": "hi"}).status_code == 400
    assert server.post("/simulator/messages", data="not json").status_code == 400
    assert server.get("/simulator/messages", params={"phone": "no spaces!"}).status_code == 400


def test_second_start_keeps_secrets_and_data(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    phone_id = "again-" + secrets.token_hex(6)

    with run_server(instance) as server:
        server.wait_for_output("/simulator")
        paths = generated_paths(server.stdout)
        assert paths, server.describe()
        before = {path: path.read_bytes() for path in paths}

        phone = SimPhone(server, phone_id)
        phone.send("hi I need help")
        phone.replies_until(say("intake.continue_question"))
        phone.send("1")
        phone.replies_until(say("intake.choose_category"))

    with run_server(instance) as server:
        server.wait_for_output("/simulator")
        assert "generated" not in server.stdout, server.describe()
        for path, content in before.items():
            assert path.read_bytes() == content, f"{path} changed on restart"
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert server.get("/healthz").json() == {"status": "ok"}

        # The worker's conversation survived the restart: choosing a category goes on
        # to the next question instead of starting over.
        phone = SimPhone(server, phone_id)
        phone.send("1")
        replies = phone.replies_until(say("intake.ask_workplace"))
        assert say("intake.promise") not in replies
