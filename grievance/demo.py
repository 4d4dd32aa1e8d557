"""Demo data: fictional suppliers, a buyer, a referral directory, one user per role and
a few hundred cases at every stage, so a new deployment can be tried before a worker writes.

Everything is made up: the organisations, the sites, the referral directory (example.org
addresses and +60 3-0000 0000-style numbers) and the cases, whose words are generic and
name nobody. Demo cases have no contact: the demo never creates a phone number, so no
message can ever go out because of it. Choices come from ``random.Random(seed)``; the
secrets (password, TOTP secrets, case codes) come from :mod:`secrets` and are never
derived from the seed.
"""

from __future__ import annotations

import itertools
import json
import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from grievance import playbooks, sla
from grievance.auth import accounts
from grievance.clock import utcnow
from grievance.db import transaction
from grievance.models import (
    INBOUND,
    Agency,
    AuditEvent,
    Case,
    CaseEvent,
    CaseNote,
    CaseRecruitment,
    Evidence,
    Message,
    Organisation,
    ReferralOrg,
    RemediationPlan,
    RemediationStep,
    Site,
    User,
    WellbeingResponse,
    WellbeingWave,
)
from grievance.models.accounts import buyer_suppliers
from grievance.models.cases import DEFAULT_SEVERITY, OPEN_STATUSES
from grievance.models.recruitment import RECRUITMENT_CATEGORIES
from grievance.reports.wellbeing import QUESTIONS
from grievance.runtime import Runtime

DEMO_DOMAIN = "demo.example"
HISTORY = timedelta(days=180)
Frames = Mapping[str, Mapping[str, str]]


class DemoDataExistsError(RuntimeError):
    """The database already holds demo data; running the demo again would duplicate it."""


@dataclass(frozen=True)
class DemoReport:
    """What :func:`create_demo` made, with the sign-in details it shows only once."""

    organisations: int
    sites: int
    users: int
    cases: int
    referrals: int
    password: str
    # email -> base32 TOTP secret, for the accounts that must use a second factor.
    totp_secrets: dict[str, str] = field(default_factory=dict)
    # (email, role, organisation or "") of each demo account.
    accounts: tuple[tuple[str, str, str], ...] = ()

    def lines(self) -> list[str]:
        """Human-readable lines for the CLI; they hold the password, so print them once."""
        out = [
            f"Demo data created: {self.organisations} organisations, {self.sites} sites, "
            f"{self.referrals} referral organisations, {self.users} users, {self.cases} cases.",
            "",
            "Demo accounts (shown only now; nothing stores them in clear):",
        ]
        for email, role, org in self.accounts:
            out.append(f"  {role:<9} {email:<22} {org}".rstrip())
        out.append(f"Password of all {len(self.accounts)}: {self.password}")
        if self.totp_secrets:
            out += [
                "",
                "Admins and handlers also need a one-time code. Add these secrets to an "
                "authenticator app (or open the otpauth: link on a phone):",
            ]
            for email, secret in self.totp_secrets.items():
                out.append(f"  {email}: {secret}")
                out.append(f"    {accounts.provisioning_uri(secret, email)}")
        out += [
            "",
            "The demo is for trying the software. Do not use these accounts, or this "
            "database, for real workers' reports.",
        ]
        return out


# -- the fictional world --------------------------------------------------------------


@dataclass(frozen=True)
class _SiteSpec:
    name: str
    country: str
    # What a worker might type when asked where they work.
    workplaces: tuple[str, ...]
    hostel: bool = False
    weight: int = 3


@dataclass(frozen=True)
class _SupplierSpec:
    name: str
    weight: int
    sites: tuple[_SiteSpec, ...]


SUPPLIERS = (
    _SupplierSpec(
        "Straits Apparel Sdn Bhd (demo)",
        45,
        (
            _SiteSpec(
                "Bayan Lepas garment factory, Penang",
                "MY",
                (
                    "garment factory Bayan Lepas",
                    "Straits Apparel, Penang",
                    "sewing factory in Penang",
                ),
                weight=6,
            ),
            _SiteSpec(
                "Prai cutting and finishing unit, Penang",
                "MY",
                ("Prai factory", "cutting section, Prai", "Straits Prai"),
            ),
            _SiteSpec(
                "Sungai Ara workers' hostel, Penang",
                "MY",
                ("hostel Sungai Ara", "the company hostel in Penang"),
                hostel=True,
                weight=2,
            ),
        ),
    ),
    _SupplierSpec(
        "Tebrau Electronics Manufacturing Sdn Bhd (demo)",
        35,
        (
            _SiteSpec(
                "Pasir Gudang electronics plant, Johor",
                "MY",
                ("electronics factory Pasir Gudang", "Tebrau plant Johor", "PCB factory in Johor"),
                weight=5,
            ),
            _SiteSpec(
                "Senai assembly plant, Johor",
                "MY",
                ("Senai factory", "assembly plant near Senai airport"),
                weight=3,
            ),
            _SiteSpec(
                "Kulai workers' hostel, Johor",
                "MY",
                ("Kulai hostel", "the hostel in Kulai"),
                hostel=True,
                weight=2,
            ),
        ),
    ),
    _SupplierSpec(
        "Gulf Star Seafood Co., Ltd. (demo)",
        20,
        (
            _SiteSpec(
                "Mahachai processing plant, Samut Sakhon",
                "TH",
                ("fish factory Mahachai", "seafood factory Samut Sakhon", "Gulf Star Mahachai"),
                weight=5,
            ),
            _SiteSpec(
                "Tha Chalom shrimp peeling shed, Samut Sakhon",
                "TH",
                ("shrimp peeling shed", "peeling shed Tha Chalom"),
                weight=3,
            ),
        ),
    ),
)
# The buyer sources from the two Malaysian suppliers only, so the demo shows that a
# buyer sees the suppliers linked to it and nothing of the others.
BUYER = "Northwind Retail Group (demo)"
BUYER_SOURCES_FROM = SUPPLIERS[:2]
ORGANISATION_NAMES = (*(s.name for s in SUPPLIERS), BUYER)
# One user per role; the supplier user works for the first supplier.
ROLES_IN_ORDER = ("admin", "handler", "supplier", "buyer")
EMAILS = tuple(f"{role}@{DEMO_DOMAIN}" for role in ROLES_IN_ORDER)
USER_ORGS = ("", "", SUPPLIERS[0].name, BUYER)

