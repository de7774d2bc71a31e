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
    # Keep the job's input file (`InputFile`) after it ends, until it expires, for a job that
    # follows from this one (an import after its dry run); else it is deleted with the outcome.
    keep_input: bool = False


@dataclass(frozen=True)
class InputFile:
    """A file a job works on (an uploaded spreadsheet), stored for the worker with the job."""

    filename: str
    content: bytes


class JobRefused(Exception):
    """The job cannot be done as asked; its message (translated) is shown to the owner."""


@dataclass
class JobContext:
    job_id: int
    user: AbstractBaseUser
    progress: Callable[[int, int | None], None]


@dataclass(frozen=True)
class ResultView:
    """How the job page shows a finished job of a kind beyond its notes: `template` is included
    with the page's context and what `context(request, job)` adds to it."""

    template: str
    context: Callable[[Any, Any], dict[str, Any]]


JobFunction = Callable[..., Outcome]
_KINDS: dict[str, JobFunction] = {}
_RESULT_VIEWS: dict[str, ResultView] = {}


def register(
    kind: str, *, result: ResultView | None = None
) -> Callable[[JobFunction], JobFunction]:
    def decorate(function: JobFunction) -> JobFunction:
        if kind in _KINDS and _KINDS[kind] is not function:
            raise ValueError(f"job kind {kind!r} is registered twice")
        _KINDS[kind] = function
        if result is not None:
            _RESULT_VIEWS[kind] = result
        return function

    return decorate


def result_view_of(kind: str) -> ResultView | None:
    return _RESULT_VIEWS.get(kind)


def function_of(kind: str) -> JobFunction:
    try:
        return _KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown job kind {kind!r}") from None
