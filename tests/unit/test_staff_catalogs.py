"""The staff pages' catalogs cannot fall behind the templates silently: the .pot is what
extraction gives today, every language translates every msgid with the same placeholders and
markup, the committed .mo files are compiled from the .po files beside them, and a catalog that
says it is unreviewed is listed as a draft in docs/admin.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from grievance.web.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "grievance" / "web" / "translations"
TRANSLATED = sorted(set(LANGUAGES) - {"en"})
# The extraction command docs/admin.md gives translators, exactly.
EXTRACT = ["pybabel", "extract", "-F", "babel.cfg", "-k", "lazy_gettext"]
EXTRACT_FLAGS = ["--no-location", "--sort-output", "--omit-header"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%%")
TAG = re.compile(r"</?\w+[^>]*>")


def _read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def _ids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    return {m.id for m in catalog if m.id}


def _po(lang: str) -> Catalog:
    return _read(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po")


def test_the_template_is_what_extraction_gives_today(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    fresh = tmp_path / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", *EXTRACT[1:], *EXTRACT_FLAGS, "-o", str(fresh), "."]
    )
    now, committed = _ids(_read(fresh)), _ids(_read(TRANSLATIONS / "messages.pot"))
    assert now == committed, (
        "grievance/web/translations/messages.pot is out of date; run the extraction and "
        "update in docs/admin.md. New: "
        f"{sorted(map(str, now - committed))}; gone: {sorted(map(str, committed - now))}"
    )


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_msgid_is_translated(lang: str) -> None:
    template, catalog = _ids(_read(TRANSLATIONS / "messages.pot")), _po(lang)
    assert _ids(catalog) == template, f"run pybabel update for {lang} (docs/admin.md)"
    missing = [m.id for m in catalog if m.id and not all(_strings(m.string))]
    assert not missing, f"{lang} lacks translations: {missing}"
    # gettext ignores fuzzy entries: a draft that should be shown is not fuzzy.
    assert not [m.id for m in catalog if m.id and m.fuzzy]


def _strings(string: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(string) if isinstance(string, tuple | list) else (string,)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_placeholders_and_markup_match(lang: str) -> None:
    wrong = []
    for message in _po(lang):
        if not message.id:
            continue
        sources = _strings(message.id)
        # A plural msgstr may drop %(num)d (a language that says "one" in words), never a
        # name; whichever form it follows, its placeholders are the source's.
        wanted = [sorted(PLACEHOLDER.findall(s)) for s in sources]
        tags = [sorted(TAG.findall(s)) for s in sources]
        for string in _strings(message.string):
            if sorted(PLACEHOLDER.findall(string)) not in wanted:
                wrong.append((message.id, string, "placeholders"))
            if sorted(TAG.findall(string)) not in tags:
                wrong.append((message.id, string, "markup"))
    assert not wrong, wrong


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_compiled_catalog_is_the_po(lang: str) -> None:
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        compiled = {_key(m.id): _strings(m.string) for m in read_mo(f) if m.id}
    source = {_key(m.id): _strings(m.string) for m in _po(lang) if m.id}
    assert compiled == source, f"run pybabel compile -d grievance/web/translations ({lang})"


def _key(msgid: str | tuple[str, ...] | list[str]) -> str | tuple[str, ...]:
    return tuple(msgid) if isinstance(msgid, tuple | list) else msgid


@pytest.mark.parametrize("lang", TRANSLATED)
def test_a_draft_says_so_and_is_listed_as_one(lang: str) -> None:
    catalog = _po(lang)
    reviewed = re.search(r"^# X-Reviewed: (.+)$", catalog.header_comment, re.MULTILINE)
    assert reviewed, f"the {lang} catalog's header comment must say X-Reviewed: no, or who and when"
    if reviewed.group(1).strip() == "no":
        admin = (ROOT / "docs" / "admin.md").read_text(encoding="utf-8")
        drafts = re.search(r"^Drafts, not reviewed: (.+)$", admin, re.MULTILINE)
        assert drafts, "docs/admin.md lists the draft catalogs"
        assert f"`{lang}`" in drafts.group(1)