# Workplaces outside the demo supply chain: cases the handler cannot link (yet).
OTHER_WORKPLACES = (
    ("glove factory in Klang", "MY"),
    ("construction site near Kuala Lumpur", "MY"),
    ("palm oil estate near Kluang", "MY"),
    ("fishing boat, Songkhla", "TH"),
    ("chicken processing factory, Saraburi", "TH"),
    ("I work in a factory, I don't know the company name", "MY"),
)

REFERRALS = (
    (
        "Electronics and Garment Workers' Union, Penang branch (demo)",
        "MY",
        ["en", "ms", "ne", "my"],
        "Call +60 4-000 0000 (Mon-Sat 9am-6pm) or write to help@union-demo.example.org.",
    ),
    (
        "Migrant Workers' Support Network Malaysia (demo)",
        "MY",
        ["en", "ms", "ne", "my", "bn"],
        "WhatsApp +60 3-0000 0000; walk-in centre details at https://mwsn-demo.example.org.",
    ),
    (
        "Legal Aid Clinic for Migrant Workers, Kuala Lumpur (demo)",
        "MY",
        ["en", "ms"],
        "Free advice on wages and contracts: +60 3-0000 0001 or legal@aid-demo.example.org.",
    ),
    (
        "Labour Attaché, Embassy of Nepal, Kuala Lumpur (demo)",
        "MY",
        ["ne", "en"],
        "Labour desk: +60 3-0000 0002 (office hours); labour@embassy-demo.example.org.",
    ),
    (
        "Seafood Workers' Rights Centre, Samut Sakhon (demo)",
        "TH",
        ["th", "my", "km", "en"],
        "Hotline +66 2-000 0000 (24 hours) or https://swrc-demo.example.org.",
    ),
)

# All codes, with the forced-labour ones more common (what helplines in the corridor report).
CATEGORY_WEIGHTS = {
    "FL-FEE": 14,
    "FL-DEBT": 10,
    "FL-MOV": 10,
    "WAGE": 12,
    "HRS": 10,
    "OSH": 8,
    "LIV": 8,
    "ABUSE": 6,
    "EMP": 6,
    "VIO": 4,
    "INFO": 4,
    "RET": 3,
    "FOA": 3,
    "CHILD": 2,
}
# Weighted toward the open stages (the first six), with the closed ones spread over
# the months so that monthly reports have data.
STATUS_WEIGHTS = {
    "requested": 2,
    "received": 4,
    "acknowledged": 5,
    "in_triage": 10,
    "with_supplier": 14,
    "remediation_in_progress": 14,
    "awaiting_worker": 6,
    "resolved": 9,
    "closed": 23,
    "referred": 6,
    "out_of_scope": 4,
    "withdrawn": 5,
}
# The stages a case went through to reach each status.
_TRIAGED = ("received", "acknowledged", "in_triage")
_REMEDIED = (*_TRIAGED, "with_supplier", "remediation_in_progress", "awaiting_worker")
PATHS: dict[str, tuple[str, ...]] = {
    "requested": ("requested",),
    "received": ("received",),
    "acknowledged": ("received", "acknowledged"),
    "in_triage": _TRIAGED,
    "with_supplier": _REMEDIED[:4],
    "remediation_in_progress": _REMEDIED[:5],
    "awaiting_worker": _REMEDIED,
    "resolved": (*_REMEDIED, "resolved"),
    "closed": (*_REMEDIED, "resolved", "closed"),
    "referred": (*_TRIAGED, "referred"),
    "out_of_scope": (*_TRIAGED, "out_of_scope"),
    "withdrawn": ("received", "acknowledged", "withdrawn"),
}
# Categories where a worker can be in danger now (docs/domain.md: P0).
DANGER = {"FL-MOV": 0.15, "VIO": 0.3, "OSH": 0.2}
FL_INDICATORS = {
    "FL-MOV": ("movement", "documents", "isolation", "threats"),
    "FL-FEE": ("deception", "debt", "vulnerability", "wages"),
    "FL-DEBT": ("debt", "wages", "threats", "vulnerability", "overtime"),
}

