"""Case codes: 12 digits a worker can type on any keypad and read out by voice.

Eleven random digits and a Damm check digit, which catches every single
mistyped digit and every swap of two neighbours: a typo is caught before it
counts as a wrong guess. The code is shown to the worker once, grouped in fours for
reading (``4821 0937 5521``), and stored only as a slow hash.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from grievance.language.digits import only_digits

LENGTH = 12


# Damm's quasigroup of order 10 (weakly totally anti-symmetric).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def check_digit(digits: str) -> str:
    """The Damm check digit for ``digits``."""
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return str(interim)


def generate(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """A new code of :data:`LENGTH` digits; ``randbelow`` is injectable for tests."""
    body = "".join(str(randbelow(10)) for _ in range(LENGTH - 1))
    return body + check_digit(body)


# Letters a keypad or a worried thumb puts for digits: O for 0, l and I for 1.
_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "i": "1"})
# Separators people group a code with: spaces, dashes, dots, slashes.
_SEPARATORS = " -./\u00a0_,"


def digits_of(text: str) -> str | None:
    """The digits ``text`` stands for (any script; O as 0, l and I as 1; grouping ignored),
    or None when it holds anything else."""
    if not any(ch.isdigit() for ch in text):
        return None  # "ok", "Io": words, not a code
    return only_digits(text.translate(_LOOKALIKES), ignore=_SEPARATORS)


def normalize(text: str) -> str | None:
    """The code's digits if ``text`` is a well-formed code (any script, grouping ignored)."""
    digits = digits_of(text)
    if digits is None or len(digits) != LENGTH:
        return None
    return digits if check_digit(digits[:-1]) == digits[-1] else None


def problem(text: str) -> tuple[str, int] | None:
    """What is wrong with ``text`` as a code: ("length", digits sent), ("mistyped", 12) when
    the check digit fails (one digit mistyped, or two swapped), or None when it is no code
    at all or a good one."""
    digits = digits_of(text)
    if digits is None:
        return None
    if len(digits) != LENGTH:
        return "length", len(digits)
    return None if check_digit(digits[:-1]) == digits[-1] else ("mistyped", LENGTH)


def display(code: str) -> str:
    """``482109375521`` → ``4821 0937 5521``."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


# A run of digits (any script, with O and l for 0 and 1) and the separators people group a
# code with, long enough to hold a code.
_RUN = re.compile(r"[\dOolI](?:[\dOolI \-./_,\u00a0]*[\dOolI])?")
CODE_MASK = "[case code]"


def mask_codes(text: str, mask: str = CODE_MASK) -> str:
    """``text`` with every run of exactly :data:`LENGTH` digits, a good code or a mistyped one,
    replaced by ``mask``: a code in a stored message would let anyone who reads it see the case.
    Shorter or longer numbers (amounts) are left alone, and so is a number written with a
    leading "+", which is a phone number (+91 98765 43210 has twelve digits too)."""

    def replace(match: re.Match[str]) -> str:
        run = match.group(0)
        if text[: match.start()].rstrip().endswith("+"):
            return run
        digits = digits_of(run)
        real = sum(ch.isdigit() for ch in run)
        return mask if digits is not None and len(digits) == LENGTH and real >= LENGTH - 2 else run

    return _RUN.sub(replace, text)
