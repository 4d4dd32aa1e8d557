"""Remediation playbooks: the suggested steps a supplier's plan starts from, per category.

They live in ``grievance/playbooks.yaml`` (or ``GRIEVANCE_PLAYBOOKS_FILE``) and
are read strictly: a mistake is reported as ``file:line: what is wrong``, like
flows. Pure: reads one file, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from grievance.models.cases import DEFAULT_SEVERITY
from grievance.models.remediation import REMEDY_TYPES
from grievance.yamlsource import LineDict, LineList, YamlError, load_file

DEFAULT_FILE = Path(__file__).with_name("playbooks.yaml")
LIMITS = {"description": 200, "evidence": 160, "owner": 200, "principle": 600, "title": 120}


class PlaybookError(ValueError):
    """A playbook file that cannot be used; one ``file:line: problem`` per line."""


@dataclass(frozen=True)
class SuggestedStep:
    description: str
    owner: str
    days: int
    evidence: str


@dataclass(frozen=True)
class Playbook:
    category: str
    title: str
    principle: str
    remedy_types: tuple[str, ...]
    steps: tuple[SuggestedStep, ...]


def load(path: Path = DEFAULT_FILE) -> dict[str, Playbook]:
    """Every playbook in ``path`` by category; raises :class:`PlaybookError` listing all problems."""
    return _load(str(path))


@lru_cache(maxsize=4)
def _load(name: str) -> dict[str, Playbook]:
    problems: list[str] = []

    def problem(line: int, text: str) -> None:
        problems.append(f"{name}:{line}: {text}")

    try:
        doc = load_file(Path(name))
    except YamlError as exc:
        raise PlaybookError(str(exc)) from None
    except OSError as exc:
        raise PlaybookError(f"{name}: cannot read it ({exc.strerror})") from None
    if not isinstance(doc, LineDict) or not isinstance(doc.get("playbooks"), LineDict):
        raise PlaybookError(f"{name}:1: expected `spec_version: 1` and a `playbooks:` mapping")
    if doc.get("spec_version") != 1:
        problem(doc.line_of("spec_version"), "spec_version must be 1")
    books: dict[str, Playbook] = {}
    for category, body in doc["playbooks"].items():
        line = doc["playbooks"].line_of(category)
        if category not in DEFAULT_SEVERITY:
            problem(line, f"unknown category {category!r}; one of {', '.join(DEFAULT_SEVERITY)}")
            continue
        if not isinstance(body, LineDict):
            problem(line, f"{category}: expected title, principle, remedy_types and steps")
            continue
        text = {k: _text(body, k, problem) for k in ("title", "principle")}
        remedies = body.get("remedy_types") or []
        if not isinstance(remedies, list) or any(r not in REMEDY_TYPES for r in remedies):
            problem(
                body.line_of("remedy_types"), f"remedy_types: a list of {', '.join(REMEDY_TYPES)}"
            )
            remedies = []
        steps = body.get("steps")
        if not isinstance(steps, LineList) or not steps:
            problem(body.line_of("steps"), f"{category}: steps must be a non-empty list")
            continue
        suggested = []
        for index, step in enumerate(steps):
            step_line = steps.line_of(index)
            if not isinstance(step, LineDict):
                problem(step_line, "a step has description, owner, days and evidence")
                continue
            days = step.get("days")
            if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
                problem(step.line_of("days"), "days: the days from the plan's start, 1 to 365")
                days = 30
            suggested.append(
                SuggestedStep(
                    description=_text(step, "description", problem),
                    owner=_text(step, "owner", problem),
                    days=days,
                    evidence=_text(step, "evidence", problem),
                )
            )
        books[category] = Playbook(
            category, text["title"], text["principle"], tuple(remedies), tuple(suggested)
        )
    if problems:
        raise PlaybookError("\n".join(problems))
    return books


def _text(body: LineDict, key: str, problem) -> str:  # type: ignore[no-untyped-def]
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        problem(body.line_of(key), f"{key} is required (text)")
        return ""
    value = " ".join(value.split())
    if len(value) > LIMITS[key]:
        problem(body.line_of(key), f"{key} is {len(value)} characters; keep it to {LIMITS[key]}")
    return value
