"""The programmes' imports: Vietnamese headers, the report, dry runs, scope, the upload page."""

from __future__ import annotations

import io

import pytest

from programmes.models import Beneficiary, Contribution, Delivery, Programme, ProgrammeOrganiser
from programmes.services.imports import programmes_import
from registry.models import Role
from tests.factories import make_unit, make_user
from tests.fuzz.files import csv_bytes, xlsx_bytes
from tests.programmes.factories import make_beneficiary, make_programme


def run(rows, kind, *, user=None, dry_run=False, xlsx=False):
    data = xlsx_bytes(rows) if xlsx else csv_bytes(rows)
    return programmes_import(
        file=io.BytesIO(data),
        filename="f.xlsx" if xlsx else "f.csv",
        kind=kind,
        dry_run=dry_run,
        user=user,
    )


@pytest.fixture
def school(ward_a):
    return make_unit(ward_a, code="MN1", name="Trường Mầm non Hoa Sen")


def test_programmes_with_vietnamese_headers_and_a_formula_kept_as_text(province):
    rows = [
        [
            "Mã chương trình",
            "Tên chương trình",
            "Đơn vị tổ chức",
            "Mã tỉnh",
            "Loại",
            "Ngày bắt đầu",
            "Mục đích",
        ],
        ["CT1", '=HYPERLINK("http://x")', "Hội Khuyến học", "1", "Bữa ăn", "01/09/2025", "-cmd"],
    ]
    report = run(rows, "programmes", xlsx=True)
    assert report.ok, report.errors
    p = Programme.objects.get(code="CT1")
    assert p.name == '=HYPERLINK("http://x")' and p.public_note == "-cmd"
    assert p.kind == "meals" and p.province == province
    again = run(rows, "programmes", xlsx=True)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


def test_a_bad_file_names_row_column_and_reason_and_writes_nothing(province, school):
    make_programme(province, code="CT1")
    rows = [
        ["programme", "ref", "date", "ward", "school", "kind", "days", "amount_vnd"],
        ["CT1", "A", "2025-09-30", "00070", "MN1", "meals", "10", "68000"],
        ["CT1", "B", "31/02/2025", "00070", "MN1", "meals", "10", "68000"],
        ["CT1", "C", "2025-09-30", "00070", "nope", "meals", "", "68000"],
        ["NOPE", "A", "2025-09-30", "04825", "MN1", "cash", "", "5"],
    ]
    report = run(rows, "deliveries")
    assert [(e.row, e.column) for e in report.errors] == [
        (3, "date"),
        (4, "school"),
        (4, "days"),
        (5, "programme"),
        (5, "ward"),
    ]
    assert not Delivery.objects.exists()


def test_a_dry_run_writes_nothing(province, school):
    make_programme(province, code="CT1")
    rows = [
        ["programme", "ward", "code", "full_name", "birth_year", "school", "starts"],
        ["CT1", "70", "TRE1", "Lò Thị Mai", "2020", "Trường Mầm non Hoa Sen", "2025-09-01"],
    ]
    report = run(rows, "beneficiaries", dry_run=True)
    assert report.ok and report.created == 1
    assert not Beneficiary.objects.exists()
    assert run(rows, "beneficiaries").created == 1
    assert Beneficiary.objects.get().school == school  # by its exact name


