"""Answers the way workers type them: yes and no in any language, menu options in words,
and the property that no such word is taken for a keyword or for another option."""

from __future__ import annotations

from pathlib import Path

import pytest

from grievance.conversation import Engine, load_flowset
from grievance.language import load_catalogs
from grievance.language.detect import digit_languages
from grievance.language.menuwords import MenuWords
from grievance.language.words import YesNo, fold

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = load_catalogs(ROOT / "locales")
FLOWSET, _ = load_flowset(ROOT / "flows")
assert FLOWSET is not None
MENUS = {
    f"{flow.id}.{node.name}": [o for o in node.wait.options]
    for flow in FLOWSET.flows.values()
    for node in flow.nodes.values()
    if node.wait is not None and node.wait.options
}


def _yes_no(deployed: tuple[str, ...]) -> YesNo:
    return YesNo.of({lang: (c.yes, c.no) for lang, c in CATALOGS.items()}, deployed=deployed)


@pytest.mark.parametrize(
    ("text", "language", "answer"),
    [
        ("ya", "en", "yes"),
        ("Ya", "ne", "yes"),  # Indonesian/English yes on a Nepali line: means one thing
        ("chaina", "en", "no"),  # romanized Nepali after the worker switched to English
        ("ho", "en", "yes"),
        ("हाँ", "ne", "yes"),  # a Hindi speaker taken for Nepali
        ("ना", "ne", "no"),
        ("si", "en", "yes"),
        ("sí", "ne", "yes"),
        ("haan", "en", "yes"),
        ("hindi", "en", "no"),  # Filipino no
        ("ဟုတ္ကဲ့", "my", "yes"),  # Zawgyi spelling, too short to be recognised and converted
        ("👍", "en", "yes"),
        ("maybe", "en", None),
    ],
)
def test_yes_and_no_in_every_language_of_the_line(
    text: str, language: str, answer: str | None
) -> None:
    assert _yes_no(tuple(CATALOGS)).answer(text, language) == answer


def test_words_of_languages_the_line_does_not_serve_count_when_they_are_not_a_letter() -> None:
    line = _yes_no(("en", "ne"))
    assert line.answer("haan", "en") == "yes"  # Hindi, Urdu: not served, still understood
    assert line.answer("oo", "ne") == "yes"  # Filipino
    assert line.answer("k", "en") is None  # Vietnamese "k" (no): too thin from afar
    assert _yes_no(("en", "vi")).answer("k", "en") == "no"  # served: it counts


def test_a_word_that_means_yes_and_no_is_settled_by_the_workers_language() -> None:
    line = YesNo.of({"aa": (["da"], ["ne"]), "bb": (["ne"], ["da"])})
    assert line.answer("ne", "aa") == "no"
    assert line.answer("ne", "bb") == "yes"
    assert line.answer("ne", "cc") is None  # neither: not understood rather than guessed
    assert set(line.collisions()) == {"da", "ne"}


def test_no_shipped_yes_or_no_word_means_both() -> None:
    assert _yes_no(tuple(CATALOGS)).collisions() == {}


CATEGORY = [o.label for o in MENUS["intake.category"] if o.label]
WORDS = MenuWords.of(CATALOGS.values(), {o.label for m in MENUS.values() for o in m if o.label})


@pytest.mark.parametrize(
    ("text", "language", "chosen"),
    [
        ("passport", "en", "category.movement_documents"),
        ("Passport!", "ne", "category.movement_documents"),
        ("pasport", "en", "category.movement_documents"),  # one letter missing
        ("they took my passport", "en", "category.movement_documents"),
        ("salario", "en", "category.pay"),  # Spanish word on a line that took them for English
        ("gaji", "id", "category.pay"),
        ("Housing", "en", "category.accommodation"),  # the label itself
    ],
)
def test_menu_options_have_words(text: str, language: str, chosen: str) -> None:
    found = WORDS.exact(text, CATEGORY, language) or WORDS.near(text, CATEGORY, language)
    assert found == [chosen]


def test_words_that_fit_two_options_name_both() -> None:
    found = WORDS.near("the agent kept my passport and took a fee", CATEGORY, "en")
    assert found == ["category.movement_documents", "category.recruitment_fees"]


