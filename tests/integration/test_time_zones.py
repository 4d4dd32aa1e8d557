"""Staff read times where they are: their own time zone, else the line's; written the CLDR way."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import update

from grievance.app import create_app
from grievance.config import ConfigError, Settings
from grievance.models import Case
from grievance.runtime import Runtime, build_runtime
from tests.conftest import environment
from tests.support.cases import make_cases
from tests.support.staff import handler, token_of

RECEIVED = datetime(2026, 12, 6, 22, 30, tzinfo=UTC)


def _received(page: str) -> str:
    match = re.search(r"<dt>Received</dt><dd><time[^>]*>([^<]+)</time>", page)
    assert match, page[:2000]
    return match.group(1)


def _case(runtime: Runtime) -> int:
    (case_id,) = make_cases(runtime, [("P2", "Factory A", 24)])
    with runtime.sessions() as session:
        session.execute(update(Case).where(Case.id == case_id).values(created_at=RECEIVED))
        session.commit()
    return case_id


def test_a_handler_chooses_the_zone_they_read_times_in(app: Flask, runtime: Runtime) -> None:
    case_id = _case(runtime)
    me = handler(app, runtime)
    assert _received(me.get(f"/cases/{case_id}").get_data(as_text=True)) == "6 Dec 2026, 22:30 UTC"

    token = token_of(me, "/account")
    saved = me.post("/account", data={"time_zone": "Asia/Kathmandu", "csrf_token": token})
    assert saved.status_code == 200
    # 22:30 UTC is 04:15 the next morning in Kathmandu (UTC+05:45).
    assert (
        _received(me.get(f"/cases/{case_id}").get_data(as_text=True)) == "7 Dec 2026, 04:15 +0545"
    )

    refused = me.post("/account", data={"time_zone": "Mars/Olympus", "csrf_token": token})
    assert refused.status_code == 400
    assert "+0545" in _received(me.get(f"/cases/{case_id}").get_data(as_text=True))


def test_the_line_sets_the_default(sqlite_url: str, tmp_path: Path) -> None:
    env = environment(sqlite_url, tmp_path / "i2", None, GRIEVANCE_TIME_ZONE="Asia/Bangkok")
    runtime = build_runtime(Settings.from_env(env))
    try:
        app = create_app(runtime=runtime)
        case_id = _case(runtime)
        page = handler(app, runtime).get(f"/cases/{case_id}").get_data(as_text=True)
        assert _received(page) == "7 Dec 2026, 05:30 +0700"
    finally:
        runtime.close()
    with pytest.raises(ConfigError, match="GRIEVANCE_TIME_ZONE"):
        Settings.from_env(env | {"GRIEVANCE_TIME_ZONE": "Bangkok"})