# (worker's description, handler's summary, supplier's summary). Placeholders:
# {fee} {cur} {amount} {hours} {months} {people}. Generic and anonymous on purpose.
STORIES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "FL-MOV": (
        (
            "The company keeps our passports in the office. When I ask for mine they say only "
            "when the contract finish.",
            "Employer holds workers' passports and refuses to return them on request.",
            "Workers report that passports are kept by the company and are not returned when "
            "workers ask for them.",
        ),
        (
            "We cannot go out of the hostel after work. The guard locks the gate and we need a "
            "letter from the supervisor.",
            "Workers are locked in the hostel outside working hours and need written "
            "permission to leave.",
            "Workers report that the hostel gate is locked after work and that they need "
            "permission to go out.",
        ),
        (
            "Agent took my passport at the airport and never gave it back. Now my permit is "
            "expired and I am afraid of the police.",
            "Recruitment agent kept the worker's passport on arrival; work permit now expired.",
            "Workers report that the recruitment agent keeps their passports and that some "
            "work permits have expired.",
        ),
    ),
    "FL-FEE": (
        (
            "I paid the agent a lot of money for this job. Now the company also cuts {amount} "
            "{cur} every month and says it is for the agent.",
            "Worker paid a recruitment fee at home; a further {amount} {cur} a month is "
            "deducted from wages for the agent.",
            "Workers report that recruitment fees of about {fee} {cur} were deducted from wages.",
        ),
        (
            "Agent said salary is good and the job is in electronics but here it is packing "
            "and salary is much less. I still pay back the loan for the agent fee.",
            "Deceptive recruitment: the job and wage differ from what the agent promised; the "
            "worker borrowed to pay the agent's fee.",
            "Workers report that the job and wages differ from what the recruitment agent "
            "promised, and that they paid fees of about {fee} {cur} to the agent.",
        ),
        (
            "All of us paid the agency fee and they are still cutting from salary. When I ask "
            "for a receipt nobody gives.",
            "Recruitment fees are recovered from wages without receipts; several workers affected.",
            "Workers report that recruitment fees are deducted from wages and that no "
            "receipts are given.",
        ),
    ),
    "FL-DEBT": (
        (
            "Company gave a loan for the ticket and every month they cut. I work {months} "
            "months already and still I have debt.",
            "Travel loan from the employer is repaid from wages with no end in sight.",
            "Workers report that loans for travel costs are deducted from wages over many months.",
        ),
        (
            "They keep {months} months of salary as a deposit. If I leave before the contract "
            "ends I lose it.",
            "Employer withholds wages as a deposit forfeited on resignation.",
            "Workers report that part of their wages is held as a deposit that is lost if "
            "they resign early.",
        ),
        (
            "Supervisor says if I resign I must pay {fee} {cur}. I cannot pay so I cannot go home.",
            "Worker is told to pay a penalty of {fee} {cur} to resign.",
            "Workers report that they are asked to pay a penalty of about {fee} {cur} if they "
            "resign.",
        ),
    ),
    "VIO": (
        (
            "One supervisor touches the women workers and says dirty things. We are afraid to "
            "tell anyone.",
            "Sexual harassment of women workers by a line supervisor; workers afraid to report.",
            "Workers report sexual harassment by a supervisor on the production floor.",
        ),
        (
            "The security guard hit my friend at the hostel because he came back late.",
            "Physical assault by a security guard at the hostel.",
            "Workers report that a security guard used physical force against a worker at "
            "the hostel.",
        ),
    ),
    "CHILD": (
        (
            "There are some young girls in the packing section, I think 15 or 16 years old. "
            "They use other people's documents.",
            "Possible under-age workers in packing, using borrowed identity documents.",
            "Workers report that some workers in the packing section may be under 18.",
        ),
    ),
    "RET": (
        (
            "After I complained last month my supervisor moved me to night shift and cut my "
            "overtime.",
            "Possible retaliation after a complaint: moved to night shift, overtime cut.",
            "A worker reports being moved to night shift and losing overtime after raising "
            "a concern.",
        ),
        (
            "The manager asked everyone who sent the complaint and said they will find out.",
            "Management is trying to identify who used the grievance mechanism.",
            "Workers report that managers asked who raised a concern through the helpline.",
        ),
    ),
    "OSH": (
        (
            "The fire exit on our floor is locked with a chain during night shift.",
            "Fire exit chained shut during night shift.",
            "Workers report that a fire exit is locked during the night shift.",
        ),
        (
            "We clean the boards with chemicals with no mask and no gloves. Many people have "
            "headache and skin rash.",
            "Chemical exposure without protective equipment; headaches and skin rashes.",
            "Workers report handling cleaning chemicals without masks or gloves, with "
            "headaches and skin rashes.",
        ),
        (
            "Strong ammonia smell in the freezer room. Last week two workers fainted.",
            "Ammonia leak suspected in the freezer area; two workers fainted.",
            "Workers report a strong ammonia smell in the freezer area and workers fainting.",
        ),
    ),
    "HRS": (
        (
            "We work 12 hours every day and also Sunday. If we refuse overtime the supervisor "
            "says we will be sent home.",
            "Compulsory overtime, seven days a week, under threat of dismissal.",
            "Workers report working 12-hour days, seven days a week, and that overtime cannot "
            "be refused.",
        ),
        (
            "In peak season we work until midnight, more than {hours} hours a week.",
            "Excessive overtime in peak season, about {hours} hours a week.",
            "Workers report working about {hours} hours a week in peak season.",
        ),
    ),
    "WAGE": (
        (
            "This month salary is less than minimum wage and overtime is not paid at the "
            "right rate.",
            "Wages below the legal minimum; overtime premium not paid.",
            "Workers report wages below the minimum wage and overtime paid at the normal rate.",
        ),
        (
            "Salary is late {months} months. They say wait.",
            "Wages paid {months} months late.",
            "Workers report that wages have been paid about {months} months late.",
        ),
        (
            "They cut {amount} {cur} for hostel and transport but we never agreed.",
            "Unagreed deductions of {amount} {cur} a month for housing and transport.",
            "Workers report deductions of about {amount} {cur} a month for housing and "
            "transport that they did not agree to.",
        ),
    ),
    "LIV": (
        (
            "Our room has {people} people. One toilet for 40 people and the water is dirty.",
            "Overcrowded dormitory ({people} to a room), too few toilets, unsafe water.",
            "Workers report overcrowded rooms, too few toilets and unclean water at the hostel.",
        ),
        (
            "No fan in the room and the roof leaks when it rains. Many bed bugs.",
            "Hostel rooms without ventilation, leaking roof, bed bugs.",
            "Workers report hostel rooms without fans, a leaking roof and bed bugs.",
        ),
    ),
    "ABUSE": (
        (
            "Supervisor shouts at us every day and calls us bad names because we are foreign.",
            "Verbal abuse and insults about nationality by a supervisor.",
            "Workers report daily shouting and insults about their nationality by a supervisor.",
        ),
        (
            "Local workers get the good shifts and we always get night shift.",
            "Shift allocation discriminates against migrant workers.",
            "Workers report that migrant workers are always given night shifts.",
        ),
    ),
    "FOA": (
        (
            "Some of us want to join the union but the manager says whoever joins will lose "
            "overtime.",
            "Workers threatened with loss of overtime for joining a union.",
            "Workers report being told they would lose overtime if they joined a union.",
        ),
        (
            "The workers' committee members are all chosen by the management.",
            "Worker committee appointed by management, not elected.",
            "Workers report that members of the workers' committee are appointed by management.",
        ),
    ),
    "EMP": (
        (
            "My contract is in a language I cannot read and I did not get a copy.",
            "No copy of the contract; contract not in a language the worker reads.",
            "Workers report not receiving a copy of their contract in a language they read.",
        ),
        (
            "I asked for leave to go home for my father's funeral and they refused.",
            "Compassionate leave refused.",
            "A worker reports that a request for compassionate leave was refused.",
        ),
        (
            "They ended my contract without notice after I was sick for one week.",
            "Dismissal without notice after sick leave.",
            "A worker reports dismissal without notice after a week of sick leave.",
        ),
    ),
    "INFO": (
        (
            "How can I renew my work permit? My employer does not help.",
            "Question about renewing a work permit.",
            "A worker asked how to renew a work permit.",
        ),
        (
            "Can I change employer when my contract finishes?",
            "Question about changing employer at the end of the contract.",
            "A worker asked about changing employer at the end of the contract.",
        ),
    ),
}
NOTES = (
    "Worker prefers messages in the evening, after the shift.",
    "Similar reports from this site last quarter; check the remediation history.",
    "Asked the worker for a photo of the payslip (without names).",
    "Second reviewer agreed with the category and severity.",
    "Supplier's first plan was too vague; asked for dates and an owner per step.",
)
REMEDIES = (
    "Restitution: fees repaid to the workers concerned; receipts checked.",
    "Restitution: back pay for the underpaid overtime; payslips checked.",
    "Guarantee of non-repetition: policy changed and supervisors trained; worker confirmed.",
    "Apology and sanction: supervisor disciplined; worker confirmed the change.",
    "Rehabilitation: hostel repaired and rooms decongested; verified at a visit.",
)
CLOSE_REASONS = {
    "referred": "Referred to a partner organisation better placed to help.",
    "out_of_scope": "The workplace is not in the supply chain this mechanism covers.",
    "withdrawn": "Withdrawn by the worker.",
}


