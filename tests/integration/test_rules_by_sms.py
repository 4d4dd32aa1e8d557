"""RULES: the key rules of procedure as text, with the deployment's own time frames, in the
worker's words; the web address only where a phone can open it."""

from __future__ import annotations

from grievance.app import create_app
from grievance.runtime import Runtime, build_runtime
from tests.conftest import Phone
from tests.support.fake_twilio import FakeTwilio


def test_rules_by_sms_carry_the_time_frames_and_no_web_address(phone: Phone) -> None:
    phone.send("hi")
    (reply,) = phone.send("RULES")
    assert reply.startswith(
        "Our rules: your number stays secret. A case handler answers within 7 days, or 1 hour "
        "if you are in danger."
    )
    assert "Send APPEAL within 90 days." in reply
    assert "http" not in reply
    # Then the worker is back at the question RULES interrupted.
    assert reply.endswith("3 Who sees my message?\n4 Your rights")
    # HELP names RULES and, on SMS, sends no address either.
    help_reply = "\n".join(phone.send("HELP"))
    assert "RULES for our rules" in help_reply
    assert "http" not in help_reply


def test_rules_follow_the_deployment_and_the_language(
    runtime: Runtime, fake_twilio: FakeTwilio
) -> None:
    changed = build_runtime(
        runtime.settings.with_overrides(appeal_days=30, sla_frames={"triage": {"P3": "3wd"}})
    )
    try:
        worker = Phone(create_app(runtime=changed).test_client(), fake_twilio, "+9779800000077")
        (reply,) = worker.send("RULES")
        assert "within 3 working days, or 1 hour" in reply
        assert "within 30 days" in reply
        nepali = changed.catalogs["ne"]
        (reply,) = worker.send(nepali.keywords["rules"][0])
        assert "1 घण्टा" in reply  # CLDR's Nepali, not English "1 hour"
        assert "30" in reply
        assert "hour" not in reply
    finally:
        changed.close()
