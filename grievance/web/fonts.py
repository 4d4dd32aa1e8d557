"""The web fonts staff pages serve for the workers' scripts (static/fonts, vendored by
scripts/vendor_fonts.py), and which to preload.

Every page declares them all with their ``unicode-range`` (fonts.css), so a browser only
fetches a script's font when a page shows that script, and the stylesheets name them before
``system-ui``: Chromium drew a Burmese workplace with the system font's empty boxes when
``system-ui`` came first, on a machine without a Burmese font. The scripts of the line's own
languages are also preloaded, so a worker's words have their font at the first paint.
"""

from __future__ import annotations

from collections.abc import Iterable

from grievance.language.detect import SCRIPT_OF

# ISO 15924 script: the Noto Sans family's Fontsource name (and its subset's).
FONT_OF_SCRIPT = {
    "Deva": "devanagari",
    "Beng": "bengali",
    "Mymr": "myanmar",
    "Khmr": "khmer",
    "Thai": "thai",
    "Arab": "arabic",
    "Sinh": "sinhala",
    "Taml": "tamil",
    "Laoo": "lao",
    "Ethi": "ethiopic",
}


def preloads(languages: Iterable[str]) -> list[str]:
    """The static paths of the regular-weight fonts for ``languages``' scripts, once each,
    in the order the languages come (``ne-Latn`` and other Latin catalogs need none)."""
    paths: list[str] = []
    for language in languages:
        name = FONT_OF_SCRIPT.get(SCRIPT_OF.get(language.split("-")[0], "Latn"), "")
        if name and "-Latn" not in language:
            path = f"fonts/noto-sans-{name}-{name}-400-normal.woff2"
            if path not in paths:
                paths.append(path)
    return paths
