"""Admins keep the referral directory and read the audit log; handlers attach referrals."""

from __future__ import annotations

import re

from flask import Flask

from grievance.runtime import Runtime
from tests.conftest import Phone
from tests.support.cases import the_case
from tests.support.intake import report
from tests.support.staff import act, handler, token_of


def test_a_referral_from_the_directory_reaches_the_worker(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    report(phone)
    case = the_case(runtime)
    admin = handler(app, runtime, "admin@example.org", role="admin")
    staff = handler(app, runtime, "h@example.org")
    assert staff.get("/admin/referrals").status_code == 404  # handlers do not keep the directory
    page = staff.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "The referral directory is empty" in page
    token = token_of(admin, "/admin/referrals")
    bad = admin.post(
        "/admin/referrals",
        data={"csrf_token": token, "name": "X", "country": "Malaysia", "how_to_reach": "y"},
    )
    assert "two-letter code" in admin.get(bad.headers["Location"]).get_data(as_text=True)
    admin.post(
        "/admin/referrals",
        data={
            "csrf_token": token,
            "name": "Migrant Workers Legal Aid",
            "country": "my",
            "languages": "en ne my",
            "how_to_reach": "+60 3-0000 0000, weekdays 9-5",
        },
    )
    page = staff.get(f"/cases/{case.id}").get_data(as_text=True)
    referral = re.search(
        r'<option value="(db-\d+)">Migrant Workers Legal Aid \(MY\), en/ne/my', page
    ).group(1)  # type: ignore[union-attr]
    phone.replies()
    act(staff, case.id, "referral", referral=referral, tell_worker="1")
    assert phone.replies() == [
        "This organisation can help you: Migrant Workers Legal Aid. How to reach them: +60 3-0000 0000, weekdays 9-5"
    ]
    # Entered as a referral for staff: never given to workers by the line itself.
    assert "Migrant Workers Legal Aid" not in phone.send("RIGHTS")[0]
    assert "Migrant Workers" not in "".join(phone.send("5"))


def test_the_audit_log_shows_who_did_what_without_content(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    report(phone)
    case = the_case(runtime)
    staff = handler(app, runtime, "h@example.org")
    act(staff, case.id, "notes", text="The agency is licensed in Kathmandu.")
    admin = handler(app, runtime, "admin@example.org", role="admin")
    log = admin.get(f"/admin/audit?case={case.id}").get_data(as_text=True)
    assert "h@example.org" in log
    assert "case viewed" in log
    assert "note" in log
    assert "Kathmandu" not in log  # the note's text is never in the log
    assert phone.number not in log
    assert phone.number[1:] not in log
    assert staff.get("/admin/audit").status_code == 404
