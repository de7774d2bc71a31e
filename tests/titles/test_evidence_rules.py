"""Evidence validated by the rules once, on every path; one rounding on every page.

- The staff evidence form and the self-assessment form refuse a value outside its criterion's
  range (15 on a 0–10 scale, a negative number, text) with a Vietnamese message beside the
  field and store nothing; "9,5" and "9.5" both store 9.5.
- A registrations file keeps its contract: a scale value above the maximum is imported, counts
  as the maximum, and the report (service, command) names the capped cell.
- A share or rate at a .x5 boundary (1/16 = 6.25%) reads 6.3 on the evidence page, in the
  result, in the roll-up API, the CSV export and the dashboard.
"""

from __future__ import annotations

import copy
import csv
import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from tests.factories import make_clan, make_community, make_family
from tests.registry.test_import import csv_bytes
from tests.titles.factories import CLAN_DOC, FAMILY_DOC, load, registration
from tests.titles.job_pages import job_page
from titles.models import Registration, State
from titles.services.evaluate import registrations_evaluate
from titles.services.imports import registrations_import
from titles.services.rollups import rollups_refresh

YEAR = 2025

# The family set with a 0–10 scale.
FAMILY_10 = copy.deepcopy(FAMILY_DOC)
FAMILY_10["pass"]["min_points"] = 40
FAMILY_10["outstanding"]["min_points"] = 75
FAMILY_10["criteria"][2]["max"] = 10


@pytest.fixture
def reg(ward_a):
    load(FAMILY_10)
    family = make_family(ward_a, code="H1", community=make_community(ward_a, code="A1"))
    return registration(family.entity, year=YEAR)


def _evidence_url(reg: Registration) -> str:
    return reverse("registration_evidence", args=[reg.pk])


def _self_assessment_url(client, staff, reg: Registration) -> str:
    """The link as staff hand it over: issued on the staff's self-assessment link page."""
    client.force_login(staff)
    html = client.post(
        reverse("registration_self_link", args=[reg.pk]), {"action": "issue"}
    ).content.decode()
    client.logout()
    found = re.search(r"/titles/self/[^\"'<\s]+/", html)
    assert found, "the self-link page shows the link"
    return found.group(0)


def _field_errors(html: str, code: str) -> str:
    """The error list rendered beside the field `code` (empty when there is none)."""
    found = re.search(rf'<ul class="errors" id="id_{code}_errors">(.*?)</ul>', html, re.S)
    return found.group(1) if found else ""


def _post_form(client, staff, reg: Registration, *, self_assessment: bool, **values: str):
    url = _self_assessment_url(client, staff, reg) if self_assessment else _evidence_url(reg)
    if not self_assessment:
        client.force_login(staff)
    return client.post(url, {"version": reg.version, "F1": "yes", "F2": "3", **values})


FORMS = [pytest.param(False, id="staff form"), pytest.param(True, id="self-assessment form")]


@pytest.mark.vietnamese
@pytest.mark.parametrize("self_assessment", FORMS)
@pytest.mark.parametrize(
    ("code", "value", "message"),
    [
        ("F3", "15", "Tối đa 10 điểm: 15 vượt quá mức tối đa."),
        ("F3", "10,5", "Tối đa 10 điểm: 10,5 vượt quá mức tối đa."),
        ("F3", "abc", "Nhập số điểm từ 0 đến 10, ví dụ 7 hoặc 7,5."),
        ("F3", "-1", "Nhập số điểm từ 0 đến 10, ví dụ 7 hoặc 7,5."),
        ("F2", "abc", "Nhập một số từ 0 trở lên, ví dụ 3 hoặc 2,5."),
        ("F2", "-2", "Nhập một số từ 0 trở lên, ví dụ 3 hoặc 2,5."),
    ],
)
def test_out_of_range_values_are_refused_beside_the_field(
    client, alice, reg, self_assessment, code, value, message
):
    before = reg.version
    response = _post_form(client, alice, reg, self_assessment=self_assessment, **{code: value})
    assert response.status_code == 200
    html = response.content.decode()
    assert message in _field_errors(html, code)
    assert 'inputmode="decimal"' in html and 'type="number"' not in html
    reg.refresh_from_db()
    assert reg.evidence == {} and reg.version == before  # nothing stored


@pytest.mark.parametrize("self_assessment", FORMS)
@pytest.mark.parametrize("typed", ["9,5", "9.5"])
def test_a_decimal_comma_or_point_stores_9_5(client, alice, reg, self_assessment, typed):
    response = _post_form(client, alice, reg, self_assessment=self_assessment, F3=typed)
    assert response.status_code == 302
    reg.refresh_from_db()
    assert reg.evidence == {"F1": "yes", "F2": "3", "F3": "9.5"}
    # The form shows it back as 9.5, never 95 and never capped.
    client.force_login(alice)
    assert client.get(_evidence_url(reg)).context["form"]["F3"].value() == "9.5"


def test_the_maximum_itself_is_accepted(client, alice, reg):
    assert _post_form(client, alice, reg, self_assessment=False, F3="10").status_code == 302
    reg.refresh_from_db()
    assert reg.evidence["F3"] == "10"


# --- files: capped, with a warning naming the cell ---------------------------------------------


HEADER = ["kind", "ward", "code", "c.F1", "c.F2", "c.F3"]


@pytest.fixture
def households(ward_a):
    load(FAMILY_10)
    area = make_community(ward_a, code="A1")
    return [make_family(ward_a, code=f"H{n}", community=area) for n in (1, 2)]


