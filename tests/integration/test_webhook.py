"""POST /twilio/messaging: signature, exactly-once storage, allowlist, and bad input without 5xx."""

from __future__ import annotations

import json

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select
from sqlalchemy import text as sql
from sqlalchemy.pool import NullPool
from werkzeug.datastructures import MultiDict

from grievance.models import Attachment, Contact, Message
from grievance.runtime import Runtime
from tests.conftest import PUBLIC_URL, Phone
from tests.support.fake_twilio import AUTH_TOKEN, FakeTwilio
from tests.support.signing import signature


def count(runtime: Runtime, model: type) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_answer_is_empty_twiml(phone: Phone) -> None:
    response = phone.post(phone.params("hi"))
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert response.data.decode().replace(" ", "").endswith("<Response/>")
    # Twilio is a machine: it is handed no session cookie.
    assert "Set-Cookie" not in response.headers


def test_twilio_requests_never_read_a_session(
    phone: Phone, client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Flask opens the session before it matches the URL to a blueprint, so the path decides:
    # a cookie sent to a Twilio URL is never decoded, while the web app still reads its own.
    interface = app.session_interface
    opened: list[bool] = []
    real = interface.open_session

    def recording(flask_app: Flask, req: object) -> object:
        session = real(flask_app, req)  # type: ignore[arg-type]
        opened.append(not interface.is_null_session(session))
        return session

    monkeypatch.setattr(interface, "open_session", recording)
    assert phone.post(phone.params("hi")).status_code == 200
    assert client.get("/login").status_code == 200
    assert opened == [False, True]


def test_bad_signature_is_403_and_nothing_is_stored(
    phone: Phone, client: FlaskClient, runtime: Runtime
) -> None:
    params = phone.params("hi")
    forged = signature("not-our-token", PUBLIC_URL + "/twilio/messaging", params)
    assert (
        client.post(
            "/twilio/messaging", data=params, headers={"X-Twilio-Signature": forged}
        ).status_code
        == 403
    )
    assert client.post("/twilio/messaging", data=params).status_code == 403
    # Signed for another URL (a proxy that rewrote the host): also refused.
    other = signature(AUTH_TOKEN, "https://evil.example.org/twilio/messaging", params)
    assert (
        client.post(
            "/twilio/messaging", data=params, headers={"X-Twilio-Signature": other}
        ).status_code
        == 403
    )
    # A parameter changed after signing.
    good = signature(AUTH_TOKEN, PUBLIC_URL + "/twilio/messaging", params)
    tampered = params | {"Body": "something else"}
    assert (
        client.post(
            "/twilio/messaging", data=tampered, headers={"X-Twilio-Signature": good}
        ).status_code
        == 403
    )
    assert count(runtime, Message) == 0
    assert count(runtime, Contact) == 0


def test_redelivery_of_a_message_sid_is_ignored(
    phone: Phone, runtime: Runtime, fake_twilio: FakeTwilio
) -> None:
    params = phone.params("hello I need help")
    for _ in range(3):
        assert phone.post(params).status_code == 200
    with runtime.sessions() as session:
        inbound = session.scalar(select(func.count(Message.id)).where(Message.direction == "in"))
    assert inbound == 1
    assert len(phone.replies()) == 1  # one answer, not three


def test_only_allowlisted_fields_are_kept(phone: Phone, runtime: Runtime) -> None:
    phone.channel = "whatsapp"
    params = phone.params(
        "hi", ProfileName="Canary Profile", Latitude="27.7", Longitude="85.3", NewTwilioField="x"
    )
    assert phone.post(params).status_code == 200
    with runtime.sessions() as session:
        message = session.scalars(select(Message).where(Message.direction == "in")).one()
        assert set(message.fields) <= {
            "AccountSid",
            "MessagingServiceSid",
            "MessageType",
            "ButtonPayload",
            "NumSegments",
        }
        assert "Canary Profile" not in json.dumps(message.fields)
        contact = session.scalars(select(Contact)).one()
        assert contact.channel == "whatsapp"
        assert (
            runtime.protector.decrypt(contact.address_encrypted or b"") == "whatsapp:+9779841315926"
        )


def test_missing_fields_get_400_not_500(phone: Phone, runtime: Runtime) -> None:
    for drop in ("MessageSid", "From"):
        params = {
            k: v
            for k, v in phone.params("hi").items()
            if k not in (drop, "SmsSid" if drop == "MessageSid" else "")
        }
        response = phone.post(params)
        assert response.status_code == 400
    assert phone.post({}).status_code == 400
    assert count(runtime, Message) == 0


def test_awkward_bodies_get_a_helpful_reply(phone: Phone) -> None:
    # An empty first message says nothing of the language: the worker is asked, in every language.
    first = phone.send("")
    assert first[-1].endswith("1 English\n2 नेपाली\n3 မြန်မာ")
    # Control characters and emoji only: re-asked with the choices again, never silence.
    for awkward in ("\x00\x07\x1b", "🙏🙏"):
        replies = phone.send(awkward)
        assert replies[0].startswith("Please reply with the number of your language:")
        assert replies[-1].endswith("3 မြန်မာ")
    # Native digits work: Devanagari 1 is English.
    assert any("confidential" in r for r in phone.send("१"))


def test_twenty_thousand_characters_are_stored_and_answered(phone: Phone, runtime: Runtime) -> None:
    for text in ("hi I need help", "1", "1", "Factory"):
        phone.send(text)
    replies = phone.send("x" * 20_000)
    assert "danger" in replies[0]  # a story is taken whole, however long, and the report goes on
    with runtime.sessions() as session:
        last = session.scalars(
            select(Message).where(Message.direction == "in").order_by(Message.id.desc())
        ).first()
        assert last is not None
        assert len(runtime.protector.decrypt(last.body_encrypted or b"")) == 20_000


def test_media_only_message_is_accepted(
    phone: Phone, runtime: Runtime, fake_twilio: FakeTwilio
) -> None:
    phone.channel = "whatsapp"
    for text in ("hi I need help", "1", "1", "Factory"):
        phone.send(text)
    url = fake_twilio.add_media("photo1", b"\x89PNG fake image", "image/png")
    replies = phone.send("", NumMedia="1", MediaUrl0=url, MediaContentType0="image/png")
    assert "danger" in replies[0]
    with runtime.sessions() as session:
        attachment = session.scalars(select(Attachment)).one()
        assert attachment.status == "stored"
        assert attachment.source_url is None
        assert (
            runtime.protector.decrypt_bytes(attachment.data_encrypted or b"")
            == b"\x89PNG fake image"
        )
        assert b"fake image" not in (attachment.data_encrypted or b"")
    assert fake_twilio.media_requests == 1


def test_unknown_to_number_still_gets_an_answer(phone: Phone) -> None:
    phone.to = "+15550001111"
    replies = phone.send("hello I need help")
    assert any("confidential" in r for r in replies)
    sent = phone.fake.messages[-1]
    assert sent["From"] == "+15550001111"


def test_garbage_form_encoding_is_not_a_5xx(
    app: Flask, client: FlaskClient, runtime: Runtime
) -> None:
    """Bodies a form parser chokes on, signed as the app will parse them, so that they get past
    the signature check and the code after it really reads them (an unsigned body is turned away
    before anything is parsed, and proves nothing)."""
    from twilio.request_validator import RequestValidator

    bodies = [b"%%%&&&===", b"\xff\xfe\x00garbage", b"Body=%E0%A4&From=%ZZ", b"a" * 5000]
    url = f"{PUBLIC_URL}/twilio/messaging"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    for body in bodies:
        with app.test_request_context(
            "/twilio/messaging", method="POST", data=body, headers=headers
        ):
            parsed = MultiDict(request.form)
        signed = RequestValidator(AUTH_TOKEN).compute_signature(url, parsed)
        response = client.post(
            "/twilio/messaging", data=body, headers={**headers, "X-Twilio-Signature": signed}
        )
        # Signed, so past the check: no MessageSid and no sender in any of these, hence 400.
        assert response.status_code == 400, (body[:20], response.status_code)
    response = client.post(
        "/twilio/messaging", data=b"{}", headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 403)
    assert count(runtime, Message) == 0


def test_three_mib_body_gets_413(client: FlaskClient, runtime: Runtime) -> None:
    body = b"Body=" + b"a" * (3 * 1024 * 1024)
    response = client.post(
        "/twilio/messaging",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "AAAA"},
    )
    assert response.status_code == 413
    assert count(runtime, Message) == 0


