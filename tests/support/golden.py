"""Run a golden conversation: a flow, a language, a channel, worker inputs → replies and effects.

The host side is played minimally and deterministically: case codes are a
fixed placeholder, STATUS answers name the effect, and the clock advances only
when a step says so.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from grievance.conversation import (
    Answer,
    Appeal,
    CallRequest,
    CaseDetails,
    Engine,
    Expired,
    Handover,
    LookupStatus,
    Message,
    OpenCase,
    OptIn,
    OptOut,
    Send,
    SetLanguage,
    TimedOut,
    ToCase,
    Urgent,
    WaitUntil,
    WellbeingRecord,
    load_flowset,
    new_session,
)
from grievance.conversation.loader import parse_duration
from grievance.conversation.render import render_send
from grievance.language import load_catalogs

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
FAKE_CODE = "1234 5678 9012"
# The emergency contacts a deployment configures (GRIEVANCE_CONTACTS_FILE); a case file may
# say `contacts: ""` to play a line with none, whose workers then get no list at all.
FAKE_CONTACTS = "Police 999; Labour hotline 1-800-88-5000"
# Organisations that help workers (RIGHTS, who to call); `help_contacts: ""` plays a line
# with none listed. Country facts are none unless a case file gives `country_facts:` by topic.
FAKE_HELP = "Workers' help centre +60 3-0000 0000; Labour hotline 1-800-88-5000"


@dataclass
class Harness:
    """An engine over the project's flows and catalogs with an injected clock and ids."""

    engine: Engine
    now: datetime = START

    @classmethod
    def create(cls, languages: tuple[str, ...] = ("en", "ne", "my")) -> Harness:
        flowset, problems = load_flowset(ROOT / "flows")
        assert flowset is not None
        assert not problems, problems
        catalogs = load_catalogs(ROOT / "locales", languages)
        ids = itertools.count(1)
        engine = Engine(
            flowset,
            catalogs,
            languages,
            new_id=lambda: f"run-{next(ids)}",
            known_catalogs=load_catalogs(ROOT / "locales"),
        )
        return cls(engine)


def describe(effect: object) -> str | None:
    """A short, stable description of a non-message effect."""
    if isinstance(effect, SetLanguage):
        return f"set_language {effect.language}" + (
            " (confirmed)" if effect.confirmed else " (detected)"
        )
    if isinstance(effect, OpenCase):
        return (
            f"open_case category={effect.category} danger={effect.in_danger} updates={effect.wants_updates} "
            + ("sms_fallback=True " if effect.sms_fallback else "")
            + ("full_updates=True " if effect.full_updates else "")
            + ("category_unclear=True " if effect.category_unclear else "")
            + ("retaliation=True " if effect.retaliation else "")
            + f"workplace={effect.workplace!r} description={effect.description!r}"
        )
    if isinstance(effect, LookupStatus):
        return f"lookup_status code={effect.code}"
    if isinstance(effect, OptOut):
        return "opt_out"
    if isinstance(effect, OptIn):
        return "opt_in"
    if isinstance(effect, Handover):
        return f"handover {effect.reason}"
    if isinstance(effect, ToCase):
        return (
            "to_case"
            + (f" case={effect.case}" if effect.case is not None else "")
            + (f" question={effect.question}" if effect.question else "")
            + (f" answer={effect.answer}" if effect.answer else "")
            + f" messages={len(effect.message_refs)}"
        )
    if isinstance(effect, Urgent):
        return (
            f"urgent {effect.reason} category={effect.category} description={effect.description!r}"
        )
    if isinstance(effect, CallRequest):
        return f"call_request time={effect.time!r} number={'given' if effect.number else 'this'}"
    if isinstance(effect, Answer):
        return f"answer {effect.value}"
    if isinstance(effect, CaseDetails):
        said = " ".join(f"{k}={v!r}" for k, v in sorted(effect.values.items()))
        return f"case_details case={effect.case} {said}"
    if isinstance(effect, Appeal):
        return "appeal"
    if isinstance(effect, WellbeingRecord):
        answers = " ".join(f"{q}={v}" for q, v in effect.answers.items())
        return (
            f"wellbeing_record token={effect.token} {answers}".rstrip()
            + (" said_more" if effect.said_more else "")
            + (" reported" if effect.reported else "")
        )
    return None


