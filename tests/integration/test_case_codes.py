"""Case codes the way workers type them: a typo is told apart from a guess, a letter O is a
zero, and a keyword in the worker's own script is answered in their language."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from grievance import casecode
from grievance.models import AuditEvent, Case, CodeAttempt
from grievance.runtime import Runtime
from tests.conftest import Phone
from tests.support.api import api, token_for
from tests.support.intake import report
from tests.support.staff import handler, token_of

MISTYPED = "One digit of that code looks mistyped"
LOCKED = "Too many wrong codes. Please try again in one hour."


def _typo(code: str) -> str:
    """``code`` with its fifth digit changed: the check digit catches it."""
    digits = casecode.normalize(code) or ""
    return digits[:4] + str((int(digits[4]) + 1) % 10) + digits[5:]


def _unknown_code(n: int) -> str:
    """A well-formed code (its check digit holds) that belongs to no case."""
    body = f"{n:011d}"
    return body + casecode.check_digit(body)


def test_a_mistyped_code_is_said_so_and_never_counts_toward_the_lock(
    phone: Phone, runtime: Runtime
) -> None:
    code = report(phone)
    other = Phone(phone.client, phone.fake, "+9779800000002")
    for _ in range(8):  # more than the 5 wrong codes an hour that lock a sender out
        (reply,) = other.send(f"STATUS {_typo(code)}")
        assert reply.startswith(MISTYPED), reply
    assert "received" in other.send(f"STATUS {code}")[0]
    with runtime.sessions() as session:
        assert session.scalar(select(func.count(CodeAttempt.id))) == 1  # the right code only


def test_well_formed_codes_of_nobody_lock_the_sender_for_an_hour(phone: Phone) -> None:
    code = report(phone)
    guesser = Phone(phone.client, phone.fake, "+9779800000003")
    for n in range(5):
        assert guesser.send(f"STATUS {_unknown_code(n)}") == [
            "We could not find a case with that code. Please check it and try again."
        ]
    assert guesser.send(f"STATUS {code}") == [LOCKED]  # even the right code, for an hour


def test_the_reply_says_how_many_digits_were_sent(phone: Phone) -> None:
    code = report(phone)
    short = code[:-1]
    assert phone.send(f"STATUS {short}") == [
        "A case code has 12 digits; you sent 11. Please send STATUS and the code again."
    ]
    # In two steps, the question's re-ask says the same, and never repeats the question.
    other = Phone(phone.client, phone.fake, "+9779800000004")
    assert other.send("status") == ["Please send your 12-digit case code."]
    assert other.send(short) == [
        "A case code has 12 digits; you sent 11. Please check it and send it again."
    ]
    assert other.send(_typo(code)) == [
        "One digit of that code looks mistyped. Please check it and send it again."
    ]
    assert "received" in other.send(code)[0]


def test_a_letter_o_for_a_zero_finds_the_case_and_starts_no_report(phone: Phone) -> None:
    code = casecode.normalize(report(phone)) or ""
    typed = casecode.display(code).replace("0", "O").replace("1", "l")
    other = Phone(phone.client, phone.fake, "+9779800000005")
    replies = other.send(f"STATUS {typed}")
    assert "received" in replies[0]
    assert not any("confidential" in r for r in replies)  # no consent text glued on
    # Later STATUS answers are only the status.
    again = other.send(f"STATUS {code}")
    assert "received" in again[0]
    assert not any("confidential" in r for r in again)


def test_a_keyword_in_the_workers_script_is_answered_in_their_language(phone: Phone) -> None:
    code = casecode.normalize(report(phone)) or ""
    devanagari = "".join(chr(0x0966 + int(d)) for d in code)
    nepali = Phone(phone.client, phone.fake, "+9779800000006")
    (reply, *_) = nepali.send(f"स्थिति {devanagari[:4]} {devanagari[4:8]} {devanagari[8:]}")
    assert "received" not in reply
    assert any("\u0900" <= ch <= "\u097f" for ch in reply), reply  # Nepali, not English
    # On an English conversation, a Nepali keyword is answered in Nepali, that once.
    english = Phone(phone.client, phone.fake, "+9779800000007")
    assert english.send("hello")[0].startswith("This line is confidential")
    (help_reply, *_) = english.send("मद्दत")
    assert any("\u0900" <= ch <= "\u097f" for ch in help_reply), help_reply


def test_a_guessing_campaign_never_locks_out_a_worker_with_the_right_code(
    phone: Phone, runtime: Runtime
) -> None:
    code = report(phone)
    limit = runtime.settings.wrong_codes_global_per_minute
    # Guesses from many numbers, each under its own limit, more than the global rate.
    for n in range(limit + 2):
        guesser = Phone(phone.client, phone.fake, f"+97798{n:08d}")
        guesser.send(f"STATUS {_unknown_code(n)}")
    # The worker is not locked out by strangers: the right code still gets the status.
    worker = Phone(phone.client, phone.fake, "+9779811111111")
    assert "received" in worker.send(f"STATUS {code}")[0]
    # During the campaign each sender's allowance is halved: a guesser locks after 2.
    guesser = Phone(phone.client, phone.fake, "+9779822222222")
    for n in range(2):
        assert "could not find" in guesser.send(f"STATUS {_unknown_code(1000 + n)}")[0]
    assert guesser.send(f"STATUS {code}") == [LOCKED]  # an hour, as the message says


def test_a_code_stored_under_the_old_slow_hash_still_finds_its_case(
    phone: Phone, runtime: Runtime
) -> None:
    """Cases opened before the keyed hash hold a scrypt hash: their code still works, and
    moves the case to the keyed hash, so the slow lookup stops once no such case is left."""
    code = report(phone)
    digits = casecode.normalize(code) or ""
    protector = runtime.protector
    with runtime.sessions() as session:
        case = session.scalars(select(Case)).one()
        case.code_hash = protector.legacy_code_hashes(digits)[0]
        case.code_key_id = protector.key_ids[0]
        session.commit()
    assert "received" in phone.send(f"STATUS {code}")[0]
    with runtime.sessions() as session:
        case = session.scalars(select(Case)).one()
        assert (case.code_hash, case.code_key_id) == (
            protector.code_hash(digits),
            protector.code_key_ids[0],
        )


def test_a_handler_finds_the_case_whose_code_a_worker_reads_out(
    phone: Phone, runtime: Runtime, app: Flask
) -> None:
    """A worker who phones the line reads out their code: it is the one way from a code to
    its case (only a keyed hash is kept). The code is posted, never put in a URL; a typo is
    named; every search is audited without the code; suppliers cannot search."""
    code = report(phone)
    digits = casecode.normalize(code) or ""
    spoken = casecode.display(digits).replace(" ", "-")  # "1262-2770-5166", as read out
    staff = handler(app, runtime)
    token = token_of(staff, "/cases")
    found = staff.post("/cases/find", data={"csrf_token": token, "code": spoken})
    assert found.status_code == 303
    with runtime.sessions() as session:
        case = session.scalars(select(Case)).one()
    assert found.headers["Location"].endswith(f"/cases/{case.id}")
    assert digits not in found.headers["Location"]

    typo = staff.post(
        "/cases/find", data={"csrf_token": token, "code": _typo(code)}, follow_redirects=True
    )
    assert "one digit looks mistyped" in typo.get_data(as_text=True)
    nobody = staff.post(
        "/cases/find",
        data={"csrf_token": token, "code": _unknown_code(7)},
        follow_redirects=True,
    )
    assert "no case has this code" in nobody.get_data(as_text=True)
    short = staff.post(
        "/cases/find", data={"csrf_token": token, "code": digits[:11]}, follow_redirects=True
    )
    assert "a case code has 12 digits; this has 11" in short.get_data(as_text=True)

    with runtime.sessions() as session:
        searches = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "case_code_searched")
            .order_by(AuditEvent.id)
        ).all()
        assert [(s.case_id, s.detail) for s in searches] == [
            (case.id, "found"),
            (None, "mistyped"),
            (None, "no such case"),
            (None, "mistyped"),
        ]
        assert all(digits not in (s.detail or "") + str(s.data) for s in searches)

    api_token = token_for(runtime, "api@example.org", "handler")
    by_api = api(staff, api_token, "POST", "/cases/by-code", {"code": code})
    assert by_api.status_code == 200
    assert by_api.json["id"] == case.id
    missing = api(staff, api_token, "POST", "/cases/by-code", {"code": _unknown_code(8)})
    assert missing.status_code == 404
    assert missing.json["error"] == "no case found: no case has this code: check it with the worker"

    supplier = token_for(runtime, "s@example.org", "supplier", "Sunrise")
    assert api(staff, supplier, "POST", "/cases/by-code", {"code": code}).status_code == 404


def test_a_handler_guessing_codes_is_locked_out_for_the_hour(
    phone: Phone, runtime: Runtime, app: Flask
) -> None:
    """Well-formed codes that name no case are guesses, counted like a worker's wrong STATUS
    codes (5 an hour); typos are not; once locked, even the right code waits."""
    code = report(phone)
    staff = handler(app, runtime)
    token = token_of(staff, "/cases")

    def search(text: str) -> str:
        answer = staff.post(
            "/cases/find", data={"csrf_token": token, "code": text}, follow_redirects=True
        )
        return answer.get_data(as_text=True)

    for _ in range(8):
        assert "one digit looks mistyped" in search(_typo(code))
    for n in range(5):
        assert "no case has this code" in search(_unknown_code(n))
    page = search(code)
    assert "too many codes found no case in the last hour" in page
    api_token = token_for(runtime, "api@example.org", "handler")
    assert api(staff, api_token, "POST", "/cases/by-code", {"code": code}).status_code == 200


def test_the_queue_names_categories_stages_and_languages_in_words(
    phone: Phone, runtime: Runtime, app: Flask
) -> None:
    """Staff read "Wages", "Received" and "English" where the codes were; the code stays in
    a title for whoever knows it, and as the filters' values."""
    report(phone)
    staff = handler(app, runtime)
    page = staff.get("/cases").get_data(as_text=True)
    assert '<td data-label="Stage">Received</td>' in page
    assert '<td data-label="Language" title="en">English</td>' in page
    assert '<option value="FL-MOV" >Forced labour: passport or ID kept' in page
    assert '<option value="in_triage" >In triage</option>' in page
