"""Machine translation for handlers, against a LibreTranslate-compatible server the tests run
(tests/support/fake_libretranslate.py): what is sent to it, what the case page shows, the
cache, failures, the two-step translated reply, and who never sees a translation."""

from __future__ import annotations

import json
import re
import shutil
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from grievance.auth import accounts
from grievance.clock import utcnow
from grievance.config import Settings
from grievance.crypto import DataProtector
from grievance.language.catalog import render
from grievance.models import AuditEvent, Translation
from grievance.runtime import Runtime, build_runtime
from grievance.services import retention, translations
from grievance.services.keys import rotate_keys
from grievance.services.translations import NOT_CONFIGURED
from grievance.services.triage import CANNED_REPLIES
from grievance.translation import LibreTranslate, TranslationUnavailable
from tests.conftest import Phone, _truncate_postgres, environment
from tests.support.api import api, token_for
from tests.support.cases import close_case, newest_case
from tests.support.fake_libretranslate import (
    Failure,
    FakeLibreTranslate,
    FakeLibreTranslateServer,
)
from tests.support.fake_twilio import FakeTwilio
from tests.support.privacy import all_rows_text
from tests.support.staff import PASSWORD, act, handler, sign_in, token_of

NUMBER = "+959451234567"
# A Burmese worker's danger report from its first message (tests/flows/danger_first_message_my.yaml).
STORY = "ကူညီပါ အန္တရာယ်ရှိနေတယ် အခန်းထဲမှာ ပိတ်ထားတယ်"
WORKPLACE = "ရန်ကုန် အိမ်"
REPORT = [STORY, "1", "1", "1", WORKPLACE, "1", "2"]
STORY_EN = "Help, I am in danger, they locked me in the room"
TYPED_NUMBER = "+60 12-345 6789"
FOLLOW_UP = f"ဖုန်းဆက်ပါ {TYPED_NUMBER}"
REPLY = "We will call you tomorrow morning."
REPLY_MY = "မနက်ဖြန် မနက် ဖုန်းဆက်ပါမယ်"
REPLY_BACK = "We will phone you tomorrow morning."


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite: what these tests check does not depend on the database, except the cache's
    writes and erasure (:class:`TestOnPostgreSQLToo`)."""
    path = tmp_path / "grievance.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def _libretranslate_server() -> Iterator[FakeLibreTranslateServer]:
    with FakeLibreTranslateServer() as server:
        yield server


@pytest.fixture
def libretranslate(_libretranslate_server: FakeLibreTranslateServer) -> FakeLibreTranslate:
    """The local LibreTranslate-compatible server, emptied, with this file's phrase book."""
    fake = _libretranslate_server.app
    fake.reset()
    fake.phrase("my", "en", STORY, STORY_EN)
    fake.phrase("en", "my", REPLY, REPLY_MY)
    fake.phrase("my", "en", REPLY_MY, REPLY_BACK)
    return fake


@pytest.fixture
def translation_env(_libretranslate_server: FakeLibreTranslateServer) -> dict[str, str]:
    """The translation settings of the deployment under test."""
    return {
        "GRIEVANCE_TRANSLATION_URL": _libretranslate_server.url,
        "GRIEVANCE_TRANSLATION_TIMEOUT": "0.5",
    }


@pytest.fixture
def settings(
    database_url: str,
    tmp_path: Path,
    fake_twilio: FakeTwilio,
    libretranslate: FakeLibreTranslate,
    translation_env: dict[str, str],
) -> Settings:
    """A Twilio deployment with (or, where a test says so, without) machine translation."""
    return Settings.from_env(
        environment(database_url, tmp_path / "instance", fake_twilio, **translation_env)
    )


@pytest.fixture
def burmese(client: FlaskClient, fake_twilio: FakeTwilio) -> Phone:
    """A Burmese worker who has reported (a P0 case), then wrote a number to call them on."""
    phone = Phone(client, fake_twilio, NUMBER)
    for text in REPORT:
        phone.send(text)
    phone.send(FOLLOW_UP)
    return phone


@pytest.fixture
def staff(app: Flask, runtime: Runtime) -> FlaskClient:
    """A signed-in handler."""
    return handler(app, runtime)


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


class TestWithoutATranslationService:
    @pytest.fixture
    def translation_env(self) -> dict[str, str]:
        return {}

    def test_nothing_is_sent_and_the_page_says_so(
        self,
        runtime: Runtime,
        staff: FlaskClient,
        burmese: Phone,
        libretranslate: FakeLibreTranslate,
    ) -> None:
        html = page(staff, f"/cases/{newest_case(runtime).id}")
        assert STORY in html
        assert "Machine translation is not set up on this line" in html
        assert NOT_CONFIGURED.split(" (")[0] in html
        assert "Machine translation into" not in html
        # Free text is written in the worker's language and sent as written, as before.
        assert "Free text is sent exactly as written" in html
        assert libretranslate.requests == []


