"""What ``/api/v1`` accepts and answers, as pydantic models: the one source of both the
OpenAPI document (``web/openapi.py`` generates it) and the validation of every request.

A request that breaks a model is answered 400 with ``{"error": ...}`` saying which field
and why, before any view runs; a response is checked against its model on the way out, so
the document cannot promise what the views do not send.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, model_validator

from grievance.db import MAX_ID
from grievance.models.cases import DEFAULT_SEVERITY, INDICATORS, SEVERITIES, STATUSES
from grievance.models.remediation import (
    CASE_OUTCOMES,
    OUTCOMES,
    PLAN_STATUSES,
    REMEDY_TYPES,
    STEP_STATUSES,
    WORKER_ANSWERS,
)
from grievance.reports.aggregates import DIMENSIONS
from grievance.services.triage import CANNED_REPLIES


def _one_of(values: Any) -> Any:
    """``Literal`` of the values of a domain tuple or dict: the document lists them as an
    enum, and anything else is a 400 that names them."""
    return Literal[tuple(values)]


# The domain's vocabularies, each kept in one place in the models; for the type checker
# they are strings.
if TYPE_CHECKING:
    Status: TypeAlias = str
    QueueStatus: TypeAlias = str
    Category: TypeAlias = str
    Severity: TypeAlias = str
    Indicator: TypeAlias = str
    Outcome: TypeAlias = str
    CaseOutcome: TypeAlias = str
    RemedyType: TypeAlias = str
    StepStatus: TypeAlias = str
    PlanStatus: TypeAlias = str
    WorkerAnswer: TypeAlias = str
    Canned: TypeAlias = str
    Dimension: TypeAlias = str
else:
    Status = _one_of(STATUSES)
    QueueStatus = _one_of(("open", "all", *STATUSES))
    Category = _one_of(sorted(DEFAULT_SEVERITY))
    Severity = _one_of(SEVERITIES)
    Indicator = _one_of(INDICATORS)
    Outcome = _one_of(OUTCOMES)
    # How a case ended, as an answer says it: a merged duplicate's too (never asked for).
    CaseOutcome = _one_of(CASE_OUTCOMES)
    RemedyType = _one_of(REMEDY_TYPES)
    StepStatus = _one_of(STEP_STATUSES)
    PlanStatus = _one_of(PLAN_STATUSES)
    WorkerAnswer = _one_of(WORKER_ANSWERS)
    Canned = _one_of(CANNED_REPLIES)
    Dimension = _one_of(DIMENSIONS)


def _json_integer(value: Any) -> Any:
    """A number JSON may write as 4232 or 4232.0 (both are integers to JSON Schema); never a
    string or a boolean."""
    if isinstance(value, (bool, str)):
        raise ValueError("Input should be a valid integer")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_json_integer)]


def _date_text(value: Any) -> Any:
    """A date is written ``YYYY-MM-DD``; a number is not taken for seconds since 1970."""
    if not isinstance(value, str):
        raise ValueError("a date like 2026-12-31")
    return value


Date = Annotated[date, BeforeValidator(_date_text)]
# A number in a query string, where everything is text.
QueryId = Annotated[int, Field(ge=1, le=MAX_ID)]
# In a body, true is true: "yes" or 1 is a mistake to report, not to guess.
Flag = StrictBool
Moment = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Day = Annotated[str, Field(json_schema_extra={"format": "date"})]
Shown = Annotated[str, Field(description="a count, '<10' when small, '–' when hidden")]
Month = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}$")]


def _nullable_as_type_list(schema: dict[str, Any]) -> None:
    """``X | None`` as OpenAPI 3.1 says it, ``"type": ["integer", "null"]`` beside X's own
    bounds, instead of pydantic's ``anyOf`` of X and null, which test generators read
    less well (schemathesis took ``0`` for a valid ``minimum: 1`` inside the anyOf)."""
    for prop in schema.get("properties", {}).values():
        other = _beside_null(prop)
        if other is not None and isinstance(other.get("type"), str):
            del prop["anyOf"]
            prop.update(other, type=[other["type"], "null"])
            if "enum" in other:
                prop["enum"] = [*other["enum"], None]


def _absent_not_null(schema: dict[str, Any]) -> None:
    """A query parameter is left out, never null: ``X | None`` is documented as X."""
    for prop in schema.get("properties", {}).values():
        other = _beside_null(prop)
        if other is not None:
            del prop["anyOf"]
            prop.update(other)
            if prop.get("default", "") is None:
                del prop["default"]


def _names_one_of(*alternatives: dict[str, Any]) -> Any:
    """For a body whose fields are each optional but one of ``alternatives`` must hold
    (a model validator checks it): they may be left out, never null."""

    def document(schema: dict[str, Any]) -> None:
        _absent_not_null(schema)
        schema["oneOf"] = list(alternatives)

    return document


def _beside_null(prop: dict[str, Any]) -> dict[str, Any] | None:
    options = prop.get("anyOf")
    if not options or len(options) != 2 or {"type": "null"} not in options:
        return None
    (other,) = [o for o in options if o != {"type": "null"}]
    return dict(other)


class Body(BaseModel):
    """A request body: a field the model does not name is refused, so a typo never passes
    silently."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_nullable_as_type_list)


