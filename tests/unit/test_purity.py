"""The conversation engine is a library: importing it pulls in no web, database or queue code.

Which package may import which is checked statically by import-linter (the contracts in
pyproject.toml, run by ./scripts/test); this test checks what importing loads at run time.
"""

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
