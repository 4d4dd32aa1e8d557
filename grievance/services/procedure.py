"""The public rules of procedure and the rights page, written from the catalog of a language
and from configuration: the numbers workers write to, the keywords, the time frames of each
stage, who runs the line, how long data is kept, what Twilio keeps, the rights every worker
has and the operator's facts about the country. The web serves them (``web/procedure.py``);
``grievance flows check`` needs their keys.

A page's version changes by itself: its content is hashed, and a content not seen before in
that language is a new version, dated the day it was first served.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grievance import sla
from grievance.contacts import HelpContact, for_worker
from grievance.language import Catalog, render
from grievance.language.catalog import duration_words
from grievance.language.dates import format_day
from grievance.models import ProcedureVersion

if TYPE_CHECKING:
    from grievance.runtime import Runtime

KEYWORD_LINES = ("menu", "status", "help", "rights", "appeal", "language", "stop")
PAGE_KEYS = (
    "procedure.title",
    "procedure.version",
    "procedure.intro",
    "procedure.channels_heading",
    "procedure.channels_sms",
    "procedure.channels_whatsapp",
    "procedure.channels_poster",
    "procedure.channels_cost",
    "procedure.keywords",
    *(f"procedure.keyword_{name}" for name in KEYWORD_LINES),
    "procedure.person",
    "procedure.contacts_heading",
    "procedure.contacts_none",
    "procedure.stages_heading",
    "procedure.stages_intro",
    "procedure.stage_received",
    "procedure.stage_triage",
    "procedure.stage_plan",
    "procedure.stage_remedy",
    "procedure.stage_confirm",
    "procedure.stage_close",
    "procedure.duration_hours",
    "procedure.duration_days",
    "procedure.duration_working_days",
    "procedure.handlers_heading",
    "procedure.handlers",
    "procedure.independence",
    "procedure.confidentiality_heading",
    "procedure.confidentiality",
    "procedure.provider",
    "procedure.provider_deleted",
    "procedure.retention",
    "procedure.phone",
    "procedure.retaliation_heading",
    "procedure.retaliation",
    "procedure.appeal_heading",
    "procedure.appeal",
    "procedure.other_languages",
    "rights.page_title",
    "rights.page_intro",
    "rights.page_country",
    "rights.page_source",
)
# The topics of RIGHTS, with their menu label and their text (a worker reads the same words).
RIGHTS_TOPICS = ("documents", "fees", "debts", "hours")
# The severities a worker's report can have, as the page names them.
SEVERITY_NAMES = {"P0": "urgent", "P1": "red", "P2": "serious", "P3": "standard"}


@dataclass(frozen=True)
class Section:
    """A heading and its paragraphs (or list items)."""

    heading: str
    paragraphs: tuple[str, ...]
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page:
    """The rules of procedure in one language, ready to render and to hash."""

    language: str
    direction: str
    title: str
    intro: str
    sections: tuple[Section, ...]
    # Rendered around the content, not part of it: "version {version}, since {date}".
    version_line: str = ""
    other_languages: str = ""

    def digest(self) -> str:
        """A hash of everything the page says: a new one is a new version."""
        content = json.dumps(
            [self.title, self.intro, [[s.heading, s.paragraphs, s.items] for s in self.sections]],
            ensure_ascii=False,
        )
        return hashlib.sha256(content.encode()).hexdigest()


def _duration(catalog: Catalog, text: str) -> str:
    return duration_words(catalog, *sla.parse_duration(text))


def _sayer(runtime: Runtime, catalog: Catalog) -> Callable[..., str]:
    fallback = runtime.catalogs[runtime.settings.languages[0]]

    def say(key: str, **params: str) -> str:
        # A text missing from this catalog (one `flows check` would flag) reads in the
        # deployment's first language rather than taking the whole page down.
        return render(catalog if key in catalog.messages else fallback, key, params, "sms")

    return say


def build_page(runtime: Runtime, catalog: Catalog, contacts: Sequence[HelpContact] = ()) -> Page:
    """The page for ``catalog``'s language from configuration; pure apart from reading both."""
    settings = runtime.settings
    say = _sayer(runtime, catalog)

    def word(keyword: str) -> str:
        return catalog.keywords.get(keyword, (keyword.upper(),))[0]

    channels = []
    if settings.twilio_sms_from:
        channels.append(say("procedure.channels_sms", number=settings.twilio_sms_from))
    if settings.twilio_whatsapp_from:
        number = settings.twilio_whatsapp_from.removeprefix("whatsapp:")
        channels.append(say("procedure.channels_whatsapp", number=number))
    if not channels:
        channels.append(say("procedure.channels_poster"))
    channels.append(say("procedure.channels_cost"))
    keyword_lines = []
    for name in KEYWORD_LINES:
        params = {"word": word(name)}
        if name == "stop":
            params["start"] = word("start")
        keyword_lines.append(say(f"procedure.keyword_{name}", **params))
    handlers = [say("procedure.independence")]
    if settings.operator_name:
        handlers.insert(0, say("procedure.handlers", operator=settings.operator_name))
    privacy = [say("procedure.confidentiality"), say("procedure.provider")]
    if settings.twilio_delete_after_minutes >= 0:
        privacy.append(
            say("procedure.provider_deleted", minutes=str(settings.twilio_delete_after_minutes))
        )
    privacy += [
        say("procedure.retention", days=str(settings.retention_closed_days)),
        say("procedure.phone"),
    ]
    triage = {
        name: _duration(catalog, sla.frame(settings.sla_frames, "triage", p))
        for p, name in SEVERITY_NAMES.items()
    }
    plan = {
        name: _duration(catalog, sla.frame(settings.sla_frames, "plan", p))
        for p, name in SEVERITY_NAMES.items()
        if p != "P0"
    }
    sections = (
        Section(
            say("procedure.channels_heading"),
            (*channels, say("procedure.keywords")),
            tuple(keyword_lines),
        ),
        Section(
            say("procedure.stages_heading"),
            (say("procedure.stages_intro"),),
            (
                say("procedure.stage_received"),
                say("procedure.stage_triage", **triage),
                say("procedure.stage_plan", **plan),
                say("procedure.stage_remedy"),
                say("procedure.stage_confirm"),
                say("procedure.stage_close"),
            ),
        ),
        Section(
            say("procedure.handlers_heading"),
            (*handlers, say("procedure.person", word=word("help"))),
        ),
        Section(
            say("rights.page_title"),
            (say("rights.page_intro", word=word("rights")),),
            tuple(say(f"rights.{topic}") for topic in RIGHTS_TOPICS),
        ),
        _contacts_section(contacts, catalog.language, say),
        Section(say("procedure.confidentiality_heading"), tuple(privacy)),
        Section(say("procedure.retaliation_heading"), (say("procedure.retaliation"),)),
        Section(
            say("procedure.appeal_heading"),
            (say("procedure.appeal", word=word("appeal"), days=str(settings.appeal_days)),),
        ),
    )
    return Page(
        language=catalog.language,
        direction=catalog.direction,
        title=say("procedure.title"),
        intro=say("procedure.intro"),
        sections=sections,
        version_line=say("procedure.version", version="{version}", date="{date}"),
        other_languages=say("procedure.other_languages"),
    )