class Query(BaseModel):
    """Query parameters arrive as text: ``limit=20`` is read as a number. A parameter the
    model does not name is refused, like a body's field (``?severty=P0`` must not quietly
    list every case)."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, json_schema_extra=_absent_not_null
    )


class Answer(BaseModel):
    """A response: exactly the fields named, each as described."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_nullable_as_type_list)


class Error(Answer):
    """An error, in words."""

    error: str


class Alternatives(Body):
    """A body with optional fields of which some must be sent (``_names_one_of``): a field
    is left out, never sent as null."""

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = sorted(name for name, value in data.items() if value is None)
            if nulls:
                raise ValueError(f"leave out {', '.join(nulls)} rather than send null")
        return data


# -- the handlers' case API -------------------------------------------------------------


class QueueQuery(Query):
    status: QueueStatus | None = None
    category: Category | None = None
    severity: Severity | None = None
    site: QueryId | None = None
    supplier: QueryId | None = None
    language: Annotated[str, Field(max_length=16, description="BCP-47")] | None = None
    mine: bool = Field(False, description="only cases assigned to the token's user")
    assignee: QueryId | None = Field(None, description="only cases assigned to this user id")
    unassigned: bool = Field(False, description="only cases nobody is assigned to")
    overdue: bool = False
    q: Annotated[str, Field(max_length=200)] | None = None
    after: str | None = Field(None, description="the `next` of the previous page")
    limit: Annotated[int, Field(ge=1, le=200)] | None = None


class Case(Answer):
    id: int
    status: Status
    category: str | None
    severity: Severity
    supplier: str | None = Field(description="the supplier organisation's name")
    site: str | None
    language: str = Field(description="BCP-47")
    created_at: Moment
    due_at: Moment | None
    handover_requested: bool = Field(
        description="the worker asked for a person and no handler has written to them since"
    )
    unread_worker_messages: int = Field(
        ge=0,
        description="messages from the worker since a handler last opened the case (their "
        "words are read in the web UI only, where each reading is audited)",
    )
    last_worker_message_at: Moment | None


class CasePage(Answer):
    cases: list[Case]
    total: int
    next: str | None = Field(description="the cursor of the next page, if any")


class CaseDetail(Case):
    reported_category: str | None
    indicators: list[Indicator]
    assignee: str | None
    workplace: str | None
    acknowledged_at: Moment | None
    pending_severity: Severity | None
    closed_at: Moment | None


class Assign(Body):
    assignee_id: Id | None = Field(None, description="a handler's user id; null: nobody")


class Categorise(Body):
    category: Category
    indicators: list[Indicator] = []


class SetSeverity(Body):
    severity: Severity
    reason: str = ""


class Approval(Body):
    approve: Flag


class Note(Body):
    text: Annotated[str, Field(min_length=1, max_length=5000)]


class WorkerMessage(Alternatives):
    """A canned reply by its key, or free text sent as written; ``question`` (free text
    only) waits for the worker's answer, which lands on the case as the answer to it."""

    model_config = ConfigDict(
        json_schema_extra=_names_one_of(
            {
                "required": ["canned"],
                "properties": {"question": {"const": False}},
                "not": {"required": ["text"]},
            },
            {"required": ["text"], "not": {"required": ["canned"]}},
        )
    )
    canned: Canned | None = None
    text: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    question: Flag = False

    @model_validator(mode="after")
    def _one_kind(self) -> WorkerMessage:
        if (self.canned is None) == (self.text is None):
            raise ValueError("send either canned (a reply key) or text")
        if self.question and self.canned is not None:
            raise ValueError("question is for free text; canned questions always wait")
        return self


class Referral(Alternatives):
    model_config = ConfigDict(
        json_schema_extra=_names_one_of(
            {"required": ["referral"], "not": {"required": ["referral_id"]}},
            {"required": ["referral_id"], "not": {"required": ["referral"]}},
        )
    )
    referral: (
        Annotated[
            str,
            Field(max_length=80, description="the entry: its id in the contacts file, or db-<n>"),
        ]
        | None
    ) = None
    referral_id: Id | None = Field(
        None, description="instead of referral: the number of an entry added in the browser"
    )
    tell_worker: Flag = False

    @model_validator(mode="after")
    def _names_one(self) -> Referral:
        if (self.referral is None) == (self.referral_id is None):
            raise ValueError("send referral (or, for an entry added in the browser, referral_id)")
        return self

    @property
    def ref(self) -> str:
        return self.referral if self.referral is not None else f"db-{self.referral_id}"


