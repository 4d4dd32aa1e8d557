"""Nothing lost under faults: Redis down or emptied, workers killed, Twilio failing, duplicates.

"Nothing lost" means every inbound message the webhook accepted is processed
and every outbound message reaches Twilio exactly once (a crash between
Twilio's answer and our commit may add one duplicate, never a loss).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

from sqlalchemy import func, select

from grievance.models import DeliveryEvent, Message
from grievance.services import cases
from tests.conftest import AUTH_TOKEN, PUBLIC_URL
from tests.faults.conftest import REDIS_OUTAGE, TWILIO_PHASE, RecordingPhone, Rig, wait_until
from tests.support.fake_twilio import Failure
from tests.support.signing import signature

WELCOME = "confidential"
UPDATE = "There is an update on your report. Reply STATUS to read it."


def test_redis_down_while_messages_arrive_and_cases_change(rig: Rig) -> None:
    rig.start_worker()
    rig.start_worker()
    phones = [rig.phone() for _ in range(50)]
    for phone in phones:
        assert phone.deliver("hello I need help") == 200
    rig.settle()
    case_ids = rig.open_cases(50)

    rig.redis.stop()
    outage_started = time.monotonic()
    for phone in phones:  # 50 inbound messages while Redis is down
        assert phone.deliver("1") == 200  # stored; the worker is told later
    for case_id in case_ids:  # 50 case updates while Redis is down
        assert cases.update_status(rig.runtime, case_id, "acknowledged", "handler:1")
    assert rig.backlog() == (50, 50)  # all safe in the database, nothing processed yet
    time.sleep(max(0.0, REDIS_OUTAGE - (time.monotonic() - outage_started)))
    rig.redis.start()

    rig.settle()
    rig.ledger().assert_nothing_lost()
    for phone in phones:
        replies = phone.replies()
        assert WELCOME in replies[0]
        assert UPDATE in replies
        assert any("What is the problem about" in r for r in replies)
        assert len(replies) == 3


def test_redis_loses_its_data_mid_run(rig: Rig) -> None:
    rig.start_worker()
    rig.start_worker()
    phones = [rig.phone() for _ in range(50)]
    for i, phone in enumerate(phones):
        if i == 25:
            rig.redis.client().flushall()  # queued jobs, schedules, locks: all gone
        assert phone.deliver("hello I need help") == 200
    rig.redis.client().flushall()
    rig.settle()
    rig.ledger().assert_nothing_lost()
    assert all(len(phone.replies()) == 1 for phone in phones)


def killed_at(rig: Rig, point: str) -> None:
    """A worker dies at ``point`` while sending a reply; a fresh worker takes over."""
    doomed = rig.start_worker(GRIEVANCE_FAILPOINTS=point)
    phone = rig.phone()
    assert phone.deliver("hello I need help") == 200
    assert doomed.wait(60) == -9  # SIGKILL, as the fail point does
    rig.start_worker()
    rig.settle()
    replies = phone.replies()
    assert replies
    assert WELCOME in replies[0]


def test_worker_killed_before_the_twilio_call(rig: Rig) -> None:
    killed_at(rig, "deliver.before_send")
    rig.ledger().assert_nothing_lost(max_duplicates=0)


def test_worker_killed_after_twilio_accepted_but_before_the_commit(rig: Rig) -> None:
    killed_at(rig, "deliver.after_send")
    ledger = rig.ledger()
    ledger.assert_nothing_lost(max_duplicates=1)
    assert ledger.duplicates == 1  # Twilio has it twice: the price of never losing it


def test_worker_killed_while_stepping_a_batch_of_conversations(rig: Rig) -> None:
    # Everything a batch did (steps, replies written to the outbox) is one transaction:
    # a worker killed before its commit leaves the messages waiting for the next worker.
    killed_at(rig, "inbound.before_commit")
    rig.ledger().assert_nothing_lost(max_duplicates=0)


def test_twilio_rate_limits_then_fails_then_recovers(rig: Rig) -> None:
    rig.start_worker()
    rig.start_worker()
    rig.fake.misbehave(
        (TWILIO_PHASE, Failure(429, 20429, "Too Many Requests")),
        (TWILIO_PHASE, Failure(500, None, "Internal Server Error")),
        (TWILIO_PHASE / 2, Failure(503, None, "timeout", delay=1.5)),  # past the 1 s client timeout
    )
    phones = [rig.phone() for _ in range(20)]
    for phone in phones:
        assert phone.deliver("hello I need help") == 200
    rig.settle()
    # Every phase really happened: rate limited, failing, then timing out.
    assert set(rig.fake.failed_by_status) == {429, 500, 503}
    rig.ledger().assert_nothing_lost()
    assert all(len(phone.replies()) == 1 for phone in phones)


def test_duplicate_webhooks_and_disordered_status_callbacks(rig: Rig) -> None:
    rig.start_worker()
    phone = rig.phone()
    params = phone.params("hello I need help")
    codes: list[int] = []

    def post() -> None:
        client = rig.client.application.test_client()
        sig = signature(AUTH_TOKEN, PUBLIC_URL + "/twilio/messaging", params)
        response = client.post(
            "/twilio/messaging", data=params, headers={"X-Twilio-Signature": sig}
        )
        codes.append(response.status_code)

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [200] * 10
    rig.settle()
    assert rig.ledger().inbound == 1
    assert len(phone.replies()) == 1
    rig.ledger().assert_nothing_lost()

    (sid,) = rig.ledger().created_sids
    for status in ("delivered", "sending", "sent", "queued", "delivered", "sent"):
        phone.post(
            {"MessageSid": sid, "MessageStatus": status, "AccountSid": rig.fake.account_sid},
            path="/twilio/status",
        )
    with rig.runtime.sessions() as session:
        message = session.scalars(select(Message).where(Message.provider_sid == sid)).one()
        assert message.delivery_status == "delivered"
        events = session.scalar(
            select(func.count(DeliveryEvent.id)).where(DeliveryEvent.message_id == message.id)
        )
        assert events == 4  # queued, sending, sent, delivered: each once
    wait_until("no stray work", lambda: rig.backlog() == (0, 0), timeout=10)


def test_a_burst_on_one_sender_is_paced_without_parking_the_workers(rig: Rig) -> None:
    """Six workers text the one SMS number at once, which sends one message every 5 s: the
    replies wait for their slots on the job schedule, not in sleeping workers, so a WhatsApp
    worker writing right after them is answered before the second SMS reply is due (with
    two workers asleep on the next two slots, it would wait 5 s for one); and the SMS number
    never sends faster than its rate (a slow machine only spaces them more)."""
    rate = 0.2
    for _ in range(2):
        rig.start_worker(GRIEVANCE_SMS_RATE=str(rate))
    start = len(rig.fake.messages)
    burst = [rig.phone() for _ in range(6)]
    for phone in burst:
        assert phone.deliver("hello I need help") == 200
    whatsapp = RecordingPhone(rig.client, rig.fake, "+9779800000777", channel="whatsapp", rig=rig)
    assert whatsapp.deliver("hello I need help") == 200

    def sent_to(addresses: set[str]) -> list[float]:
        arrived = zip(rig.fake.messages[start:], rig.fake.received_at[start:], strict=True)
        return [at for message, at in arrived if message.get("To") in addresses]

    sms = {phone.address for phone in burst}
    wait_until("the WhatsApp worker's reply", lambda: bool(sent_to({whatsapp.address})))
    assert len(sent_to(sms)) <= 1, "the WhatsApp worker waited behind the paced SMS replies"
    wait_until("every reply of the burst", lambda: len(sent_to(sms)) == len(burst))
    times = sorted(sent_to(sms))
    assert times[-1] - times[0] >= (len(times) - 1) / rate * 0.95
    rig.ledger().assert_nothing_lost()


def test_a_burst_worker_leaves_once_the_queues_are_empty(rig: Rig) -> None:
    """`grievance worker --burst` (what scripts and one-off drains run) does the work queued,
    including a job scheduled for later that is due, and exits: it once hung a minute on
    exit inside redis-py's pubsub thread. A liveness wait, three times over."""
    phone = rig.phone()
    for attempt in range(3):
        assert phone.deliver(f"hello {attempt}") == 200
        rig.runtime.queue.enqueue_in(timedelta(seconds=0), "sweep")
        process = subprocess.Popen(
            [sys.executable, "-m", "grievance.cli", "worker", "--burst"],
            env=os.environ | rig.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert process.wait(timeout=45) == 0
        finally:
            if process.poll() is None:
                process.kill()
    assert rig.backlog()[0] == 0  # every message was processed before the worker left
