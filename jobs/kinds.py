"""The kinds of job and how one runs: a function registered under a name, given its arguments
and a `progress(done, total)` callback, returning what came of it.

    @jobs.kinds.register("titles.report")
    def report(*, job: JobContext, unit_code: str, year: int) -> Outcome:
        ...
        job.progress(done, total)
        return Outcome(output=Output(filename=..., content_type=..., content=...))

Apps register their kinds when they start (`AppConfig.ready`), so this foundation imports
nothing from the apps built on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser


@dataclass(frozen=True)
class Output:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Outcome:
    """What a job made: a file to download, a summary to show, notes for the user."""

    output: Output | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class JobRefused(Exception):
    """The job cannot be done as asked; its message (translated) is shown to the owner."""


@dataclass
class JobContext:
    job_id: int
    user: AbstractBaseUser
    progress: Callable[[int, int | None], None]


JobFunction = Callable[..., Outcome]
_KINDS: dict[str, JobFunction] = {}


def register(kind: str) -> Callable[[JobFunction], JobFunction]:
    def decorate(function: JobFunction) -> JobFunction:
        if kind in _KINDS and _KINDS[kind] is not function:
            raise ValueError(f"job kind {kind!r} is registered twice")
        _KINDS[kind] = function
        return function

    return decorate


def function_of(kind: str) -> JobFunction:
    try:
        return _KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown job kind {kind!r}") from None