class ReferToSupplier(Body):
    supplier_id: Id
    site_id: Id | None = None
    summary: Annotated[
        str, Field(min_length=20, description="for the supplier: it identifies nobody")
    ]


class CodeLookup(Body):
    code: Annotated[
        str,
        Field(
            min_length=1,
            max_length=60,
            description="the 12 digits a worker reads out; spaces and dashes allowed",
        ),
    ]


class Reason(Body):
    reason: Annotated[str, Field(min_length=10)]


# -- remediation ------------------------------------------------------------------------


class Evidence(Answer):
    id: int
    filename: str
    size: int
    on: Day


class Step(Answer):
    id: int
    description: str
    owner: str
    due_on: Day
    status: StepStatus
    evidence_hint: str | None
    evidence: list[Evidence]


class Comment(Answer):
    side: Literal["handler", "supplier"]
    on: Day
    text: str


class Plan(Answer):
    status: PlanStatus
    playbook: str | None = Field(description="the category it started from")
    due_on: Day | None
    returns: int = Field(description="times the handler sent it back")
    submitted_on: Day | None
    accepted_on: Day | None
    completed_on: Day | None
    verified_on: Day | None
    steps: list[Step]
    comments: list[Comment]


class SupplierCase(Answer):
    id: int
    status: Status
    category: str | None
    severity: Severity
    site: str | None
    supplier: str | None
    summary: str | None = Field(description="the handler's summary; never the worker's words")
    agency: str | None = Field(
        description="the recruitment agency a handler linked this case to, if any"
    )
    received: Day
    due: Day | None
    plan: Plan | None = None


class SupplierCases(Answer):
    cases: list[SupplierCase]


class Remedy(CaseDetail):
    worker_answer: WorkerAnswer | None
    outcome: CaseOutcome | None
    remedy_types: list[RemedyType]
    satisfaction: Annotated[int, Field(ge=1, le=5)] | None
    reopened: int
    linked_case_id: int | None
    close_pending_review: bool
    plan: Plan | None


class StartPlan(Body):
    from_playbook: Flag = Field(True, description="false: start with no steps")


class StepFields(Body):
    description: Annotated[str, Field(min_length=10, max_length=2000)]
    owner: Annotated[str, Field(min_length=2, max_length=200)]
    due_on: Date = Field(description="YYYY-MM-DD")


class StepStatusChange(Body):
    status: StepStatus


class CommentText(Body):
    text: Annotated[str, Field(min_length=1, max_length=2000)]


class Decision(Body):
    accept: Flag
    comment: str = ""


class Reopen(Body):
    comment: Annotated[str, Field(min_length=10)]


class Close(Body):
    outcome: Outcome
    remedy_types: list[RemedyType] = []
    reason: Annotated[str, Field(min_length=10)]


class EvidenceUpload(BaseModel):
    """PDF, image, CSV, XLSX, DOCX or TXT; stored encrypted."""

    file: Annotated[Any, Field(json_schema_extra={"type": "string", "format": "binary"})]


# -- reports ----------------------------------------------------------------------------

_MAYBE_MONTH = r"^([0-9]{4}-(0[1-9]|1[0-2]))?$"


class PeriodQuery(Query):
    from_: Annotated[str, Field(pattern=_MAYBE_MONTH)] | None = Field(
        None,
        alias="from",
        description="first month, YYYY-MM, widened to its quarter (default: the quarter "
        "before the latest published)",
    )
    to: Annotated[str, Field(pattern=_MAYBE_MONTH)] | None = Field(
        None,
        description="last month, YYYY-MM, widened to its quarter (default: the latest "
        "published quarter); at most 36 months",
    )
    view: Literal["published", "live"] | None = Field(
        None,
        description="published quarters (default), or live figures for any months (admin "
        "and handler tokens only)",
    )


class CountsQuery(PeriodQuery):
    by: Dimension | None = None


Pending = Annotated[
    str | None,
    Field(description="the first quarter of the period not published yet, like 2026-Q4"),
]


class CountsRow(Answer):
    name: str
    cells: list[Shown]
    total: Shown


class Counts(Answer):
    view: Literal["published", "live"]
    dimension: Dimension
    label: str
    first: Month
    last: Month
    k: int
    months: list[str]
    rows: list[CountsRow]
    column_totals: list[Shown]
    total: Shown
    pending: Pending


class Measure(Answer):
    label: str
    cases: int | None = Field(description="null when under k")
    value: str


class Period(Answer):
    period: str = Field(description="a quarter, like 2026-Q3, or the live period")
    measures: list[Measure]


class Trend(Answer):
    label: str
    values: list[str]


class Handling(Answer):
    view: Literal["published", "live"]
    first: Month
    last: Month
    k: int
    periods: list[Period]
    months: list[str]
    cases_received: list[Shown]
    trend: list[Trend]
    pending: Pending
