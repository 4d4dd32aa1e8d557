"""The served fonts: every script a catalog uses has one on disk, declared in fonts.css."""

from __future__ import annotations

from pathlib import Path

from grievance.language.detect import SCRIPT_OF
from grievance.web import fonts

STATIC = Path(fonts.__file__).parent / "static"


def test_each_script_of_the_catalogs_has_its_font_served_and_declared() -> None:
    declared = (STATIC / "fonts" / "fonts.css").read_text(encoding="utf-8")
    for language, script in SCRIPT_OF.items():
        if script == "Latn":
            assert fonts.preloads([language]) == []
            continue
        (path,) = fonts.preloads([language])
        assert (STATIC / path).stat().st_size > 4000, path
        assert path.removeprefix("fonts/") in declared
        assert path.replace("-400-", "-700-").removeprefix("fonts/") in declared


def test_a_line_preloads_each_of_its_scripts_once() -> None:
    assert fonts.preloads(["en", "ne", "hi", "ne-Latn", "my", "ms"]) == [
        "fonts/noto-sans-devanagari-devanagari-400-normal.woff2",
        "fonts/noto-sans-myanmar-myanmar-400-normal.woff2",
    ]