# -- building it ----------------------------------------------------------------------


def create_demo(
    runtime: Runtime, *, cases: int = 200, seed: int = 7, now: datetime | None = None
) -> DemoReport:
    """Create the demo organisations, users, referral directory and ``cases`` cases.

    One transaction: it all exists or none of it does. Refuses with
    :class:`DemoDataExistsError`, adding nothing, when demo data is already there.
    The same ``seed`` (and ``now``) gives the same cases; the password, TOTP
    secrets and case codes are fresh every time.
    """
    if cases < 0:
        raise ValueError("the number of demo cases cannot be negative")
    now = now or utcnow()
    # Demo content only: every secret below comes from `secrets`, never from this.
    rng = random.Random(seed)  # noqa: S311
    password = accounts.generate_password()
    with transaction(runtime.sessions) as session:
        _refuse_twice(session)
        suppliers, buyer, sites = _organisations(session)
        organisations = {org.name: org.id for org in (*suppliers, buyer)}
        users, totp = _users(session, runtime, password, organisations)
        referrals = _referrals(session)
        made = _cases(session, runtime, rng, now, cases, suppliers, sites, users, referrals)
        _wellbeing(session, rng, now, [site for pairs in sites.values() for site, _ in pairs])
    return DemoReport(
        organisations=len(suppliers) + 1,
        sites=sum(len(s) for s in sites.values()),
        users=len(users),
        cases=made,
        referrals=len(referrals),
        password=password,
        totp_secrets=totp,
        accounts=tuple(
            (u.email, u.role, org) for u, org in zip(users.values(), USER_ORGS, strict=True)
        ),
    )


def _wellbeing(session: Session, rng: random.Random, now: datetime, sites: list[Site]) -> None:
    """Wellbeing waves at the first three sites, three months apart: answers only (the
    demo has no phone numbers, so no members), with income the weakest area and each site
    a little better at every wave."""
    for n, site in enumerate(sites[:3]):
        site.pulse_keyword = f"well-{4821 + n}"
        for wave in range(1, 4):
            invited = rng.randint(48, 64)
            sent = WellbeingWave(
                site_id=site.id,
                wave=wave,
                status="sent",
                created_at=now - timedelta(days=30 * (9 - 3 * wave) + 5),
                finished_at=now - timedelta(days=30 * (9 - 3 * wave) + 4),
                total=invited + 2,
                invited=invited,
                skipped=2,
                shared_at=now - timedelta(days=30 * (9 - 3 * wave)) if wave < 3 else None,
            )
            session.add(sent)
            session.flush()
            base = {"safety": 3.6, "respect": 3.2, "income": 2.5}
            for _ in range(int(invited * rng.uniform(0.5, 0.75))):
                answers: dict[str, int] = {}
                reached = rng.choices(range(1, 7), weights=(1, 1, 1, 1, 2, 14))[0]
                for question in QUESTIONS[:reached]:
                    mean = base[question.split("_")[0]] + 0.25 * wave - 0.2 * n
                    value = round(rng.gauss(mean, 0.9))
                    answers[question] = 0 if rng.random() < 0.04 else min(5, max(1, value))
                said_more = reached == 6 and rng.random() < 0.12
                session.add(
                    WellbeingResponse(
                        token=secrets.token_urlsafe(32),
                        wave_id=sent.id,
                        site_id=site.id,
                        answers=answers,
                        said_more=said_more,
                        reported=said_more and rng.random() < 0.4,
                    )
                )


