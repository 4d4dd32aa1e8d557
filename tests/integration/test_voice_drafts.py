"""A caller in a language Twilio cannot read aloud (Nepali here) hears every sentence from
recordings: whole prompts, and the sentences filled on the call (the key pressed, the case
code, a STATUS answer's stage and dates) from recorded pieces. The recordings are the
machine-made drafts `grievance voice prompts --generate` makes, with the words each was made
from: a draft of words since changed is not played."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from grievance.app import create_app
from grievance.config import PROJECT_ROOT, Settings
from grievance.conversation import load_flowset
from grievance.language import load_catalogs
from grievance.language.catalog import Text
from grievance.models import Contact
from grievance.runtime import Runtime, build_runtime
from grievance.services import voice_prompts
from grievance.services.voice import DRAFTS
from tests.conftest import PUBLIC_URL, environment
from tests.support.fake_twilio import FakeTwilio
from tests.support.voice import WAV, Caller, said

CALLER = "+9779800000044"
DRAFT_URL = re.compile(rf"^{re.escape(PUBLIC_URL)}/twilio/voice/drafts/ne/(.+)\.wav$")


class FakeEspeak:
    """Stands in for the espeak-ng and sox commands: writes a WAV where each would, and
    remembers what it was asked to say."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def __call__(self, command: Sequence[str]) -> None:
        if command[0] == "espeak-ng":
            self.said.append(command[-1])
            Path(command[4]).write_bytes(WAV)
        else:
            shutil.copy(command[1], command[-1])


@pytest.fixture
def drafts(tmp_path: Path) -> Path:
    """Nepali drafts of every prompt, as --generate makes them."""
    folder = tmp_path / "drafts"
    catalogs = load_catalogs(PROJECT_ROOT / "locales", ["en", "ne"])
    flowset, _problems = load_flowset(PROJECT_ROOT / "flows")
    assert flowset is not None
    made = voice_prompts.generate(
        catalogs,
        PROJECT_ROOT / "locales",
        folder,
        ["en", "ne"],
        run=FakeEspeak(),
        labels=voice_prompts.voice_keys(flowset),
    )
    assert set(made) == {"ne"}  # English has a Twilio voice: no draft is made for it
    return folder


@pytest.fixture
def line(
    database_url: str, tmp_path: Path, fake_twilio: FakeTwilio, drafts: Path
) -> Iterator[Runtime]:
    env = environment(database_url, tmp_path / "instance", fake_twilio)
    runtime = build_runtime(Settings.from_env(env | {"GRIEVANCE_VOICE_DRAFTS_DIR": str(drafts)}))
    yield runtime
    runtime.close()


@pytest.fixture
def client(line: Runtime) -> FlaskClient:
    app = create_app(runtime=line)
    app.testing = True
    return app.test_client()


def played(answer: ET.Element) -> list[str]:
    """The drafts an answer plays, by name, in order (inside <Gather> too)."""
    names = []
    for element in answer.iter("Play"):
        found = DRAFT_URL.match(element.text or "")
        assert found, element.text
        names.append(found.group(1))
    return names


def heard_only_recordings(answer: ET.Element) -> list[str]:
    """The answer's drafts; it reads nothing aloud."""
    assert said(answer) == [], ET.tostring(answer, encoding="unicode")
    return played(answer)


