"""Rotating GRIEVANCE_DATA_KEY: old data stays readable and findable, then moves to the new key."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from flask.testing import FlaskClient
from sqlalchemy import select

from grievance.app import create_app
from grievance.cli import main
from grievance.config import Settings
from grievance.models import Case, Contact
from grievance.runtime import Runtime, build_runtime
from tests.conftest import DATA_KEY, Phone, environment
from tests.support.fake_twilio import FakeTwilio
from tests.support.intake import report


def runtime_with_keys(database_url: str, tmp_path: Path, fake: FakeTwilio, keys: str) -> Runtime:
    env = environment(database_url, tmp_path / "instance", fake, GRIEVANCE_DATA_KEY=keys)
    return build_runtime(Settings.from_env(env))


def test_rotation_end_to_end(
    database_url: str, tmp_path: Path, fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = build_runtime(
        Settings.from_env(environment(database_url, tmp_path / "instance", fake_twilio))
    )
    phone = Phone(create_app(runtime=old).test_client(), fake_twilio, "+9779841315926")
    code = report(phone)
    old.close()

    new_key = Fernet.generate_key().decode()
    keys = f"{new_key},{DATA_KEY}"
    env = environment(database_url, tmp_path / "instance", fake_twilio, GRIEVANCE_DATA_KEY=keys)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "1 contacts" in result.output
    assert "1 case codes still use an older key" in result.output

    both = runtime_with_keys(database_url, tmp_path, fake_twilio, keys)
    client: FlaskClient = create_app(runtime=both).test_client()
    phone = Phone(
        client, fake_twilio, "+9779841315926", seen=len(fake_twilio.bodies_to("+9779841315926"))
    )
    assert "received" in phone.send(f"STATUS {code}")[0]  # found under the old key, re-hashed
    both.close()
    result = CliRunner().invoke(main, ["keys", "rotate"])
    assert "can be removed" in result.output

    only_new = runtime_with_keys(database_url, tmp_path, fake_twilio, new_key)
    phone = Phone(create_app(runtime=only_new).test_client(), fake_twilio, "+9779841315926")
    phone.seen = len(fake_twilio.bodies_to("+9779841315926"))
    assert "received" in phone.send(f"STATUS {code}")[0]
    with only_new.sessions() as session:
        assert session.scalar(select(Contact.id)) is not None
        contact = session.scalars(select(Contact)).one()  # the same worker, not a new contact
        assert only_new.protector.decrypt(contact.address_encrypted or b"") == "+9779841315926"
        case = session.scalars(select(Case)).one()
        assert only_new.protector.decrypt(case.description_encrypted or b"").startswith(
            "The agent took"
        )
    only_new.close()
