"""One directory of organisations that help: the contacts file and the admins' entries, each
marked for its uses; workers, people in danger and case handlers each get only what is
marked for them; every contact given is counted, by month, never with whom."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import inspect, select

from grievance.cli import main
from grievance.config import Settings
from grievance.contacts import ContactsError, load_contacts
from grievance.models import ContactGiven
from grievance.runtime import Runtime, build_runtime
from tests.conftest import Phone
from tests.support.cases import the_case
from tests.support.intake import report
from tests.support.staff import act, handler, token_of

CONTACTS = """\
contacts:
  - name: Police
    phone: "999"
    kind: police
    emergency: true
  - name: Workers Help Centre
    phone: "+60 3-0000 0001"
    kind: ngo
    languages: [en, ne]
    hours: "Mon-Sat 9-18"
  - id: legal-aid-kl
    name: Migrant Workers Legal Aid
    phone: "+60 3-0000 0002"
    kind: legal
    use: [referrals]
    how: "Ask for the migrant desk"
"""


@pytest.fixture
def contacts_file(tmp_path: Path) -> Path:
    path = tmp_path / "contacts.yaml"
    path.write_text(CONTACTS, encoding="utf-8")
    return path


@pytest.fixture
def settings(settings: Settings, contacts_file: Path) -> Settings:
    return settings.with_overrides(
        contacts=load_contacts(contacts_file), contacts_file=contacts_file
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    runtime = build_runtime(settings)
    yield runtime
    runtime.close()


def given(runtime: Runtime) -> list[tuple[str, str]]:
    with runtime.sessions() as session:
        rows = session.scalars(select(ContactGiven).order_by(ContactGiven.id)).all()
        return [(row.name, row.given_as) for row in rows]


def test_each_use_gets_only_the_entries_marked_for_it(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    phone.send("RIGHTS")
    (listed,) = phone.send("5")
    # Who to call: the entries for workers, with their hours; never a staff-only referral.
    assert "Workers Help Centre +60 3-0000 0001 (Mon-Sat 9-18)" in listed
    assert "Police 999" in listed
    assert "Legal Aid" not in listed
    assert given(runtime) == [("Workers Help Centre", "rights"), ("Police", "rights")]

    # A referral from the file: offered to the handler by its id, sent with how to reach it.
    report(phone)
    case = the_case(runtime)
    staff = handler(app, runtime, "h@example.org")
    page = staff.get(f"/cases/{case.id}").get_data(as_text=True)
    assert '<option value="legal-aid-kl">Migrant Workers Legal Aid</option>' in page
    assert 'value="police"' not in page  # not marked for referrals
    phone.replies()
    act(staff, case.id, "referral", referral="legal-aid-kl", tell_worker="1")
    assert phone.replies() == [
        "This organisation can help you: Migrant Workers Legal Aid. How to reach them: "
        "+60 3-0000 0002; Ask for the migrant desk"
    ]
    assert "refer" in act(staff, case.id, "referral", referral="police", tell_worker="1")
    assert given(runtime)[-1] == ("Migrant Workers Legal Aid", "referral")
    # Counted by month only: no case, no contact, no day.
    columns = {c.key for c in inspect(ContactGiven).columns}
    assert columns == {"id", "ref", "name", "given_as", "month"}

    report_page = staff.get("/reports").get_data(as_text=True)
    assert "Contacts given to workers" in report_page
    row = re.search(r"<th scope=\"row\">Migrant Workers Legal Aid</th>(.*?)</tr>", report_page)
    assert row is not None
    cells = re.findall(r'<td class="num">([^<]*)</td>', row.group(1))
    # Four given in all, one of them this referral: too few to show any count.
    assert cells
    assert set(cells) <= {"&lt;10", "–"}, cells


def test_an_admins_entry_for_workers_needs_a_phone_and_then_reaches_them(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    admin = handler(app, runtime, "admin@example.org", role="admin")
    page = admin.get("/admin/referrals").get_data(as_text=True)
    assert "From the contacts file" in page
    assert "Migrant Workers Legal Aid" in page
    token = token_of(admin, "/admin/referrals")
    form = {
        "csrf_token": token,
        "name": "Nepal Embassy Labour Desk",
        "how_to_reach": "Walk in at the embassy",
        "uses": ["workers", "referrals"],
        "languages": "ne en",
        "nationals": "NP",
    }
    refused = admin.post("/admin/referrals", data=form)
    assert "Give a phone number" in admin.get(refused.headers["Location"]).get_data(as_text=True)
    admin.post(
        "/admin/referrals", data={**form, "phone": "+60 3-2020 1898", "hours": "Sun-Fri 9-16"}
    )
    phone.send("RIGHTS")
    (listed,) = phone.send("5")
    # The worker's language is Nepali-or-English here, nationality unknown: the embassy's
    # desk serves them by language, and comes first as their own people's.
    assert listed.index("Nepal Embassy Labour Desk +60 3-2020 1898 (Sun-Fri 9-16)") < listed.index(
        "Police 999"
    )


def test_flows_check_refuses_a_contact_without_a_number_or_with_an_unknown_use(
    tmp_path: Path,
) -> None:
    path = tmp_path / "contacts.yaml"
    path.write_text(
        "contacts:\n"
        "  - name: Shelter\n"
        "    kind: shelter\n"
        "  - name: Union\n"
        '    phone: "+60 3-1"\n'
        "    use: [workers, press]\n",
        encoding="utf-8",
    )
    with pytest.raises(ContactsError) as raised:
        load_contacts(path)
    problems = raised.value.problems
    assert problems[0].startswith(f"{path}:2: the phone number is written in quotes")
    assert problems[1] == (
        f"{path}:6: use is a list of workers, emergency, referrals, like [workers, emergency]"
    )
    result = CliRunner().invoke(
        main, ["flows", "check"], env={"GRIEVANCE_CONTACTS_FILE": str(path)}
    )
    assert result.exit_code != 0
    assert f"{path}:2: the phone number" in result.output