def test_status_callback_moves_forward_only(phone: Phone, runtime: Runtime) -> None:
    phone.send("hello I need help")
    with runtime.sessions() as session:
        message = session.scalars(
            select(Message).where(Message.direction == "out").order_by(Message.id)
        ).first()
        assert message is not None
        sid = message.provider_sid
    assert sid
    for status in ("sent", "delivered", "sent", "delivered", "queued"):
        assert (
            phone.post(
                {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32},
                "/twilio/status",
            ).status_code
            == 204
        )
    with runtime.sessions() as session:
        message = session.scalars(select(Message).where(Message.provider_sid == sid)).one()
        assert message.delivery_status == "delivered"
    phone.post({"MessageSid": sid, "MessageStatus": "read"}, "/twilio/status")
    forged = phone.client.post(
        "/twilio/status", data={"MessageSid": sid, "MessageStatus": "failed"}
    )
    assert forged.status_code == 403
    with runtime.sessions() as session:
        message = session.scalars(select(Message).where(Message.provider_sid == sid)).one()
        assert message.delivery_status == "read"


def test_zawgyi_burmese_is_stored_as_unicode_and_answered_in_burmese(
    phone: Phone, runtime: Runtime
) -> None:
    from tests.support.burmese import UNICODE_BURMESE, ZAWGYI_BURMESE

    replies = phone.send(ZAWGYI_BURMESE)
    assert any(
        "\u1000" <= ch <= "\u109f" for ch in replies[0]
    )  # detected as Burmese, answered in Burmese
    with runtime.sessions() as session:
        message = session.scalars(select(Message).where(Message.direction == "in")).one()
        assert runtime.protector.decrypt(message.body_encrypted or b"") == UNICODE_BURMESE
        assert message.fields.get("converted_from") == "zawgyi"
        assert session.scalars(select(Contact)).one().language == "my"