def test_a_word_inside_a_longer_phrase_of_another_option_counts_for_the_phrase() -> None:
    scores = [o.label for o in MENUS["closing.ask"] if o.label]
    assert WORDS.near("not good at all", scores, "en") == ["closing.score_2"]
    assert WORDS.near("it was very good", scores, "en") == ["closing.score_5"]
    assert WORDS.exact("good", scores, "en") == ["closing.score_4"]


def test_short_words_choose_only_as_the_whole_answer() -> None:
    # "fee" is a word for recruitment fees, but "I feel unsafe" is no answer about fees.
    assert WORDS.near("i feel bad", CATEGORY, "en") == []
    assert WORDS.exact("fee", CATEGORY, "en") == ["category.recruitment_fees"]


def test_languages_are_chosen_by_any_of_their_names() -> None:
    keys = ["language:en", "language:ne", "language:hi", "language:ms", "language:id"]
    for typed, language in [
        ("nepali", "ne"),
        ("नेपाली", "ne"),
        ("English", "en"),
        ("bahasa melayu", "ms"),
        ("Indonesia", "id"),
    ]:
        found = WORDS.exact(typed, keys, "en") or WORDS.near(typed, keys, "en")
        assert found == [f"language:{language}"], typed


@pytest.mark.parametrize(
    ("text", "candidates", "found"),
    [
        ("१२६२ २७७० ५१६६", ("ne", "hi"), ("ne", "hi")),
        ("٤٨٢١ ٠٩٣٧ ٥٥٢٣", ("ar", "ur"), ("ar",)),
        ("۴۸۲۱ ۰۹۳۷ ۵۵۲۳", ("ar", "ur"), ("ur",)),
        ("৪৮২১", ("bn", "en"), ("bn",)),
        ("4821 0937 5523", ("ne", "hi"), ()),
    ],
)
def test_native_digits_say_which_languages_write_them(
    text: str, candidates: tuple[str, ...], found: tuple[str, ...]
) -> None:
    assert digit_languages(text, candidates) == found


# -- the property: every word does what its catalog says ---------------------------------

ENGINE = Engine(FLOWSET, CATALOGS, tuple(CATALOGS), new_id=lambda: "x")


@pytest.mark.parametrize("language", sorted(CATALOGS))
def test_every_menu_word_chooses_its_own_option_and_is_no_keyword(language: str) -> None:
    catalog = CATALOGS[language]
    wrong = []
    for menu, options in MENUS.items():
        keys = [o.label for o in options if o.label]
        for key in keys:
            label = catalog.messages.get(key)
            for word in (*catalog.menu_words.get(key, ()), *([label.sms] if label else [])):
                if ENGINE.keyword(word) is not None:
                    wrong.append(f"{word!r} ({key}) is the keyword {ENGINE.keyword(word)}")
                elif (found := WORDS.exact(word, keys, language)) != [key]:
                    wrong.append(f"{word!r} in {menu} chooses {found}, not {key}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("language", sorted(CATALOGS))
def test_every_yes_and_no_word_answers_as_listed_and_is_no_keyword(language: str) -> None:
    catalog = CATALOGS[language]
    wrong = []
    for meaning, words in (("yes", catalog.yes), ("no", catalog.no)):
        for word in words:
            if ENGINE.keyword(word) is not None:
                wrong.append(f"{word!r} is the keyword {ENGINE.keyword(word)}")
            elif ENGINE.yes_no.answer(word, language) != meaning:
                wrong.append(f"{word!r} does not answer {meaning}")
            # A yes/no word typed at a menu whose options mean yes and no chooses that option,
            # never another by its words.
            for menu, options in MENUS.items():
                meant = [o.label for o in options if o.means == meaning]
                keys = [o.label for o in options if o.label]
                found = WORDS.exact(word, keys, language)
                if meant and found and found != meant:
                    wrong.append(f"{word!r} ({meaning}) in {menu} chooses {found}")
    assert not wrong, "\n".join(wrong)


def test_language_names_name_one_language_each() -> None:
    owners: dict[str, set[str]] = {}
    for language, catalog in CATALOGS.items():
        for name in (catalog.name, language, *catalog.aliases):
            owners.setdefault(fold(name), set()).add(language)
    assert {n: o for n, o in owners.items() if len(o) > 1} == {}