def _file() -> bytes:
    return csv_bytes(
        [
            HEADER,
            ["family", "00070", "H1", "có", "3", "15"],
            ["family", "00070", "H2", "có", "3", "8"],
        ]
    )


def test_a_file_with_15_on_a_0_10_scale_imports_capped_with_a_warning(households, ward_a):
    with translation.override("en"):
        report = registrations_import(
            file=io.BytesIO(_file()), filename="dk.csv", year=YEAR, dry_run=False
        )
    assert report.ok, report.errors
    assert report.created == 2
    capped = [note for note in report.notes if "above the maximum" in note]
    assert capped == ["Row 2, column c.F3: 15 is above the maximum of 10 for F3 and counts as 10."]
    stored = {r.entity.code: r for r in Registration.objects.select_related("entity")}
    assert stored["H1"].evidence["F3"] == "15"  # the file's value, as the contract keeps it
    registrations_evaluate(year=YEAR, ward=ward_a)
    stored["H1"].refresh_from_db()
    f3 = next(c for c in stored["H1"].result["criteria"] if c["code"] == "F3")
    assert Decimal(f3["earned"]) == 10
    assert f3["reason"] == "scale 15 capped at 10 → 10 points"


def test_the_command_prints_the_capped_cell(households, tmp_path):
    path = tmp_path / "dk.csv"
    path.write_bytes(_file())
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command("import_registrations", str(path), "--year", str(YEAR), stdout=out, stderr=err)
    assert "Row 2, column c.F3: 15 is above the maximum of 10 for F3" in out.getvalue()
    assert err.getvalue() == ""
    assert Registration.objects.count() == 2


@pytest.mark.vietnamese
def test_the_web_upload_check_shows_the_capped_cell_in_vietnamese(client, alice, households):
    client.force_login(alice)
    response = client.post(
        reverse("registrations_import"),
        {"year": YEAR, "step": "check", "file": _upload()},
    )
    # The check is a job (run during the POST in tests): its page shows the report.
    page = job_page(client, response)
    assert page.context["report"].dry_run
    assert "Dòng 2, cột c.F3: 15 vượt quá mức tối đa 10 của tiêu chí F3" in page.content.decode()


def _upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("dk.csv", _file(), content_type="text/csv")


# --- one rounding: 1/16 = 6.25% reads 6.3 everywhere ----------------------------------------


@pytest.fixture
def sixteenth(ward_a, province):
    """Clan DH1 of 16 households, one of them recognised in 2025: a share and a rate of 6.25%."""
    load(FAMILY_10)
    load(CLAN_DOC)
    area = make_community(ward_a, code="A1")
    clan = make_clan(ward_a, code="DH1")
    families = [
        make_family(ward_a, code=f"H{n:02}", community=area, clan=clan) for n in range(1, 17)
    ]
    registration(families[0].entity, year=YEAR, state=State.RECOGNIZED)
    clan_reg = registration(clan.entity, year=YEAR, state=State.SUBMITTED, evidence={"C1": "1"})
    registrations_evaluate(year=YEAR, ward=ward_a)
    rollups_refresh(ward_ids=[ward_a.pk], entities=True)
    clan_reg.refresh_from_db()
    return clan_reg


def test_a_share_of_6_25_percent_reads_6_3_on_every_page(client, alice, carol, sixteenth):
    client.force_login(alice)
    evidence_page = client.get(_evidence_url(sixteenth)).content.decode()
    assert "1 of 16 households recognised as Learning Families = 6.3%, needs ≥ 70.0%" in (
        evidence_page
    )
    result_page = client.get(reverse("registration_detail", args=[sixteenth.pk])).content.decode()
    assert "1/16 = 6.3% &lt; 70.0% → 0 points" in result_page
    c2 = next(c for c in sixteenth.result["criteria"] if c["code"] == "C2")
    assert c2["reason"] == "1/16 = 6.3% < 70.0% → 0 points"

    # The family roll-up of the ward: 1 recognised of 16 households.
    rows = client.get("/api/v1/rollups/", {"year": YEAR, "kind": "family"}).json()["results"]
    assert [(r["unit_code"], r["rate"]) for r in rows] == [("00070", 6.3)]
    client.force_login(carol)
    export = client.get(reverse("report_download"), {"unit": "01", "year": YEAR, "format": "csv"})
    assert export.status_code == 200 and export.streaming
    exported = b"".join(export.streaming_content).decode("utf-8-sig")
    ward_row = next(
        r for r in csv.reader(io.StringIO(exported)) if r[0] == "00070" and r[3] == "family"
    )
    assert ward_row[8] == "6.3"
    dashboard = client.get(reverse("dashboard"), {"year": YEAR, "kind": "family"})
    assert "6.3%" in dashboard.content.decode()
    for page in (evidence_page, result_page, dashboard.content.decode()):
        assert "6.2%" not in page and "6.25" not in page


@pytest.mark.vietnamese
def test_the_same_figure_in_vietnamese(client, alice, sixteenth):
    client.force_login(alice)
    evidence_page = client.get(_evidence_url(sixteenth)).content.decode()
    result_page = client.get(reverse("registration_detail", args=[sixteenth.pk])).content.decode()
    assert "= 6,3%, cần ≥ 70,0%" in evidence_page
    assert "1/16 = 6,3% &lt; 70,0%" in result_page
