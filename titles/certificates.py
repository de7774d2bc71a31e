"""The certificates of a decision as they print: one A4 landscape sheet per recognised
registration, numbered as `titles.services.certificates` numbered it (printing only reads).

Two ways out, the same sheets (`titles/review/_certificate.html`): a page with every sheet for a
decision of up to `CERTIFICATES_PAGE_MAX` certificates, and, for any decision, a job
(`titles.jobs.certificates`) that writes them into one self-contained HTML file — the print
style sheet inlined, nothing fetched — to download and print, offline too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.staticfiles import finders
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from registry.models import Kind
from registry.text import fold
from titles import paper, selectors
from titles.models import Certificate, Decision, Registration

# A certificate is an official Vietnamese document: its wording does not follow the page
# language, so the titles it names are written here as they appear on the paper.
CERTIFICATE_TITLES: dict[str, str] = {
    Kind.FAMILY: "Gia đình học tập",
    Kind.CLAN: "Dòng họ học tập",
    Kind.COMMUNITY: "Cộng đồng học tập",
    Kind.UNIT: "Đơn vị học tập",
    Kind.CITIZEN: "Công dân học tập",
}
PRINT_CSS = "css/print.css"
SHEET_TEMPLATE = "titles/review/_certificate.html"
_SAFE_NAME = re.compile(r"[^0-9A-Za-z_-]")


@dataclass(frozen=True)
class CertificateSheet:
    """One certificate as it prints: the registration, its number, who holds the title, where
    they live and the title's name on paper."""

    registration: Registration
    number: int | None
    holder: str
    area: str
    title: str

    @property
    def number_label(self) -> str:
        return paper.certificate_label(self.number)


def sheet(registration: Registration) -> CertificateSheet:
    """The sheet of a registration read through `recognised`."""
    try:
        number = registration.certificate.number
    except Certificate.DoesNotExist:
        number = None
    entity = registration.entity
    return CertificateSheet(
        registration=registration,
        number=number,
        holder=paper.formal_name(entity.kind, entity.name),
        area=paper.residential_area(entity),
        title=CERTIFICATE_TITLES[registration.kind],
    )


def recognised(decision: Decision) -> QuerySet[Registration]:
    """The decision's recognised registrations in its order, with what a sheet reads."""
    return selectors.recognised_list(decision=decision).select_related(
        *paper.AREA_RELATED, "certificate"
    )


def sheets_of(registrations: Iterable[Registration]) -> list[CertificateSheet]:
    return [sheet(registration) for registration in registrations]


def file_name(decision: Decision) -> str:
    """ "giay-chung-nhan-00070-15-qd-ubnd.html" for decision 15/QĐ-UBND of ward 00070."""
    number = "-".join(part for part in _SAFE_NAME.split(fold(decision.number)) if part)
    return f"giay-chung-nhan-{_SAFE_NAME.sub('', decision.ward.code)}-{number or decision.pk}.html"


def print_css() -> str:
    """The print style sheet's text, from the project's static files."""
    path = finders.find(PRINT_CSS)
    if path is None:
        raise FileNotFoundError(PRINT_CSS)
    with open(path, encoding="utf-8") as css:
        return css.read()


def certificates_file(
    *, decision: Decision, progress: Callable[[int, int | None], None] | None = None
) -> tuple[bytes, int]:
    """Every certificate of the decision in one self-contained HTML page, UTF-8, and how many:
    one sheet per recognised registration, the print style sheet inline; `progress(done,
    total)` after each sheet."""
    rows = list(recognised(decision))
    total = len(rows)
    parts: list[str] = []
    for done, registration in enumerate(rows, start=1):
        parts.append(
            render_to_string(SHEET_TEMPLATE, {"sheet": sheet(registration), "decision": decision})
        )
        if progress is not None:
            progress(done, total)
    if progress is not None and not rows:
        progress(0, 0)
    html = render_to_string(
        "titles/review/certificates_file.html",
        {
            "decision": decision,
            "count": total,
            # The project's own style sheet and sheets its template escaped.
            "css": mark_safe(print_css()),  # noqa: S308
            "sheets": mark_safe("".join(parts)),  # noqa: S308
            "hint": _(
                "Each certificate prints on its own A4 sheet in landscape: use your browser's "
                "Print command."
            ),
        },
    )
    return html.encode("utf-8"), total
