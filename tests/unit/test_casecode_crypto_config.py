"""Case codes, encryption with rotation, and settings that fail fast."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from grievance import casecode
from grievance.config import ConfigError, Settings
from grievance.crypto import DataProtector, DecryptionError


def test_codes_have_twelve_digits_and_catch_typos() -> None:
    rng = random.Random(7)
    for _ in range(200):
        code = casecode.generate(rng.randrange)
        assert len(code) == 12
        assert code.isdigit()
        assert casecode.normalize(casecode.display(code)) == code
        typo = code[:5] + str((int(code[5]) + 1) % 10) + code[6:]
        assert casecode.normalize(typo) is None
        swapped = code[:3] + code[4] + code[3] + code[5:]
        if swapped != code:
            assert casecode.normalize(swapped) is None


@pytest.mark.parametrize(
    "typed",
    [
        "4821 0937 5523",
        "4821-0937-5523",
        "4821.0937.5523",
        "482l O937 5523",  # l for 1, O for 0: a keypad or a worried thumb
        "4821 o937 5523",
        "४८२१ ०९३७ ५५२३",
        "٤٨٢١ ٠٩٣٧ ٥٥٢٣",
    ],
)
def test_a_code_is_read_in_any_grouping_script_and_lookalike_letter(typed: str) -> None:
    assert casecode.normalize(typed) == "482109375523"


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("4821 0937 552", ("length", 11)),
        ("4821 0937 55233", ("length", 13)),
        ("4821 0937 5524", ("mistyped", 12)),  # last digit wrong
        ("4812 0937 5523", ("mistyped", 12)),  # two digits swapped
        ("4821 0937 5523", None),
        ("OK", None),  # words, not a code
        ("I will send it", None),
    ],
)
def test_what_is_wrong_with_a_code_is_said(typed: str, problem: tuple[str, int] | None) -> None:
    assert casecode.problem(typed) == problem


def test_code_is_displayed_in_groups_of_four() -> None:
    assert casecode.display("482109375523") == "4821 0937 5523"


def test_rotation_keeps_old_data_readable_and_findable() -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    old = DataProtector([old_key], code_hash_n=1024)
    token = old.encrypt("+9779841315926")
    address_hash = old.address_hash("+9779841315926")
    code_hash = old.code_hash("482109375523")
    rotated = DataProtector([new_key, old_key], code_hash_n=1024)
    assert rotated.decrypt(token) == "+9779841315926"
    assert address_hash in rotated.address_hashes("+9779841315926")
    assert code_hash in rotated.code_hashes("482109375523")
    assert rotated.address_hash("+9779841315926") != address_hash  # new rows use the new key
    new_token = rotated.rotate(token)
    assert DataProtector([new_key]).decrypt(new_token) == "+9779841315926"
    with pytest.raises(DecryptionError, match="add the old key back"):
        DataProtector([new_key]).decrypt(token)


def test_a_case_code_hash_needs_the_data_key() -> None:
    """The keyed hash: the same code under another key is another hash, so a database
    without its key gives no way to test a guess; the scheme shows in the key id."""
    key, other = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    protector = DataProtector([key])
    assert protector.code_hash("482109375523") == protector.code_hash("482109375523")
    assert protector.code_hash("482109375523") != DataProtector([other]).code_hash("482109375523")
    assert protector.code_hash("482109375523") != protector.code_hash("482109375531")
    assert len(protector.code_hash("482109375523")) == 64  # fits the column
    assert protector.code_key_ids[0].startswith("m")
    assert protector.code_key_ids[0] not in protector.key_ids  # never taken for the scrypt era
    legacy = DataProtector([key], code_hash_n=1024).legacy_code_hashes("482109375523")
    assert protector.code_hash("482109375523") not in legacy


def test_ciphertext_hides_the_number() -> None:
    protector = DataProtector([Fernet.generate_key().decode()])
    assert b"9841315926" not in protector.encrypt("+9779841315926")
    assert "9841315926" not in protector.address_hash("+9779841315926")


def base_env(tmp_path: Path) -> dict[str, str]:
    return {
        "SECRET_KEY": "x" * 40,
        "GRIEVANCE_DATA_KEY": Fernet.generate_key().decode(),
        "GRIEVANCE_INSTANCE_PATH": str(tmp_path),
    }


def test_missing_secrets_stop_production_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        Settings.from_env({"GRIEVANCE_INSTANCE_PATH": str(tmp_path)})
    with pytest.raises(ConfigError, match="GRIEVANCE_DATA_KEY is not set"):
        Settings.from_env({"SECRET_KEY": "x", "GRIEVANCE_INSTANCE_PATH": str(tmp_path)})


def test_serve_generates_secrets_once(tmp_path: Path) -> None:
    first = Settings.from_env(
        {"GRIEVANCE_INSTANCE_PATH": str(tmp_path)}, generate_missing_secrets=True
    )
    assert first.extra["generated"]
    assert (tmp_path / "data_key").stat().st_mode & 0o777 == 0o600
    second = Settings.from_env(
        {"GRIEVANCE_INSTANCE_PATH": str(tmp_path)}, generate_missing_secrets=True
    )
    assert second.data_keys == first.data_keys
    assert second.secret_key == first.secret_key
    assert not second.extra


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"GRIEVANCE_DATA_KEY": "not-a-key"}, "key 1 is not a Fernet key"),
        ({"TWILIO_ACCOUNT_SID": "AC1"}, "Set both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"),
        ({"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"}, "nothing to send from"),
        ({"PUBLIC_BASE_URL": "grievance.example.org"}, "must start with https://"),
        ({"GRIEVANCE_LANGUAGES": " , "}, "GRIEVANCE_LANGUAGES is empty"),
        ({"GRIEVANCE_CODE_HASH_N": "lots"}, "GRIEVANCE_CODE_HASH_N must be a whole number"),
        ({"GRIEVANCE_INVITE_HOURS": "0"}, "GRIEVANCE_INVITE_HOURS must be between 1 and 720"),
        ({"GRIEVANCE_TRANSLATION_URL": "translate.internal"}, "base URL of a LibreTranslate"),
        ({"GRIEVANCE_TRANSLATION_TIMEOUT": "soon"}, "GRIEVANCE_TRANSLATION_TIMEOUT must be a"),
    ],
)
def test_bad_settings_say_what_to_fix(tmp_path: Path, change: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(base_env(tmp_path) | change)


def test_several_data_keys_and_postgres_urls(tmp_path: Path) -> None:
    keys = [Fernet.generate_key().decode() for _ in range(2)]
    settings = Settings.from_env(
        base_env(tmp_path)
        | {"GRIEVANCE_DATA_KEY": ", ".join(keys), "DATABASE_URL": "postgres://u@h/db"}
    )
    assert settings.data_keys == tuple(keys)
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert not settings.twilio_enabled


def test_translation_is_off_unless_a_url_is_given(tmp_path: Path) -> None:
    assert Settings.from_env(base_env(tmp_path)).translation_url is None
    settings = Settings.from_env(
        base_env(tmp_path)
        | {
            "GRIEVANCE_TRANSLATION_URL": "http://127.0.0.1:5005/translate/",
            "GRIEVANCE_TRANSLATION_KEY": "k",
        }
    )
    # The base URL, whether or not the operator copied the endpoint's path.
    assert settings.translation_url == "http://127.0.0.1:5005"
    assert settings.translation_key == "k"
