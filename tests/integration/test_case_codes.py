"""Case codes the way workers type them: a typo is told apart from a guess, a letter O is a
zero, and a keyword in the worker's own script is answered in their language."""

from __future__ import annotations

from sqlalchemy import func, select

from grievance import casecode
from grievance.models import CodeAttempt
from grievance.runtime import Runtime
from tests.conftest import Phone
from tests.support.intake import report

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
