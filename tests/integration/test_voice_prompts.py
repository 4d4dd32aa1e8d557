"""Prompts people can understand: an operator's recording is played, served publicly for
Twilio's <Play>; `grievance voice prompts` lists the coverage, and --generate drafts
recordings with espeak-ng and sox, marked as drafts."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from grievance.app import create_app
from grievance.cli import main
from grievance.config import PROJECT_ROOT, Settings
from grievance.language import load_catalogs
from grievance.runtime import build_runtime
from grievance.services import voice_prompts
from tests.conftest import PUBLIC_URL, environment, unavailable
from tests.support.fake_twilio import FakeTwilio
from tests.support.voice import WAV, Caller


@pytest.fixture
def locales(tmp_path: Path) -> Path:
    directory = tmp_path / "locales"
    shutil.copytree(PROJECT_ROOT / "locales", directory, ignore=shutil.ignore_patterns("audio"))
    return directory


def test_a_recorded_prompt_is_played_and_served_publicly(
    sqlite_url: str, tmp_path: Path, fake_twilio: FakeTwilio, locales: Path
) -> None:
    (locales / "audio" / "ne").mkdir(parents=True)
    (locales / "audio" / "ne" / "voice.main_menu.wav").write_bytes(WAV)
    # The language menu's Nepali option, recorded for the key it has on this line.
    (locales / "audio" / "ne" / "voice.language_option.2.wav").write_bytes(WAV)
    # A menu option: its label, then "press 1".
    (locales / "audio" / "ne" / "intake.option_report.wav").write_bytes(WAV)
    (locales / "audio" / "ne" / "voice.press_key.1.wav").write_bytes(WAV)
    env = environment(sqlite_url, tmp_path / "instance", fake_twilio)
    runtime = build_runtime(Settings.from_env(env | {"GRIEVANCE_LOCALES_DIR": str(locales)}))
    try:
        app = create_app(runtime=runtime)
        app.testing = True
        client = app.test_client()
        call = Caller(client, fake_twilio, "+9779800000009", PUBLIC_URL)
        languages = call.call()
        assert [e.text for e in languages.iter("Play")] == [
            f"{PUBLIC_URL}/twilio/voice/audio/ne/voice.language_option.2.wav"
        ]
        assert len(list(languages.iter("Say"))) == 2  # English and Burmese, read aloud
        menu = call.press("2")  # Nepali
        played = [e.text for e in menu.iter("Play")]
        assert played == [f"{PUBLIC_URL}/twilio/voice/audio/ne/voice.main_menu.wav"]
        assert menu.find("Gather/Say") is None  # the recording instead of the text
        consent = call.press("1")
        audio = f"{PUBLIC_URL}/twilio/voice/audio/ne"
        assert [e.text for e in consent.iter("Play")] == [
            f"{audio}/intake.option_report.wav",
            f"{audio}/voice.press_key.1.wav",
        ]
        assert any("2 थिच्नुहोस्" in (e.text or "") for e in consent.iter("Say"))  # not recorded
        served = client.get("/twilio/voice/audio/ne/voice.main_menu.wav")
        assert served.status_code == 200
        assert served.data == WAV
        # Only prompts: nothing else under the folder, no other names.
        assert client.get("/twilio/voice/audio/ne/..%2Fne.yaml").status_code == 404
        assert client.get("/twilio/voice/audio/xx/voice.main_menu.wav").status_code == 404
    finally:
        runtime.close()


def test_voice_prompts_lists_coverage_per_language(locales: Path) -> None:
    (locales / "audio" / "en").mkdir(parents=True)
    (locales / "audio" / "en" / "voice.goodbye.mp3").write_bytes(b"ID3")
    # Every catalog has its phone-menu sentences now: take Khmer's away to see them counted.
    khmer = locales / "km.yaml"
    khmer.write_text(
        "".join(
            line
            for line in khmer.read_text(encoding="utf-8").splitlines(keepends=True)
            if not line.startswith("  voice.")
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main,
        ["voice", "prompts", "--languages", "en,my,km", "--details"],
        env={"GRIEVANCE_LOCALES_DIR": str(locales)},
    )
    assert result.exit_code == 0, result.output
    rows = {
        line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
        for line in result.output.splitlines()
        if line.startswith("| ") and not line.startswith(("| language", "| ---"))
    }
    assert rows["en"][0] == "1"  # one recording
    assert rows["my"][3] != "0"  # Burmese: no Twilio voice, no recording yet
    assert rows["km"][5] == str(len(voice_prompts.MESSAGE_KEYS))  # no phone wording at all
    assert rows["my"][5] == "0"  # every phone-menu sentence worded
    assert "en recorded: voice.goodbye" in result.output


def test_generate_makes_telephone_drafts_marked_as_drafts(locales: Path, tmp_path: Path) -> None:
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        unavailable("espeak-ng and sox", "apt-get install espeak-ng sox")
    catalogs = load_catalogs(locales, ["en", "ne"])
    keep = ("voice.goodbye", "voice.no_key", "voice.you_pressed", "voice.language_option")
    trimmed = {
        lang: dataclasses.replace(
            catalog, messages={k: v for k, v in catalog.messages.items() if k in keep}
        )
        for lang, catalog in catalogs.items()
    }
    drafts_dir = tmp_path / "drafts"
    made = voice_prompts.generate(trimmed, locales, drafts_dir, ["ne"])
    # A prompt with parameters is drafted in pieces: its words, and the numbers and months.
    assert {"voice.goodbye", "voice.no_key", "voice.you_pressed.part1", "voice.month.12"} <= set(
        made["ne"]
    )
    assert "voice.you_pressed" not in made["ne"]
    # The language menu's option once per key on the phone.
    assert (drafts_dir / "ne" / "voice.language_option.9.wav").is_file()
    wav = drafts_dir / "ne" / "voice.goodbye.wav"
    info = subprocess.run(["soxi", str(wav)], capture_output=True, text=True, check=True).stdout
    assert "8000" in info
    assert "u-law" in info
    assert voice_prompts.drafts(drafts_dir, "ne") == set(made["ne"])
    assert not (locales / "audio" / "ne").exists()  # drafts stay apart from recordings
    [row] = [r for r in voice_prompts.coverage(trimmed, locales, drafts_dir) if r.language == "ne"]
    assert "voice.goodbye" in row.drafts
    assert row.neither == []
