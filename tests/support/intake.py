"""A worker's intake through the signed webhook, for tests that need an open case."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.conftest import Phone

CODE = re.compile(r"\b(\d{4} \d{4} \d{4})\b")


def report(
    phone: Phone, *, danger: str = "2", sms_fallback: str = "2", full_updates: str = "2"
) -> str:
    """Walk through intake in English; return the case code shown to the worker.

    The worker asks for news, content-free unless ``full_updates`` is "1". On WhatsApp
    they are also asked whether an SMS may reach them instead.
    """
    replies = phone.send("hello I need help")
    assert "confidential" in replies[0]
    assert replies[-1].endswith("3 Who sees my message?\n4 Your rights")
    assert "1 Passport or ID kept" in phone.send("1")[0]
    assert "Where do you work" in phone.send("2")[0]
    assert "What happened" in phone.send("Sunrise Garments, Penang")[0]
    assert "danger" in phone.send("The agent took 3000 dollars for this job")[0]
    replies = phone.send(danger)
    assert "news" in replies[-1]
    assert "also say what the news is" in phone.send("1")[0]
    final = phone.send(full_updates)
    if phone.channel == "whatsapp":
        assert "by SMS to this number" in final[0]
        final = phone.send(sms_fallback)
    match = CODE.search(final[0])
    assert match, final
    return match.group(1)


def fees_report(phone: Phone, category: str = "2") -> str:
    """An English report in ``category`` (2: recruitment fees, 8: housing); its code."""
    phone.send("hello")
    phone.send("1")
    phone.send(category)
    phone.send("Sunrise Garments, Penang")
    phone.send("I paid a lot of money for this job and still owe more")
    phone.send("2")  # not in danger
    phone.send("1")  # news
    final = phone.send("2")  # content-free news
    match = CODE.search(final[0])
    assert match, final
    return match.group(1)
