"""Translators work in PO or CSV: export, edit, import back without losing anything."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import polib
import pytest
from click.testing import CliRunner

from grievance.cli import main
from grievance.language.catalog import load_catalog

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def locales(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", directory)
    monkeypatch.setenv("GRIEVANCE_LOCALES_DIR", str(directory))
    return directory


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_csv_round_trip_changes_only_what_the_translator_changed(
    locales: Path, tmp_path: Path
) -> None:
    before = (locales / "ne.yaml").read_text(encoding="utf-8")
    sheet = tmp_path / "ne.csv"
    code, output = run("locales", "export", "ne", "--format", "csv", "-o", str(sheet))
    assert code == 0, output
    with sheet.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["channel"] for r in rows if r["key"] == "intake.ask_what_happened"} == {
        "sms",
        "whatsapp",
        "voice",
    }
    notes = {r["key"]: r["note"] for r in rows}
    assert "shown only once" in notes["intake.case_opened"]
    for row in rows:
        if row["key"] == "intake.goodbye" and row["channel"] == "sms":
            row["translation"] = "ठिक छ। जुनसुकै बेला लेख्नुहोस्। सुरु गर्न मेनु पठाउनुहोस्।"
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    code, output = run("locales", "import", "ne", str(sheet))
    assert code == 0, output
    assert "1 message(s) updated" in output
    after = (locales / "ne.yaml").read_text(encoding="utf-8")
    changed = [
        (a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b
    ]
    assert len(changed) == 1
    assert "ठिक छ। जुनसुकै" in changed[0][1]  # intake.goodbye's SMS text
    catalog = load_catalog(locales / "ne.yaml")
    assert catalog.messages["intake.goodbye"].sms.startswith("ठिक छ। जुनसुकै")
    assert catalog.reviewed is False  # an import is not a review


def test_a_placeholder_lost_in_translation_is_refused(locales: Path, tmp_path: Path) -> None:
    po_path = tmp_path / "my.po"
    assert run("locales", "export", "my", "-o", str(po_path))[0] == 0
    po = polib.pofile(str(po_path))
    entry = next(e for e in po if e.msgctxt == "intake.case_opened")
    entry.msgstr = entry.msgstr.replace("{code}", "{kode}")
    po.save()
    entry = next(e for e in polib.pofile(str(po_path)) if e.msgctxt == "intake.case_opened")
    before = (locales / "my.yaml").read_bytes()
    code, output = run("locales", "import", "my", str(po_path))
    assert code != 0
    assert (
        f"{po_path}:{entry.linenum}: 'intake.case_opened' must keep the placeholders ['code'], found ['kode']"
        in output
    )
    assert "nothing was imported" in output
    assert (locales / "my.yaml").read_bytes() == before


def test_a_new_language_fills_up_from_a_po_file(locales: Path, tmp_path: Path) -> None:
    (locales / "xx.yaml").write_text(
        'language: xx\nname: Test\ndirection: ltr\nreviewed: false\nmessages:\n  common.reask_menu: "1?"\n',
        encoding="utf-8",
    )
    po_path = tmp_path / "xx.po"
    assert run("locales", "export", "xx", "-o", str(po_path))[0] == 0
    po = polib.pofile(str(po_path))
    for entry in po:
        entry.msgstr = entry.msgid  # a translator who copies the English, for the test
    po.save()
    code, output = run("locales", "import", "xx", str(po_path))
    assert code == 0, output
    catalog = load_catalog(locales / "xx.yaml")
    english = load_catalog(locales / "en.yaml")
    assert set(catalog.messages) == set(english.messages)
    assert (
        catalog.messages["intake.ask_what_happened"].sms
        == english.messages["intake.ask_what_happened"].sms
    )
