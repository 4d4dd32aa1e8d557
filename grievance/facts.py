"""Facts about the countries workers work in, written by the line's operator
(``GRIEVANCE_FACTS_DIR``): one YAML file per destination country.

The rights the line states by itself (RIGHTS, ``/rights/<language>``) hold for every worker in
every country. What a country's law says (the legal working week, whether keeping a passport is
an offence) is a fact someone must stand behind: each one names its source and the day it was
last checked, and ``grievance flows check`` refuses a fact without them. The repository ships
no facts, only a commented example (``facts/example.yaml``).

```yaml
country: MY                  # ISO 3166 code, in capitals
facts:
  hours:                     # documents, fees, debts or hours: the RIGHTS topic it adds to
    text:                    # by language; a worker whose language has none is told nothing
      en: "In Malaysia, a normal working week is at most 45 hours."
    source: "Employment Act 1955, section 60A(1)"
    checked: 2026-01-15
```
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from grievance.yamlsource import LineDict, YamlError, load_file

TOPICS = ("documents", "fees", "debts", "hours")
FIELDS = ("text", "source", "checked")
# A fact is sent by SMS after the topic's own text: it must stay short.
MAX_CHARACTERS = 160
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class FactsError(ValueError):
    """Facts that cannot be used; ``problems`` are ``file:line: message`` lines."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Fact:
    """One statement about a country's rules, by language, and who stands behind it."""

    country: str
    topic: str
    text: Mapping[str, str]
    source: str
    checked: date


@dataclass(frozen=True)
class CountryFacts:
    """Every country's facts, by country and topic."""

    facts: Mapping[str, Mapping[str, Fact]] = field(default_factory=dict)

    def get(self, country: str | None, topic: str) -> Fact | None:
        return self.facts.get(country or "", {}).get(topic)

    def text(self, country: str | None, topic: str, language: str) -> str:
        """The fact on ``topic`` for ``country`` in ``language``; "" when there is none."""
        fact = self.get(country, topic)
        return fact.text.get(language, "") if fact else ""

    def of(self, country: str | None) -> list[Fact]:
        """A country's facts, in the order of the topics."""
        found = self.facts.get(country or "", {})
        return [found[topic] for topic in TOPICS if topic in found]

    @property
    def countries(self) -> list[str]:
        return sorted(self.facts)


def load_facts(directory: Path | None, today: date | None = None) -> CountryFacts:
    """Read and check every ``*.yaml`` file of ``directory``; unset: no facts."""
    if directory is None:
        return CountryFacts()
    if not directory.is_dir():
        raise FactsError([f"{directory}:1: not a directory of country facts (one YAML file each)"])
    problems: list[str] = []
    found: dict[str, dict[str, Fact]] = {}
    where: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            doc = load_file(path)
        except YamlError as exc:
            problems.append(f"{exc.path}:{exc.line}: {exc.message}")
            continue
        if doc is None:
            continue  # only comments: the shipped example
        facts, more = parse_facts(doc, str(path), today or date.today())
        problems += more
        if facts:
            country = next(iter(facts.values())).country
            if country in found:
                problems.append(
                    f"{path}:1: {country} already has a file ({where[country]}); "
                    "keep one file per country"
                )
                continue
            found[country], where[country] = facts, str(path)
    if problems:
        raise FactsError(problems)
    return CountryFacts(found)


def parse_facts(doc: object, path: str, today: date) -> tuple[dict[str, Fact], list[str]]:
    """One country's facts from a parsed file, and every problem with its line."""
    problems: list[str] = []
    if not isinstance(doc, LineDict):
        return {}, [f"{path}:1: a facts file is a mapping with 'country:' and 'facts:'"]
    for key in doc:
        if key not in ("country", "facts"):
            problems.append(
                f"{path}:{doc.line_of(key)}: unknown field '{key}'; a facts file has country and facts"
            )
    country = doc.get("country")
    if not isinstance(country, str) or not _COUNTRY.match(country):
        problems.append(
            f"{path}:{doc.line_of('country')}: country is an ISO 3166 code in capitals, like MY"
        )
        return {}, problems
    entries = doc.get("facts")
    if not isinstance(entries, LineDict):
        problems.append(
            f"{path}:{doc.line_of('facts')}: facts maps a topic ({', '.join(TOPICS)}) to a fact"
        )
        return {}, problems
    found: dict[str, Fact] = {}
    for topic, entry in entries.items():
        line = entries.line_of(topic)
        if topic not in TOPICS:
            problems.append(f"{path}:{line}: unknown topic '{topic}'; one of {', '.join(TOPICS)}")
            continue
        if not isinstance(entry, LineDict):
            problems.append(f"{path}:{line}: the fact on {topic} has text, source and checked")
            continue
        before = len(problems)
        for key in entry:
            if key not in FIELDS:
                problems.append(
                    f"{path}:{entry.line_of(key)}: unknown field '{key}'; a fact has "
                    f"{', '.join(FIELDS)}"
                )
        text = entry.get("text")
        if not isinstance(text, LineDict) or not text:
            problems.append(
                f"{path}:{entry.line_of('text')}: text maps a language to the fact in it, "
                'like {en: "In Malaysia, ..."}'
            )
            text = LineDict.empty(line)
        for language, words in text.items():
            if not _LANGUAGE.match(str(language)):
                problems.append(
                    f"{path}:{text.line_of(language)}: '{language}' is not a language code like en or ne"
                )
            elif not isinstance(words, str) or not words.strip():
                problems.append(f"{path}:{text.line_of(language)}: the {language} text is empty")
            elif len(words.strip()) > MAX_CHARACTERS:
                problems.append(
                    f"{path}:{text.line_of(language)}: the {language} text has "
                    f"{len(words.strip())} characters; keep it under {MAX_CHARACTERS}, it is "
                    "sent by SMS"
                )
        source = entry.get("source")
        if not isinstance(source, str) or not source.strip():
            problems.append(
                f"{path}:{entry.line_of('source') if 'source' in entry else line}: the fact on "
                f"{topic} needs its source: the law or official page it comes from"
            )
        checked = entry.get("checked")
        if isinstance(checked, str):
            try:
                checked = date.fromisoformat(checked)
            except ValueError:
                checked = None
        if not isinstance(checked, date):
            problems.append(
                f"{path}:{entry.line_of('checked') if 'checked' in entry else line}: the fact on "
                f"{topic} needs the day it was last checked against its source, like 2026-01-15"
            )
        elif checked > today:
            problems.append(
                f"{path}:{entry.line_of('checked')}: checked on {checked.isoformat()} is in the "
                "future"
            )
        if len(problems) == before and isinstance(source, str) and isinstance(checked, date):
            found[topic] = Fact(
                country=country,
                topic=topic,
                text={str(k): v.strip() for k, v in text.items()},
                source=source.strip(),
                checked=checked,
            )
    return found, problems
