"""Staff pages in the staff's language: English, and draft Malay and Thai (Flask-Babel).

A page's language is the signed-in person's choice on ``/account`` (``users.locale``); else the
best of the browser's ``Accept-Language`` among :data:`LANGUAGES`; else English. A choice this
release does not know (a language withdrawn, a row edited by hand) counts as no choice, so
nobody is ever shown a page in a language that has no catalog.

Only staff pages are translated. Workers' messages have their own catalogs (``locales/``);
codes that are data (``P1``, ``FL-MOV``, ``in_triage``), exports, reports' files and the API
stay as they are, since other systems and other readers depend on them.

The catalogs are ``grievance/web/translations/<lang>/LC_MESSAGES/messages.po``; the compiled
``.mo`` files are committed beside them, so an install from the repository or a wheel needs no
build step, and a unit test (tests/unit/test_staff_catalogs.py) fails when a ``.mo`` no longer
matches its ``.po``.
"""

from __future__ import annotations

from flask import Flask, has_request_context, request
from flask_babel import Babel, get_locale
from flask_login import current_user

# The languages staff pages have a catalog for, each named in itself for the choice on
# /account. Malay and Thai are machine-assisted drafts that no native speaker has reviewed yet
# (docs/admin.md, "Staff pages in the staff's language").
LANGUAGES: dict[str, str] = {"en": "English", "ms": "Bahasa Melayu", "th": "ไทย"}
DEFAULT = "en"


def chosen(code: str | None) -> str | None:
    """A user's stored choice if this release has a catalog for it, else None."""
    return code if code in LANGUAGES else None


def select_locale() -> str:
    """The language of this request's page: the user's choice, the browser's, or English.
    Outside a request (a command rendering with the app's context) there is no reader: English."""
    if not has_request_context():
        return DEFAULT
    if current_user and current_user.is_authenticated:
        mine = chosen(getattr(current_user, "locale", None))
        if mine is not None:
            return mine
    best: str | None = request.accept_languages.best_match(list(LANGUAGES))
    return best or DEFAULT


def page_language() -> str:
    """The page's language as a BCP 47 tag for ``<html lang>`` (assistive technology reads
    the page with that language's voice)."""
    return str(get_locale() or DEFAULT).replace("_", "-")


def install(app: Flask) -> None:
    """Wire Flask-Babel into ``app``: the selector, the catalogs, ``_()`` in templates."""
    Babel(
        app,
        locale_selector=select_locale,
        default_translation_directories="web/translations",  # relative to the package
    )
    app.jinja_env.globals["page_language"] = page_language
    app.jinja_env.globals["staff_languages"] = LANGUAGES
