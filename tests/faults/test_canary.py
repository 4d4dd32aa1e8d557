"""The canary: a unique number goes through intake, retries, a Twilio 400 that echoes it and a
job that crashes on a garbled answer, and the worker gives a second, safer number to be called
on; then both are searched for everywhere they must not be."""

from __future__ import annotations

import subprocess

from flask.testing import FlaskClient
from rq.job import Job
from rq.registry import FailedJobRegistry
from sqlalchemy import select

from grievance.models import REPLY, CallRequest, Case, OutboxItem
from grievance.queue import QUEUE_NAME
from grievance.runtime import Runtime
from grievance.services import cases
from tests.conftest import Phone
from tests.faults.conftest import Rig, wait_until
from tests.support.fake_twilio import Failure

CANARY = "+9779812345678"
# The safer number the worker asks to be called on, as typed: encrypted, revealed to no one here.
SAFE = "+60 12-345 9876"
FORMS = [
    CANARY,
    CANARY[1:],
    "9812345678",
    "981 234 5678",
    "981-234-5678",
    SAFE,
    "+60123459876",
    "60123459876",
    "123459876",
    "12-345 9876",
]


def say(rig: Rig, phone: Phone, text: str, replies: int = 1) -> list[str]:
    assert phone.post(phone.params(text)).status_code == 200
    got: list[str] = []

    def arrived() -> bool:
        got.extend(phone.replies())
        return len(got) >= replies

    wait_until(f"a reply to {text!r}", arrived, timeout=30)
    return got


def redis_everything(rig: Rig) -> bytes:
    """Every key and value in Redis, and every RQ job's arguments, result and failure."""
    client = rig.redis.client()
    chunks: list[bytes] = []
    for key in client.scan_iter():
        chunks.append(key)
        kind = client.type(key)
        if kind == b"string":
            chunks.append(client.get(key) or b"")
        elif kind == b"hash":
            chunks.extend(b"%s=%s" % kv for kv in client.hgetall(key).items())
        elif kind == b"list":
            chunks.extend(client.lrange(key, 0, -1))
        elif kind == b"set":
            chunks.extend(client.smembers(key))
        elif kind == b"zset":
            chunks.extend(client.zrange(key, 0, -1))
        elif kind == b"stream":
            for _, fields in client.xrange(key):
                chunks.extend(b"%s=%s" % kv for kv in fields.items())
    for key in client.scan_iter("rq:job:*"):
        job_id = key.decode().removeprefix("rq:job:")
        if ":" in job_id:
            continue
        job = Job.fetch(job_id, connection=client)
        chunks.append(repr((job.func_name, job.args, job.kwargs)).encode())
        result = job.latest_result()
        if result is not None:
            chunks.append(repr((result.return_value, result.exc_string)).encode())
    return b"\n".join(chunks)


def assert_absent(haystack: bytes, where: str) -> None:
    for form in FORMS:
        assert form.encode() not in haystack, f"{form!r} found in {where}"


def test_canary_number_appears_nowhere(rig: Rig, postgres_url: str) -> None:
    rig.start_worker()
    rig.start_worker()
    phone = rig.phone(CANARY)
    assert "confidential" in say(rig, phone, "hello I need help")[0]
    say(rig, phone, "1")
    say(rig, phone, "2")
    say(rig, phone, "Sunrise Garments, Penang")
    # Asking for a call is offered a person; declined, the words stay the story.
    offer = say(rig, phone, f"The agent took my passport, call me on {CANARY}")[0]
    assert "Do you want a person to write to you here?" in offer
    assert "Are you in danger right now" in say(rig, phone, "2")[0]
    say(rig, phone, "2")
    assert "also say what the news is" in say(rig, phone, "1")[0]
    assert "Your case code is" in say(rig, phone, "2")[0]
    with rig.runtime.sessions() as session:
        case_id = session.scalars(select(Case.id)).one()

    # A handler offers a call; the worker gives a safe time and a safer number.
    offer_call(rig, case_id)
    wait_until("the call offer", lambda: any("can call you" in r for r in phone.replies()), 30)
    assert "Shall we call this number?" in say(rig, phone, "after 8pm please")[0]
    assert "will call you" in say(rig, phone, f"call my sister on {SAFE}")[0]
    with rig.runtime.sessions() as session:
        assert session.scalars(select(CallRequest.number_encrypted)).one() is not None

    # Retries, then a 400 that echoes the number: a terminal failure.
    rig.fake.fail_next(
        Failure(500, None, "Internal Server Error"),
        Failure(429, 20429, "Too Many Requests"),
        Failure(400, 21211, f"The 'To' number {CANARY} is not a valid phone number."),
    )
    cases.update_status(rig.runtime, case_id, "acknowledged", "handler:1")
    wait_until("the failure to be recorded", lambda: failed_rows(rig) == 1, timeout=60)

    # A garbled answer quoting the number crashes the job: RQ keeps a failure record.
    rig.fake.fail_next(Failure(201, raw=f"<html>message to {CANARY} accepted</html>"))
    cases.update_status(rig.runtime, case_id, "in_triage", "handler:1")
    cases.update_status(rig.runtime, case_id, "with_supplier", "handler:1")
    failed = FailedJobRegistry(QUEUE_NAME, connection=rig.redis.client())
    wait_until("a failed job record", lambda: failed.count >= 1, timeout=60)
    rig.settle()  # the crashed send is given back and delivered
    assert phone.replies().count("There is an update on your report. Reply STATUS to read it.") >= 1
    rig.client.get("/healthz")

    def logs_hold_the_crash() -> bool:
        texts = [log.read_bytes() for log in rig.logs.iterdir()]
        return all(b"DEBUG" in t for t in texts) and any(b"JobFailed" in t for t in texts)

    # The logs are read once they hold what the run must have written: every worker at DEBUG,
    # and the crashed send's failure (its exception quoted the canary to RQ).
    wait_until("the workers' logs to hold the crashed send", logs_hold_the_crash, timeout=60)

    assert len(rig.fake.bodies_to(CANARY)) >= 8  # it really went through Twilio
    dump = subprocess.run(
        ["pg_dump", "--data-only", "--no-owner", postgres_url.replace("+psycopg", "")],
        capture_output=True,
        check=True,
    ).stdout
    assert b"COPY public.messages" in dump
    assert_absent(dump, "pg_dump")
    assert_absent(redis_everything(rig), "Redis")
    for log in rig.logs.iterdir():
        text = log.read_bytes()
        assert b"DEBUG" in text  # the workers did log at DEBUG
        assert_absent(text, f"worker log {log.name}")
    for status, body in rig.responses:
        assert status < 500
        assert_absent(body, "an HTTP response")
    for role, body in pages_for_every_role(rig, case_id):
        assert_absent(body, f"a page seen by the {role}")