def test_a_nepali_caller_hears_every_sentence_from_recordings(
    client: FlaskClient, fake_twilio: FakeTwilio
) -> None:
    call = Caller(client, fake_twilio, CALLER, PUBLIC_URL)
    languages = call.call()
    assert played(languages) == ["voice.language_option.2"]
    assert len(said(languages)) == 2  # English and Burmese, which Twilio reads
    assert heard_only_recordings(call.press("2")) == ["voice.main_menu"]
    consent = heard_only_recordings(call.press("1"))
    assert consent[:4] == [
        "intake.promise",
        "intake.continue_question",
        "intake.option_report",
        "voice.press_key.1",
    ]
    category = heard_only_recordings(call.press("1"))
    # "Press 5 for ...": each option as its label's recording, then "press 5".
    presses = [name for name in category if name.startswith("voice.press_key.")]
    assert presses == [f"voice.press_key.{n}" for n in range(1, len(presses) + 1)]
    assert len(presses) >= 5
    assert category[category.index("voice.press_key.5") - 1].startswith("category.")
    workplace = heard_only_recordings(call.press("5"))
    # "तपाईंले 5 थिच्नुभयो: <label>।" from its pieces.
    assert workplace[:3] == ["voice.you_pressed.part1", "voice.number.5", "voice.you_pressed.part2"]
    assert workplace[3].startswith("category.")
    assert workplace[-1] == "voice.record_hint"
    heard_only_recordings(call.speak())
    danger = heard_only_recordings(call.speak())
    assert danger
    heard_only_recordings(call.press("2"))
    final = call.press("2")
    names = heard_only_recordings(final)
    digits = [n.removeprefix("voice.number.") for n in names if n.startswith("voice.number.")]
    assert len(digits) == 24  # the code, twice
    assert digits[:12] == digits[12:]
    # Groups of four, with a pause after each group.
    assert len(list(final.iter("Pause"))) == 6
    code = "".join(digits[:12])

    # Calling again about the case: the stage and the dates, from pieces.
    other = Caller(client, fake_twilio, "+9779800000045", PUBLIC_URL)
    other.call()
    other.press("2")
    heard_only_recordings(other.press("2"))
    status = heard_only_recordings(other.press(code + "#"))
    today = date.today()
    # Nepali says the month, then the day: "डिसेम्बर 7 मा गरेको तपाईंको उजुरी: ...".
    assert status[:3] == [
        f"voice.month.{today.month}",
        f"voice.number.{today.day}",
        "status.report.part1",
    ]
    assert status[3] == "status.stage.received"
    assert status[4] in ("status.due.part1", "status.late.part1")


def test_a_stale_or_missing_piece_is_read_whole_and_a_persons_recording_comes_first(
    client: FlaskClient, fake_twilio: FakeTwilio, drafts: Path, line: Runtime
) -> None:
    index = drafts / "ne" / DRAFTS
    lines = index.read_text(encoding="utf-8").splitlines()
    # The main menu's words changed since its draft was made; a piece of "You pressed" is gone.
    index.write_text(
        "\n".join(
            f"{line.split(chr(9))[0]}\t0000000000000000"
            if line.startswith("voice.main_menu\t")
            else line
            for line in lines
        )
        + "\n",
        encoding="utf-8",
    )
    (drafts / "ne" / "voice.you_pressed.part2.wav").unlink()
    recorded = line.settings.locales_dir / "audio" / "ne" / "intake.promise.wav"
    recorded.parent.mkdir(parents=True, exist_ok=True)
    recorded.write_bytes(WAV)
    try:
        call = Caller(client, fake_twilio, CALLER, PUBLIC_URL)
        call.call()
        menu = call.press("2")
        assert played(menu) == []
        assert "थिच्नुहोस्" in " ".join(said(menu))  # read, not the old draft
        consent = call.press("1")
        urls = [e.text or "" for e in consent.iter("Play")]
        assert f"{PUBLIC_URL}/twilio/voice/audio/ne/intake.promise.wav" in urls
        call.press("1")
        workplace = call.press("5")
        assert any("थिच्नुभयो" in text for text in said(workplace))  # read whole
        assert "voice.you_pressed.part1" not in [
            m.group(1) for e in workplace.iter("Play") if (m := DRAFT_URL.match(e.text or ""))
        ]
        served = client.get("/twilio/voice/drafts/ne/voice.number.5.wav")
        assert served.status_code == 200
        assert served.data == WAV
        assert client.get("/twilio/voice/drafts/ne/..%2Fdrafts.txt").status_code == 404
        assert client.get("/twilio/voice/drafts/ne/drafts.txt").status_code == 404
    finally:
        shutil.rmtree(recorded.parent)


def test_generate_remakes_only_drafts_of_changed_words(tmp_path: Path) -> None:
    catalogs = load_catalogs(PROJECT_ROOT / "locales", ["en", "ne", "hi"])
    espeak = FakeEspeak()
    folder = tmp_path / "drafts"
    made = voice_prompts.generate(
        catalogs, PROJECT_ROOT / "locales", folder, ["ne", "hi"], run=espeak
    )
    assert set(made) == {"ne"}  # Hindi has a Twilio voice, which comes before a draft
    texts = voice_prompts.prompt_texts(catalogs["ne"], catalogs["en"])
    assert sorted(made["ne"]) == sorted(name for name, text in texts.items() if text.strip())
    assert {"voice.month.12", "voice.number.31", "status.report.part1"} <= set(made["ne"])
    assert "डिसेम्बर" in espeak.said
    # Nothing changed: nothing is made again.
    assert (
        voice_prompts.generate(catalogs, PROJECT_ROOT / "locales", folder, ["ne"], run=espeak) == {}
    )
    # A catalog's words change: that draft alone is made again, and is stale until then.
    ne = catalogs["ne"]
    goodbye = Text("नमस्ते।", voice="नमस्ते।")
    changed = {**catalogs, "ne": replace(ne, messages={**ne.messages, "voice.goodbye": goodbye})}
    [row] = [
        r
        for r in voice_prompts.coverage(changed, PROJECT_ROOT / "locales", folder)
        if r.language == "ne"
    ]
    assert row.stale == ["voice.goodbye"]
    assert "voice.goodbye" in row.neither
    again = voice_prompts.generate(changed, PROJECT_ROOT / "locales", folder, ["ne"], run=espeak)
    assert again == {"ne": ["voice.goodbye"]}
    assert espeak.said[-1] == "नमस्ते।"


