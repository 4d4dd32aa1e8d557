"""The conversation engine is a library: importing it pulls in no web, database or queue code."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("flask", "sqlalchemy", "twilio", "redis", "rq", "requests", "werkzeug")


def test_importing_the_engine_loads_no_io_libraries() -> None:
    code = (
        "import sys, json; import grievance.conversation, grievance.conversation.inspect, grievance.language;"
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    loaded = set(json.loads(subprocess.check_output([sys.executable, "-c", code], text=True)))
    assert not loaded & set(FORBIDDEN), loaded & set(FORBIDDEN)


def test_nothing_imports_the_web_package() -> None:
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "grievance"
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "web" not in path.relative_to(root).parts[:1]
        and path.name not in ("app.py", "cli.py")
        and ("from grievance.web" in path.read_text() or "import grievance.web" in path.read_text())
    ]
    assert offenders == []


def test_only_the_twilio_channel_imports_twilio() -> None:
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "grievance"
    importers = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if any(
            line.startswith(("import twilio", "from twilio"))
            for line in path.read_text().splitlines()
        )
    )
    assert importers == ["channels/twilio.py"]
