"""Case rows written straight into the database, for report tests that need many cases on
chosen days: far faster than intakes, and with only what reports read."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any


def case_row(when: datetime, **fields: Any) -> dict[str, Any]:
    """A row for ``insert(Case)`` received at ``when``: a triaged WAGE case, P2, in English,
    unless ``fields`` say otherwise."""
    return {
        "code_hash": secrets.token_hex(32),
        "code_key_id": "t",
        "status": "in_triage",
        "category": "WAGE",
        "severity": "P2",
        "language": "en",
        "channel": "sms",
        "flow_id": "intake",
        "flow_version": 2,
        "created_at": when,
        "updated_at": when,
        "indicators": [],
        "remedy_types": [],
        **fields,
    }
