"""The deployment's directory of organisations that help (``GRIEVANCE_CONTACTS_FILE``).

Police, a labour hotline, shelters, embassies, NGOs, unions, legal aid: one list, each entry
marked for what it may be used for (``use``):

- ``workers``: given to workers who ask whom to call (RIGHTS, the rules of procedure);
- ``emergency``: given at once to a worker who may be in danger now;
- ``referrals``: offered to case handlers to refer a case to (and to send its details).

The file is validated at start and by ``grievance flows check`` (``file:line: what is
wrong``), and empty by default: then the line says that no local numbers are configured
rather than invent any. Admins add entries in the browser too (the referral directory);
``grievance.services.directory`` puts both together, and everything reads that one list.

```yaml
contacts:
  - name: Police
    phone: "999"
    kind: police
    emergency: true
    countries: [MY]          # where it answers; none listed: anywhere the line runs
    languages: [en, ms]      # languages it answers in; none listed: any
  - name: Embassy of Nepal, Kuala Lumpur
    phone: "+60 3-2020 1898"
    kind: embassy
    emergency: true
    nationals: [NP]          # whose citizens it serves
    languages: [ne, en]
    names: {ne: नेपाली राजदूतावास, क्वालालम्पुर}
    hours: "Mon-Fri 9-17"    # shown to workers after the number
  - id: legal-aid-kl         # a stable name for records (default: from the name)
    name: Migrant Workers Legal Aid
    phone: "+60 3-0000 0000"
    kind: legal
    use: [referrals]         # staff only: never given to workers by the line itself
    how: "Ask for the migrant desk; email intake@example.org"
```

``emergency: true`` is the same as ``use: [workers, emergency]``; with neither, an entry is
for ``workers``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grievance.yamlsource import LineDict, LineList, YamlError, load_file

KINDS = ("police", "labour", "shelter", "embassy", "ngo", "union", "legal", "health", "other")
USES = ("workers", "emergency", "referrals")
FIELDS = (
    "id",
    "name",
    "phone",
    "kind",
    "use",
    "emergency",
    "countries",
    "languages",
    "nationals",
    "names",
    "hours",
    "how",
)
# A worker in danger gets at most this many numbers: each costs SMS segments.
MAX_FOR_WORKER = 3
PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{1,24}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


class ContactsError(ValueError):
    """A contacts file that cannot be used; ``problems`` are ``file:line: message`` lines."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class HelpContact:
    """One organisation or service a worker can call."""

    name: str
    phone: str
    kind: str = "other"
    emergency: bool = False
    countries: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    nationals: tuple[str, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)
    # What it may be used for (USES); empty: workers, and emergency when ``emergency``.
    uses: tuple[str, ...] = ()
    hours: str = ""
    # For staff: how to reach the right person, beyond the number.
    how: str = ""
    # A stable name for the records of contacts given (default: from the name).
    key: str = ""

    def used_for(self, use: str) -> bool:
        """May this entry be used for ``use`` (one of USES)?"""
        uses = self.uses or (("workers", "emergency") if self.emergency else ("workers",))
        return use in uses

    @property
    def ref(self) -> str:
        """The entry's stable name: its ``id``, else made from its name."""
        return self.key or slug(self.name)

    def name_in(self, language: str) -> str:
        """The name in ``language`` if the file gives one, else as written."""
        return self.names.get(language, self.name)

    def serves(self, language: str | None, nationality: str | None, country: str | None) -> bool:
        """True when this contact answers this worker: their language, citizenship, place."""
        if self.languages and language not in self.languages:
            return False
        if self.nationals and nationality is not None and nationality not in self.nationals:
            return False
        if self.nationals and nationality is None and not self.languages:
            return False  # an embassy for citizens we cannot tell the worker is one of
        return not (self.countries and country is not None and country not in self.countries)


def load_contacts(path: Path | None) -> tuple[HelpContact, ...]:
    """Read and check a contacts file; an unset path is the empty default."""
    if path is None:
        return ()
    try:
        doc = load_file(path)
    except OSError as exc:
        raise ContactsError([f"{path}:1: cannot read the contacts file ({exc.strerror})"]) from None
    except YamlError as exc:
        raise ContactsError([f"{exc.path}:{exc.line}: {exc.message}"]) from None
    return parse_contacts(doc, str(path))


