"""A buyer who asks for every period it can, by every dimension, and sets the answers against
each other, learns no small count that a table hides.

The attacker is an integer program over the true counts: one unknown per dimension, row
and month, the month totals shared by every dimension (each case has one value in each).
Every figure from every answer becomes a constraint on the sums it covers: a number is an
equation, "<10" is 1 to 9, "–" over one month is 10 or more. Then, for every count that
truly is 1 to 9, the program finds its least and greatest possible value; they must
differ. With periods free and tables suppressed each on its own, the difference of
[m..n] and [m+1..n] gave month m's counts exactly.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from scipy.optimize import Bounds, LinearConstraint, milp
from sqlalchemy import insert, select

from grievance.cli import main
from grievance.clock import utcnow
from grievance.models import Agency, Case, CaseRecruitment, Organisation, Site
from grievance.models.accounts import buyer_suppliers
from grievance.reports import releases
from grievance.reports.aggregates import DIMENSIONS, NOT_KNOWN, months_between
from grievance.runtime import Runtime
from tests.conftest import environment
from tests.support.api import token_for
from tests.support.cases import case_row
from tests.support.staff import sign_in

# Depends on today's date: CI runs this module again under a shifted clock.
pytestmark = pytest.mark.clock

K = 10
CATEGORIES = ["WAGE", "FL-FEE", "FL-MOV", "OSH"]
SEVERITIES = ["P1", "P2", "P3"]
LANGUAGES = ["ne", "my", "en"]


def seed(runtime: Runtime, months: list[str]) -> dict[tuple[str, str, str], int]:
    """Cases over ``months`` at two linked suppliers and one the buyer must not see; returns
    the true count of every (dimension, row, month) the buyer could be told about."""
    rng = random.Random(7)
    with runtime.sessions() as session:
        orgs = {}
        for name in ("Linked One", "Linked Two", "Not Linked"):
            org = Organisation(name=name, kind="supplier")
            session.add(org)
            orgs[name] = org
        buyer = Organisation(name="Attacking Buyer", kind="buyer")
        session.add(buyer)
        session.flush()
        sites = {}
        for name, country in (("North mill", "MY"), ("South mill", "TH")):
            for supplier in orgs.values():
                site = Site(
                    supplier_id=supplier.id, name=f"{name} {supplier.name}", country=country
                )
                session.add(site)
                sites.setdefault(supplier.name, []).append(site)
        session.execute(
            insert(buyer_suppliers),
            [
                {"buyer_id": buyer.id, "supplier_id": orgs["Linked One"].id},
                {"buyer_id": buyer.id, "supplier_id": orgs["Linked Two"].id},
            ],
        )
        agencies = [Agency(name="Everest Manpower"), Agency(name="Golden Link Recruiters")]
        session.add_all(agencies)
        session.flush()
        rows = []
        links = []
        truth: dict[tuple[str, str, str], int] = {}
        for month in months:
            year, number = map(int, month.split("-"))
            # A few busy months and some quiet ones: small cells everywhere.
            for _ in range(rng.choice([4, 9, 15, 25, 40])):
                supplier = rng.choice(list(orgs.values()))
                site = rng.choice(sites[supplier.name])
                when = datetime(year, number, rng.randint(1, 28), 12, tzinfo=UTC)
                case = {
                    "category": rng.choice(CATEGORIES),
                    "severity": rng.choice(SEVERITIES),
                    "language": rng.choice(LANGUAGES),
                    "origin_country": rng.choice(["NP", "MM"]),
                }
                case_id = len(rows) + 1
                rows.append(
                    case_row(when, **case, id=case_id, supplier_id=supplier.id, site_id=site.id)
                )
                # Fee cases name one of two agencies, or none a handler could link.
                agency = rng.choice([*agencies, None]) if case["category"] == "FL-FEE" else None
                if agency is not None:
                    links.append({"case_id": case_id, "agency_id": agency.id, "at": when})
                if supplier.name == "Not Linked":
                    continue
                labels = {
                    **case,
                    "site": site.name,
                    "supplier": supplier.name,
                    "corridor": f"{case['origin_country']} → {site.country}",
                    "agency": agency.name if agency is not None else NOT_KNOWN,
                }
                for dimension in DIMENSIONS:
                    key = (dimension, labels[dimension], month)
                    truth[key] = truth.get(key, 0) + 1
        session.execute(insert(Case), rows)
        session.execute(insert(CaseRecruitment), links)
        session.commit()
    return truth


class Attacker:
    """Everything the answers said, as linear constraints over whole-number unknowns."""

    def __init__(self, months: list[str]) -> None:
        self.months = months
        self.index: dict[tuple[str, str, str], int] = {}
        for month in months:
            self.unknown(("total", "", month))
        self.rows: list[dict[int, float]] = []
        self.low: list[float] = []
        self.high: list[float] = []

    def unknown(self, key: tuple[str, str, str]) -> int:
        if key not in self.index:
            self.index[key] = len(self.index)
        return self.index[key]

    def say(self, keys: list[tuple[str, str, str]], shown: str, withheld: bool = False) -> None:
        """The sum of ``keys`` reads ``shown``; ``withheld``: in a table withheld whole."""
        if shown.isdigit():
            low, high = int(shown), int(shown)
        elif shown.startswith("<"):
            low, high = 1, K - 1
        elif len(keys) == 1 and not withheld:
            low, high = K, np.inf  # "–" over one month: a count hidden to protect another
        else:
            return  # "–" over months of several quarters: a sum not published
        self.rows.append({self.unknown(key): 1.0 for key in keys})
        self.low.append(low)
        self.high.append(high)

    def read_counts(self, body: dict) -> None:  # type: ignore[type-arg]
        dimension, months = body["dimension"], body["months"]
        # A grand total reads "–" only when a table (or a quarter of it) is withheld whole:
        # then a "–" may be anything, zero included.
        withheld = body["total"] == "–"
        seen = set()
        for row in body["rows"]:
            seen.add(row["name"])
            for month, shown in zip(months, row["cells"], strict=True):
                self.say([(dimension, row["name"], month)], shown, withheld)
            self.say([(dimension, row["name"], m) for m in months], row["total"], withheld)
        for month, shown in zip(months, body["column_totals"], strict=True):
            self.say([("total", "", month)], shown, withheld)
        self.say([("total", "", m) for m in months], body["total"], withheld)
        # A row not listed had no case in these months.
        for (kind, name, _), _ in list(self.index.items()):
            if kind == dimension and name not in seen and months:
                self.rows.append({self.unknown((kind, name, m)): 1.0 for m in months})
                self.low.append(0)
                self.high.append(0)

    def solve(self, truth: dict[tuple[str, str, str], int]) -> dict[tuple[str, str, str], int]:
        """The small counts the constraints pin to their true value."""
        for key in truth:
            self.unknown(key)
        dimensions = {key[0] for key in self.index if key[0] != "total"}
        # Every dimension splits each month's cases: its rows add up to the month's total.
        for dimension in dimensions:
            for month in self.months:
                row = {self.index[("total", "", month)]: -1.0}
                for key, i in self.index.items():
                    if key[0] == dimension and key[2] == month:
                        row[i] = 1.0
                self.rows.append(row)
                self.low.append(0)
                self.high.append(0)
        n = len(self.index)
        matrix = np.zeros((len(self.rows), n))
        for r, row in enumerate(self.rows):
            for i, coefficient in row.items():
                matrix[r, i] = coefficient
        constraints = LinearConstraint(matrix, self.low, self.high)
        bounds = Bounds(np.zeros(n), np.full(n, 10_000.0))
        recovered = {}
        totals = {
            m: sum(v for (d, _, mm), v in truth.items() if d == "category" and mm == m)
            for m in self.months
        }
        targets = dict(truth)
        targets.update({("total", "", m): v for m, v in totals.items()})
        for key, value in targets.items():
            if not 0 < value < K:
                continue
            objective = np.zeros(n)
            ends = []
            for sign in (1.0, -1.0):
                objective[self.index[key]] = sign
                result = milp(
                    objective, constraints=constraints, integrality=np.ones(n), bounds=bounds
                )
                assert result.status == 0, result.message  # the truth is always a solution
                ends.append(round(sign * result.fun))
            assert ends[0] <= value <= ends[1], (key, value, ends)
            if ends[0] == ends[1]:
                recovered[key] = value
        return recovered


def quarter_months(today: date) -> list[str]:
    """The months of the three quarters up to the latest published one."""
    latest = releases.latest_published(today)
    first = latest
    for _ in range(2):
        first = (
            releases.Quarter(first.year - 1, 4)
            if first.number == 1
            else releases.Quarter(first.year, first.number - 1)
        )
    return months_between(first.first, latest.last)


def test_no_small_count_is_recovered_from_every_period_a_buyer_can_ask_for(
    client: FlaskClient, runtime: Runtime
) -> None:
    months = quarter_months(utcnow().date())
    truth = seed(runtime, months)
    assert any(0 < v < K for v in truth.values())  # there is something to protect
    token = token_for(runtime, "attacker@example.org", "buyer", "Attacking Buyer")
    auth = {"Authorization": f"Bearer {token}"}
    attacker = Attacker(months)
    answers = 0
    for i, first in enumerate(months):
        for last in months[i:]:
            for dimension in DIMENSIONS:
                response = client.get(
                    f"/api/v1/reports/counts?by={dimension}&from={first}&to={last}", headers=auth
                )
                assert response.status_code == 200
                body = response.get_json()
                assert body["months"], body  # every month asked for is published
                attacker.read_counts(body)
                answers += 1
            handling = client.get(f"/api/v1/reports/handling?from={first}&to={last}", headers=auth)
            body = handling.get_json()
            for month, shown in zip(body["months"], body["cases_received"], strict=True):
                # Without the grand total beside them, a "–" here may be a withheld month.
                attacker.say([("total", "", month)], shown, withheld=True)
    assert answers == len(DIMENSIONS) * len(months) * (len(months) + 1) // 2
    recovered = attacker.solve(truth)
    assert recovered == {}, f"{len(recovered)} hidden counts worked out: {sorted(recovered)}"
    # The answers named only the buyer's linked suppliers.
    named = {key[1] for key in attacker.index if key[0] == "supplier"}
    assert named == {"Linked One", "Linked Two"}


def test_a_published_quarter_never_changes(client: FlaskClient, runtime: Runtime) -> None:
    """A case re-categorised after its quarter was published changes nothing in it: two
    versions of a quarter would differ by that one case."""
    months = quarter_months(utcnow().date())
    seed(runtime, months)
    token = token_for(runtime, "reader@example.org", "buyer", "Attacking Buyer")
    auth = {"Authorization": f"Bearer {token}"}
    query = f"/api/v1/reports/counts?by=category&from={months[-3]}&to={months[-1]}"
    before = client.get(query, headers=auth).get_json()
    with runtime.sessions() as session:
        start = datetime.fromisoformat(f"{months[-1]}-01T00:00:00+00:00")
        case = session.scalars(
            select(Case).where(
                Case.created_at >= start, Case.created_at < start + timedelta(days=28)
            )
        ).first()
        assert case is not None
        case.category = "VIO"  # a category no case of the quarter had
        session.commit()
    assert client.get(query, headers=auth).get_json() == before
    # What is stored is what was shown: no count from 1 to 9 in any table of any release.
    from grievance.models import ReportRelease

    with runtime.sessions() as session:
        stored = session.scalars(select(ReportRelease.content)).all()
    assert stored
    for content in stored:
        for table in content["tables"].values():
            for value in [
                *(v for row in table["cells"] for v in row),
                *table["row_totals"],
                *table["column_totals"],
                table["total"],
            ]:
                assert value in ("<10", "–", "0") or int(value) >= K, value


def test_each_quarter_is_published_once_to_staff_and_every_buyer(
    client: FlaskClient, runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    """Workers publish the due quarter daily (``grievance reports publish`` by hand), to
    staff and to each buyer with the suppliers linked to it that day. A supplier linked
    later does not enter a quarter already published to that buyer."""
    months = quarter_months(utcnow().date())
    seed(runtime, months)
    env = environment(database_url, tmp_path / "instance", None)
    latest = releases.latest_published(utcnow().date()).label
    with runtime.sessions() as session:
        buyer_id = session.scalar(
            select(Organisation.id).where(Organisation.name == "Attacking Buyer")
        )
    first = CliRunner().invoke(main, ["reports", "publish"], env=env)
    assert first.exit_code == 0, first.output
    assert f"published {latest} to 2 audience(s): all {latest}, buyer:{buyer_id} {latest}" in (
        first.output
    )
    again = CliRunner().invoke(main, ["reports", "publish"], env=env)
    assert f"{latest} was already published to every audience" in again.output

    token = token_for(runtime, "brand@example.org", "buyer", "Attacking Buyer")
    auth = {"Authorization": f"Bearer {token}"}
    with runtime.sessions() as session:
        late = session.scalar(select(Organisation.id).where(Organisation.name == "Not Linked"))
        session.execute(insert(buyer_suppliers).values(buyer_id=buyer_id, supplier_id=late))
        session.commit()

    def suppliers(first_month: str, last_month: str) -> set[str]:
        body = client.get(
            f"/api/v1/reports/counts?by=supplier&from={first_month}&to={last_month}",
            headers=auth,
        ).get_json()
        return {row["name"] for row in body["rows"]}

    assert suppliers(months[-1], months[-1]) == {"Linked One", "Linked Two"}
    # The quarter before had not been published to this buyer: it is, now, with today's links.
    assert suppliers(months[0], months[2]) == {"Linked One", "Linked Two", "Not Linked"}


def test_a_period_not_published_yet_says_when_it_will_be(
    app: Flask, client: FlaskClient, runtime: Runtime
) -> None:
    months = quarter_months(utcnow().date())
    seed(runtime, months)
    token = token_for(runtime, "early@example.org", "buyer", "Attacking Buyer")
    auth = {"Authorization": f"Bearer {token}"}
    current = releases.Quarter.of(utcnow().date())
    this_month = f"{utcnow():%Y-%m}"
    body = client.get(
        f"/api/v1/reports/counts?from={this_month}&to={this_month}", headers=auth
    ).get_json()
    assert (body["months"], body["rows"], body["pending"]) == ([], [], current.label)
    # A quarter long before any case answers zeros and stores nothing.
    old = client.get("/api/v1/reports/counts?from=1990-01&to=1990-03", headers=auth).get_json()
    assert (old["total"], old["rows"], old["pending"]) == ("0", [], None)
    with runtime.sessions() as session:
        from grievance.models import ReportRelease

        assert (
            session.scalar(select(ReportRelease.id).where(ReportRelease.quarter == "1990-Q1"))
            is None
        )
    web = sign_in(app, "early@example.org")
    page = web.get(f"/reports?from={this_month}&to={this_month}").get_data(as_text=True)
    assert "No quarter of this period is published yet." in page
    assert f"{current.label} is published on {current.published_on.isoformat()}" in page
