"""A job queue that runs nothing until the test says so."""

from __future__ import annotations

from datetime import timedelta


class HeldQueue:
    """A queue that keeps jobs instead of running them, to control when they run."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, tuple[int, ...]]] = []

    def enqueue(self, job: str, *args: int, bulk: bool = False) -> None:
        self.jobs.append((job, args))

    def enqueue_in(self, delay: timedelta, job: str, *args: int, bulk: bool = False) -> None:
        self.jobs.append((job, args))

    def wake(self, job: str) -> None:
        if (job, ()) not in self.jobs:
            self.jobs.append((job, ()))

    def started(self, job: str) -> None:
        pass