def _refuse_twice(session: Session) -> None:
    orgs = session.scalar(
        select(func.count(Organisation.id)).where(Organisation.name.in_(ORGANISATION_NAMES))
    )
    users = session.scalar(select(func.count(User.id)).where(User.email.like(f"%@{DEMO_DOMAIN}")))
    if orgs or users:
        raise DemoDataExistsError(
            f"demo data already exists in this database ({orgs} demo organisations, "
            f"{users} users @{DEMO_DOMAIN}); nothing was added. The demo is created once, "
            "on a database of its own: to start again, point DATABASE_URL at an empty one."
        )


def _organisations(
    session: Session,
) -> tuple[list[Organisation], Organisation, dict[int, list[tuple[Site, _SiteSpec]]]]:
    suppliers = [accounts.create_organisation(session, s.name, "supplier") for s in SUPPLIERS]
    buyer = accounts.create_organisation(session, BUYER, "buyer")
    sites: dict[int, list[tuple[Site, _SiteSpec]]] = {}
    for org, spec in zip(suppliers, SUPPLIERS, strict=True):
        sites[org.id] = [
            (Site(supplier_id=org.id, name=s.name, country=s.country), s) for s in spec.sites
        ]
        session.add_all(site for site, _ in sites[org.id])
    session.flush()
    session.execute(
        insert(buyer_suppliers),
        [
            {"buyer_id": buyer.id, "supplier_id": org.id}
            for org, spec in zip(suppliers, SUPPLIERS, strict=True)
            if spec in BUYER_SOURCES_FROM
        ],
    )
    return suppliers, buyer, sites


def _users(
    session: Session, runtime: Runtime, password: str, organisations: dict[str, int]
) -> tuple[dict[str, User], dict[str, str]]:
    # One argon2 hash for the one shared password: hashing it four times costs seconds.
    password_hash = accounts.hash_password(password)
    users: dict[str, User] = {}
    totp: dict[str, str] = {}
    for role, email, org in zip(ROLES_IN_ORDER, EMAILS, USER_ORGS, strict=True):
        user = User(
            email=accounts.normalize_email(email),
            role=role,
            organisation_id=organisations[org] if org else None,
            password_hash=password_hash,
            must_change_password=False,
        )
        if accounts.mfa_required(user):
            secret = accounts.new_totp_secret()
            accounts.enable_totp(user, runtime.protector, secret)
            totp[email] = secret
        users[role] = user
    session.add_all(users.values())
    session.flush()
    return users, totp


def _referrals(session: Session) -> list[ReferralOrg]:
    rows = [
        ReferralOrg(name=name, country=country, languages=languages, how_to_reach=how)
        for name, country, languages, how in REFERRALS
    ]
    session.add_all(rows)
    session.flush()
    return rows


def _pick(rng: random.Random, i: int, weights: dict[str, int]) -> str:
    # The first cases take every value once, so even a small demo shows them all.
    keys = list(weights)
    if i < len(keys):
        return keys[i]
    return rng.choices(keys, weights=list(weights.values()))[0]


@dataclass
class _Plan:
    """One demo case before its timeline is written."""

    case: Case
    transitions: list[tuple[str, datetime]]
    handler: User | None
    supplier: Organisation | None
    site: Site | None
    note: str | None
    referral: ReferralOrg | None


def _cases(
    session: Session,
    runtime: Runtime,
    rng: random.Random,
    now: datetime,
    count: int,
    suppliers: list[Organisation],
    sites: dict[int, list[tuple[Site, _SiteSpec]]],
    users: dict[str, User],
    referrals: Sequence[ReferralOrg],
) -> int:
    languages = list(runtime.settings.languages)
    # Handlers take most cases; the admin helps out with some.
    handlers = [users["handler"]] * 3 + [users["admin"]]
    plans = []
    for i in range(count):
        plans.append(
            _plan(
                rng,
                runtime,
                now,
                status=_pick(rng, i, STATUS_WEIGHTS),
                category=_pick(rng, i, CATEGORY_WEIGHTS),
                language=languages[i] if i < len(languages) else rng.choice(languages),
                suppliers=suppliers,
                sites=sites,
                handler=rng.choice(handlers),
                referral=rng.choice(referrals),
            )
        )
    # Older cases get lower ids, as if they had come in over the months.
    plans.sort(key=lambda p: p.transitions[0][1])
    session.add_all(p.case for p in plans)
    session.flush()
    rows: list[object] = []
    for plan in plans:
        rows += _timeline(runtime, plan)
    session.add_all(rows)
    session.add_all(_follow_ups(runtime, rng, plans, now))
    session.flush()
    books = playbooks.load()
    for plan in plans:
        _remediation(session, runtime, rng, plan, books)
    session.flush()
    # A generator of its own, so the cases above stay what they were before agencies.
    _agencies(session, runtime, random.Random(f"agencies {len(plans)}"), plans)  # noqa: S311
    session.flush()
    return len(plans)


