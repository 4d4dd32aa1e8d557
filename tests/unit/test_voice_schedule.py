"""Staffed hours: a weekly schedule in the line's time zone, read from the environment and
checked at start-up; and the case code as a caller hears it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from grievance.config import ConfigError, Settings
from grievance.services.voice import recording_name, spoken_code, staffed


def settings(**env: str) -> Settings:
    base = {
        "SECRET_KEY": "x",
        "GRIEVANCE_DATA_KEY": Fernet.generate_key().decode(),
        "GRIEVANCE_INSTANCE_PATH": str(Path("/nonexistent")),
    }
    return Settings.from_env(base | env)


def test_staffed_hours_follow_the_lines_time_zone() -> None:
    line = settings(
        GRIEVANCE_VOICE_STAFFED_NUMBER="+9771000000",
        GRIEVANCE_VOICE_STAFFED_HOURS="mon-fri 09:00-17:00; sat 09:00-12:00",
        GRIEVANCE_VOICE_TIMEZONE="Asia/Kathmandu",  # UTC+05:45
    )
    # Monday 7 Dec 2026, 03:30 UTC is 09:15 in Kathmandu: staffed.
    assert staffed(line, datetime(2026, 12, 7, 3, 30, tzinfo=UTC))
    # 03:00 UTC is 08:45 there: not yet.
    assert not staffed(line, datetime(2026, 12, 7, 3, 0, tzinfo=UTC))
    # Saturday 12 Dec, 07:00 UTC is 12:45 there: closed since noon.
    assert not staffed(line, datetime(2026, 12, 12, 7, 0, tzinfo=UTC))
    # Sunday: never.
    assert not staffed(line, datetime(2026, 12, 13, 5, 0, tzinfo=UTC))
    # Without a number to put calls through to, nobody is staffed.
    closed = settings(GRIEVANCE_VOICE_STAFFED_HOURS="mon-sun 00:00-24:00")
    assert not staffed(closed, datetime(2026, 12, 7, 5, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("GRIEVANCE_VOICE_STAFFED_HOURS", "weekdays 9-5", "like 'mon-fri 09:00-17:00"),
        ("GRIEVANCE_VOICE_STAFFED_HOURS", "fri-mon 09:00-17:00", "ends before it starts"),
        ("GRIEVANCE_VOICE_STAFFED_HOURS", "mon 17:00-09:00", "ends before it starts"),
        ("GRIEVANCE_VOICE_TIMEZONE", "Kathmandu", "unknown time zone"),
        ("GRIEVANCE_VOICE_RECORD_SECONDS", "5", "between 10 and 600"),
    ],
)
def test_a_wrong_voice_setting_stops_start_up_saying_why(name: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        settings(**{name: value})


def test_the_code_is_said_digit_by_digit_in_groups_of_four() -> None:
    assert spoken_code("4821 0937 5523") == "4 8 2 1, 0 9 3 7, 5 5 2 3."


def test_only_a_key_on_the_phone_makes_a_recording_of_a_filled_message() -> None:
    assert recording_name("voice.goodbye", {}) == "voice.goodbye"
    assert recording_name("voice.language_option", {"n": "2"}) == "voice.language_option.2"
    assert recording_name("status.report", {"date": "2026-12-06", "stage": "x"}) is None
    assert recording_name("voice.press_for", {"n": "1", "label": "Yes"}) is None