def offer_call(rig: Rig, case_id: int) -> None:
    """The canned call offer, as a handler sends it from the case page."""
    from grievance.auth import accounts
    from grievance.services import handler_messages
    from grievance.services.outbox import enqueue_delivery

    with rig.runtime.sessions() as session:
        actor = accounts.create_user(
            session, "caller@canary.example", "handler", "canary password 1"
        )
        case = session.get(Case, case_id)
        assert case is not None
        outcome = handler_messages.message_worker(
            session, rig.runtime, case, actor, key="handler.call_offer"
        )
        session.commit()
    for outbox_id in outcome.outbox_ids:
        enqueue_delivery(rig.runtime, outbox_id, REPLY)


def pages_for_every_role(rig: Rig, case_id: int) -> list[tuple[str, bytes]]:
    """Every page and API answer about the case, as each role sees it (or is refused it)."""
    import re

    import pyotp

    from grievance.auth import accounts

    runtime, app = rig.runtime, rig.client.application
    seen: list[tuple[str, bytes]] = []
    with runtime.sessions() as session:
        accounts.create_organisation(session, "Canary Supplier", "supplier")
        accounts.create_organisation(session, "Canary Buyer", "buyer")
        session.commit()
    for role, org in (
        ("admin", None),
        ("handler", None),
        ("supplier", "Canary Supplier"),
        ("buyer", "Canary Buyer"),
    ):
        email, password, secret = (
            f"{role}@canary.example",
            "canary password 1",
            accounts.new_totp_secret(),
        )
        with runtime.sessions() as session:
            user = accounts.create_user(
                session, email, role, password, org, must_change_password=False
            )
            if role in ("admin", "handler"):
                accounts.enable_totp(user, runtime.protector, secret)
            token = accounts.create_token(session, user)
            session.commit()
        browser = app.test_client()
        browser.environ_base["wsgi.url_scheme"] = "https"
        csrf = (
            re.search(rb'name="csrf_token" value="([^"]+)"', browser.get("/login").data)
            .group(1)
            .decode()
        )
        browser.post("/login", data={"email": email, "password": password, "csrf_token": csrf})
        if role in ("admin", "handler"):
            csrf = (
                re.search(rb'name="csrf_token" value="([^"]+)"', browser.get("/login/code").data)
                .group(1)
                .decode()
            )
            browser.post("/login/code", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf})
        for path in (
            "/cases",
            f"/cases/{case_id}",
            "/deliveries/failed",
            "/admin/audit",
            f"/admin/audit?case={case_id}",
            "/supplier/cases",
            f"/supplier/cases/{case_id}",
            *(
                f"/reports?by={by}"
                for by in ("category", "site", "supplier", "language", "corridor")
            ),
            "/reports/export.csv?by=language",
            "/reports/chart.svg",
            "/reports/effectiveness",
            "/reports/exports",
            "/wellbeing",
            "/procedure/en",
        ):
            response = browser.get(path)
            assert response.status_code < 500
            seen.append((role, response.data))
        if role == "admin":
            seen.append((role, case_export(runtime, browser)))
        for path in (
            "/api/v1/cases?status=all",
            f"/api/v1/cases/{case_id}",
            f"/api/v1/cases/{case_id}/remedy",
            "/api/v1/supplier/cases",
            f"/api/v1/supplier/cases/{case_id}",
        ):
            response = browser.get(path, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code < 500
            seen.append((role, response.data))
    assert any(b"The agent took my passport" in body for role, body in seen if role == "handler")
    return seen


def case_export(runtime: Runtime, browser: FlaskClient) -> bytes:
    """The admin's case export of this month, made and downloaded as in the web UI."""
    import re

    from grievance.clock import utcnow
    from grievance.models import Export
    from grievance.services.exports import run_export

    page = browser.get("/reports/exports").data
    csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()  # type: ignore[union-attr]
    month = f"{utcnow():%Y-%m}"
    response = browser.post(
        "/reports/exports",
        data={"csrf_token": csrf, "kind": "cases", "from": month, "to": month},
    )
    assert response.status_code == 303
    with runtime.sessions() as session:
        export_id = session.scalars(select(Export.id).order_by(Export.id.desc())).first()
    assert export_id is not None
    run_export(runtime, export_id)  # done already if a worker took the job first
    download = browser.get(f"/reports/exports/{export_id}")
    assert download.status_code == 200
    assert download.data.count(b"\n") >= 2  # the header and the canary's case
    return download.data


def failed_rows(rig: Rig) -> int:
    with rig.runtime.sessions() as session:
        return len(
            session.scalars(select(OutboxItem.id).where(OutboxItem.status == "failed")).all()
        )
