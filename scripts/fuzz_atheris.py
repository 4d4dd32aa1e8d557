"""Coverage-guided fuzzing with atheris (libFuzzer) of the webhooks and the flow engine.

Not needed by CI: the Hypothesis fuzz tests in ``tests/fuzz`` run there. This script
checks the same properties (``tests/fuzz/harness.py``) under libFuzzer, which mutates
inputs towards new branches of ``grievance`` and ``werkzeug`` (both instrumented).

Targets:

* ``webhook``: the app on a temporary SQLite database with in-line jobs and Twilio
  pointed at the local fake server; each input becomes a signed form, a forged one,
  a raw body with an odd content type (signed as the app will parse it), or a status
  callback, posted through the Flask test client to an empty line.
* ``engine``: one conversation per input: a deployment, then up to 40 messages,
  keywords, numbers in native scripts, timers, broadcasts and redeployed flows.

Usage (``pip install -e '.[fuzz]'`` first)::

    .venv/bin/python scripts/fuzz_atheris.py engine -max_total_time=600 .fuzz/engine
    .venv/bin/python scripts/fuzz_atheris.py webhook -max_total_time=600 .fuzz/webhook
    .venv/bin/python scripts/fuzz_atheris.py engine crash-<sha1>   # replay one input
    FUZZ_VERBOSE=1 .venv/bin/python scripts/fuzz_atheris.py engine crash-<sha1>

Everything after the target name goes to libFuzzer (``-runs=N``, ``-max_total_time=S``,
``-jobs=N``, corpus directories, or files to replay). A property that fails raises, and
libFuzzer saves the input as ``crash-<sha1>`` in the current directory.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import atheris  # noqa: E402

with atheris.instrument_imports(include=["grievance", "werkzeug"]):
    from werkzeug.datastructures import MultiDict
    from werkzeug.exceptions import HTTPException

    from grievance.app import create_app
    from grievance.config import Settings
    from grievance.migrate import upgrade
    from grievance.runtime import build_runtime
    from tests.conftest import SMS_NUMBER, WHATSAPP_NUMBER, environment
    from tests.fuzz.conftest import wipe
    from tests.fuzz.harness import (
        DEPLOYMENTS,
        FAKE_MEDIA,
        FLOWS,
        MESSAGING,
        NOTHING,
        STATUS,
        TWIML,
        Conversation,
        check_no_nul,
        check_response,
        check_signed_inbound,
        expected_status,
        post,
        sign,
        snapshot,
        with_fake_media,
    )
    from tests.fuzz.strategies import ALL_CATALOGS, DIGIT_ZEROS, EDGE_NOISE, INVISIBLE, native
    from tests.support.fake_twilio import ACCOUNT_SID, FakeTwilioServer

VERBOSE = os.environ.get("FUZZ_VERBOSE") == "1"
FDP = atheris.FuzzedDataProvider


def text(fdp: FDP, longest: int = 64) -> str:
    return str(fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, longest)))


def sid(fdp: FDP) -> str | None:
    kind = fdp.ConsumeIntInRange(0, 4)
    if kind <= 2:
        return fdp.PickValueInList(["SM", "MM"]) + fdp.ConsumeBytes(16).hex().ljust(32, "0")
    return text(fdp, 40) if kind == 3 else None


# -- the webhooks ----------------------------------------------------------------------------


class Records(logging.Handler):
    """Keeps every log record of one input, for the no-phone-number-in-logs check."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def inbound_form(fdp: FDP) -> dict[str, str]:
    form: dict[str, str] = {}
    for _ in range(fdp.ConsumeIntInRange(0, 3)):
        form[text(fdp, 12)] = text(fdp, 40)
    message_sid = sid(fdp)
    if message_sid is not None:
        form["MessageSid"] = message_sid
    sender = fdp.ConsumeIntInRange(0, 5)
    digits = str(fdp.ConsumeIntInRange(10**6, 10**15))
    if sender <= 1:
        form["From"] = "+" + digits
    elif sender == 2:
        form["From"] = "whatsapp:+" + digits
    elif sender == 3:
        form["From"] = text(fdp, 30)
    if sender >= 4 or fdp.ConsumeBool():
        form["ExternalUserId"] = text(fdp, 20) if fdp.ConsumeBool() else "US." + digits
    form["To"] = fdp.PickValueInList([SMS_NUMBER, WHATSAPP_NUMBER, ""]) or text(fdp, 70)
    form["Body"] = text(fdp, 2000)
    form["AccountSid"] = ACCOUNT_SID if fdp.ConsumeBool() else text(fdp, 40)
    if fdp.ConsumeBool():
        form["NumMedia"] = text(fdp, 6) if fdp.ConsumeBool() else str(fdp.ConsumeInt(8))
        for i in range(fdp.ConsumeIntInRange(0, 3)):
            url = fdp.PickValueInList(
                [FAKE_MEDIA, "https://api.twilio.com/2010-04-01/x", "https://", "http://["]
            )
            form[f"MediaUrl{i}"] = url if fdp.ConsumeBool() else url + text(fdp, 20)
            form[f"MediaContentType{i}"] = text(fdp, 30)
    return form


