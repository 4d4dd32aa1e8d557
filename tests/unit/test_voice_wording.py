"""Every catalog has wording for the ear wherever the source catalog has it.

A catalog without a message's ``voice:`` variant makes a caller hear its SMS text ("Reply
with a number"), and one without a ``voice.*`` sentence makes the phone menu speak English:
neither may come back unnoticed (docs/voice.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from grievance.language import load_catalogs
from grievance.language.catalog import Catalog
from grievance.services.voice import MESSAGE_KEYS

LOCALES = Path(__file__).resolve().parents[2] / "locales"
SOURCE = "en"
LANGUAGES = tuple(sorted(p.stem for p in LOCALES.glob("*.yaml") if p.stem != SOURCE))


@pytest.fixture(scope="module")
def catalogs() -> dict[str, Catalog]:
    return load_catalogs(LOCALES)


def test_the_source_has_every_phone_menu_sentence(catalogs: dict[str, Catalog]) -> None:
    source = catalogs[SOURCE].messages
    assert [key for key in MESSAGE_KEYS if key not in source] == []
    assert {key for key in source if key.startswith("voice.")} == set(MESSAGE_KEYS)


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_has_every_phone_menu_sentence(catalogs: dict[str, Catalog], language: str) -> None:
    source = catalogs[SOURCE].messages
    messages = catalogs[language].messages
    wanted = [key for key in source if key.startswith("voice.")]
    assert [key for key in wanted if key not in messages] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_has_a_voice_variant_wherever_the_source_has_one(
    catalogs: dict[str, Catalog], language: str
) -> None:
    source = catalogs[SOURCE].messages
    messages = catalogs[language].messages
    wanted = [key for key, text in source.items() if text.voice is not None]
    assert wanted  # the source words some messages for the ear
    missing = [key for key in wanted if key not in messages or messages[key].voice is None]
    assert missing == []
