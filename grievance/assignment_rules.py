"""Assignment rules: who gets a new case, read from ``GRIEVANCE_ASSIGNMENT_FILE``.

Pure: reads one YAML file, no database. Mistakes are reported as ``file:line: what is
wrong and how to fix it``, like flows and playbooks, and stop the start-up.

```yaml
spec_version: 1
rules:
  - name: burmese-fees            # a stable name: the rotation and the timeline use it
    when:                         # every condition given must hold; omit `when` for all cases
      languages: [my]             # the worker's language (BCP-47)
      categories: [FL-FEE, FL-DEBT]
      suppliers: ["Hill Garments Ltd"]      # organisation names, as on /admin/organisations
      sites: ["Hill Garments, Penang"]      # site names, as on /admin/sites
    handlers: [aung@example.org, mya@example.org]   # taken in turn (round-robin)
  - name: everyone-else
    handlers: [duty@example.org]
```

The first rule whose conditions hold and which names at least one active handler or admin
gives the case to the next of them in turn. Services apply the rules when a case is opened,
categorised or referred to a supplier; a case assigned by hand keeps its handler.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from grievance.models.cases import DEFAULT_SEVERITY
from grievance.yamlsource import LineDict, LineList, YamlError, load_file

CONDITIONS = ("languages", "categories", "suppliers", "sites")
RULE_KEYS = ("name", "when", "handlers")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class AssignmentRulesError(ValueError):
    """A rules file that cannot be used; ``problems`` are ``file:line: message`` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class CaseFacts:
    """What a rule can look at: the case's language, category and where it happened."""

    language: str | None
    category: str | None
    supplier: str | None
    site: str | None


@dataclass(frozen=True)
class Rule:
    """One rule: conditions (empty: any value) and the handlers' emails, in turn order."""

    name: str
    languages: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    suppliers: frozenset[str] = frozenset()
    sites: frozenset[str] = frozenset()
    handlers: tuple[str, ...] = ()

    def matches(self, facts: CaseFacts) -> bool:
        """True when every condition the rule has holds for the case."""
        checks = (
            (self.languages, facts.language),
            (self.categories, facts.category),
            (self.suppliers, _folded(facts.supplier)),
            (self.sites, _folded(facts.site)),
        )
        return all(not wanted or value in wanted for wanted, value in checks)


def _folded(name: str | None) -> str | None:
    """Organisation and site names compare without case or repeated spaces."""
    return " ".join(name.casefold().split()) if name else None


def load_rules(path: Path | None) -> tuple[Rule, ...]:
    """The rules in ``path`` in order (none when unset); raises listing every problem."""
    if path is None:
        return ()
    name = str(path)
    try:
        doc = load_file(path)
    except YamlError as exc:
        raise AssignmentRulesError([str(exc)]) from None
    except OSError as exc:
        raise AssignmentRulesError([f"{name}: cannot read it ({exc.strerror})"]) from None
    problems: list[str] = []

    def problem(line: int, text: str) -> None:
        problems.append(f"{name}:{line}: {text}")

    if not isinstance(doc, LineDict) or not isinstance(doc.get("rules"), LineList):
        raise AssignmentRulesError(
            [f"{name}:1: expected `spec_version: 1` and a `rules:` list (see docs/admin.md)"]
        )
    if doc.get("spec_version") != 1:
        problem(doc.line_of("spec_version"), "spec_version must be 1")
    for key in doc:
        if key not in ("spec_version", "rules"):
            problem(doc.line_of(key), f"unknown key {key!r}; the file has spec_version and rules")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, body in enumerate(doc["rules"]):
        line = doc["rules"].line_of(index)
        if not isinstance(body, LineDict):
            problem(line, "a rule is a mapping with name, when and handlers")
            continue
        rule = _rule(body, problem)
        if rule is None:
            continue
        if rule.name in seen:
            problem(body.line_of("name"), f"rule {rule.name!r} is named twice; names are unique")
        seen.add(rule.name)
        rules.append(rule)
    if problems:
        raise AssignmentRulesError(problems)
    return tuple(rules)


def _rule(body: LineDict, problem) -> Rule | None:  # type: ignore[no-untyped-def]
    for key in body:
        if key not in RULE_KEYS:
            problem(body.line_of(key), f"unknown key {key!r}; a rule has {', '.join(RULE_KEYS)}")
    name = body.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        problem(
            body.line_of("name"),
            "name is required: lower-case letters, digits and hyphens (like burmese-fees)",
        )
        return None
    handlers = body.get("handlers")
    if not isinstance(handlers, LineList) or not handlers:
        problem(body.line_of("handlers"), f"rule {name!r}: list the handlers' emails to take turns")
        handlers = LineList()
    emails: list[str] = []
    for index, email in enumerate(handlers):
        if not isinstance(email, str) or not _EMAIL.match(email.strip()):
            problem(handlers.line_of(index), f"rule {name!r}: {email!r} is not an email address")
            continue
        if email.strip().lower() in emails:
            problem(handlers.line_of(index), f"rule {name!r}: {email} is listed twice")
            continue
        emails.append(email.strip().lower())
    when = body.get("when", LineDict.empty(body.line))
    if not isinstance(when, LineDict):
        problem(body.line_of("when"), f"rule {name!r}: when maps {', '.join(CONDITIONS)} to lists")
        when = LineDict.empty(body.line)
    values: dict[str, frozenset[str]] = {}
    for key, raw in when.items():
        line = when.line_of(key)
        if key not in CONDITIONS:
            problem(
                line, f"rule {name!r}: unknown condition {key!r}; one of {', '.join(CONDITIONS)}"
            )
            continue
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
            problem(line, f"rule {name!r}: {key} is a list of text, like [{_EXAMPLES[key]}]")
            continue
        bad = [i for i in items if not _VALID[key](i)]
        if bad:
            problem(line, f"rule {name!r}: {key}: {', '.join(map(repr, bad))}: {_HINTS[key]}")
            continue
        named = key in ("suppliers", "sites")
        values[key] = frozenset((_folded(i) or "") if named else i for i in items)
    return Rule(name=name, handlers=tuple(emails), **values)


_VALID = {
    "languages": lambda v: bool(_LANGUAGE.match(v)),
    "categories": lambda v: v in DEFAULT_SEVERITY,
    "suppliers": lambda v: bool(v.strip()),
    "sites": lambda v: bool(v.strip()),
}
_HINTS = {
    "languages": "use BCP-47 codes such as my, ne, bn",
    "categories": f"use category codes: {', '.join(DEFAULT_SEVERITY)}",
    "suppliers": "write the supplier organisation's name",
    "sites": "write the site's name",
}
_EXAMPLES = {
    "languages": "my, ne",
    "categories": "FL-FEE, WAGE",
    "suppliers": "Hill Garments Ltd",
    "sites": "Hill Garments, Penang",
}


def matching(rules: tuple[Rule, ...], facts: CaseFacts) -> list[Rule]:
    """The rules whose conditions hold for the case, in the file's order."""
    return [rule for rule in rules if rule.matches(facts)]
