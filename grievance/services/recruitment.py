"""Who a problem affects, who recruited the worker, and agencies traced across cases.

A minute after the case code the worker is asked a few optional questions (flows/details):
how many workers the problem affects, or whether they report for someone else; and in fees
and debt reports who recruited them, where, and what they paid. Each answer lands on the
case at once. Handlers link the worker's words for the agency to an agency record, so a
programme sees one agency across suppliers; three fee or debt cases linked to one agency
raise an alert, as three similar cases at one site do.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from grievance.auth.accounts import audit
from grievance.clock import utcnow
from grievance.conversation.effects import CaseDetails
from grievance.language.money import read_amount, read_country
from grievance.models import (
    Agency,
    AgencyAlert,
    Case,
    CaseEvent,
    CaseRecruitment,
    Contact,
    User,
    WorkerPrompt,
)
from grievance.models.cases import OPEN_STATUSES, SEVERITIES
from grievance.models.recruitment import AFFECTED, RECRUITMENT_CATEGORIES
from grievance.runtime import Runtime
from grievance.services.triage import Outcome, TriageError, touch_due

log = logging.getLogger(__name__)

# The questions follow the code by this long (GRIEVANCE_DETAILS_DELAY): a message of its
# own, after the code.
DETAILS_DELAY = timedelta(minutes=1)
# An agency linked to this many fee or debt cases within the window raises an alert.
AGENCY_ALERT_CASES = 3
AGENCY_WINDOW = timedelta(days=365)
# One alert per agency in this long, as for sites.
ALERT_REPEAT = timedelta(days=30)
# "many" raises the severity one level, never to P0: P0 is life or liberty at risk now,
# which the danger question decides.
COLLECTIVE_CEILING = "P1"
WORKER = "worker"


class RecruitmentError(TriageError):
    """A handler's request that cannot be done, in words to show them."""


def ask_details(session: Session, case: Case, delay: timedelta = DETAILS_DELAY) -> None:
    """Owe the worker the questions after the code (sent by the prompts sweep)."""
    session.add(WorkerPrompt(case_id=case.id, kind="details", due_at=utcnow() + delay))


def record_details(
    session: Session, runtime: Runtime, contact: Contact, details: CaseDetails
) -> Case | None:
    """Put the worker's answers on their case: the case the questions were about."""
    case = session.get(Case, details.case) if details.case is not None else None
    if case is None or case.contact_id != contact.id:
        return None
    values = details.values
    affected = values.get("affected")
    if affected == "someone_else":
        case.on_behalf = True
        session.add(CaseEvent(case_id=case.id, kind="on_behalf", actor=WORKER, data={}))
    elif affected in AFFECTED:
        _affected(session, runtime, case, affected)
    words = {k: v for k, v in values.items() if k in ("agency", "recruited_in", "fee")}
    if words:
        _recruitment_words(session, runtime, case, words)
    return case


def _affected(session: Session, runtime: Runtime, case: Case, affected: str) -> None:
    case.affected = affected
    data: dict[str, object] = {"affected": affected}
    if affected == "many" and case.status in OPEN_STATUSES:
        raised = raise_one_level(case.severity)
        if raised != case.severity:
            data.update(severity_from=case.severity, severity=raised)
            case.severity = raised
            touch_due(runtime, case)
    session.add(CaseEvent(case_id=case.id, kind="affected", actor=WORKER, data=data))


def raise_one_level(severity: str) -> str:
    """P3 -> P2 -> P1; P1 and P0 stay."""
    index = SEVERITIES.index(severity)
    ceiling = SEVERITIES.index(COLLECTIVE_CEILING)
    return severity if index <= ceiling else SEVERITIES[index - 1]


def _recruitment_words(
    session: Session, runtime: Runtime, case: Case, words: dict[str, str]
) -> None:
    row = recruitment_of(session, case) or CaseRecruitment(case_id=case.id)
    said = worker_words(runtime, row)
    said.update(words)
    row.words_encrypted = runtime.protector.encrypt(json.dumps(said, ensure_ascii=False))
    if "recruited_in" in words and row.country is None:
        row.country = read_country(words["recruited_in"], case.language)
    if "fee" in words and row.fee_amount is None:
        row.fee_amount, row.fee_currency = read_amount(words["fee"], case.language, row.country)
    session.add(row)
    session.add(
        CaseEvent(
            case_id=case.id, kind="recruitment_told", actor=WORKER, data={"said": sorted(words)}
        )
    )