def build_rights_page(
    runtime: Runtime, catalog: Catalog, contacts: Sequence[HelpContact] = ()
) -> Page:
    """The rights every worker has, in ``catalog``'s language (the texts RIGHTS sends), each
    with what the line's operator states about the countries it serves, with its source and
    the day it was checked; then whom to call."""
    say = _sayer(runtime, catalog)
    facts = runtime.settings.country_facts
    word = catalog.keywords.get("rights", ("RIGHTS",))[0]
    sections = []
    for topic in RIGHTS_TOPICS:
        paragraphs = [say(f"rights.{topic}")]
        for country in facts.countries:
            fact = facts.get(country, topic)
            if fact is None or catalog.language not in fact.text:
                continue
            where = say("rights.page_country", country=country_name(country, catalog))
            checked = format_day(
                fact.checked.isoformat(),
                catalog.locale or catalog.language,
                catalog.digits == "native",
                today=date.min,  # always with its year: a fact is checked on a day of a year
            )
            paragraphs.append(
                f"{where}: {fact.text[catalog.language]} "
                + say("rights.page_source", source=fact.source, date=checked)
            )
        sections.append(Section(say(f"rights.option_{topic}"), tuple(paragraphs)))
    sections.append(_contacts_section(contacts, catalog.language, say))
    return Page(
        language=catalog.language,
        direction=catalog.direction,
        title=say("rights.page_title"),
        intro=say("rights.page_intro", word=word),
        sections=tuple(sections),
        other_languages=say("procedure.other_languages"),
    )


def country_name(code: str, catalog: Catalog) -> str:
    """A country's name in the catalog's language (CLDR, through Babel), else its code."""
    from babel import Locale, UnknownLocaleError

    for name in (catalog.locale, catalog.language.split("-")[0], "en"):
        if not name:
            continue
        try:
            territories = Locale.parse(name.replace("-", "_")).territories
        except (UnknownLocaleError, ValueError):
            continue
        if code in territories:
            return str(territories[code])
    return code


def _contacts_section(
    contacts: Sequence[HelpContact], language: str, say: Callable[..., str]
) -> Section:
    """Whom to call, from the directory's entries for workers; it says so when there are none."""
    listed = for_worker(contacts, language, emergency_only=False)
    if not listed:
        return Section(say("procedure.contacts_heading"), (say("procedure.contacts_none"),))
    return Section(
        say("procedure.contacts_heading"),
        (),
        tuple(
            f"{c.name_in(language)}: {c.phone}" + (f" ({c.hours})" if c.hours else "")
            for c in listed
        ),
    )


def published(session: Session, page: Page) -> ProcedureVersion:
    """The version of this exact content, recorded (as the next number) the first time."""
    digest = page.digest()
    query = select(ProcedureVersion).where(
        ProcedureVersion.language == page.language, ProcedureVersion.digest == digest
    )
    found = session.scalars(query).one_or_none()
    if found is not None:
        return found
    last = session.scalar(
        select(func.max(ProcedureVersion.version)).where(ProcedureVersion.language == page.language)
    )
    version = ProcedureVersion(language=page.language, digest=digest, version=(last or 0) + 1)
    session.add(version)
    try:
        session.commit()
    except IntegrityError:  # another process published the same content first
        session.rollback()
        return session.scalars(query).one()
    return version
