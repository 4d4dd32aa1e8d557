"""Catalogs to and from PO and CSV files, for translators in Weblate, Crowdin or a spreadsheet.

Export pairs every English message with the current translation and the
translator's note (the ``#.`` lines above the key in ``en.yaml``). Import
checks every entry (known key, the same ``{placeholders}`` as the English) and
rewrites only the changed values in the catalog file, keeping its comments,
order and header (``reviewed`` is never changed by an import).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polib  # type: ignore[import-untyped]

from grievance.language.catalog import Catalog, load_catalog, placeholders
from grievance.yamlsource import LineDict, load_file

CSV_COLUMNS = ("key", "channel", "source", "translation", "note")


@dataclass(frozen=True)
class Entry:
    """One translatable text: a message key and channel variant, source and translation."""

    key: str
    channel: str
    source: str
    translation: str
    note: str = ""
    line: int = 0  # where the entry is in the imported file

    @property
    def context(self) -> str:
        """The PO msgctxt: the key, with the channel when it is not SMS."""
        return self.key if self.channel == "sms" else f"{self.key}|{self.channel}"


class ImportError_(Exception):
    """Entries that cannot be imported; the message lists them as ``file:line: problem``."""


def translator_notes(source_path: Path) -> dict[str, str]:
    """The ``#.`` comment lines written just above each message key in a catalog file."""
    notes: dict[str, str] = {}
    pending: list[str] = []
    for raw in source_path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#."):
            pending.append(line[2:].strip())
        elif line and not line.startswith("#") and ":" in line:
            key = line.split(":", 1)[0].strip()
            if pending:
                notes[key] = " ".join(pending)
            pending = []
        elif not line:
            pending = []
    return notes


def entries(source: Catalog, target: Catalog, notes: dict[str, str]) -> Iterator[Entry]:
    """Every message of ``source`` with ``target``'s translation (empty when missing)."""
    for key, text in source.messages.items():
        translated = target.messages.get(key)
        for channel, source_text in text.variants():
            # A variant the target lacks is untranslated (empty), not its SMS text: a voice
            # wording may hold other placeholders than the SMS (no {code}: it is said apart).
            translation = dict(translated.variants()).get(channel, "") if translated else ""
            yield Entry(key, channel, source_text, translation, notes.get(key, ""))


def export_po(source: Catalog, target: Catalog, notes: dict[str, str]) -> str:
    """A PO file of ``target`` against ``source``."""
    po = polib.POFile(wrapwidth=0)
    po.metadata = {
        "Project-Id-Version": "grievance",
        "Language": target.language,
        "Content-Type": "text/plain; charset=UTF-8",
        "X-Reviewed": "true" if target.reviewed else "false",
    }
    for entry in entries(source, target, notes):
        po.append(
            polib.POEntry(
                msgctxt=entry.context,
                msgid=entry.source,
                msgstr=entry.translation,
                comment=entry.note,
            )
        )
    return str(po)


def export_csv(source: Catalog, target: Catalog, notes: dict[str, str]) -> str:
    """A CSV file of ``target`` against ``source`` (UTF-8, one row per text)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in entries(source, target, notes):
        writer.writerow([entry.key, entry.channel, entry.source, entry.translation, entry.note])
    return out.getvalue()


def read_entries(path: Path) -> list[Entry]:
    """Entries from a PO or CSV file (by extension)."""
    if path.suffix.lower() == ".po":
        po = polib.pofile(str(path))
        found = []
        for item in po:
            key, _, channel = (item.msgctxt or "").partition("|")
            found.append(Entry(key, channel or "sms", item.msgid, item.msgstr, line=item.linenum))
        return found
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        return [
            Entry(row.get("key", ""), row.get("channel") or "sms", row.get("source", ""), row.get("translation", ""),
                  line=number)
            for number, row in enumerate(rows, start=2)
        ]  # fmt: skip
    raise ImportError_(f"{path}: use a .po or .csv file")


def check_entries(path: Path, found: list[Entry], source: Catalog) -> list[str]:
    """Problems with imported entries, as ``file:line: problem``."""
    problems = []
    for entry in found:
        where = f"{path}:{entry.line}"
        text = source.messages.get(entry.key)
        if text is None:
            problems.append(
                f"{where}: unknown message '{entry.key}'; export again to get the current keys"
            )
            continue
        if entry.channel not in dict(text.variants()):
            problems.append(f"{where}: '{entry.key}' has no {entry.channel} variant")
            continue
        if not entry.translation.strip():
            continue  # untranslated: left as it is
        expected = placeholders(text.for_channel(entry.channel))
        got = placeholders(entry.translation)
        if expected != got:
            problems.append(
                f"{where}: '{entry.key}' must keep the placeholders {sorted(expected)}, found {sorted(got)}"
            )
    return problems


def apply_entries(catalog_path: Path, found: list[Entry]) -> int:
    """Write translated entries into the catalog file; returns how many values changed.

    Values are single-line double-quoted strings, as export and the shipped catalogs write them.
    """
    lines = catalog_path.read_text(encoding="utf-8").splitlines()
    doc = load_file(catalog_path)
    current = load_catalog(catalog_path)
    messages = doc["messages"]
    assert isinstance(messages, LineDict)
    assert isinstance(doc, LineDict)
    changed = 0
    appended: list[str] = []
    replacements: dict[int, str] = {}
    for entry in found:
        text = entry.translation.strip()
        existing = current.messages.get(entry.key)
        if not text or (existing is not None and existing.for_channel(entry.channel) == text):
            continue
        quoted = json.dumps(text, ensure_ascii=False)
        value = messages.get(entry.key)
        if isinstance(value, LineDict) and entry.channel in value:
            number = value.line_of(entry.channel)
            indent = lines[number - 1][: len(lines[number - 1]) - len(lines[number - 1].lstrip())]
            replacements[number] = f"{indent}{entry.channel}: {quoted}"
        elif entry.key in messages and entry.channel == "sms" and not isinstance(value, LineDict):
            number = messages.line_of(entry.key)
            indent = lines[number - 1][: len(lines[number - 1]) - len(lines[number - 1].lstrip())]
            replacements[number] = f"{indent}{entry.key}: {quoted}"
        elif entry.key not in messages and entry.channel == "sms":
            appended.append(f"  {entry.key}: {quoted}")
        else:
            continue  # a new WhatsApp variant: add it by hand with its SMS text
        changed += 1
    # New keys go right after the last line of the messages block.
    last = max(
        [messages.line_of(k) for k in messages]
        + [v.line_of(c) for v in messages.values() if isinstance(v, LineDict) for c in v],
        default=doc.line_of("messages"),
    )
    out = [replacements.get(number, line) for number, line in enumerate(lines, start=1)]
    out[last:last] = appended
    catalog_path.write_text("\n".join(out) + "\n", encoding="utf-8")
    load_catalog(catalog_path)  # the result must still load
    return changed