def recruitment_of(session: Session, case: Case) -> CaseRecruitment | None:
    return session.scalars(
        select(CaseRecruitment).where(CaseRecruitment.case_id == case.id)
    ).first()


def worker_words(runtime: Runtime, row: CaseRecruitment | None) -> dict[str, str]:
    """What the worker wrote ({"agency", "recruited_in", "fee"}), {} once erased."""
    if row is None or row.words_encrypted is None:
        return {}
    loaded = json.loads(runtime.protector.decrypt(row.words_encrypted))
    return {str(k): str(v) for k, v in loaded.items()}


# -- handlers ------------------------------------------------------------------------


def survivor(session: Session, agency: Agency) -> Agency:
    """The agency a merged one lives on as (itself when never merged)."""
    seen = set()
    while agency.merged_into_id is not None and agency.id not in seen:
        seen.add(agency.id)
        merged = session.get(Agency, agency.merged_into_id)
        if merged is None:
            break
        agency = merged
    return agency


def agencies(session: Session) -> list[Agency]:
    """The agencies not merged away, by name (the case page offers them as one types)."""
    query = select(Agency).where(Agency.merged_into_id.is_(None)).order_by(Agency.name)
    return list(session.scalars(query))


def link_agency(
    session: Session,
    runtime: Runtime,
    case: Case,
    actor: User,
    *,
    name: str,
    country: str = "",
    fee_amount: str = "",
    fee_currency: str = "",
) -> Outcome:
    """Link the case to the agency called ``name``: an existing one (any case, merged ones
    resolved) or a new one. The handler may correct the country and the fee read from the
    worker's words; an empty field keeps what is there."""
    name = " ".join(name.split())[:200]
    if len(name) < 2:
        raise RecruitmentError("name the agency, or choose one from the list")
    agency = session.scalars(
        select(Agency).where(func.lower(Agency.name) == name.lower()).order_by(Agency.id)
    ).first()
    row = recruitment_of(session, case) or CaseRecruitment(case_id=case.id)
    if country.strip():
        row.country = _country_code(country)
    if fee_amount.strip():
        row.fee_amount = _amount(fee_amount)
        row.fee_currency = _currency(fee_currency)
    if agency is None:
        agency = Agency(name=name, country=row.country)
        session.add(agency)
        session.flush()
        audit(session, actor, "agency_created", case.id, f"agency={agency.id}")
    agency = survivor(session, agency)
    row.agency_id = agency.id
    row.linked_at = utcnow()
    session.add(row)
    session.add(
        CaseEvent(
            case_id=case.id,
            kind="agency_linked",
            actor=f"user:{actor.id}",
            data={"agency": agency.id, "name": agency.name},
        )
    )
    audit(session, actor, "agency_linked", case.id, f"agency={agency.id}")
    return Outcome([])


def merge(session: Session, actor: User, source_id: int, target_id: int) -> Agency:
    """Merge one agency into another: its cases count under the other from now on."""
    source, target = session.get(Agency, source_id), session.get(Agency, target_id)
    if source is None or target is None:
        raise RecruitmentError("choose two agencies from the list")
    target = survivor(session, target)
    if survivor(session, source).id == target.id:
        raise RecruitmentError("these are already one agency")
    source.merged_into_id = target.id
    session.execute(
        update(CaseRecruitment)
        .where(CaseRecruitment.agency_id == source.id)
        .values(agency_id=target.id)
    )
    if target.country is None:
        target.country = source.country
    audit(session, actor, "agency_merged", None, f"agency={source.id} into={target.id}")
    return target


@dataclass
class AgencyRow:
    """One agency across cases, for staff."""

    agency: Agency
    cases: set[int] = field(default_factory=set)
    fee_cases: set[int] = field(default_factory=set)
    suppliers: set[int] = field(default_factory=set)
    fees: dict[str, Decimal] = field(default_factory=dict)  # currency -> what workers paid


