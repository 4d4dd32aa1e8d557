"""The ``grievance`` command line in a subprocess, in an environment without the machine's
Twilio, database, Redis or secret settings."""

from __future__ import annotations

import os
import subprocess
import sys

CLEAN = {
    k: v
    for k, v in os.environ.items()
    if not k.startswith(("TWILIO_", "GRIEVANCE_", "DATABASE_URL", "REDIS_URL", "SECRET_KEY"))
}


def grievance(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grievance.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=CLEAN | env,
        timeout=120,
        check=False,
    )
