"""``grievance --help`` on a machine not yet configured: help, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_help_lists_the_commands_before_anything_is_configured(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRIEVANCE_", "TWILIO_"))}
    env.pop("SECRET_KEY", None)
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "grievance"), "--help"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "SECRET_KEY" not in done.stderr
    for command in ("serve", "worker", "flows", "simulate", "db"):
        assert f"\n  {command} " in done.stdout