def parse_contacts(doc: object, path: str) -> tuple[HelpContact, ...]:
    """Build the contacts from a parsed file, collecting every problem with its line."""
    problems: list[str] = []
    if not isinstance(doc, LineDict) or not isinstance(doc.get("contacts"), LineList):
        raise ContactsError(
            [f"{path}:1: a contacts file is a mapping with 'contacts:', a list of contacts"]
        )
    entries: LineList = doc["contacts"]
    found: list[HelpContact] = []
    seen_refs: dict[str, int] = {}
    for index, entry in enumerate(entries):
        line = entries.line_of(index)
        if not isinstance(entry, LineDict):
            problems.append(f"{path}:{line}: each contact is a mapping with name and phone")
            continue
        before = len(problems)
        for key in entry:
            if key not in FIELDS:
                problems.append(
                    f"{path}:{entry.line_of(key)}: unknown field '{key}'; "
                    f"a contact has {', '.join(FIELDS)}"
                )
        name, phone = entry.get("name"), entry.get("phone")
        entry_id = entry.get("id", "")
        if entry_id and (not isinstance(entry_id, str) or not _KEY.match(entry_id)):
            problems.append(
                f"{path}:{entry.line_of('id')}: id is lower-case letters, digits and dashes, "
                "like legal-aid-kl"
            )
            entry_id = ""
        use = entry.get("use", [])
        if not isinstance(use, list) or not all(u in USES for u in use):
            problems.append(
                f"{path}:{entry.line_of('use')}: use is a list of {', '.join(USES)}, "
                "like [workers, emergency]"
            )
            use = []
        texts = {}
        for text_key, example in (
            ("hours", '"Mon-Fri 9-17"'),
            ("how", '"ask for the migrant desk"'),
        ):
            value = entry.get(text_key, "")
            if not isinstance(value, str) or len(value) > 200:
                problems.append(
                    f"{path}:{entry.line_of(text_key)}: {text_key} is a short text in quotes, "
                    f"like {example}"
                )
                value = ""
            texts[text_key] = value.strip()
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{path}:{line}: the contact needs a name")
        if not isinstance(phone, str) or not PHONE.match(phone.strip()):
            problems.append(
                f"{path}:{entry.line_of('phone') if 'phone' in entry else line}: the phone "
                f"number is written in quotes with digits, spaces, dashes and an optional +, "
                f'like "+60 3-2020 1898"'
            )
        kind = entry.get("kind", "other")
        if kind not in KINDS:
            problems.append(
                f"{path}:{entry.line_of('kind')}: kind is one of {', '.join(KINDS)}, not {kind!r}"
            )
        emergency = entry.get("emergency", False)
        if not isinstance(emergency, bool):
            problems.append(f"{path}:{entry.line_of('emergency')}: emergency is true or false")
        codes = {}
        for key, pattern, example in (
            ("countries", _COUNTRY, "[MY, TH]"),
            ("nationals", _COUNTRY, "[NP, MM]"),
            ("languages", _LANGUAGE, "[ne, en]"),
        ):
            value = entry.get(key, [])
            if not isinstance(value, list) or not all(
                isinstance(v, str) and pattern.match(v) for v in value
            ):
                problems.append(
                    f"{path}:{entry.line_of(key)}: {key} is a list like {example}"
                    + (" (ISO 3166 country codes in capitals)" if key != "languages" else "")
                )
                value = []
            codes[key] = tuple(value)
        names = entry.get("names", {})
        if not isinstance(names, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in names.items()
        ):
            problems.append(
                f"{path}:{entry.line_of('names')}: names maps a language to the name in it, "
                "like {ne: प्रहरी}"
            )
            names = {}
        if len(problems) == before and isinstance(name, str) and isinstance(phone, str):
            uses = tuple(dict.fromkeys([*use, *(["emergency"] if emergency is True else [])]))
            if uses == ("emergency",) and "use" not in entry:
                uses = ("workers", "emergency")
            contact = HelpContact(
                name=name.strip(),
                phone=phone.strip(),
                kind=str(kind),
                emergency="emergency" in uses,
                countries=codes["countries"],
                languages=codes["languages"],
                nationals=codes["nationals"],
                names={k: v.strip() for k, v in names.items()},
                uses=uses,
                hours=texts["hours"],
                how=texts["how"],
                key=str(entry_id),
            )
            if contact.ref in seen_refs:
                problems.append(
                    f"{path}:{line}: two contacts are called {contact.ref!r} (also line "
                    f"{seen_refs[contact.ref]}): give one an id of its own"
                )
            seen_refs[contact.ref] = line
            found.append(contact)
    if problems:
        raise ContactsError(problems)
    return tuple(found)


def for_worker(
    contacts: Iterable[HelpContact],
    language: str | None,
    nationality: str | None = None,
    country: str | None = None,
    emergency_only: bool = True,
) -> list[HelpContact]:
    """The contacts to give a worker, most useful first: their embassy, then the rest.
    ``emergency_only``: those marked for emergencies; else those marked for workers."""
    use = "emergency" if emergency_only else "workers"
    chosen = [c for c in contacts if c.used_for(use) and c.serves(language, nationality, country)]
    # Contacts for the worker's own people (language or nationality) before general ones.
    chosen.sort(key=lambda c: (not (c.nationals or c.languages), KINDS.index(c.kind)))
    return chosen[:MAX_FOR_WORKER] if emergency_only else chosen


def as_text(contacts: Iterable[HelpContact], language: str) -> str:
    """``Police 999; Tenaganita +60 3-7770 3671 (Mon-Fri 9-17)`` for an SMS."""
    return "; ".join(
        f"{c.name_in(language)} {c.phone}" + (f" ({c.hours})" if c.hours else "") for c in contacts
    )


def for_referral(contacts: Iterable[HelpContact]) -> list[HelpContact]:
    """The entries case handlers may refer a case to, by name."""
    return sorted((c for c in contacts if c.used_for("referrals")), key=lambda c: c.name.lower())


def slug(name: str) -> str:
    """``Migrant Workers Legal Aid`` -> ``migrant-workers-legal-aid`` (a stable key)."""
    made = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:70]
    if len(made) < 3:  # a name in another script: a short digest of it instead
        made = "contact-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]
    return made
