"""Readable words for the codes staff pages would otherwise show (``FL-MOV``, ``in_triage``,
``my``). The codes stay what exports, reports' files and the API carry; on a page each
label keeps its code in a ``title`` for whoever knows them."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError

from grievance.models.cases import CATEGORY_LABELS

# Latin-letter catalogs of languages usually written in another script.
_ROMAN = {"Latn": "in Latin letters"}


def category(code: str | None) -> str:
    """``FL-MOV`` → "Forced labour: passport or ID kept, movement restricted"."""
    if not code:
        return "not known yet"
    return CATEGORY_LABELS.get(code, code)


def stage(code: str | None) -> str:
    """``remediation_in_progress`` → "Remediation in progress"."""
    return (code or "").replace("_", " ").capitalize()


def language(code: str | None) -> str:
    """``my`` → "Burmese", ``ne-Latn`` → "Nepali, in Latin letters" (CLDR's English names)."""
    if not code:
        return "—"
    base, _, script = code.partition("-")
    try:
        name = Locale.parse(base).get_display_name("en") or code
    except (ValueError, UnknownLocaleError):
        return code
    return f"{name}, {_ROMAN[script]}" if script in _ROMAN else name


FILTERS = {"category_label": category, "stage_label": stage, "language_label": language}
