"""The queue's list of job names and the job functions are the same set: a job the queue does not
know is refused at enqueue time, and a name without a function fails only in the worker."""

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
    }
    assert set(JOBS) == functions
    assert len(JOBS) == len(set(JOBS))
