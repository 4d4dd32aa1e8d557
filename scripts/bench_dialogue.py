"""Benchmark what the two-way line costs per message: watching every message for danger and
retaliation words, and the engine step for the messages workers really send.

A benchmark, not a test: it prints a Markdown report and asserts nothing. Pure (no database,
no network): the engine is a library, and these are its costs.

- **Watched words**: ``PhraseList.match`` over 2,000 worker messages in 14 languages, with
  the danger and retaliation lists of all 14 catalogs (what the line watches) against a
  same-run baseline: the plain way, every phrase looked for in every message.
- **Engine steps**: ``Engine.resume`` for a reply after the code, an intake answer, a story
  typed at a menu, and danger words in the first message; each with the watch lists and,
  as the same-run baseline, with empty ones (the engine before watching).

    .venv/bin/python scripts/bench_dialogue.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grievance.conversation import Engine, Message, load_flowset, new_session  # noqa: E402
from grievance.language import load_catalogs  # noqa: E402
from grievance.language.words import PhraseList, contains_phrase, fold  # noqa: E402

NOW = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.UTC)
MESSAGES = [
    "They paid back only half. The agent says the rest next month.",
    "I forgot to say, three of us paid the same agent",
    "hello? any news",
    "🙏",
    "1",
    "ok",
    "मालिकले तलब रोकेको छ, तीन महिना भयो",
    "एजेन्टले दुई लाख रुपैयाँ लियो र कम्पनीले मेरो राहदानी राखेको छ",
    "အေးဂျင့်က ပတ်စ်ပို့ကို ယူထားတယ်",
    "ساعدني أنا في خطر",
    "El agente me cobró 3000 dólares y ahora no me pagan las horas extra",
    "gaji saya belum dibayar dua bulan",
    "mera 3 mahine ka paisa nahi diya company ne",
    "please help me I am in danger, madam beat me and locked me in the room",
    "because I complained they will not renew my contract",
    "สวัสดีครับ นายจ้างยึดพาสปอร์ตผม",
    "Tôi bị giữ hộ chiếu",
    "Ang ahensya ay kumuha ng malaking bayad",
    "আমার বেতন দেয় না",
    "میری تنخواہ نہیں دی",
]


def timed(call: Callable[[], object], repeat: int) -> list[float]:
    """Microseconds per call, ``repeat`` times, after a warm-up."""
    for _ in range(min(repeat, 50)):
        call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def row(name: str, samples: list[float], baseline: list[float]) -> str:
    p50, b50 = statistics.median(samples), statistics.median(baseline)
    p95 = statistics.quantiles(samples, n=20)[18]
    return f"| {name} | {p50:.1f} | {p95:.1f} | {b50:.1f} | {p50 / b50:.2f}x |"


def engines() -> tuple[Engine, Engine]:
    """The line as deployed (en, ne, my, watching every catalog's words) and the baseline:
    the same engine with no watched words."""
    flowset, problems = load_flowset(ROOT / "flows")
    assert flowset is not None, problems
    languages = ("en", "ne", "my")
    catalogs = load_catalogs(ROOT / "locales", languages)
    every = load_catalogs(ROOT / "locales")
    ids = itertools.count(1)
    watching = Engine(flowset, catalogs, languages, lambda: f"r{next(ids)}", every)
    bare = {k: replace(c, danger=(), retaliation=()) for k, c in every.items()}
    quiet = Engine(flowset, catalogs, languages, lambda: f"r{next(ids)}", bare)
    return watching, quiet


def main() -> None:
    """Print the report."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeat = 2_000 if args.quick else 20_000
    every = load_catalogs(ROOT / "locales")
    danger = PhraseList.of(c.danger for c in every.values())
    retaliation = PhraseList.of(c.retaliation for c in every.values())
    corpus = (MESSAGES * 100)[:2_000]
    cycle = itertools.cycle(corpus)

    def watch() -> object:
        text = next(cycle)
        return danger.match(text) or retaliation.match(text)

    every_phrase = danger.phrases + retaliation.phrases

    def baseline_scan() -> object:
        folded = fold(next(cycle))
        return next((p for p in every_phrase if contains_phrase(folded, p)), None)

    print("# The two-way line: cost per message\n")
    print(
        f"Run {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; {repeat:,} calls each, microseconds.\n"
    )
    print(
        f"Watched phrases: {len(danger.phrases)} danger and {len(retaliation.phrases)} "
        f"retaliation, from {len(every)} catalogs.\n"
    )
    print("| work | p50 µs | p95 µs | baseline p50 µs | × baseline |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(
        row(
            "watch one message (danger, then retaliation)",
            timed(watch, repeat),
            timed(baseline_scan, repeat),
        )
    )

    watching, quiet = engines()
    has_case = {"has_case": True, "has_open_case": True, "has_active_case": True}
    no_case = {"has_case": False, "has_open_case": False, "has_active_case": False}
    at_menu = watching.resume(
        new_session("en", True), Message("hello", ref=1), NOW, no_case
    ).session
    at_menu = watching.resume(at_menu, Message("1", ref=2), NOW, no_case).session  # category
    cases: list[tuple[str, dict[str, object], str, dict[str, bool]]] = [
        ("a reply after the code", new_session("en", True), MESSAGES[0], has_case),
        ("an intake answer (category 2)", at_menu, "2", no_case),
        ("a story typed at the category menu", at_menu, MESSAGES[7], no_case),
        ("danger words as the first message", new_session(), MESSAGES[13], no_case),
    ]
    for name, session, text, facts in cases:
        message = Message(text, ref=9)

        def step(
            engine: Engine = watching,
            session: dict[str, object] = session,
            message: Message = message,
            facts: dict[str, bool] = facts,
        ) -> object:
            return engine.resume(session, message, NOW, facts)

        print(
            row(
                f"engine step: {name}",
                timed(step, repeat // 4),
                timed(lambda: step(quiet), repeat // 4),
            )
        )
    print(
        "\nBaselines: for watching, every phrase looked for in every message (what the index "
        "avoids); for the engine rows, the same flows and message with no watched words (the "
        "engine before it watched every message)."
    )


if __name__ == "__main__":
    main()