def webhook_target() -> Callable[[bytes], None]:
    """An app on a temporary SQLite database, with Twilio pointed at the fake server."""
    workdir = Path(tempfile.mkdtemp(prefix="grievance-fuzz-"))
    url = f"sqlite:///{workdir / 'grievance.db'}"
    upgrade(url)
    server = FakeTwilioServer()
    fake = server.__enter__()
    runtime = build_runtime(Settings.from_env(environment(url, workdir / "instance", fake)))
    app = create_app(runtime=runtime)
    app.testing = True
    client = app.test_client()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the fake server's access log
    records = Records()
    logging.getLogger().addHandler(records)
    logging.getLogger().setLevel(logging.INFO)

    def one(data: bytes) -> None:
        fdp = FDP(data)
        wipe(runtime, fake)
        records.records.clear()
        mode = fdp.ConsumeIntInRange(0, 3)
        if mode == 0:  # signed, as Twilio would
            form = with_fake_media(inbound_form(fdp), fake)
            check_signed_inbound(client, runtime, fake, form, MESSAGING, lambda: records.records)
        elif mode == 1:  # forged or unsigned
            form = inbound_form(fdp)
            forged = fdp.PickValueInList(["", "AAAA", sign(form, STATUS), sign(form, token="x")])
            response = post(client, form, MESSAGING, forged if fdp.ConsumeBool() else None)
            check_response(response, form)
            assert response.status_code == 403, response.status_code
            assert snapshot(runtime, fake) == NOTHING
        elif mode == 2:  # raw bytes, odd content types, signed as the app will parse them
            content_type = fdp.PickValueInList(
                [
                    "application/x-www-form-urlencoded",
                    "application/x-www-form-urlencoded; charset=latin-1",
                    "multipart/form-data; boundary=xyz",
                    "application/json",
                    "text/plain",
                ]
            )
            body = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 4000))
            headers = {"Content-Type": content_type}
            with app.test_request_context(MESSAGING, method="POST", data=body, headers=headers):
                from flask import request

                try:
                    parsed: MultiDict[str, str] | None = MultiDict(request.form)
                except HTTPException:
                    parsed = None
            if parsed is not None:
                headers["X-Twilio-Signature"] = sign(parsed)
            response = client.post(MESSAGING, data=body, headers=headers)
            assert response.status_code < 500, response.status_code
            assert response.data in (TWIML, b"")
            if parsed is not None:
                flat = {key: parsed.get(key, "") for key in parsed}
                assert response.status_code == expected_status(flat)
            check_no_nul(runtime)
        else:  # a delivery status callback
            form = {"MessageSid": sid(fdp) or "", "MessageStatus": text(fdp, 20)}
            if fdp.ConsumeBool():
                form["ErrorCode"] = text(fdp, 30)
            response = post(client, form, STATUS, sign(form, STATUS))
            assert response.status_code < 500, response.status_code
            check_no_nul(runtime)

    return one