# Made-up recruitment agencies, and how workers wrote their names.
AGENCIES = (
    ("Example Manpower Pvt Ltd", "NP", ("Example Manpower", "example manpower kathmandu")),
    ("Sample Overseas Recruiting", "BD", ("Sample Overseas", "sample overseas dhaka")),
    ("Demo Link Agency", "MM", ("Demo Link", "demo link yangon")),
)
FEES = {
    "NP": ("NPR", (80_000, 250_000)),
    "BD": ("BDT", (150_000, 500_000)),
    "MM": ("MMK", (900_000, 3_000_000)),
}


def _agencies(session: Session, runtime: Runtime, rng: random.Random, plans: list[_Plan]) -> None:
    """Most fees and debt cases name one of three made-up agencies, as a worker wrote it,
    and a handler has linked most of those."""
    agencies = [Agency(name=name, country=country) for name, country, _ in AGENCIES]
    session.add_all(agencies)
    session.flush()
    for plan in plans:
        case = plan.case
        if case.category not in RECRUITMENT_CATEGORIES or rng.random() < 0.25:
            continue
        n = rng.randrange(len(AGENCIES))
        _, country, spellings = AGENCIES[n]
        currency, (low, high) = FEES[country]
        amount = rng.randrange(low, high, 1000)
        words = {
            "agency": rng.choice(spellings),
            "recruited_in": country,
            "fee": f"{amount} {currency.lower()}",
        }
        session.add(
            CaseRecruitment(
                case_id=case.id,
                words_encrypted=runtime.protector.encrypt(json.dumps(words)),
                country=country,
                fee_amount=amount,
                fee_currency=currency,
                agency_id=agencies[n].id if rng.random() < 0.8 else None,
                at=case.created_at,
            )
        )


# What workers write after their report, in the demo: the case's timeline shows them unread.
FOLLOW_UPS = (
    "They paid back only half. The agent says the rest comes next month.",
    "I forgot to say: three of us paid the same agent in Kathmandu.",
    "The supervisor asked who complained. I am afraid.",
    "Here is my pay slip for last month.",
    "Thank you, the passport is back with me now.",
)
_FOLLOWED = ("in_triage", "with_supplier", "remediation_in_progress", "awaiting_worker")


def _follow_ups(
    runtime: Runtime, rng: random.Random, plans: list[_Plan], now: datetime
) -> list[Message]:
    """About one open case in ten has words from the worker that no handler has read yet."""
    messages = []
    for plan in plans:
        case = plan.case
        if case.status not in _FOLLOWED or rng.random() >= 0.1:
            continue
        last = plan.transitions[-1][1]
        for n in range(rng.randrange(1, 3)):
            at = last + (now - last) * rng.uniform(0.3, 0.95) + timedelta(minutes=n)
            messages.append(
                Message(
                    direction=INBOUND,
                    contact_id=None,
                    case_id=case.id,
                    channel=case.channel,
                    body_encrypted=runtime.protector.encrypt(rng.choice(FOLLOW_UPS)),
                    created_at=at,
                    processed_at=at,
                )
            )
            case.unread_worker_messages = n + 1
            case.last_worker_message_at = case.updated_at = at
        case.attention = 0
    return messages


# A stand-in evidence file: a tiny valid PDF, encrypted like a real upload.
DEMO_EVIDENCE = b"%PDF-1.4\n% demo evidence\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
_REMEDIATED = ("remediation_in_progress", "awaiting_worker", "resolved", "closed")


def _remediation(
    session: Session,
    runtime: Runtime,
    rng: random.Random,
    plan: _Plan,
    books: Mapping[str, playbooks.Playbook],
) -> None:
    """The supplier's plan from the playbook, as far as the case has come; the worker's answer,
    the remedy types and satisfaction for resolved and closed cases."""
    case = plan.case
    book = books.get(case.category or "")
    stages = dict(plan.transitions)
    if plan.supplier is None or book is None or "with_supplier" not in stages:
        return
    referred = stages["with_supplier"]
    if case.status == "with_supplier" and rng.random() < 0.2:
        return  # not started yet
    status = {
        "with_supplier": rng.choice(("draft", "submitted", "returned")),
        "remediation_in_progress": "accepted",
    }.get(case.status, "verified")
    accepted = stages.get("remediation_in_progress")
    finished = stages.get("awaiting_worker")
    remedy = RemediationPlan(
        case_id=case.id,
        supplier_id=plan.supplier.id,
        status=status,
        playbook=book.category,
        due_on=(case.due_at or referred).date() if case.status == "with_supplier" else None,
        returns=1 if status == "returned" or rng.random() < 0.25 else 0,
        created_at=referred + timedelta(hours=rng.randrange(2, 48)),
        submitted_at=accepted - timedelta(days=1) if accepted else None,
        accepted_at=accepted,
        completed_at=finished - timedelta(hours=6) if finished else None,
        verified_at=finished,
    )
    session.add(remedy)
    session.flush()
    done_before = len(book.steps) if finished else rng.randrange(0, len(book.steps))
    for position, suggested in enumerate(book.steps):
        done = case.status in _REMEDIATED and position < done_before
        step = RemediationStep(
            plan_id=remedy.id,
            position=position,
            description=suggested.description,
            owner=suggested.owner,
            due_on=(referred + timedelta(days=suggested.days)).date(),
            status="done"
            if done
            else ("in_progress" if accepted and position == done_before else "planned"),
            evidence_hint=suggested.evidence,
            done_at=(finished or utcnow()) - timedelta(days=len(book.steps) - position)
            if done
            else None,
        )
        session.add(step)
        if done:
            session.flush()
            session.add(
                Evidence(
                    step_id=step.id,
                    filename=f"step-{position + 1}-evidence.pdf",
                    content_type="application/pdf",
                    size=len(DEMO_EVIDENCE),
                    data_encrypted=runtime.protector.encrypt(DEMO_EVIDENCE),
                    at=step.done_at,
                )
            )