def overview(session: Session) -> list[AgencyRow]:
    """Every agency with its cases, fee cases, suppliers and fees; most fee cases first."""
    rows = {agency.id: AgencyRow(agency) for agency in agencies(session)}
    linked = session.execute(
        select(Agency.id, CaseRecruitment, Case.category, Case.supplier_id)
        .join(CaseRecruitment, CaseRecruitment.agency_id == Agency.id)
        .join(Case, Case.id == CaseRecruitment.case_id)
        .where(Agency.merged_into_id.is_(None))
    )
    for agency_id, recruited, category, supplier_id in linked:
        row = rows[agency_id]
        row.cases.add(recruited.case_id)
        if category in RECRUITMENT_CATEGORIES:
            row.fee_cases.add(recruited.case_id)
        if supplier_id is not None:
            row.suppliers.add(supplier_id)
        if recruited.fee_amount is not None and recruited.fee_currency:
            paid = row.fees.get(recruited.fee_currency, Decimal(0))
            row.fees[recruited.fee_currency] = paid + recruited.fee_amount
    return sorted(
        rows.values(),
        key=lambda r: (-len(r.fee_cases), -len(r.cases), r.agency.name.lower()),
    )


def raise_agency_alerts(runtime: Runtime, now: datetime | None = None) -> list[AgencyAlert]:
    """New alerts for agencies linked to three or more fee or debt cases in the last year."""
    now = now or utcnow()
    raised = []
    with runtime.sessions() as db:
        groups = db.execute(
            select(
                CaseRecruitment.agency_id,
                func.count(Case.id),
                func.count(func.distinct(Case.supplier_id)),
            )
            .join(Case, Case.id == CaseRecruitment.case_id)
            .where(
                CaseRecruitment.agency_id.is_not(None),
                Case.category.in_(RECRUITMENT_CATEGORIES),
                Case.created_at >= now - AGENCY_WINDOW,
            )
            .group_by(CaseRecruitment.agency_id)
            .having(func.count(Case.id) >= AGENCY_ALERT_CASES)
        ).all()
        for agency_id, cases, suppliers in groups:
            recent = db.scalar(
                select(AgencyAlert.id).where(
                    AgencyAlert.agency_id == agency_id,
                    AgencyAlert.raised_at >= now - ALERT_REPEAT,
                )
            )
            if recent is None:
                alert = AgencyAlert(
                    agency_id=agency_id, cases=cases, suppliers=suppliers, raised_at=now
                )
                db.add(alert)
                raised.append(alert)
                audit(db, None, "agency_alert", None, f"agency={agency_id} cases={cases}")
        db.commit()
    if raised:
        log.info("raised %s agency alerts", len(raised))
    return raised


def active_agency_alerts(
    db: Session, now: datetime | None = None
) -> list[tuple[AgencyAlert, Agency]]:
    """Agency alerts of the last 30 days, newest first, with their agencies."""
    since = (now or utcnow()) - ALERT_REPEAT
    rows = db.execute(
        select(AgencyAlert, Agency)
        .join(Agency, Agency.id == AgencyAlert.agency_id)
        .where(AgencyAlert.raised_at >= since, AgencyAlert.closed_at.is_(None))
        .order_by(AgencyAlert.raised_at.desc())
    )
    return [(alert, agency) for alert, agency in rows]


def _country_code(country: str | None) -> str | None:
    code = (country or "").strip().upper()
    if not code:
        return None
    if len(code) != 2 or not code.isalpha():
        raise RecruitmentError("the country is a two-letter code, like NP or BD")
    return code


def _amount(text: str) -> Decimal:
    try:
        amount = Decimal(text.replace(",", "").strip())
    except ArithmeticError:
        raise RecruitmentError("the fee is a number, like 150000") from None
    if amount < 0 or amount >= Decimal("1e14"):
        raise RecruitmentError("the fee is a number, like 150000")
    return amount


def _currency(text: str) -> str | None:
    code = text.strip().upper()
    if not code:
        return None
    if len(code) != 3 or not code.isalpha():
        raise RecruitmentError("the currency is a three-letter code, like NPR or USD")
    return code