def run_case(harness: Harness, case: dict[str, Any]) -> list[dict[str, Any]]:
    """Play every step of ``case``; return the observed output per step."""
    engine = harness.engine
    channel = case.get("channel", "sms")
    session = new_session(case.get("language"), confirmed=case.get("language") is not None)
    # The host's facts about the worker: a case file may start with one (`has_case: true`).
    has_case = bool(case.get("has_case", False))
    facts = {
        "has_case": has_case,
        "has_open_case": has_case,
        "has_active_case": has_case,
        "opted_out": False,
    }
    contacts = str(case.get("contacts", FAKE_CONTACTS))
    helpers = str(case.get("help_contacts", FAKE_HELP))
    facts["help_contacts_listed"] = bool(helpers)
    country_facts = {f"facts.{k}": str(v) for k, v in (case.get("country_facts") or {}).items()}
    observed = []
    for step in case["steps"]:
        if "facts" in step:  # the host's view changes: a handler closed the case, say
            facts.update(step["facts"])
        if "advance" in step:
            delta = parse_duration(step["advance"])
            assert delta is not None
            harness.now += delta
        if "start" in step:  # the host starts a flow (a wellbeing wave, a question about a case)
            result = engine.start(
                session,
                step["start"]["flow"],
                harness.now,
                facts=facts,
                channel=channel,
                results=step["start"].get("results", {}),
            )
        else:
            if "timer" in step:
                event: Any = Expired() if step["timer"] == "expired" else TimedOut()
            else:
                event = Message(
                    str(step.get("send", "")), tuple(step.get("media", ())), ref=len(observed) + 1
                )
            result = engine.resume(session, event, harness.now, facts=facts, channel=channel)
        session = result.session
        replies, effects = [], []
        for effect in result.effects:
            if isinstance(effect, Send):
                if "contacts.emergency" in effect.refs.values() and not contacts:
                    continue  # the host sends no empty list of numbers
                if "contacts.help" in effect.refs.values() and not helpers:
                    continue
                if any(
                    ref.startswith("facts.") and ref not in country_facts
                    for ref in effect.refs.values()
                ):
                    continue  # no fact about this topic: the host says nothing more
                replies.append(
                    render_send(
                        engine.catalogs,
                        engine.default_language,
                        effect,
                        channel,
                        {
                            "case.code": FAKE_CODE,
                            "link.procedure": f"https://grievance.example.org/p/{effect.language}",
                            "contacts.emergency": contacts,
                            "contacts.help": helpers,
                            **country_facts,
                            # The default time frames, as the host words them in English.
                            "rules.urgent": "1 hour",
                            "rules.standard": "7 days",
                            "rules.appeal_days": "90",
                        },
                        today=harness.now.date(),
                    )
                )
            elif isinstance(effect, WaitUntil):
                continue
            else:
                text = describe(effect)
                if text:
                    effects.append(text)
                if isinstance(effect, OpenCase | Urgent | Handover):
                    facts.update(has_case=True, has_open_case=True, has_active_case=True)
                if isinstance(effect, OptOut | OptIn):
                    facts["opted_out"] = isinstance(effect, OptOut)
        run = session.get("run")
        out: dict[str, Any] = {"replies": replies}
        if effects:
            out["effects"] = effects
        out["then"] = (
            f"waiting at {run['flow']}.{run['node']}" if run and run.get("waiting") else "idle"
        )
        observed.append(out)
    return observed


def load_case(path: Path) -> dict[str, Any]:
    """Read a golden file."""
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


class _Dumper(yaml.SafeDumper):
    """Multi-line replies as literal blocks, so menus read as they appear on a phone."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def write_case(path: Path, case: dict[str, Any], observed: list[dict[str, Any]]) -> None:
    """Rewrite a golden file with the observed output as the expectation."""
    steps = []
    for step, out in zip(case["steps"], observed, strict=True):
        inputs = {k: v for k, v in step.items() if k not in ("expect",)}
        steps.append(inputs | {"expect": out})
    header = {k: v for k, v in case.items() if k != "steps"}
    text = yaml.dump(
        header | {"steps": steps}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120
    )
    path.write_text(text, encoding="utf-8")