def test_scope_of_a_web_import(province, ward_a, ward_b, school, alice, eve, carol):
    programme = make_programme(province, code="CT1")
    rows = [
        ["programme", "ward", "code", "full_name", "birth_year", "school", "starts"],
        ["CT1", "00070", "TRE1", "Lò Thị Mai", "2020", "MN1", "2025-09-01"],
    ]
    assert run(rows, "beneficiaries", user=alice).ok
    refused = run(rows, "beneficiaries", user=eve)  # staff of the next ward
    assert [(e.row, e.column) for e in refused.errors] == [(2, "ward")]
    with pytest.raises(Exception):  # noqa: B017,PT011 - PermissionDenied before the file is read
        run(rows, "beneficiaries", user=carol)
    contributions = [
        ["programme", "ref", "date", "donor", "amount_vnd"],
        ["CT1", "PT1", "2025-09-01", "Nhà hảo tâm", "1000000"],
    ]
    organiser = make_user("organiser", Role.VIEWER, province)
    ProgrammeOrganiser.objects.create(programme=programme, province=province, user=organiser)
    assert run(contributions, "contributions", user=organiser).ok
    assert Contribution.objects.get().amount_vnd == 1_000_000


def test_deliveries_name_a_beneficiary_of_the_ward(province, school):
    p = make_programme(province, code="CT1")
    make_beneficiary(p, school, code="TRE1")
    rows = [
        [
            "programme",
            "ref",
            "date",
            "ward",
            "school",
            "kind",
            "beneficiary",
            "item",
            "quantity",
            "amount_vnd",
        ],
        ["CT1", "HV1", "2025-09-30", "00070", "MN1", "items", "TRE1", "Máy tính bảng", "1", "0"],
        ["CT1", "HV2", "2025-09-30", "00070", "MN1", "items", "TRE9", "Máy tính bảng", "1", "0"],
        ["CT1", "HV3", "2025-09-30", "00070", "MN1", "items", "", "Máy tính bảng", "", "0"],
    ]
    report = run(rows, "deliveries")
    assert [(e.row, e.column) for e in report.errors] == [(3, "beneficiary"), (4, "quantity")]


def test_the_upload_page_checks_then_imports(client, province, ward_a, school):
    admin = make_user("padmin", Role.ADMIN, province)
    client.force_login(admin)
    data = csv_bytes(
        [
            ["code", "name", "organiser", "province", "kind", "starts", "daily_rate_vnd"],
            ["CT1", "Bữa trưa", "Hội", "01", "meals", "2025-09-01", "6800"],
        ]
    )
    upload = io.BytesIO(data)
    upload.name = "p.csv"
    response = client.post(
        "/programmes/import/", {"step": "check", "kind": "programmes", "file": upload}
    )
    assert response.status_code == 200
    assert "Confirm import" in response.content.decode()
    assert not Programme.objects.exists()
    token = response.context["confirm_form"]["token"].value()
    response = client.post("/programmes/import/", {"step": "confirm", "token": token})
    assert response.status_code == 302
    assert Programme.objects.get().code == "CT1"


def test_a_programme_code_that_cannot_be_in_an_address_is_refused(province):
    rows = [
        ["code", "name", "organiser", "province", "kind", "starts"],
        ["CT/1", "Bữa trưa", "Hội", "01", "meals", "2025-09-01"],
        ["CT 2", "Bữa trưa", "Hội", "01", "meals", "2025-09-01"],
    ]
    report = run(rows, "programmes")
    assert [(e.row, e.column) for e in report.errors] == [(2, "code"), (3, "code")]
    assert not Programme.objects.exists()


def test_an_import_is_one_audit_entry_and_keeps_the_summary_exact(province, school):
    from audit.models import AuditEntry
    from programmes.services.tallies import tallies_verify

    make_programme(province, code="CT1")
    rows = [
        ["programme", "ref", "date", "ward", "school", "kind", "days", "amount_vnd"],
        ["CT1", "A", "2025-09-30", "00070", "MN1", "meals", "10", "68000"],
        ["CT1", "B", "2025-10-31", "00070", "MN1", "meals", "12", "81600"],
    ]
    before = AuditEntry.objects.count()
    assert run(rows, "deliveries").created == 2
    entry = AuditEntry.objects.order_by("-pk").first()
    assert AuditEntry.objects.count() == before + 1
    assert entry.detail["operation"] == "programmes_import" and entry.detail["created"] == 2
    assert tallies_verify() == []
