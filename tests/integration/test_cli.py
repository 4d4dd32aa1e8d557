"""The operator's commands: simulate, db upgrade, worker without Redis, flows check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, inspect

from grievance.config import PROJECT_ROOT as ROOT
from grievance.language.catalog import load_catalog
from tests.support.cli import CLEAN, grievance
from tests.web.conftest import say


def test_simulate_chats_in_the_chosen_language(tmp_path: Path) -> None:
    env = {"GRIEVANCE_INSTANCE_PATH": str(tmp_path / "instance"), "GRIEVANCE_CODE_HASH_N": "1024"}
    result = grievance("simulate", "--lang", "ne", env=env, stdin="नमस्ते\nहो\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "simulated sms phone" in out
    # Nepali from the first reply: the language menu was skipped.
    nepali = load_catalog(ROOT / "locales" / "ne.yaml")
    assert nepali.messages["intake.promise"].sms in out
    assert "1 " + nepali.messages["category.movement_documents"].sms in out
    assert (tmp_path / "instance" / "grievance.db").exists()


def test_simulate_rejects_an_unknown_language(tmp_path: Path) -> None:
    result = grievance("simulate", "--lang", "xx", env={"GRIEVANCE_INSTANCE_PATH": str(tmp_path)})
    assert result.returncode != 0
    assert "--lang xx: not one of GRIEVANCE_LANGUAGES (en, ne, my)" in result.stderr


def test_simulate_whatsapp_uses_whatsapp_wording(tmp_path: Path) -> None:
    env = {"GRIEVANCE_INSTANCE_PATH": str(tmp_path / "instance"), "GRIEVANCE_CODE_HASH_N": "1024"}
    result = grievance(
        "simulate", "--lang", "en", "--whatsapp", env=env, stdin="hi\n1\n1\nFactory\n"
    )
    assert result.returncode == 0, result.stderr
    assert say("intake.ask_what_happened").split(".")[0] in result.stdout
    assert "photo or a voice message" in result.stdout


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = grievance("db", "upgrade", env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert "database is at head" in result.stdout
    engine = create_engine(url)
    assert {"contacts", "cases", "messages", "outbox", "conversations"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()


def test_worker_without_redis_says_why(tmp_path: Path) -> None:
    env = {
        "SECRET_KEY": "x" * 40,
        "GRIEVANCE_DATA_KEY": "bm90LWEta2V5",
        "GRIEVANCE_INSTANCE_PATH": str(tmp_path),
    }
    result = grievance("worker", env=env)
    assert result.returncode != 0
    assert "GRIEVANCE_DATA_KEY: key 1 is not a Fernet key" in result.stderr
    from cryptography.fernet import Fernet

    env["GRIEVANCE_DATA_KEY"] = Fernet.generate_key().decode()
    result = grievance("worker", env=env)
    assert result.returncode != 0
    assert "REDIS_URL is not set" in result.stderr


def test_production_start_without_secrets_stops_with_a_clear_message(tmp_path: Path) -> None:
    code = "from grievance.app import create_app; create_app()"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=CLEAN | {"GRIEVANCE_INSTANCE_PATH": str(tmp_path)},
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
