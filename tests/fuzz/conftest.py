"""Fuzzing fixtures: Hypothesis profiles, and the app on SQLite with in-line jobs and fake Twilio.

Two profiles, picked by ``GRIEVANCE_FUZZ``:

* ``ci`` (the default): a short run sized to keep ``pytest tests/fuzz`` near a minute on a
  2-core machine; part of every normal ``pytest`` run.
* ``long``: many more examples, with Hypothesis's example database in ``.hypothesis/`` so a
  failure found once is replayed first on the next run. ``GRIEVANCE_FUZZ_EXAMPLES=N``
  sets the number of examples per test.

The profiles are registered here but never loaded globally: only the tests under
``tests/fuzz`` use them (through :func:`fuzz_settings`), so the settings of every
other Hypothesis test stay as they are.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from sqlalchemy import delete, inspect

import grievance.models  # noqa: F401  (registers every table on Base.metadata)
from grievance.db import Base
from grievance.runtime import Runtime
from tests.support.fake_twilio import FakeTwilio

ROOT = Path(__file__).resolve().parents[2]
MODE = os.environ.get("GRIEVANCE_FUZZ", "ci").strip().lower() or "ci"
if MODE not in ("ci", "long"):
    raise pytest.UsageError(f"GRIEVANCE_FUZZ is 'ci' or 'long', not {MODE!r}")
LONG_EXAMPLES = int(os.environ.get("GRIEVANCE_FUZZ_EXAMPLES", "0") or 0)

# Fixtures are per test, not per example: every example wipes the database itself (``fresh``).
_SUPPRESSED = [
    HealthCheck.function_scoped_fixture,
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.large_base_example,
]

settings.register_profile(
    "grievance-fuzz-ci",
    deadline=None,
    suppress_health_check=_SUPPRESSED,
    print_blob=True,
    # The database is a convenience on a developer's machine; a CI clone starts empty anyway.
    database=DirectoryBasedExampleDatabase(str(ROOT / ".hypothesis" / "examples")),
)
settings.register_profile(
    "grievance-fuzz-long",
    deadline=None,
    suppress_health_check=_SUPPRESSED,
    print_blob=True,
    max_examples=LONG_EXAMPLES or 5_000,
    stateful_step_count=100,
    database=DirectoryBasedExampleDatabase(str(ROOT / ".hypothesis" / "examples")),
)
PROFILE = f"grievance-fuzz-{MODE}"


def fuzz_settings(examples: int, *, steps: int | None = None) -> settings:
    """Settings for one fuzz test: ``examples`` (and ``steps`` for state machines) in CI.

    Under ``GRIEVANCE_FUZZ=long`` the long profile's numbers win, whatever the test asks.
    """
    profile = settings.get_profile(PROFILE)
    if MODE == "long":
        return settings(parent=profile)
    extra = {"stateful_step_count": steps} if steps is not None else {}
    return settings(parent=profile, max_examples=examples, **extra)


# -- the app on SQLite, in-line jobs, Twilio against the fake server ------------------


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """SQLite only: the shared ``settings``, ``runtime``, ``app`` and ``client`` fixtures
    (tests/conftest.py) then build a Twilio deployment with in-line jobs on it."""
    return sqlite_url


def wipe(runtime: Runtime, fake: FakeTwilio) -> None:
    """Empty every table and the fake Twilio server: each example starts from nothing.

    Hypothesis runs all examples of a test inside one fixture instance; without this an
    example's outcome would depend on the ones before it and failures would not shrink.
    """
    with runtime.db.begin() as connection:
        present = set(inspect(connection).get_table_names())
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in present:
                connection.execute(delete(table))
    fake.reset()


class Line:
    """The app, its client and runtime, and the fake Twilio server, as one fixture.

    Not a dataclass: its short ``repr`` keeps Hypothesis's failure reports readable
    (they print every argument, and would print the whole runtime).
    """

    def __init__(self, app: Flask, client: FlaskClient, runtime: Runtime, fake: FakeTwilio) -> None:
        self.app = app
        self.client = client
        self.runtime = runtime
        self.fake = fake

    def __repr__(self) -> str:
        return "<grievance on SQLite, in-line jobs, fake Twilio>"

    def wipe(self) -> None:
        """Start the example from an empty database and an empty fake Twilio."""
        wipe(self.runtime, self.fake)


@pytest.fixture
def line(app: Flask, client: FlaskClient, runtime: Runtime, fake_twilio: FakeTwilio) -> Line:
    """The grievance line under fuzzing."""
    return Line(app, client, runtime, fake_twilio)
