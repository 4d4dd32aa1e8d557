"""Machine translation for staff: a worker's words in the handler's language, and a handler's
reply in the worker's.

A :class:`Translator` turns texts from one language into another. The first adapter,
:class:`LibreTranslate`, speaks LibreTranslate's ``POST /translate`` API, which an operator
can run on their own servers, so workers' words never leave them. Only the texts go out:
never a phone number, a name from the database, a case id or anything else about the case.
Without ``GRIEVANCE_TRANSLATION_URL`` there is no translator and nothing is sent anywhere.

Machine translations are for staff only: they are never sent to a worker, and never shown to
suppliers or buyers (services/translations.py keeps them, encrypted, for the case page).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

import requests

log = logging.getLogger(__name__)


class TranslationUnavailable(Exception):
    """The translation service did not translate (down, slow, refused the language, a bad
    answer). The message says why in words fit for the page, never with the text."""


class Translator(Protocol):
    """Translates texts between two languages (BCP-47 codes such as ``my`` or ``en``)."""

    name: str

    def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        """The translation of each of ``texts``, in order; raise :class:`TranslationUnavailable`."""
        ...


class LibreTranslate:
    """A LibreTranslate-compatible server: ``POST {url}/translate`` with JSON
    ``{q, source, target, format, api_key}``; ``q`` is a list, so one request carries every
    text a page needs."""

    name = "LibreTranslate"

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 8.0) -> None:
        self._endpoint = url.rstrip("/") + "/translate"
        self._api_key = api_key
        self._timeout = timeout
        self._http = requests.Session()

    def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        """One request for all ``texts``; any failure is :class:`TranslationUnavailable`."""
        if not texts:
            return []
        payload: dict[str, str | list[str]] = {
            "q": list(texts),
            "source": _code(source),
            "target": _code(target),
            "format": "text",
        }
        if self._api_key:
            payload["api_key"] = self._api_key
        try:
            response = self._http.post(self._endpoint, json=payload, timeout=self._timeout)
        except requests.Timeout:
            raise TranslationUnavailable("the translation service did not answer in time") from None
        except requests.RequestException as exc:
            log.warning("translation service unreachable: %s", type(exc).__name__)
            raise TranslationUnavailable("the translation service cannot be reached") from None
        if response.status_code != 200:
            # LibreTranslate answers {"error": "..."} (an unsupported language, a bad key). The
            # error is logged by status only: some servers echo the request's text in it.
            log.warning("translation service answered HTTP %s", response.status_code)
            raise TranslationUnavailable(_refusal(response.status_code, source, target))
        try:
            translated = response.json()["translatedText"]
        except (ValueError, KeyError, TypeError):
            raise TranslationUnavailable(
                "the translation service gave an answer it should not"
            ) from None
        if isinstance(translated, str) and len(texts) == 1:
            translated = [translated]
        if (
            not isinstance(translated, list)
            or len(translated) != len(texts)
            or not all(isinstance(t, str) for t in translated)
        ):
            raise TranslationUnavailable("the translation service gave an answer it should not")
        return list(translated)


def _code(language: str) -> str:
    """LibreTranslate's code of a BCP-47 language: the primary subtag (``pt-BR`` is ``pt``),
    except Chinese, whose scripts it tells apart."""
    lowered = language.lower()
    if lowered.startswith("zh"):
        return "zt" if ("hant" in lowered or lowered in ("zh-tw", "zh-hk")) else "zh"
    return lowered.split("-")[0]


def _refusal(status: int, source: str, target: str) -> str:
    if status == 400:
        return f"the translation service cannot translate {source} to {target}"
    if status in (401, 403):
        return "the translation service refused the key (GRIEVANCE_TRANSLATION_KEY)"
    if status == 429:
        return "the translation service is busy (too many requests)"
    return f"the translation service failed (HTTP {status})"