def _plan(
    rng: random.Random,
    runtime: Runtime,
    now: datetime,
    *,
    status: str,
    category: str,
    language: str,
    suppliers: list[Organisation],
    sites: dict[int, list[tuple[Site, _SiteSpec]]],
    handler: User,
    referral: ReferralOrg,
) -> _Plan:
    frames = runtime.settings.sla_frames
    path = PATHS[status]
    in_danger = rng.random() < DANGER.get(category, 0.0)
    severity = "P0" if in_danger else DEFAULT_SEVERITY[category]
    if category == "HRS" and rng.random() < 0.2:
        severity = "P1"  # docs/domain.md: the worker cannot refuse the overtime
    transitions = _times(rng, now, frames, path, severity)
    triaged = "in_triage" in path
    with_supplier = "with_supplier" in path

    # Where: most workers name a demo site; the handler links the case during triage.
    spec = rng.choices(SUPPLIERS, weights=[s.weight for s in SUPPLIERS])[0]
    supplier = suppliers[SUPPLIERS.index(spec)]
    candidates = sites[supplier.id]
    if category == "LIV" and any(s.hostel for _, s in candidates):
        candidates = [c for c in candidates if c[1].hostel]
    site, site_spec = rng.choices(candidates, weights=[s.weight for _, s in candidates])[0]
    outside = not with_supplier and rng.random() < 0.12
    if outside:
        workplace, country = rng.choice(OTHER_WORKPLACES)
    else:
        workplace, country = rng.choice(site_spec.workplaces), site_spec.country
    linked = with_supplier or (triaged and not outside and rng.random() < 0.5)
    linked_supplier = supplier if linked else None
    linked_site = site if linked and rng.random() < 0.9 else None

    # What: the worker's words, the handler's summary, the supplier's anonymous one.
    cur = "THB" if country == "TH" else "MYR"
    scale = 8 if cur == "THB" else 1
    values = {
        "cur": cur,
        "fee": f"{rng.randrange(3, 13) * 500 * scale:,}",
        "amount": f"{rng.randrange(2, 9) * 50 * scale:,}",
        "hours": str(rng.randrange(66, 85)),
        "months": str(rng.randrange(2, 7)),
        "people": str(rng.randrange(10, 21)),
    }
    description, summary, supplier_summary = (
        text.format(**values) for text in rng.choice(STORIES[category])
    )
    reported = category
    if triaged and rng.random() < 0.12:
        reported = rng.choice(list(CATEGORY_WEIGHTS))  # the handler re-categorised it
    indicators: list[str] = []
    if triaged and category in FL_INDICATORS:
        indicators = sorted(rng.sample(FL_INDICATORS[category], rng.randrange(0, 4)))
    channel = "whatsapp" if rng.random() < 0.6 else "sms"
    wants_updates = rng.random() < 0.7
    close_reason = (
        rng.choice(REMEDIES) if status in ("resolved", "closed") else CLOSE_REASONS.get(status)
    )
    note = rng.choice(NOTES) if triaged and rng.random() < 0.3 else None
    outcome = _outcome(rng, status, category)

    protector = runtime.protector
    case = Case(
        contact_id=None,  # the demo never creates a phone number
        # A fresh code, forgotten at once: no one can look a demo case up.
        # Demo cases have no worker to hold a code: a random value that no code hashes to
        # keeps the column unique without 200 slow scrypt hashes.
        code_hash=secrets.token_hex(32),
        code_key_id=protector.code_key_ids[0],
        status=status,
        reported_category=reported,
        category=category,
        severity=severity,
        language=language,
        channel=channel,
        workplace=workplace,
        description_encrypted=protector.encrypt(description),
        in_danger=in_danger,
        wants_updates=wants_updates,
        flow_id="intake",
        flow_version=1,
        created_at=transitions[0][1],
        updated_at=transitions[-1][1],
        assignee_id=handler.id if len(path) > 1 else None,
        supplier_id=linked_supplier.id if linked_supplier else None,
        site_id=linked_site.id if linked_site else None,
        indicators=indicators,
        summary=summary if triaged else None,
        supplier_summary=supplier_summary if with_supplier else None,
        close_reason=close_reason,
        **outcome,
        **_clock_fields(transitions, severity, frames),
    )
    if status == "requested":
        # Asked for a person after HELP, before any report: nothing known yet, no code given.
        case.category = case.reported_category = case.workplace = None
        case.description_encrypted = None
        case.in_danger, case.severity = False, "P2"
        case.handover_requested_at, case.attention = transitions[0][1], 0
        case.code_issued, case.flow_id = False, "help"
        case.due_at = sla.due_at("requested", "P2", transitions[0][1], frames)
    return _Plan(
        case=case,
        transitions=transitions,
        handler=handler if len(path) > 1 else None,
        supplier=linked_supplier,
        site=linked_site,
        note=note,
        referral=referral if status == "referred" else None,
    )


def _outcome(rng: random.Random, status: str, category: str) -> dict[str, object]:
    """The worker's answer and remedy types of a resolved case; the outcome and the 1-5
    satisfaction (sometimes unanswered) of a closed one."""
    if status not in ("resolved", "closed"):
        return {}
    book = playbooks.load().get(category)
    remedies = list(book.remedy_types) if book else ["apology"]
    fields: dict[str, object] = {
        "worker_answer": rng.choices(("confirmed", "disputed", "no_answer"), weights=(85, 8, 7))[0],
        "remedy_types": sorted(rng.sample(remedies, min(len(remedies), rng.randrange(1, 3)))),
    }
    if status == "closed":
        fields["outcome"] = "resolved"
        fields["satisfaction"] = rng.choices((None, 1, 2, 3, 4, 5), weights=(20, 3, 5, 15, 30, 27))[
            0
        ]
    return fields