def test_a_burmese_report_shows_its_machine_translation_and_only_the_words_are_sent(
    runtime: Runtime, staff: FlaskClient, burmese: Phone, libretranslate: FakeLibreTranslate
) -> None:
    case = newest_case(runtime)
    html = page(staff, f"/cases/{case.id}")

    assert STORY in html  # the worker's own words stay, the translation is beside them
    assert f"Machine translation into English, may be wrong:</span> {STORY_EN}" in html
    assert "[en] ဖုန်းဆက်ပါ [phone number hidden]" in html  # the follow-up, on the timeline
    assert "not set up" not in html

    # One request per view: the texts and their languages, nothing else.
    assert len(libretranslate.requests) == 1
    body = libretranslate.requests[0]
    assert set(body) == {"q", "source", "target", "format"}
    assert (body["source"], body["target"], body["format"]) == ("my", "en", "text")
    # The description and the worker's messages with words; menu answers ("1") are not sent.
    assert STORY in body["q"]
    assert "1" not in body["q"]
    sent = json.dumps(libretranslate.requests, ensure_ascii=False)
    for secret in (NUMBER, NUMBER.lstrip("+"), "451234567", TYPED_NUMBER, "345 6789"):
        assert secret not in sent
    assert f"/cases/{case.id}" not in sent

    # Cached encrypted: the translation is nowhere in the database as text.
    assert STORY_EN not in all_rows_text(runtime)
    with runtime.sessions() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case.id))
        assert "translated" in list(actions)


@pytest.mark.parametrize(
    ("failure", "said"),
    [
        (Failure(500), "the translation service failed (HTTP 500)"),
        (Failure(200, delay=1.5), "the translation service did not answer in time"),
    ],
    ids=["error", "timeout"],
)
def test_a_failing_service_leaves_the_words_as_written_and_says_why(
    runtime: Runtime,
    staff: FlaskClient,
    burmese: Phone,
    libretranslate: FakeLibreTranslate,
    failure: Failure,
    said: str,
) -> None:
    case_id = newest_case(runtime).id
    libretranslate.fail_next(failure)

    html = page(staff, f"/cases/{case_id}")

    assert STORY in html
    assert f"Machine translation is unavailable right now ({said})" in html
    assert STORY_EN not in html
    # Nothing failed is kept: the next view, with the service back, translates.
    assert STORY_EN in page(staff, f"/cases/{case_id}")


