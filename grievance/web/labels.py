"""Readable words for the codes staff pages would otherwise show (``FL-MOV``, ``in_triage``,
``my``). The codes stay what exports, reports' files and the API carry; on a page each
label keeps its code in a ``title`` for whoever knows them."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from flask_babel import get_locale, gettext

from grievance.models.cases import CATEGORY_LABELS

# Latin-letter catalogs of languages usually written in another script.
_ROMAN = ("Latn",)


def category(code: str | None) -> str:
    """``FL-MOV`` → "Forced labour: passport or ID kept, movement restricted"."""
    if not code:
        return str(gettext("not known yet"))
    return CATEGORY_LABELS.get(code, code)


def stage(code: str | None) -> str:
    """``remediation_in_progress`` → "Remediation in progress"."""
    return (code or "").replace("_", " ").capitalize()


def language(code: str | None) -> str:
    """``my`` → "Burmese", ``ne-Latn`` → "Nepali, in Latin letters": CLDR's names in the
    page's language ("Burma" on a Malay page), English outside a request."""
    if not code:
        return "—"
    base, _, script = code.partition("-")
    try:
        name = Locale.parse(base).get_display_name(str(get_locale() or "en")) or code
    except (ValueError, UnknownLocaleError):
        return code
    if script in _ROMAN:
        return str(gettext("%(language)s, in Latin letters", language=name))
    return name


FILTERS = {"category_label": category, "stage_label": stage, "language_label": language}