def _times(
    rng: random.Random, now: datetime, frames: Frames, path: tuple[str, ...], severity: str
) -> list[tuple[str, datetime]]:
    """When the case entered each stage of ``path``: within the last 180 days, before now."""

    def frame(status: str) -> timedelta:
        due = sla.due_at(status, severity, now, frames)
        return due - now if due is not None else timedelta(days=7)

    triage = frame("received")
    gaps = []  # from entering the previous stage to entering this one
    for previous, status in itertools.pairwise(path):
        if status == "acknowledged":
            gap = timedelta(minutes=rng.uniform(2, 40 if severity == "P0" else 300))
        elif status in ("in_triage", "referred", "out_of_scope"):
            gap = triage * rng.uniform(0.1, 0.8)
        elif status == "with_supplier":
            # Some cases wait weeks in triage for the worker's answers or a site visit.
            slow = rng.random() < 0.3
            gap = triage * (rng.uniform(2, 12) if slow else rng.uniform(0.2, 1.3))
        elif status in ("remediation_in_progress", "awaiting_worker"):
            gap = frame(previous) * rng.uniform(0.3, 1.3)
        elif status == "resolved":
            gap = timedelta(days=rng.uniform(1, 14))
        elif status == "closed":
            gap = timedelta(days=rng.uniform(1, 10))
        else:  # withdrawn
            gap = timedelta(days=rng.uniform(1, 20))
        gaps.append(gap)
    spent = sum(gaps, timedelta())
    final = path[-1]
    if final in OPEN_STATUSES:
        # How far into its current time frame the case is: about one in five is overdue,
        # some long overdue (the backlog every real deployment has).
        share = rng.uniform(1.05, 5) if rng.random() < 0.2 else rng.uniform(0.05, 0.9)
        current = frame(final) * share
        if sla.STAGE_CLOCK[final] == "triage":
            # Triage runs from receipt: the earlier steps happened within that time.
            if spent > current * 0.9:
                gaps = [g * (current * 0.9 / spent) for g in gaps]
            age = current
        else:
            age = current + spent
        if age > HISTORY:
            gaps = [g * (HISTORY / age) for g in gaps]
            age = HISTORY
        created = now - age * 0.999
    else:
        created = now - HISTORY * rng.uniform(0.02, 0.99)
        room = (now - created) * rng.uniform(0.5, 0.95)
        if spent > room:
            gaps = [g * (room / spent) for g in gaps]
    out = [(path[0], created)]
    at = created
    for status, gap in zip(path[1:], gaps, strict=True):
        at += gap
        out.append((status, at))
    return out


def _clock_fields(
    transitions: list[tuple[str, datetime]], severity: str, frames: Frames
) -> dict[str, datetime | None]:
    """stage_started_at, due_at, acknowledged_at and closed_at, as change_status leaves them."""
    status, started = transitions[0]
    acknowledged = closed = None
    for new, at in transitions[1:]:
        if sla.STAGE_CLOCK.get(new) != sla.STAGE_CLOCK.get(status):
            started = at
        if new == "acknowledged":
            acknowledged = at
        if new not in OPEN_STATUSES and closed is None:
            closed = at
        status = new
    return {
        "stage_started_at": started,
        "due_at": sla.due_at(status, severity, started, frames),
        "acknowledged_at": acknowledged,
        "closed_at": closed,
    }


def _timeline(runtime: Runtime, plan: _Plan) -> list[object]:
    """The case's events, notes and audit entries, as the real actions would have left them."""
    case, handler = plan.case, plan.handler
    rows: list[object] = [
        CaseEvent(
            case_id=case.id,
            kind="received",
            actor="worker",
            at=plan.transitions[0][1],
            data={
                "reported_category": case.reported_category,
                "severity": case.severity,
                "in_danger": case.in_danger,
                "channel": case.channel,
                "language": case.language,
            },
        )
    ]

    def event(kind: str, at: datetime, detail: str | None = None, **data: object) -> None:
        actor = "worker" if handler is None else f"user:{handler.id}"
        rows.append(CaseEvent(case_id=case.id, kind=kind, actor=actor, at=at, data=data))
        if handler is not None:
            if detail is None:
                detail = ",".join(f"{k}={v}" for k, v in data.items() if v is not None) or None
            rows.append(
                AuditEvent(user_id=handler.id, action=kind, case_id=case.id, detail=detail, at=at)
            )

    for (previous, _), (status, at) in itertools.pairwise(plan.transitions):
        if status == "acknowledged":
            event("assigned", at, to=case.assignee_id)
        elif status == "in_triage":
            event(
                "categorised",
                at,
                category=case.category,
                indicators=len(case.indicators),
                severity_from=None,
                severity=case.severity,
            )
            if plan.note is not None:
                note_at = at + (plan.transitions[-1][1] - at) / 2
                rows.append(
                    CaseNote(
                        case_id=case.id,
                        author_id=handler.id if handler else None,
                        text_encrypted=runtime.protector.encrypt(plan.note),
                        at=note_at,
                    )
                )
                event("note", note_at)
        elif status == "with_supplier" and plan.supplier is not None:
            event(
                "referred_to_supplier",
                at,
                supplier=plan.supplier.id,
                site=plan.site.id if plan.site else None,
            )
        elif status == "referred" and plan.referral is not None:
            event("referral_attached", at, referral=plan.referral.id)
        data = {"from": previous, "to": status}
        if status == "withdrawn":
            rows.append(CaseEvent(case_id=case.id, kind="status", actor="worker", at=at, data=data))
        else:
            event("status", at, f"{previous}->{status}", **data)
    return rows
