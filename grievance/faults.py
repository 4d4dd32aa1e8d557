"""Fail points for the fault-injection tests: named places where a process can be made to die.

``GRIEVANCE_FAILPOINTS=deliver.before_send`` makes the process SIGKILL itself
the first time it reaches that point, as a crash or an OOM kill would. With
the variable unset (always, in production) a fail point is a set lookup.
The points: ``deliver.before_send`` (claimed, Twilio not yet called),
``deliver.after_send`` (Twilio answered 201, nothing recorded yet) and
``inbound.before_commit`` (a batch of conversations stepped, nothing committed).
"""

from __future__ import annotations

import os
import signal

_ARMED = frozenset(p.strip() for p in os.environ.get("GRIEVANCE_FAILPOINTS", "").split(",") if p)


def failpoint(name: str) -> None:
    """Die here, at once and without cleanup, if this point is armed."""
    if name in _ARMED:
        os.kill(os.getpid(), signal.SIGKILL)
