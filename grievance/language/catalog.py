"""Worker-facing message catalogs: one YAML file per language under ``locales/``."""

from __future__ import annotations

import functools
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from grievance.language.dates import format_day, format_duration, is_date_param, locale_of
from grievance.yamlsource import LineDict, YamlError, load_file

KEYWORDS = ("help", "status", "stop", "start", "menu", "language", "appeal", "rules", "rights")
CHANNELS = ("sms", "whatsapp")
# Catalog variants besides ``sms``: a richer WhatsApp text, and wording to be read aloud
# (an IVR menu: "press 1 ..."), written ahead of a voice channel that does not exist yet;
# translators see it beside the SMS.
VARIANTS = ("sms", "whatsapp", "voice")


class CatalogError(Exception):
    """A catalog file that cannot be used, with ``file:line`` in its message."""


@dataclass(frozen=True)
class Text:
    """One message: the SMS text, an optional richer WhatsApp variant, and optional wording
    for the ear (IVR)."""

    sms: str
    whatsapp: str | None = None
    line: int = 0
    voice: str | None = None

    def for_channel(self, channel: str) -> str:
        """The text to send on ``channel`` (``voice`` is the wording read aloud)."""
        if channel == "whatsapp" and self.whatsapp is not None:
            return self.whatsapp
        if channel == "voice" and self.voice is not None:
            return self.voice
        return self.sms

    def variants(self) -> Iterable[tuple[str, str]]:
        """Every (channel, text) this message can be sent as."""
        yield "sms", self.sms
        if self.whatsapp is not None:
            yield "whatsapp", self.whatsapp
        if self.voice is not None:
            yield "voice", self.voice


# The terms a worker must meet under one name in every message of a catalog.
GLOSSARY_TERMS = ("report", "case", "case code", "handler", "supplier")


@dataclass(frozen=True)
class Term:
    """A fixed term of one catalog: the words it is written with, the words it must not be."""

    use: tuple[str, ...]
    avoid: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Catalog:
    """The messages, keywords and yes/no words of one language."""

    language: str
    name: str
    direction: str = "ltr"
    reviewed: bool = False
    messages: Mapping[str, Text] = field(default_factory=dict)
    keywords: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    yes: tuple[str, ...] = ()
    no: tuple[str, ...] = ()
    path: str = ""
    keyword_lines: Mapping[str, int] = field(default_factory=dict)
    # Words and phrases that may mean the worker is in danger now, or is being punished
    # for reporting: any message holding one is asked about first (never a verdict).
    danger: tuple[str, ...] = ()
    retaliation: tuple[str, ...] = ()
    # Phrases asking for a person ("talk to someone", "call me"): any message holding one is
    # offered a person, as HELP offers one.
    person: tuple[str, ...] = ()
    # Words that choose a menu option, by the option's label key: "passport" for
    # category.movement_documents. The number and the label itself always work.
    menu_words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Other names of this language, for the language menu ("Nepali", "nepali bhasa").
    aliases: tuple[str, ...] = ()
    # The CLDR locale dates are written in (default: the language) and whether digits in
    # them are the script's own ("native") or ASCII ("latin", the default).
    locale: str = ""
    digits: str = "latin"
    # The fixed terms of this language (report, case, case code, handler, supplier): the
    # word to use and the words a message must not use instead, by term.
    glossary: Mapping[str, Term] = field(default_factory=dict)
    # The line of each top-level section (yes, no, menu_words...) and of each menu_words entry
    # (as "menu_words.<key>"), for file:line problems.
    lines: Mapping[str, int] = field(default_factory=dict)

    def text(self, key: str) -> Text | None:
        """The message called ``key``, or None."""
        return self.messages.get(key)


def placeholders(text: str) -> set[str]:
    """The ``{name}`` placeholders used in ``text``."""
    names = set()
    for _, name, _, _ in string.Formatter().parse(text):
        if name is not None:
            names.add(name)
    return names


def render(
    catalog: Catalog,
    key: str,
    params: Mapping[str, str],
    channel: str,
    today: date | None = None,
) -> str:
    """Fill message ``key`` of ``catalog`` for ``channel``; unknown keys raise KeyError.
    Dates (parameters named ``date`` or ``*_date``, ISO) are written the catalog's way, with
    the year when it is not ``today``'s (default: the real today)."""
    text = catalog.messages[key].for_channel(channel)
    if not params and "{" not in text:
        return text
    filled = {
        name: format_day(
            value, catalog.locale or catalog.language, catalog.digits == "native", today
        )
        if is_date_param(name)
        else value
        for name, value in params.items()
    }
    return text.format_map(_Params(filled))