# -- the flow engine -------------------------------------------------------------------------

DELAYS = [timedelta(minutes=m) for m in (1, 29, 31, 59, 61, 119, 121)] + [
    timedelta(hours=h) for h in (17, 18, 19, 30, 72)
]
KEYWORDS = sorted({k for c in ALL_CATALOGS.values() for k in c.keywords})


def words(kind: str, languages: tuple[str, ...]) -> list[str]:
    found = [w for lang in languages for w in ALL_CATALOGS[lang].keywords.get(kind, ())]
    if kind in ("yes", "no"):
        found = [w for lang in languages for w in getattr(ALL_CATALOGS[lang], kind)]
    return sorted(set(found)) or ["STOP"]


def typed(fdp: FDP, word: str) -> str:
    """``word`` as a phone might send it."""
    case = fdp.ConsumeIntInRange(0, 2)
    word = word.upper() if case == 1 else word.lower() if case == 2 else word
    noise = EDGE_NOISE + INVISIBLE
    return fdp.PickValueInList(noise) + word + fdp.PickValueInList(noise)


def engine_one(data: bytes) -> None:
    fdp = FDP(data)
    deployment = fdp.PickValueInList(DEPLOYMENTS)
    language = fdp.PickValueInList([None, *deployment])
    talk = Conversation(
        deployment,
        fdp.PickValueInList(["sms", "whatsapp"]),
        language,
        fdp.ConsumeBool(),
        fdp.ConsumeBool(),
        log=print if VERBOSE else lambda line: None,
    )
    if fdp.ConsumeBool():
        talk.start(fdp.PickValueInList(FLOWS))
    for _ in range(fdp.ConsumeIntInRange(1, 40)):
        if fdp.remaining_bytes() == 0:
            break
        op = fdp.ConsumeIntInRange(0, 10)
        if op <= 1:
            media = [fdp.PickValueInList(["image", "audio", "video", "document"])] * (
                fdp.ConsumeIntInRange(0, 2)
            )
            talk.message(text(fdp, 300), tuple(media))
        elif op == 2:
            kind = fdp.PickValueInList(KEYWORDS)
            talk.keyword(kind, typed(fdp, fdp.PickValueInList(words(kind, deployment))))
        elif op == 3:
            script = fdp.PickValueInList(sorted(DIGIT_ZEROS))
            talk.message(native(str(fdp.ConsumeIntInRange(0, 15)), script))
        elif op == 4:
            answer = fdp.PickValueInList(["yes", "no"])
            talk.message(typed(fdp, fdp.PickValueInList(words(answer, deployment))))
        elif op == 5:
            talk.time_passes(fdp.PickValueInList(DELAYS))
        elif op == 6:
            talk.until_next_timer(timedelta(seconds=fdp.ConsumeIntInRange(0, 600)))
        elif op == 7:
            talk.early_timer(fdp.PickValueInList(["timeout", "expire"]))
        elif op == 8:
            talk.start(fdp.PickValueInList(FLOWS))
        elif op == 9:
            talk.redeploy(
                fdp.PickValueInList(["run", "parent", "draft"]),
                fdp.PickValueInList(["version", "node", "flow"]),
            )
        else:
            digits = str(fdp.ConsumeIntInRange(0, 10**12 - 1)).zfill(12)
            code = " ".join(digits[i : i + 4] for i in range(0, 12, 4))
            prefix = typed(fdp, fdp.PickValueInList(words("status", deployment))) + " "
            talk.message((prefix if fdp.ConsumeBool() else "") + code)


TARGETS: dict[str, Callable[[], Callable[[bytes], Any]]] = {
    "webhook": webhook_target,
    "engine": lambda: engine_one,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        print(__doc__)
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer options] [corpus...]")
    target = TARGETS[sys.argv[1]]()
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