def test_a_zawgyi_phone_gets_zawgyi_replies_until_it_writes_unicode(
    phone: Phone, runtime: Runtime
) -> None:
    from grievance.language.zawgyi import to_unicode, zawgyi_probability
    from tests.support.burmese import UNICODE_BURMESE, ZAWGYI_BURMESE

    (reply,) = phone.send(ZAWGYI_BURMESE)
    # What reached the phone is Zawgyi, and it says the catalog's Burmese.
    assert zawgyi_probability(reply) > 0.95
    unicode_reply, converted = to_unicode(reply)
    assert converted
    promise = runtime.catalogs["my"].messages["intake.promise"].sms
    assert unicode_reply.startswith(promise)
    with runtime.sessions() as session:
        stored = session.scalars(select(Message).where(Message.direction == "out")).one()
        # The case handler reads what was sent in Unicode.
        assert runtime.protector.decrypt(stored.body_encrypted or b"").startswith(promise)
        assert session.scalars(select(Contact)).one().script == "zawgyi"

    (reply,) = phone.send(UNICODE_BURMESE)  # the worker's phone now types Unicode
    assert zawgyi_probability(reply) < 0.05
    with runtime.sessions() as session:
        assert session.scalars(select(Contact)).one().script is None


def test_media_that_can_never_be_fetched_is_given_up_not_retried_forever(
    phone: Phone, runtime: Runtime, fake_twilio: FakeTwilio
) -> None:
    from datetime import timedelta

    from grievance.services.sweeper import sweep

    phone.channel = "whatsapp"
    for text in ("hi I need help", "1", "1", "Factory"):
        phone.send(text)
    missing = fake_twilio.add_media("gone", b"x", "image/png").replace("MEgone", "MEnothere")
    elsewhere = (
        "https://media.example.com/photo.jpg"  # not Twilio: credentials are never sent there
    )
    replies = phone.send(
        "",
        NumMedia="2",
        MediaUrl0=missing,
        MediaContentType0="image/png",
        MediaUrl1=elsewhere,
        MediaContentType1="image/jpeg",
    )
    assert "danger" in replies[0]  # the worker's report goes on
    with runtime.sessions() as session:
        statuses = session.scalars(select(Attachment.status).order_by(Attachment.id)).all()
        assert statuses == ["failed", "failed"]
    requests_before = fake_twilio.media_requests
    assert sweep(runtime, grace=timedelta(0)).media == 0  # nothing left to retry
    assert fake_twilio.media_requests == requests_before


def test_a_database_restart_costs_no_message(phone: Phone, runtime: Runtime) -> None:
    """The pool does not ping before each use: a connection the server dropped (a restart, a
    failover) is found dead by the webhook's transaction, which runs again on a new one."""
    phone.send("hello I need help")  # the pool now holds live connections
    if runtime.db.dialect.name != "postgresql":
        return  # SQLite has no server to restart
    killer = create_engine(runtime.db.url, poolclass=NullPool)
    with killer.connect() as connection:  # every pooled connection of the app dies
        dropped = connection.execute(
            sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    killer.dispose()
    assert dropped >= 1
    replies = phone.send("1")
    assert len(replies) == 1
    assert "What is the problem about" in replies[0]
