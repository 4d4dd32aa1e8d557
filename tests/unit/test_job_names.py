"""The queue's list of job names and the job functions are the same set: a job the queue does not
know is refused at enqueue time, and a name without a function fails only in the worker. A job's
old name kept for jobs queued before an upgrade is an alias: RQ runs it, nothing enqueues it."""

from __future__ import annotations

import inspect

from grievance import jobs
from grievance.queue import JOBS


def test_every_job_name_is_a_job_function_and_every_job_function_is_named() -> None:
    functions = {
        name
        for name, value in vars(jobs).items()
        if inspect.isfunction(value)
        and value.__module__ == jobs.__name__
        and not name.startswith("_")
        and "runtime" in inspect.signature(value).parameters
        and value.__name__ == name  # not an old name kept for jobs already queued
    }
    assert set(JOBS) == functions
    assert len(JOBS) == len(set(JOBS))


def test_a_wave_queued_under_its_old_job_name_still_runs() -> None:
    assert jobs.send_campaign is jobs.send_wellbeing_wave
    assert "send_campaign" not in JOBS