class _Params(dict[str, str]):
    """Leaves a missing placeholder visible instead of failing a worker's reply."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def duration_words(catalog: Catalog, amount: int, unit: str) -> str:
    """A time frame in ``catalog``'s words: hours and days from CLDR ("1 hour", "7 दिन"),
    working days (and everything in a catalog whose locale speaks another language) from the
    catalog's ``procedure.duration_*`` messages."""
    locale = locale_of(catalog.locale or catalog.language)
    if locale is not None and locale.language == catalog.language.split("-")[0]:
        # CLDR's words only when the locale speaks the catalog's language: a romanized
        # catalog writes dates the English way ("9 Dec") but its time frames in its own words.
        words = format_duration(amount, unit, str(locale), catalog.digits == "native")
        if words is not None:
            return words
    key = {"h": "hours", "d": "days", "wd": "working_days"}[unit]
    return render(catalog, f"procedure.duration_{key}", {"n": str(amount)}, "sms")


def _section(data: LineDict, path: str, name: str, maps: str) -> LineDict:
    """The mapping section ``name`` of a catalog (empty if absent), or a file:line error
    saying what it maps."""
    section = data.get(name, LineDict())
    if not isinstance(section, LineDict):
        raise CatalogError(f"{path}:{data.line_of(name)}: {name} maps {maps}")
    return section


