"""Time frames: when the current stage of a case is due, from the defaults in docs/domain.md or configuration.

Triage runs from receipt (P0 1 hour, P1 24 hours, P2 3 working days, P3 7
days); the supplier's remediation plan from the referral to the supplier (P1
7 days, P2 14, P3 30; P0 as P1); remediation and the worker's answer have
their own frames. Working days skip Saturday and Sunday. Pure: no clock, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta

# stage clock -> severity -> duration ("1h", "24h", "3wd" working days, "7d")
DEFAULT_FRAMES: dict[str, dict[str, str]] = {
    "triage": {"P0": "1h", "P1": "24h", "P2": "3wd", "P3": "7d"},
    "plan": {"P0": "7d", "P1": "7d", "P2": "14d", "P3": "30d"},
    "remediation": {"P0": "30d", "P1": "30d", "P2": "60d", "P3": "90d"},
    "worker": {"P0": "14d", "P1": "14d", "P2": "14d", "P3": "14d"},
    # A worker asked for a person before making any report.
    "person": {"P0": "1h", "P1": "24h", "P2": "24h", "P3": "24h"},
}
# Which clock each open stage runs on.
STAGE_CLOCK = {
    "requested": "person",
    "received": "triage",
    "acknowledged": "triage",
    "in_triage": "triage",
    "with_supplier": "plan",
    "remediation_in_progress": "remediation",
    "awaiting_worker": "worker",
}
_DURATION = re.compile(r"^(\d+)(h|d|wd)$")


class SlaError(ValueError):
    """A time frame that cannot be read; the message says which and how to write it."""


def parse_duration(text: str) -> tuple[int, str]:
    """``"3wd"`` -> (3, "wd"); hours, days or working days."""
    match = _DURATION.match(text.strip())
    if not match:
        raise SlaError(f"{text!r} is not a time frame; write 1h, 24h, 7d or 3wd (working days)")
    return int(match.group(1)), match.group(2)


def add(start: datetime, duration: str) -> datetime:
    """``start`` plus a duration; working days skip Saturdays and Sundays."""
    amount, unit = parse_duration(duration)
    if unit == "h":
        return start + timedelta(hours=amount)
    if unit == "d":
        return start + timedelta(days=amount)
    end = start
    while amount:
        end += timedelta(days=1)
        if end.weekday() < 5:
            amount -= 1
    return end


def due_at(
    status: str,
    severity: str,
    stage_started: datetime,
    frames: Mapping[str, Mapping[str, str]] = DEFAULT_FRAMES,
) -> datetime | None:
    """When a case in ``status`` at ``severity`` is due, its stage having started then."""
    clock = STAGE_CLOCK.get(status)
    if clock is None:
        return None
    return add(stage_started, frame(frames, clock, severity))


def frame(frames: Mapping[str, Mapping[str, str]], clock: str, severity: str) -> str:
    """The time frame of ``clock`` at ``severity``: the deployment's, else the default."""
    return frames.get(clock, {}).get(severity) or DEFAULT_FRAMES[clock][severity]


def validate(frames: Mapping[str, Mapping[str, str]]) -> None:
    """Raise :class:`SlaError` for an unknown clock, severity or duration."""
    for clock, per_severity in frames.items():
        if clock not in DEFAULT_FRAMES:
            raise SlaError(f"unknown time frame {clock!r}; one of {', '.join(DEFAULT_FRAMES)}")
        for severity, duration in per_severity.items():
            if severity not in ("P0", "P1", "P2", "P3"):
                raise SlaError(f"{clock}: unknown severity {severity!r}; P0 to P3")
            parse_duration(duration)
