"""RIGHTS through the real line (webhook, engine, outbox, the fake Twilio): the rights every
worker has, the operator's facts about the country with their source, and who to call;
the public /rights page; and `grievance flows check` refusing a fact nobody stands behind."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from grievance.cli import main
from grievance.config import Settings
from grievance.contacts import HelpContact
from grievance.facts import load_facts
from grievance.runtime import Runtime, build_runtime
from tests.conftest import Phone

FACTS = """\
country: MY
facts:
  hours:
    text:
      en: "In Malaysia, a normal working week is at most 45 hours."
    source: "Employment Act 1955, section 60A(1)"
    checked: 2026-01-15
"""
CONTACTS = (
    HelpContact("Police", "999", kind="police", emergency=True),
    HelpContact("Workers Help Centre", "+60 3-0000 0001", kind="ngo", languages=("en", "ne")),
    HelpContact("Labour office Bangkok", "+66 2-000 0002", kind="labour", countries=("TH",)),
)


@pytest.fixture
def facts_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "facts"
    directory.mkdir()
    (directory / "MY.yaml").write_text(FACTS, encoding="utf-8")
    return directory


@pytest.fixture
def settings(settings: Settings, facts_dir: Path) -> Settings:
    """A line in Malaysia with its operator's facts and a few organisations that help."""
    return settings.with_overrides(
        contacts=CONTACTS, country_facts=load_facts(facts_dir), facts_dir=facts_dir, country="MY"
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    runtime = build_runtime(settings)
    yield runtime
    runtime.close()


def test_a_worker_reads_their_rights_the_country_fact_and_who_to_call(phone: Phone) -> None:
    menu = phone.send("RIGHTS")
    # The menu states the three principles before the topics.
    assert menu[0].startswith(
        "Every worker is free to leave, pays nothing for a job and owes no work for a debt."
    )
    assert "5 Who to call for help" in menu[0]

    (hours,) = phone.send("4")
    assert hours.startswith("You have a right to rest and a day off every week.")
    assert "send MENU" in hours
    # The operator's fact about Malaysia follows, in the same SMS.
    assert "In Malaysia, a normal working week is at most 45 hours." in hours

    (fees,) = phone.send("paying for a job")
    assert fees.startswith("No worker should pay for a job.")
    assert "Malaysia" not in fees  # no fact on fees: nothing invented

    (helpers,) = phone.send("5")
    # Organisations that serve this worker (English, in Malaysia), not the Bangkok office.
    assert "Workers Help Centre +60 3-0000 0001" in helpers
    assert "Bangkok" not in helpers

    # Anything else is the worker's to say: it starts a report, nothing dropped.
    consent = phone.send("the agent kept my passport")
    assert any("Do you want to report?" in reply for reply in consent)


def test_the_rights_page_states_each_fact_with_its_source(client: FlaskClient) -> None:
    page = client.get("/rights/en")
    assert page.status_code == 200
    text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.get_data(as_text=True))))
    assert "Know your rights at work" in text
    for heading in ("Your passport and documents", "Paying for a job", "Working hours and rest"):
        assert heading in text
    assert "In Malaysia: In Malaysia, a normal working week is at most 45 hours." in text
    assert "Source: Employment Act 1955, section 60A(1). Checked on 15 Jan 2026." in text
    assert "Workers Help Centre: +60 3-0000 0001" in text
    assert client.get("/rights/xx").status_code == 404
    assert client.get("/rights").headers["Location"].endswith("/rights/en")
    # The rules of procedure carry the same rights and the keyword.
    rules = html.unescape(client.get("/procedure/en").get_data(as_text=True))
    assert "RIGHTS: know your rights" in rules
    assert "No worker should pay for a job." in rules


@pytest.mark.parametrize(
    ("fact", "problem"),
    [
        (
            '    text: {en: "A week is 45 hours."}\n    checked: 2026-01-15\n',
            r"MY\.yaml:3: the fact on hours needs its source",
        ),
        (
            '    text: {en: "A week is 45 hours."}\n    source: "Act 1955"\n',
            r"MY\.yaml:3: the fact on hours needs the day it was last checked",
        ),
        (
            '    text: {en: "A week is 45 hours."}\n    source: "Act 1955"\n    checked: 2099-01-01\n',
            r"MY\.yaml:6: checked on 2099-01-01 is in the future",
        ),
        (
            f'    text: {{en: "{"x" * 200}"}}\n    source: "Act"\n    checked: 2026-01-15\n',
            r"MY\.yaml:4: the en text has 200 characters; keep it under 160",
        ),
    ],
)
def test_flows_check_refuses_a_fact_nobody_stands_behind(
    tmp_path: Path, fact: str, problem: str
) -> None:
    directory = tmp_path / "facts"
    directory.mkdir()
    (directory / "MY.yaml").write_text(f"country: MY\nfacts:\n  hours:\n{fact}", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["flows", "check", "--languages", "en", "--facts-dir", str(directory)]
    )
    assert result.exit_code == 1, result.output
    assert re.search(problem, result.output), result.output


def test_flows_check_names_the_countries_it_has_facts_for(facts_dir: Path) -> None:
    result = CliRunner().invoke(
        main, ["flows", "check", "--languages", "en", "--facts-dir", str(facts_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "country facts for MY" in result.output


def test_the_shipped_example_states_no_country_s_law() -> None:
    example = Path(__file__).resolve().parents[2] / "facts"
    assert load_facts(example, date(2026, 12, 6)).countries == []
