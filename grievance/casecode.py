"""Case codes: 12 digits a worker can type on any keypad and read out by voice.

Eleven random digits and a Luhn check digit: a typo is caught before it counts
as a wrong guess. The code is shown to the worker once, grouped in fours for
reading (``4821 0937 5521``), and stored only as a slow hash.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from grievance.language.digits import only_digits

LENGTH = 12


def luhn_digit(digits: str) -> str:
    """The Luhn check digit for ``digits``."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def generate(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """A new code of :data:`LENGTH` digits; ``randbelow`` is injectable for tests."""
    body = "".join(str(randbelow(10)) for _ in range(LENGTH - 1))
    return body + luhn_digit(body)


def normalize(text: str) -> str | None:
    """The code's digits if ``text`` is a well-formed code (any script, spaces and dashes ignored)."""
    digits = only_digits(text)
    if digits is None or len(digits) != LENGTH:
        return None
    return digits if luhn_digit(digits[:-1]) == digits[-1] else None


def display(code: str) -> str:
    """``482109375521`` → ``4821 0937 5521``."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))
