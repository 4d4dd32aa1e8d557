"""The effectiveness report: a yearly (or any period's) account of the mechanism, structured
like the remediation questions of the UN Guiding Principles Reporting Framework (C6), which
also serves as the annual review of the complaints procedure that LkSG §8(5) requires.

Sections: the channels workers can use (C6.2); volumes (what was raised); how cases were
handled (C6.4); outcomes and remedy; trust and protection from retaliation (C6.3); patterns
and lessons, with examples drawn from closed cases (C6.5); and the review itself. Every
count goes through the same small-cell rules as /reports; the examples are the summaries
handlers wrote for suppliers (never the worker's words), only from categories with at
least k cases in the period, with no site, supplier or date.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grievance.models import (
    INBOUND,
    Case,
    CaseEvent,
    Message,
    ProcedureVersion,
    SiteAlert,
)
from grievance.models.cases import CATEGORY_LABELS, SEVERITIES
from grievance.models.remediation import REMEDY_LABELS
from grievance.reports import outcomes
from grievance.reports import pulse as pulse_results
from grievance.reports.suppression import Table, suppress
from grievance.runtime import Runtime

ENDINGS = {
    "resolved": "Closed, resolved",
    "not_resolved": "Closed, not resolved",
    "referred": "Referred to another organisation",
    "out_of_scope": "Out of scope",
    "withdrawn": "Withdrawn by the worker",
}
EXAMPLES = 5


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


@dataclass(frozen=True)
class Report:
    """Everything the effectiveness report shows."""

    first: str
    last: str
    k: int
    channels: list[Line]
    languages: list[Line]
    contact: list[Line]
    categories: list[str]
    volume: Table
    handling: list[outcomes.Measure]
    endings: list[Line]
    remedies: list[Line]
    trust: list[Line]
    wellbeing: list[Line]
    patterns: list[Line]
    examples: list[Example]


def _small(count: int, k: int) -> str:
    return f"<{k}" if 0 < count < k else str(count)


def build(
    session: Session,
    runtime: Runtime,
    first: date,
    last: date,
    suppliers: Sequence[int] | None = None,
) -> Report:
    """The report for cases received from ``first``'s month to ``last``'s."""
    settings = runtime.settings
    k = settings.report_min_cell
    start = datetime(first.year, first.month, 1, tzinfo=UTC)
    year, month = (last.year + 1, 1) if last.month == 12 else (last.year, last.month + 1)
    end = datetime(year, month, 1, tzinfo=UTC)
    scope = [Case.created_at >= start, Case.created_at < end]
    if suppliers is not None:
        scope.append(Case.supplier_id.in_(list(suppliers)))
    cases = session.execute(
        select(
            Case.id,
            Case.category,
            Case.reported_category,
            Case.severity,
            Case.status,
            Case.outcome,
            Case.remedy_types,
            Case.supplier_summary,
            Case.closed_at,
            Case.created_at,
        ).where(*scope)
    ).all()

    # C6.2 channels: what a worker can use, in which languages, and how much it was used.
    channels = []
    if settings.twilio_sms_from or settings.twilio_messaging_service_sid:
        channels.append(Line("SMS", settings.twilio_sms_from or "Messaging Service"))
    if settings.twilio_whatsapp_from:
        channels.append(Line("WhatsApp", settings.twilio_whatsapp_from.removeprefix("whatsapp:")))
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
    contact = []
    if suppliers is None:  # messages are not tied to a supplier until a case is referred
        inbound = select(func.count(Message.id)).where(
            Message.direction == INBOUND, Message.created_at >= start, Message.created_at < end
        )
        writers = select(func.count(func.distinct(Message.contact_id))).where(
            Message.direction == INBOUND, Message.created_at >= start, Message.created_at < end
        )
        contact = [
            Line("Messages received from workers", _small(session.scalar(inbound) or 0, k)),
            Line("Phones that wrote to the line", _small(session.scalar(writers) or 0, k)),
        ]

    # Volumes: category by severity, suppressed like every published table.
    categories = sorted({c.category or c.reported_category or "OTHER" for c in cases})
    grid = [
        [
            sum(1 for c in cases if (c.category or c.reported_category or "OTHER") == cat
                and c.severity == severity)
            for severity in SEVERITIES
        ]
        for cat in categories
    ]  # fmt: skip
    volume = suppress(grid or [[0] * len(SEVERITIES)], k)

    handling = outcomes.outcome_measures(session, first, last, k, suppliers)

    # Outcomes: how the cases received in the period ended, and the remedies given.
    ended = Counter(
        (c.outcome or "not_resolved") if c.status == "closed" else c.status
        for c in cases
        if c.status in ("closed", "referred", "out_of_scope", "withdrawn")
    )
    # The endings add up to the cases received, which is published: a row of one table,
    # suppressed as such, so that a small one cannot be worked out from the others.
    ending_labels = [*ENDINGS.values(), "Still open at the time of the report"]
    ending_counts = [*(ended.get(key, 0) for key in ENDINGS), len(cases) - sum(ended.values())]
    endings = [
        Line(label, cell.shown(k))
        for label, cell in zip(ending_labels, suppress([ending_counts], k).cells[0], strict=True)
    ]
    given = Counter(remedy for c in cases for remedy in (c.remedy_types or []))
    remedies = [
        Line(label.capitalize(), _small(given.get(key, 0), k))
        for key, label in REMEDY_LABELS.items()
    ]

    by_label = {m.label: m.value for m in handling}
    trust = [
        Line(label, by_label[label])
        for label in (
            "Retaliation check-ins answered \u201cyes\u201d",
            "Reopened on appeal",
            "Satisfaction (1-5)",
            "Every stage within its time frame",
        )
    ]
    wellbeing = []
    if suppliers is None:
        from grievance.models import Campaign, Site

        for site in session.scalars(
            select(Site).where(
                Site.id.in_(
                    select(Campaign.site_id).where(
                        Campaign.created_at >= start, Campaign.created_at < end
                    )
                )
            )
        ):
            waves = [
                w
                for w in pulse_results.site_trend(session, site.id, settings.pulse_min_cell)
                if f"{first:%Y-%m}" <= w.month <= f"{last:%Y-%m}"
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

    # C6.5 patterns and lessons.
    patterns = []
    alerts = Counter(
        session.scalars(
            select(SiteAlert.category).where(
                SiteAlert.raised_at >= start, SiteAlert.raised_at < end
            )
        )
    )
    if suppliers is None:
        for category, n in alerts.most_common():
            patterns.append(Line(f"Site alerts: {CATEGORY_LABELS.get(category, category)}", str(n)))
    months = max(1, (last.year - first.year) * 12 + last.month - first.month + 1)
    middle = start.replace(
        year=start.year + (start.month - 1 + months // 2) // 12,
        month=(start.month - 1 + months // 2) % 12 + 1,
    )
    for category in categories:
        early = sum(
            1
            for c in cases
            if (c.category or c.reported_category or "OTHER") == category and c.created_at < middle
        )
        late = sum(
            1
            for c in cases
            if (c.category or c.reported_category or "OTHER") == category and c.created_at >= middle
        )
        if late >= k and late >= 2 * max(early, 1):
            patterns.append(
                Line(
                    f"Rising: {CATEGORY_LABELS.get(category, category)}",
                    # No counts: with the category's total they would give away a small half.
                    "at least twice as many cases in the second half of the period as in the first",
                )
            )
    stages = Counter(
        str(data.get("stage", "unknown"))
        for data in session.scalars(
            select(CaseEvent.data)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(CaseEvent.kind == "escalated", *scope)
        )
    )
    # Their sum is the cases that missed a time frame, which the handling figures give.
    stage_names = [stage for stage, _ in stages.most_common()]
    if stage_names:
        missed = suppress([[stages[name] for name in stage_names]], k).cells[0]
        for stage, cell in list(zip(stage_names, missed, strict=True))[:3]:
            patterns.append(
                Line(
                    f"Time frames missed at stage \u201c{stage.replace('_', ' ')}\u201d",
                    cell.shown(k),
                )
            )

    common = {cat for cat, n in Counter(c.category for c in cases).items() if n >= k}
    closed = sorted(
        (
            c
            for c in cases
            if c.status == "closed"
            and c.outcome == "resolved"
            and c.category in common
            and (c.supplier_summary or "").strip()
        ),
        key=lambda c: c.closed_at or c.created_at,
        reverse=True,
    )
    examples = [
        Example(
            category=CATEGORY_LABELS.get(c.category or "", c.category or ""),
            remedies=", ".join(REMEDY_LABELS.get(r, r) for r in c.remedy_types or [])
            or "not recorded",
            summary=_clip((c.supplier_summary or "").strip()),
        )
        for c in closed[:EXAMPLES]
    ]
    return Report(
        first=f"{first:%Y-%m}",
        last=f"{last:%Y-%m}",
        k=k,
        channels=channels,
        languages=languages,
        contact=contact,
        categories=[CATEGORY_LABELS.get(c, c) for c in categories],
        volume=volume,
        handling=handling,
        endings=endings,
        remedies=remedies,
        trust=trust,
        wellbeing=wellbeing,
        patterns=patterns,
        examples=examples,
    )


def _clip(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "\u2026"