def test_a_long_case_is_translated_a_batch_at_a_time_and_kept_when_a_later_batch_fails(
    runtime: Runtime,
    staff: FlaskClient,
    burmese: Phone,
    libretranslate: FakeLibreTranslate,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(translations, "BATCH", 1)
    case_id = newest_case(runtime).id
    libretranslate.fail_next(None, Failure(502))

    html = page(staff, f"/cases/{case_id}")

    # The first batch: the description, also the first message (sent once for both).
    assert html.count(STORY_EN) == 2
    assert "the translation service failed (HTTP 502)" in html
    assert libretranslate.texts() == [STORY, WORKPLACE]
    html = page(staff, f"/cases/{case_id}")
    assert "[en] ဖုန်းဆက်ပါ [phone number hidden]" in html
    assert libretranslate.texts()[2:] == [WORKPLACE, "ဖုန်းဆက်ပါ [phone number hidden]"]


def test_a_long_case_is_translated_a_few_batches_per_view(
    runtime: Runtime,
    staff: FlaskClient,
    burmese: Phone,
    libretranslate: FakeLibreTranslate,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(translations, "BATCH", 1)
    monkeypatch.setattr(translations, "BATCHES_PER_VIEW", 2)
    case_id = newest_case(runtime).id

    html = page(staff, f"/cases/{case_id}")

    assert libretranslate.texts() == [STORY, WORKPLACE]
    assert "1 more text is machine-translated when you reload the page." in html
    html = page(staff, f"/cases/{case_id}")
    assert libretranslate.texts()[2:] == ["ဖုန်းဆက်ပါ [phone number hidden]"]
    assert "more text" not in html


def test_key_rotation_rewrites_translations_under_the_newest_key(
    runtime: Runtime,
    staff: FlaskClient,
    burmese: Phone,
    libretranslate: FakeLibreTranslate,
    settings: Settings,
) -> None:
    page(staff, f"/cases/{newest_case(runtime).id}")
    new_key = Fernet.generate_key().decode()
    rotating = build_runtime(settings.with_overrides(data_keys=(new_key, *settings.data_keys)))
    try:
        # The description, the first message (the same words), the workplace, the follow-up.
        assert rotate_keys(rotating).translations == 4
    finally:
        rotating.close()
    newest_only = DataProtector([new_key])
    with runtime.sessions() as session:
        texts = [
            newest_only.decrypt(t) for t in session.scalars(select(Translation.text_encrypted))
        ]
    assert STORY_EN in texts


@pytest.mark.parametrize(
    ("failure", "said"),
    [
        (Failure(400, "my is not supported"), "the translation service cannot translate my to en"),
        (Failure(403, "Invalid API key"), "refused the key (GRIEVANCE_TRANSLATION_KEY)"),
        (Failure(429, "Slowdown"), "the translation service is busy"),
    ],
)
def test_the_adapter_says_why_a_service_refused(
    libretranslate: FakeLibreTranslate,
    failure: Failure,
    said: str,
) -> None:
    translator = LibreTranslate(libretranslate.url, timeout=2)
    libretranslate.fail_next(failure)
    with pytest.raises(TranslationUnavailable, match=re.escape(said)) as raised:
        translator.translate([STORY], "my", "en")
    assert STORY not in str(raised.value)


def test_the_adapter_refuses_a_server_that_is_not_there() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    translator = LibreTranslate(f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(TranslationUnavailable, match="cannot be reached"):
        translator.translate([STORY], "my", "en")


def test_the_key_is_sent_when_configured(
    database_url: str,
    tmp_path: Path,
    fake_twilio: FakeTwilio,
    libretranslate: FakeLibreTranslate,
    translation_env: dict[str, str],
) -> None:
    libretranslate.api_key = "lt-key-for-tests"
    env = environment(
        database_url,
        tmp_path / "instance",
        fake_twilio,
        **translation_env,
        GRIEVANCE_TRANSLATION_KEY="lt-key-for-tests",
    )
    from grievance.runtime import build_runtime

    runtime = build_runtime(Settings.from_env(env))
    try:
        assert runtime.translator is not None
        assert runtime.translator.translate([STORY], "my", "en") == [STORY_EN]
    finally:
        runtime.close()
    assert libretranslate.requests[0]["api_key"] == "lt-key-for-tests"


def test_a_reply_in_english_is_translated_previewed_and_sent_only_once_confirmed(
    runtime: Runtime,
    staff: FlaskClient,
    burmese: Phone,
    libretranslate: FakeLibreTranslate,
    fake_twilio: FakeTwilio,
) -> None:
    case_id = newest_case(runtime).id
    html = page(staff, f"/cases/{case_id}")
    assert "Free text in English" in html
    assert "Free text is machine-translated into Burmese" in html
    # Canned replies come from the reviewed catalogs: their English meaning beside the Burmese.
    for key in CANNED_REPLIES:
        meaning = escape(render(runtime.catalogs["en"], key, {}, "sms"))
        burmese_text = escape(render(runtime.catalogs["my"], key, {}, "sms"))
        assert re.search(re.escape(meaning) + r".*?" + re.escape(burmese_text), html, re.DOTALL), (
            key
        )
    burmese.replies()
    token = token_of(staff, f"/cases/{case_id}")

    # Step one: the preview. Nothing reaches the worker.
    preview = staff.post(
        f"/cases/{case_id}/message", data={"csrf_token": token, "canned": "", "text": REPLY}
    )
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert REPLY_MY in html
    assert REPLY_BACK in html
    assert "Nothing is sent yet" in html
    assert burmese.replies() == []
    assert [b["q"] for b in libretranslate.requests[-2:]] == [[REPLY], [REPLY_MY]]

    # Step two: the handler confirms; the worker gets the translation, never the English or
    # the back-translation.
    done = staff.post(
        f"/cases/{case_id}/message",
        data={"csrf_token": token, "text": REPLY, "translated": REPLY_MY, "confirm": "1"},
    )
    assert done.status_code == 303
    assert burmese.replies() == [REPLY_MY]
    html = page(staff, f"/cases/{case_id}")
    assert f"What the handler wrote, before machine translation:</span> {REPLY}" in html
    assert "machine-translated from what the handler wrote (en)" in html
    assert REPLY_BACK not in html
    assert REPLY not in all_rows_text(runtime)  # the handler's words are kept encrypted


def test_a_reply_marked_as_written_is_sent_as_written_without_translation(
    runtime: Runtime, staff: FlaskClient, burmese: Phone, libretranslate: FakeLibreTranslate
) -> None:
    case_id = newest_case(runtime).id
    page(staff, f"/cases/{case_id}")
    burmese.replies()
    libretranslate.requests.clear()
    token = token_of(staff, f"/cases/{case_id}")

    sent = staff.post(
        f"/cases/{case_id}/message",
        data={"csrf_token": token, "canned": "", "text": REPLY_MY, "as_written": "1"},
    )

    assert sent.status_code == 303
    assert burmese.replies() == [REPLY_MY]
    assert libretranslate.requests == []
    # On the timeline, the handler reads what was sent in their own language.
    assert f"Machine translation into English, may be wrong:</span> {REPLY_BACK}" in page(
        staff, f"/cases/{case_id}"
    )


def test_a_reply_that_cannot_be_translated_is_not_sent_and_the_text_is_kept(
    runtime: Runtime, staff: FlaskClient, burmese: Phone, libretranslate: FakeLibreTranslate
) -> None:
    case_id = newest_case(runtime).id
    burmese.replies()
    token = token_of(staff, f"/cases/{case_id}")
    libretranslate.fail_next(Failure(503))

    response = staff.post(
        f"/cases/{case_id}/message", data={"csrf_token": token, "canned": "", "text": REPLY}
    )

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Nothing was sent: the translation service failed (HTTP 503)." in html
    assert f">{REPLY}</textarea>" in html
    assert burmese.replies() == []


def test_suppliers_buyers_and_the_api_never_see_a_translation(
    app: Flask,
    runtime: Runtime,
    staff: FlaskClient,
    burmese: Phone,
    libretranslate: FakeLibreTranslate,
) -> None:
    case_id = newest_case(runtime).id
    with runtime.sessions() as session:
        supplier = accounts.create_organisation(session, "Supplier A", "supplier")
        accounts.create_organisation(session, "Buyer", "buyer")
        for email, role, org in (
            ("s@example.org", "supplier", "Supplier A"),
            ("b@example.org", "buyer", "Buyer"),
        ):
            accounts.create_user(session, email, role, PASSWORD, org, must_change_password=False)
        session.commit()
        supplier_id = supplier.id
    act(staff, case_id, "categorise", category="FL-MOV")
    act(staff, case_id, "supplier", supplier=supplier_id, summary="A worker is kept locked in.")
    assert STORY_EN in page(staff, f"/cases/{case_id}")

    supplier_client = sign_in(app, "s@example.org")
    shown = page(supplier_client, f"/supplier/cases/{case_id}")
    assert "A worker is kept locked in." in shown
    buyer = sign_in(app, "b@example.org")
    libretranslate.requests.clear()
    for client in (supplier_client, buyer):
        assert client.get(f"/cases/{case_id}").status_code == 404
        token = token_of(client, "/account/password")
        reply = {"csrf_token": token, "canned": "", "text": REPLY}
        assert client.post(f"/cases/{case_id}/message", data=reply).status_code == 404
        for path in (f"/supplier/cases/{case_id}", "/reports", "/supplier/cases"):
            text = client.get(path).get_data(as_text=True)
            assert STORY_EN not in text
            assert "[en]" not in text
    assert libretranslate.requests == []  # nothing they did reached the translation service
    token = token_for(runtime, "api@example.org", "handler")
    detail = api(staff, token, "GET", f"/cases/{case_id}").get_data(as_text=True)
    assert STORY_EN not in detail
    assert "[en]" not in detail


class TestOnPostgreSQLToo:
    """The cache's writes (a message translated once, whoever views first) and its erasure."""

    @pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
    def database_url(
        self, request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
    ) -> str:
        if request.param == "sqlite":
            path = tmp_path / "grievance.db"
            shutil.copy(sqlite_template, path)
            return f"sqlite:///{path}"
        url: str = request.getfixturevalue("postgres_url")
        _truncate_postgres(url)
        return url

    def test_a_second_view_sends_nothing_and_shows_the_same_translation(
        self,
        runtime: Runtime,
        staff: FlaskClient,
        burmese: Phone,
        libretranslate: FakeLibreTranslate,
    ) -> None:
        case_id = newest_case(runtime).id
        page(staff, f"/cases/{case_id}")
        libretranslate.requests.clear()

        html = page(staff, f"/cases/{case_id}")

        assert STORY_EN in html
        assert libretranslate.requests == []
        # Only a new message is sent the next time.
        burmese.send("ထပ်ပြောချင်တယ်")
        html = page(staff, f"/cases/{case_id}")
        assert "[en] ထပ်ပြောချင်တယ်" in html
        assert libretranslate.texts() == ["ထပ်ပြောချင်တယ်"]

    def test_translations_are_erased_with_the_words_they_translate(
        self,
        runtime: Runtime,
        staff: FlaskClient,
        burmese: Phone,
        libretranslate: FakeLibreTranslate,
    ) -> None:
        case_id = newest_case(runtime).id
        page(staff, f"/cases/{case_id}")
        with runtime.sessions() as session:
            assert session.scalars(select(Translation)).first() is not None

        close_case(runtime, case_id)
        retention.run(
            runtime, utcnow() + timedelta(days=runtime.settings.retention_closed_days + 1)
        )

        with runtime.sessions() as session:
            assert session.scalars(select(Translation)).all() == []
