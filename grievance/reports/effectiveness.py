"""The effectiveness report: a yearly (or any run of quarters') account of the mechanism,
structured like the remediation questions of the UN Guiding Principles Reporting Framework
(C6), which also serves as the annual review of the complaints procedure that LkSG §8(5)
requires.

Sections: the channels workers can use (C6.2); volumes (what was raised); how cases were
handled (C6.4); outcomes and remedy; trust and protection from retaliation (C6.3); patterns
and lessons, with examples drawn from closed cases (C6.5); and the review itself.

The report is a document that leaves: every figure in it is read from the published
quarters (:mod:`grievance.reports.releases`), quarter by quarter, with a total only where
the quarters show every part. The examples are the summaries handlers wrote for suppliers
(never the worker's words), only from categories shown with at least k cases in the case's
quarter, with no site, supplier or date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grievance.models import Case, ProcedureVersion
from grievance.models.cases import CATEGORY_LABELS
from grievance.models.remediation import REMEDY_LABELS
from grievance.reports import releases
from grievance.reports import wellbeing as wellbeing_results
from grievance.reports.suppression import Cell
from grievance.runtime import Runtime

EXAMPLES = 5
TRUST = (
    "Retaliation check-ins answered \u201cyes\u201d",
    "Reopened on appeal",
    "Satisfaction (1-5)",
    "Every stage within its time frame",
)


@dataclass(frozen=True)
class Line:
    """One labelled figure."""

    label: str
    value: str


@dataclass(frozen=True)
class Example:
    """A closed case told without anything that points to a worker."""

    category: str
    remedies: str
    summary: str


# Labelled figures, one a quarter (and a last one for the whole period, where it adds up).
Rows = list[tuple[str, list[str]]]


@dataclass(frozen=True)
class Report:
    """Everything the effectiveness report shows."""

    first: str  # the first quarter, like 2025-Q4
    last: str
    first_month: str  # the period asked for, as months: 2025-10
    last_month: str
    k: int
    quarters: list[str]
    pending: str | None  # the first quarter asked for that is not published yet
    channels: list[Line]
    languages: list[Line]
    contact: Rows
    categories: Rows  # with a total column
    severities: Rows  # with a total column
    handling: Rows
    endings: Rows  # with a total column
    remedies: Rows
    trust: Rows
    wellbeing: list[Line]
    alerts: Rows
    missed: Rows
    rising: list[str]
    examples: list[Example]


def _with_total(rows: list[tuple[str, list[Cell]]], k: int) -> Rows:
    """Rows of quarter cells, shown, with their sum over the period as far as it is shown."""
    return [
        (label, [c.shown(k) for c in cells] + [releases.combined(cells).shown(k)])
        for label, cells in rows
    ]


def build(
    session: Session,
    runtime: Runtime,
    period: releases.Period,
    suppliers: Sequence[int] | None = None,
    asked: tuple[date, date] | None = None,
) -> Report:
    """The report over the published quarters of ``period`` (``asked``: the months asked
    for, when wider than what is published)."""
    if asked is None:
        if not period.quarters:
            raise ValueError("a period with no published quarter needs the months asked for")
        asked = (period.quarters[0].first, period.quarters[-1].last)
    first_month, last_month = asked
    settings = runtime.settings
    k = period.k
    labels = [q.label for q in period.quarters]

    # C6.2 channels: what a worker can use, in which languages, and how much it was used.
    channels = []
    if settings.twilio_sms_from or settings.twilio_messaging_service_sid:
        channels.append(Line("SMS", settings.twilio_sms_from or "Messaging Service"))
    if settings.twilio_whatsapp_from:
        channels.append(Line("WhatsApp", settings.twilio_whatsapp_from.removeprefix("whatsapp:")))
    # Missed-call lines (docs/voice.md) are published numbers workers call for free.
    for number in settings.missed_call_numbers:
        channels.append(Line("Missed call (the line calls back, free for the caller)", number))
    if not channels:
        channels.append(Line("Console (no Twilio configured)", "test deployment"))
    latest = dict(
        session.execute(
            select(ProcedureVersion.language, func.max(ProcedureVersion.version)).group_by(
                ProcedureVersion.language
            )
        ).all()
    )
    languages = [
        Line(
            f"{catalog.name} ({code})",
            ("reviewed" if catalog.reviewed else "draft translation, not yet reviewed")
            + (f"; rules of procedure version {latest[code]}" if code in latest else ""),
        )
        for code, catalog in runtime.catalogs.items()
    ]

    by_quarter = {name: period.by_quarter(name) for name in ("category", "severity", "ending")}
    categories = _with_total(
        [(CATEGORY_LABELS.get(label, label), cells) for label, cells in by_quarter["category"]],
        k,
    )
    handling = [
        (label, [str(measures[i]["value"]) for _, measures in period.measures()])
        for i, label in enumerate(
            m["label"] for m in (period.releases[0]["measures"] if period.releases else [])
        )
    ]
    trust = [row for row in handling if row[0] in TRUST]

    wellbeing = []
    if suppliers is None and period.quarters:
        from grievance.models import Site, WellbeingWave

        start = datetime.combine(period.quarters[0].first, datetime.min.time(), tzinfo=UTC)
        end = datetime.combine(period.quarters[-1].next().first, datetime.min.time(), tzinfo=UTC)
        since, until = period.months[0], period.months[-1]
        for site in session.scalars(
            select(Site).where(
                Site.id.in_(
                    select(WellbeingWave.site_id).where(
                        WellbeingWave.created_at >= start, WellbeingWave.created_at < end
                    )
                )
            )
        ):
            waves = [
                w
                for w in wellbeing_results.site_trend(session, site.id, settings.pulse_min_cell)
                if since <= w.month <= until
            ]
            shown = [w for w in waves if w.site_score is not None]
            wellbeing.append(
                Line(
                    site.name,
                    f"{len(waves)} wave(s); latest site score {shown[-1].site_score:.2f} of 5"
                    if shown
                    else f"{len(waves)} wave(s); fewer than {settings.pulse_min_cell} answers",
                )
            )

    # C6.5 patterns: a category rising is judged on the quarters' shown totals only, from
    # the first quarter with cases (not from before the line was used) to the last.
    rising = []
    used = [
        i
        for i, release in enumerate(period.releases)
        if release["tables"]["category"]["total"].isdigit()
        and int(release["tables"]["category"]["total"]) > 0
    ]
    if len(used) >= 2:
        for label, cells in by_quarter["category"][:-1]:  # not the "Total" row
            first, last = cells[used[0]], cells[used[-1]]
            if (
                not first.hidden
                and not last.hidden
                and last.value >= max(k, 2 * max(first.value, 1))
            ):
                rising.append(CATEGORY_LABELS.get(label, label))

    return Report(
        first=labels[0] if labels else "",
        last=labels[-1] if labels else "",
        first_month=f"{first_month:%Y-%m}",
        last_month=f"{last_month:%Y-%m}",
        k=k,
        quarters=labels,
        pending=period.pending.label if period.pending else None,
        channels=channels,
        languages=languages,
        contact=period.quarter_rows("contact"),
        categories=categories,
        severities=_with_total(by_quarter["severity"], k),
        handling=handling,
        endings=_with_total(by_quarter["ending"], k),
        remedies=period.quarter_rows("remedies"),
        trust=trust,
        wellbeing=wellbeing,
        alerts=period.quarter_rows("alerts"),
        missed=period.quarter_rows("missed"),
        rising=rising,
        examples=_examples(session, period, suppliers),
    )


def _examples(
    session: Session, period: releases.Period, suppliers: Sequence[int] | None
) -> list[Example]:
    """The latest closed, resolved cases with a summary for suppliers, from categories the
    case's own quarter shows with at least k cases."""
    common: set[tuple[str, str]] = set()  # (quarter, category)
    for release in period.releases:
        table = release["tables"]["category"]
        if table["total"] == "–":
            continue  # withheld whole: fewer than k cases in all
        for name, total in zip(table["rows"], table["row_totals"], strict=True):
            # "–" beside shown figures is a count hidden to protect another: k or more.
            if total == "–" or (total.isdigit() and int(total) >= period.k):
                common.add((release["quarter"], name))
    if not common:
        return []
    start = datetime.combine(period.quarters[0].first, datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(period.quarters[-1].next().first, datetime.min.time(), tzinfo=UTC)
    query = (
        select(Case.category, Case.remedy_types, Case.supplier_summary, Case.created_at)
        .where(
            Case.created_at >= start,
            Case.created_at < end,
            Case.status == "closed",
            Case.outcome == "resolved",
            Case.category.in_({category for _, category in common}),
            func.length(func.trim(Case.supplier_summary)) > 0,
        )
        .order_by(func.coalesce(Case.closed_at, Case.created_at).desc(), Case.id.desc())
    )
    if suppliers is not None:
        query = query.where(Case.supplier_id.in_(list(suppliers)))
    examples = []
    for category, remedies, summary, created in session.execute(query):
        if (releases.Quarter.of(created.date()).label, category) not in common:
            continue
        examples.append(
            Example(
                category=CATEGORY_LABELS.get(category or "", category or ""),
                remedies=", ".join(REMEDY_LABELS.get(r, r) for r in remedies or [])
                or "not recorded",
                summary=_clip((summary or "").strip()),
            )
        )
        if len(examples) == EXAMPLES:
            break
    return examples


def _clip(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "\u2026"
