"""Macros: one click that categorises a case, acknowledges it and sends a canned reply.

They live in ``grievance/macros.yaml`` and are read strictly: a mistake is reported as
``file:line: what is wrong``, like playbooks. Pure: reads one file, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from grievance.models.cases import DEFAULT_SEVERITY
from grievance.yamlsource import LineDict, LineList, YamlError, load_file

DEFAULT_FILE = Path(__file__).with_name("macros.yaml")
# The canned replies of the case page (services.triage.CANNED_REPLIES, which this pure
# module cannot import); a test keeps the two the same.
REPLIES = (
    "handler.ask_more",
    "handler.working_on_it",
    "handler.call_offer",
    "handler.evidence_received",
    "handler.are_you_safe",
)
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class MacroError(ValueError):
    """A macros file that cannot be used; one ``file:line: problem`` per line."""


@dataclass(frozen=True)
class Macro:
    """Categorise as ``category``, acknowledge, reply with the canned ``reply``."""

    id: str
    label: str
    category: str
    reply: str


def load(path: Path = DEFAULT_FILE) -> dict[str, Macro]:
    """Every macro in ``path`` by id, in the file's order; raises listing all problems."""
    return _load(str(path))


@lru_cache(maxsize=4)
def _load(name: str) -> dict[str, Macro]:
    problems: list[str] = []
    try:
        doc = load_file(Path(name))
    except YamlError as exc:
        raise MacroError(str(exc)) from None
    except OSError as exc:
        raise MacroError(f"{name}: cannot read it ({exc.strerror})") from None
    if not isinstance(doc, LineDict) or not isinstance(doc.get("macros"), LineList):
        raise MacroError(f"{name}:1: expected `spec_version: 1` and a `macros:` list")
    if doc.get("spec_version") != 1:
        problems.append(f"{name}:{doc.line_of('spec_version')}: spec_version must be 1")
    macros: dict[str, Macro] = {}
    for index, body in enumerate(doc["macros"]):
        line = doc["macros"].line_of(index)
        if not isinstance(body, LineDict):
            problems.append(f"{name}:{line}: a macro has id, label, category and reply")
            continue
        macro_id, label = body.get("id"), body.get("label")
        category, reply = body.get("category"), body.get("reply")
        found = []
        if not isinstance(macro_id, str) or not _ID.match(macro_id) or macro_id in macros:
            found.append((body.line_of("id"), "id: a unique name of lower-case letters, digits, -"))
        if not isinstance(label, str) or not 3 <= len(label.strip()) <= 80:
            found.append((body.line_of("label"), "label: what the button says, 3 to 80 characters"))
        if category not in DEFAULT_SEVERITY:
            found.append(
                (body.line_of("category"), f"category: one of {', '.join(DEFAULT_SEVERITY)}")
            )
        if reply not in REPLIES:
            found.append((body.line_of("reply"), f"reply: one of {', '.join(REPLIES)}"))
        for at, text in found:
            problems.append(f"{name}:{at}: {text}")
        if not found:
            macros[str(macro_id)] = Macro(
                str(macro_id), str(label).strip(), str(category), str(reply)
            )
    if problems:
        raise MacroError("\n".join(problems))
    return macros