def _words(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CatalogError(f"{where}: expected a list of words, like [HELP, INFO]")
    return tuple(v.strip() for v in value)


def parse_catalog(data: Any, path: str) -> Catalog:
    """Build a :class:`Catalog` from parsed YAML, raising ``file:line`` errors."""
    if not isinstance(data, LineDict):
        raise CatalogError(
            f"{path}:1: a catalog is a mapping with 'language', 'name' and 'messages'"
        )
    for required in ("language", "name", "messages"):
        if required not in data:
            raise CatalogError(f"{path}:{data.line}: missing '{required}'")
    language = str(data["language"])
    direction = str(data.get("direction", "ltr"))
    if direction not in ("ltr", "rtl"):
        raise CatalogError(f"{path}:{data.line_of('direction')}: direction is 'ltr' or 'rtl'")
    reviewed = data.get("reviewed", False)
    if not isinstance(reviewed, bool):
        raise CatalogError(f"{path}:{data.line_of('reviewed')}: reviewed is true or false")

    locale = str(data.get("locale", "") or "")
    if locale and locale_of(locale) is None:
        raise CatalogError(
            f"{path}:{data.line_of('locale')}: unknown locale '{locale}'; use a CLDR locale "
            "such as en_001, ne or pt_BR (dates are written in it)"
        )
    digits = str(data.get("digits", "latin"))
    if digits not in ("latin", "native"):
        raise CatalogError(
            f"{path}:{data.line_of('digits')}: digits is 'latin' or 'native' (for dates)"
        )

    raw_messages = data["messages"]
    if not isinstance(raw_messages, LineDict):
        raise CatalogError(f"{path}:{data.line_of('messages')}: messages is a mapping of key: text")
    messages: dict[str, Text] = {}
    for key, value in raw_messages.items():
        line = raw_messages.line_of(key)
        if isinstance(value, str):
            messages[key] = Text(value.strip(), None, line)
        elif isinstance(value, LineDict) and isinstance(value.get("sms"), str):
            for variant in ("whatsapp", "voice"):
                if variant in value and not isinstance(value[variant], str):
                    raise CatalogError(f"{path}:{value.line_of(variant)}: {variant} must be text")
            extra = set(value) - set(VARIANTS)
            if extra:
                raise CatalogError(
                    f"{path}:{line}: '{key}' has unknown variants {sorted(extra)}; "
                    "use sms, whatsapp and voice"
                )
            whatsapp, voice = value.get("whatsapp"), value.get("voice")
            messages[key] = Text(
                value["sms"].strip(),
                whatsapp.strip() if whatsapp else None,
                line,
                voice.strip() if voice else None,
            )
        else:
            raise CatalogError(
                f"{path}:{line}: '{key}' must be text, or a mapping with 'sms' and optional "
                "'whatsapp' and 'voice'"
            )

    keywords: dict[str, tuple[str, ...]] = {}
    keyword_lines: dict[str, int] = {}
    raw_keywords = data.get("keywords", LineDict())
    if not isinstance(raw_keywords, LineDict):
        raise CatalogError(f"{path}:{data.line_of('keywords')}: keywords is a mapping")
    for name, words in raw_keywords.items():
        line = raw_keywords.line_of(name)
        if name not in KEYWORDS:
            raise CatalogError(
                f"{path}:{line}: unknown keyword '{name}'; the keywords are {', '.join(KEYWORDS)}"
            )
        keywords[name] = _words(words, f"{path}:{line}")
        keyword_lines[name] = line

    def word_list(name: str) -> tuple[str, ...]:
        return _words(data[name], f"{path}:{data.line_of(name)}") if name in data else ()

    lines = {str(name): data.line_of(name) for name in data}
    menu_words: dict[str, tuple[str, ...]] = {}
    raw_menu_words = _section(
        data, path, "menu_words", "an option's label key to its words, like category.pay: [salary]"
    )
    for key, words in raw_menu_words.items():
        line = raw_menu_words.line_of(key)
        menu_words[key] = _words(words, f"{path}:{line}")
        lines[f"menu_words.{key}"] = line

    glossary: dict[str, Term] = {}
    raw_glossary = _section(
        data,
        path,
        "glossary",
        "a term to the words to use and to avoid, like report: {use: [reporte], avoid: [denuncia]}",
    )
    for term, entry in raw_glossary.items():
        line = raw_glossary.line_of(term)
        if term not in GLOSSARY_TERMS:
            raise CatalogError(
                f"{path}:{line}: unknown glossary term '{term}'; the terms are "
                f"{', '.join(GLOSSARY_TERMS)}"
            )
        if not isinstance(entry, LineDict) or "use" not in entry or set(entry) - {"use", "avoid"}:
            raise CatalogError(
                f"{path}:{line}: a glossary term has 'use' (the words for it) and optional "
                "'avoid' (words messages must not use for it)"
            )
        glossary[str(term)] = Term(
            _words(entry["use"], f"{path}:{line}"),
            _words(entry.get("avoid", []), f"{path}:{line}") if entry.get("avoid") else (),
            line,
        )

    return Catalog(
        language=language,
        name=str(data["name"]),
        direction=direction,
        reviewed=reviewed,
        messages=messages,
        keywords=keywords,
        yes=word_list("yes"),
        no=word_list("no"),
        path=path,
        keyword_lines=keyword_lines,
        danger=word_list("danger"),
        retaliation=word_list("retaliation"),
        person=word_list("person"),
        menu_words=menu_words,
        aliases=word_list("aliases"),
        glossary=glossary,
        locale=locale,
        digits=digits,
        lines=lines,
    )


def load_catalog(path: Path) -> Catalog:
    """Load one catalog file. A file unchanged since it was last read in this process is not
    parsed again: catalogs are immutable, and 22 of them take 0.7 s to parse, which every
    runtime (and every test's) would otherwise pay."""
    stat = path.stat()
    return _load_catalog(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=128)
def _load_catalog(path: str, mtime_ns: int, size: int) -> Catalog:
    del mtime_ns, size  # part of the cache key only: a changed file is read again
    try:
        return parse_catalog(load_file(Path(path)), path)
    except YamlError as exc:
        raise CatalogError(str(exc)) from None


def load_catalogs(directory: Path, languages: Iterable[str] | None = None) -> dict[str, Catalog]:
    """Load the catalogs in ``directory``; with ``languages``, exactly those, or fail."""
    found = {p.stem: p for p in sorted(directory.glob("*.yaml"))}
    wanted = list(languages) if languages is not None else list(found)
    missing = [lang for lang in wanted if lang not in found]
    if missing:
        raise CatalogError(
            f"{directory}: no catalog for {', '.join(missing)}; add {', '.join(m + '.yaml' for m in missing)}"
            f" or remove it from GRIEVANCE_LANGUAGES"
        )
    catalogs = {}
    for lang in wanted:
        catalog = load_catalog(found[lang])
        if catalog.language != lang:
            raise CatalogError(
                f"{found[lang]}:1: the file is named {lang}.yaml but says language: {catalog.language}"
            )
        catalogs[lang] = catalog
    return catalogs
