"""The confirmation step of the mass and hard-to-undo actions: approve what passed, issue a
decision, sign off a ward's year, register a whole residential area, evaluate now.

Each of these views answers a GET (or a POST without `confirmed=1`) with one page,
`titles/confirm.html`: what the action will do — counts by title, and for a decision the list it
recognises — with a button that POSTs it confirmed and a link back. The counts come from the same
functions the action runs on; the action runs only on the confirmed POST, where it checks
everything again (the year may have been signed off, the registrations changed, meanwhile).

`next` carries the filtered list the user came from through the confirmation and back: it is
followed only when it is a URL of this site (`url_has_allowed_host_and_scheme`), otherwise the
view's own default is used.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from registry.models import Kind
from titles import workflow
from titles.models import WardSignOff
from titles.selectors import KIND_ORDER

CONFIRMED = "confirmed"
NEXT = "next"


@dataclass(frozen=True)
class Counts:
    """A small table of figures by title: `columns` name the figures, each row is a title's
    label with one figure per column; the total row adds them up."""

    columns: Sequence[str]
    rows: Sequence[tuple[str, Sequence[int]]]

    @property
    def totals(self) -> list[int]:
        return [sum(figures[i] for _, figures in self.rows) for i in range(len(self.columns))]


@dataclass
class Confirmation:
    """What one confirmation page shows and posts."""

    heading: str
    subtitle: str
    lead: str  # what the action will do, in one sentence
    action: str  # the URL the confirm button POSTs to
    button: str
    cancel: str  # back where the user came from
    counts: Counts | None = None
    rows: Sequence = ()  # registrations listed one by one (a decision's)
    notes: Sequence[str] = ()  # what else the user should know before confirming
    fields: Iterable[tuple[str, object]] = ()  # posted with the confirmation, hidden
    nothing: str = ""  # set when the action would do nothing: why, and no button
    next: str = ""


def is_confirmed(request: HttpRequest) -> bool:
    """Whether the request is the confirmed POST that runs the action."""
    return request.method == "POST" and request.POST.get(CONFIRMED) == "1"


def next_url(request: HttpRequest, default: str) -> str:
    """The list to return to: the request's `next` if it is a URL of this site, else `default`."""
    value = request.POST.get(NEXT) or request.GET.get(NEXT) or ""
    allowed = url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return value if value and allowed else default


def next_param(request: HttpRequest) -> str:
    """The `next` to carry on (validated; empty when there is none or it is not ours)."""
    return next_url(request, "")


def by_kind(rows: Iterable[dict], *figures: str) -> list[tuple[str, list[int]]]:
    """Rows of `{"kind": …, <figure>: n, …}` as (title label, [figures]) in the usual order of
    titles; titles without any figure are left out."""
    found = {row["kind"]: [row[name] for name in figures] for row in rows}
    return [
        (Kind(kind).label, found[kind]) for kind in KIND_ORDER if kind in found and any(found[kind])
    ]


def confirm(request: HttpRequest, confirmation: Confirmation) -> HttpResponse:
    """The confirmation page; nothing is written."""
    if not confirmation.next:
        confirmation.next = next_param(request)
    return render(request, "titles/confirm.html", {"c": confirmation, "signoff": None})


def refuse_frozen(
    request: HttpRequest, *, heading: str, subtitle: str, signoff: WardSignOff, back: str
) -> HttpResponse:
    """The page a confirmation shows in a signed-off year: who signed it off and when, that
    nothing can change, and only a way back."""
    confirmation = Confirmation(
        heading=heading, subtitle=subtitle, lead="", action="", button="", cancel=back
    )
    return render(
        request,
        "titles/confirm.html",
        {"c": confirmation, "signoff": signoff, "refusal": workflow.frozen_message(signoff.year)},
    )