def test_a_worker_who_writes_nepali_in_latin_letters_hears_nepali_and_reads_latin(
    database_url: str, tmp_path: Path, fake_twilio: FakeTwilio, drafts: Path
) -> None:
    env = environment(database_url, tmp_path / "instance", fake_twilio)
    settings = Settings.from_env(
        env | {"GRIEVANCE_VOICE_DRAFTS_DIR": str(drafts), "GRIEVANCE_LANGUAGES": "en,ne,ne-Latn,my"}
    )
    runtime = build_runtime(settings)
    try:
        app = create_app(runtime=runtime)
        app.testing = True
        call = Caller(app.test_client(), fake_twilio, CALLER, PUBLIC_URL)
        languages = call.call()
        # Nepali is offered once: a caller hears a language, not a script.
        assert played(languages) == ["voice.language_option.2"]
        assert len(said(languages)) == 2  # English and Burmese
        with runtime.sessions() as session:
            contact = session.scalars(select(Contact)).one()
            contact.language = "ne-Latn"  # as chosen earlier by SMS
            session.commit()
        assert heard_only_recordings(call.press("2")) == ["voice.main_menu"]
        assert heard_only_recordings(call.press("1"))[0] == "intake.promise"
        heard_only_recordings(call.press("1"))
        heard_only_recordings(call.press("5"))
        heard_only_recordings(call.speak())
        heard_only_recordings(call.speak())
        heard_only_recordings(call.press("2"))
        heard_only_recordings(call.press("2"))
        call.press("2")  # the code by SMS, asked for
        [sms] = fake_twilio.bodies_to(CALLER)
        assert not re.search("[\u0900-\u097f]", sms)  # in Latin letters, as they write
        with runtime.sessions() as session:
            assert session.scalars(select(Contact.language)).one() == "ne-Latn"
    finally:
        runtime.close()


def test_a_prompt_espeak_cannot_say_is_left_out_and_the_rest_are_made(tmp_path: Path) -> None:
    catalogs = load_catalogs(PROJECT_ROOT / "locales", ["en", "my"])
    espeak = FakeEspeak()

    def aborting(command: Sequence[str]) -> None:
        if command[0] == "espeak-ng" and "ဘိပ်" in command[-1]:
            raise subprocess.CalledProcessError(-6, command)  # espeak-ng's abort
        espeak(command)

    failed: dict[str, list[str]] = {}
    made = voice_prompts.generate(
        catalogs, PROJECT_ROOT / "locales", tmp_path, ["my"], run=aborting, failed=failed
    )
    assert failed["my"]
    assert "voice.record_hint" in failed["my"]
    assert "voice.goodbye" in made["my"]
    # Said a sentence at a time: a long Burmese text is not handed over whole.
    assert all(text.count("။") <= 1 for text in espeak.said)
    assert set(voice_prompts.drafts(tmp_path, "my")) == set(made["my"])


def test_sentences_are_cut_where_each_script_ends_them() -> None:
    assert voice_prompts.sentences("Press 1 for yes. Press 2 for no.") == [
        "Press 1 for yes.",
        "Press 2 for no.",
    ]
    assert voice_prompts.sentences("हो भए 1 थिच्नुहोस्। होइन भए 2 थिच्नुहोस्।") == [
        "हो भए 1 थिच्नुहोस्।",
        "होइन भए 2 थिच्नुहोस्।",
    ]
    assert voice_prompts.sentences("မေးခွန်း 6 ခု။ခံစားရပါသလား။") == ["မေးခွန်း 6 ခု။", "ခံစားရပါသလား။"]
    # Ethiopic's word separator is not a sentence's end; 3.5 is one number.
    assert voice_prompts.sentences("ሰላም፡ጤና። 3.5 kg") == ["ሰላም፡ጤና።", "3.5 kg"]
