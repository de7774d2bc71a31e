"""A ward's real spreadsheet: what the import pipeline gives every kind of file alike.

- the header row is found below title rows, blank rows and merged cells, and rows are named by
  the number the spreadsheet shows;
- the ward column may be left out by a user of one commune/ward, or with the command's ward;
  a row of another ward is still refused, and a user of several wards is told the column is
  needed;
- residential areas, clans and units may be named by their exact name in the ward; an unknown
  name gets the closest ones, a name two of them share asks for the code;
- each kind's template workbook imports as it stands (dry run).
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from registry.imports.pipeline import HEADER_SEARCH_ROWS, references_find
from registry.imports.report import ImportReport, describe_error
from registry.imports.templates import template_header, template_workbook
from registry.models import Citizen, Entity, Family, Kind
from registry.services.imports import IMPORT_KINDS, KINDS, registry_import
from registry.uploads import XLSX
from tests.factories import make_clan, make_community, make_family, make_unit
from tests.registry.test_import import csv_bytes
from tests.titles.factories import CLAN_DOC, FAMILY_DOC, load
from tests.titles.job_pages import job_page
from titles.models import Registration, Target
from titles.services.imports import REGISTRATIONS, registrations_import
from titles.services.targets import targets_load

VI_HEADER = ["Mã hộ", "Họ tên chủ hộ", "Số nhân khẩu", "Tổ dân phố", "Dòng họ"]
TITLES = [["UBND PHƯỜNG HOÀN KIẾM"], ["DANH SÁCH HỘ GIA ĐÌNH ĐĂNG KÝ NĂM 2026"]]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def areas(ward_a, ward_b):
    """Ward A: Tổ dân phố 1 (TDP01), Tổ dân phố 2 (TDP02), clan Dòng họ Nguyễn (DH01), unit
    Trường Tiểu học Thử (DV01). Ward B: Tổ dân phố 9 (B09)."""
    make_community(ward_a, code="TDP01", name="Tổ dân phố 1")
    make_community(ward_a, code="TDP02", name="Tổ dân phố 2")
    make_clan(ward_a, code="DH01", name="Dòng họ Nguyễn")
    make_unit(ward_a, code="DV01", name="Trường Tiểu học Thử")
    make_community(ward_b, code="B09", name="Tổ dân phố 9")


def families(data: bytes, *, filename: str = "ho.csv", **kw: Any) -> ImportReport:
    return registry_import(
        file=io.BytesIO(data), filename=filename, kind="families", dry_run=False, **kw
    )


def errors(report: ImportReport) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.reason) for e in report.errors]


def titled_xlsx(rows: list[list[Any]]) -> bytes:
    """A sheet as a ward office makes it: two title rows merged across, a blank row, `rows`."""
    book = Workbook()
    sheet = book.active
    for title in TITLES:
        sheet.append(title)
    sheet.merge_cells("A1:E1")
    sheet.merge_cells("A2:E2")
    sheet.append([])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- The header below title rows ---------------------------------------------------------------


def test_the_header_is_found_below_title_rows_and_rows_keep_their_numbers(ward_a, areas, alice):
    data = titled_xlsx(
        [VI_HEADER, ["H1", "Nguyễn Văn An", 4, "TDP01", ""], ["H2", "Lê Thị Hoa", 0, "TDP02", ""]]
    )
    report = families(data, filename="ho.xlsx", user=alice)
    assert errors(report) == [(6, "members", "must be at least 1, not 0")]
    assert report.rows == 2


def test_a_titled_workbook_imports(ward_a, areas, alice):
    data = titled_xlsx([VI_HEADER, ["H1", "Nguyễn Văn An", 4, "TDP01", ""]])
    report = families(data, filename="ho.xlsx", user=alice)
    assert report.ok, report.errors
    assert Family.objects.get(entity__code="H1").entity.ward == ward_a


def test_a_header_missing_a_column_is_told_on_its_own_row(ward_a, areas, alice):
    data = csv_bytes([*TITLES, [], VI_HEADER[:2] + VI_HEADER[3:], ["H1", "An", "TDP01", ""]])
    report = families(data, user=alice)
    # The only row naming columns is the title; the first non-blank row is told what it lacks.
    assert {(row, column) for row, column, _ in errors(report)} == {
        (1, "code"),
        (1, "head_name"),
        (1, "members"),
        (1, "community"),
    }
    assert not Entity.objects.filter(kind=Kind.FAMILY).exists()


def test_a_header_below_the_rows_looked_at_is_not_found(ward_a, areas):
    blank = [[""]] * HEADER_SEARCH_ROWS
    report = families(csv_bytes([*blank, ["ward", *VI_HEADER], ["70", "H1", "An", 4, "TDP01"]]))
    assert errors(report) == [
        (0, "", "None of the first 20 rows holds the column names "
         "(ward, code, head_name, members, community, clan).")
    ]  # fmt: skip


def test_a_file_with_its_header_on_row_1_reads_as_before(ward_a, areas):
    report = families(
        csv_bytes(
            [
                ["ward", "code", "head_name", "members", "community"],
                ["70", "H1", "An", "x", "TDP01"],
            ]
        )
    )
    assert errors(report) == [(2, "members", "“x” is not a whole number")]


def test_a_targets_file_with_title_rows_loads(ward_a):
    rows = [
        ["KẾ HOẠCH 291/KH-UBND"],
        [],
        ["Mã đơn vị hành chính", "Danh hiệu", "Năm", "Tỷ lệ tối thiểu", "Tỷ lệ tối đa"],
        ["00070", "Gia đình", 2030, 90, 95],
        ["00070", "Dòng họ", 2030, 95, 90],
    ]
    report = targets_load(file=io.BytesIO(csv_bytes(rows)), filename="chi-tieu.csv")
    assert [(row, column) for row, column, _ in errors(report)] == [(5, "max_rate")]
    report = targets_load(file=io.BytesIO(csv_bytes(rows[:4])), filename="chi-tieu.csv")
    assert report.ok, report.errors
    assert Target.objects.get().unit == ward_a


# --- The ward column ---------------------------------------------------------------------------


def test_one_ward_staff_may_leave_the_ward_column_out(ward_a, areas, alice):
    report = families(csv_bytes([VI_HEADER, ["H1", "Nguyễn Văn An", 4, "TDP01", ""]]), user=alice)
    assert report.ok, report.errors
    assert report.ward == "00070"
    assert "Rows without a commune/ward code are for commune/ward 00070." in report.notes
    assert Entity.objects.get(kind=Kind.FAMILY, code="H1").ward == ward_a


def test_a_blank_ward_cell_is_the_user_s_ward_and_another_ward_is_refused(ward_a, areas, alice):
    header = ["ward", *VI_HEADER]
    data = csv_bytes([header, ["", "H1", "An", 4, "TDP01"], ["00004", "H2", "Bình", 3, "B09"]])
    report = families(data, user=alice)
    assert errors(report)[0][:2] == (3, "ward")
    assert "in your scope" in errors(report)[0][2]
    assert not Entity.objects.filter(kind=Kind.FAMILY).exists()


def test_a_user_of_several_wards_needs_the_ward_column(ward_a, areas, dave):
    report = families(csv_bytes([VI_HEADER, ["H1", "An", 4, "TDP01", ""]]), user=dave)
    assert errors(report) == [
        (
            1,
            "ward",
            "the file needs a commune/ward column (Mã xã/phường): you work for "
            "several communes/wards, so each row must say which one it is for",
        )
    ]


def test_the_command_s_ward_fills_rows_and_refuses_another(ward_a, ward_b, areas):
    report = families(csv_bytes([VI_HEADER, ["H1", "An", 4, "TDP01", ""]]), ward="70")
    assert report.ok, report.errors
    assert Entity.objects.get(kind=Kind.FAMILY, code="H1").ward == ward_a
    header = ["ward", *VI_HEADER]
    report = families(csv_bytes([header, ["00004", "H2", "Bình", 3, "B09"]]), ward="00070")
    assert errors(report) == [
        (
            2,
            "ward",
            "this file is for commune/ward 00070 only; a row of commune/ward 00004 cannot be "
            "imported with it",
        )
    ]
    assert Entity.objects.filter(kind=Kind.FAMILY).count() == 1


def test_an_unknown_ward_for_the_command_is_refused(ward_a, areas):
    report = families(csv_bytes([VI_HEADER, ["H1", "An", 4, "TDP01", ""]]), ward="99999")
    assert errors(report) == [(0, "", "No commune/ward in force has the code “99999”.")]


def test_without_a_ward_the_command_still_needs_the_column(ward_a, areas):
    report = families(csv_bytes([VI_HEADER, ["H1", "An", 4, "TDP01", ""]]))
    assert [(row, column) for row, column, _ in errors(report)] == [(1, "ward")]
    assert "required column is missing" in errors(report)[0][2]


def test_registrations_of_one_ward_staff_need_no_ward_column(ward_a, ward_b, alice):
    load(FAMILY_DOC)
    make_family(ward_a, code="H1")
    report = registrations_import(
        file=io.BytesIO(csv_bytes([["Loại", "Mã"], ["Gia đình", "H1"]])),
        filename="dk.csv",
        year=2025,
        dry_run=False,
        user=alice,
    )
    assert report.ok, report.errors
    assert Registration.objects.get().ward == ward_a


# --- Names for areas, clans and units ----------------------------------------------------------


def test_an_area_and_a_clan_may_be_named_by_their_exact_name(ward_a, areas, alice):
    data = csv_bytes([VI_HEADER, ["H1", "An", 4, "  TO DAN PHO 2 ", "dòng họ nguyễn"]])
    report = families(data, user=alice)
    assert report.ok, report.errors
    family = Family.objects.select_related("community__entity", "clan__entity").get()
    assert family.community.entity.code == "TDP02"
    assert family.clan.entity.code == "DH01"


def test_an_unknown_name_is_refused_with_the_closest_names(ward_a, areas, alice):
    data = csv_bytes([VI_HEADER, ["H1", "An", 4, "Tổ dân phô 3", ""]])
    report = families(data, user=alice)
    assert errors(report) == [
        (
            2,
            "community",
            "no residential area with the code “Tổ dân phô 3” in commune/ward 00070, and none "
            "is named so; did you mean “Tổ dân phố 1” or “Tổ dân phố 2”?",
        )
    ]
    assert not Entity.objects.filter(kind=Kind.FAMILY).exists()


def test_a_name_of_another_ward_is_not_found(ward_a, areas, alice):
    report = families(csv_bytes([VI_HEADER, ["H1", "An", 4, "Tổ dân phố 9", ""]]), user=alice)
    assert errors(report)[0][:2] == (2, "community")
    assert "Tổ dân phố 9”" not in errors(report)[0][2].split("did you mean")[-1]


def test_a_name_two_areas_share_asks_for_the_code(ward_a, areas, alice):
    make_community(ward_a, code="TDP2B", name="Tổ Dân Phố 2")
    report = families(csv_bytes([VI_HEADER, ["H1", "An", 4, "Tổ dân phố 2", ""]]), user=alice)
    assert errors(report) == [
        (
            2,
            "community",
            "2 residential areas of commune/ward 00070 are named “Tổ dân phố 2” (codes TDP02, "
            "TDP2B); write the code instead",
        )
    ]


def test_a_code_wins_over_a_name(ward_a, areas):
    make_community(ward_a, code="Tổ dân phố 1", name="Khu tập thể")
    found = references_find(Kind.COMMUNITY, [(ward_a.pk, "Tổ dân phố 1")])
    assert found[(ward_a.pk, "Tổ dân phố 1")].pk == (
        Entity.objects.get(kind=Kind.COMMUNITY, code="Tổ dân phố 1").pk
    )


def test_households_are_named_by_code_only(ward_a, areas):
    make_family(ward_a, code="H1", head_name="Nguyễn Văn An")
    found = references_find(Kind.FAMILY, [(ward_a.pk, "Nguyễn Văn An")])
    assert found[(ward_a.pk, "Nguyễn Văn An")].pk is None
    assert found[(ward_a.pk, "Nguyễn Văn An")].closest == ()


def test_a_citizen_s_unit_may_be_named(ward_a, areas, alice):
    header = ["Mã công dân", "Họ và tên", "Năm sinh", "Đơn vị"]
    report = registry_import(
        file=io.BytesIO(csv_bytes([header, ["CD1", "Lê Thị Hoa", 1990, "trường tiểu học thử"]])),
        filename="cd.csv",
        kind="citizens",
        dry_run=False,
        user=alice,
    )
    assert report.ok, report.errors
    assert Citizen.objects.get().unit.entity.code == "DV01"


def test_a_registration_of_a_clan_may_name_it(ward_a, areas, alice):
    load(CLAN_DOC)
    report = registrations_import(
        file=io.BytesIO(csv_bytes([["Loại", "Mã"], ["dòng họ", "Dong ho Nguyen"]])),
        filename="dk.csv",
        year=2025,
        dry_run=True,
        user=alice,
    )
    assert report.ok, report.errors
    assert report.created == 1


def test_a_clan_named_by_code_and_by_name_is_one_registration_repeated(ward_a, areas, alice):
    load(CLAN_DOC)
    report = registrations_import(
        file=io.BytesIO(
            csv_bytes([["Loại", "Mã"], ["dòng họ", "DH01"], ["dòng họ", "Dòng họ Nguyễn"]])
        ),
        filename="dk.csv",
        year=2025,
        dry_run=False,
        user=alice,
    )
    assert errors(report) == [
        (3, "code", "the same clan as row 2 (Dòng họ Nguyễn of commune/ward 00070)")
    ]
    assert not Registration.objects.exists()


# --- Templates ---------------------------------------------------------------------------------


def _examples(ward) -> None:
    """The records the templates' example rows name."""
    area = make_community(ward, code="TDP01", name="Tổ dân phố 1")
    clan = make_clan(ward, code="DH001", name="Dòng họ Nguyễn")
    make_family(ward, code="HGD001", community=area, clan=clan)
    make_unit(ward, code="DV001", name="Trường Tiểu học Khương Đình")


@pytest.mark.parametrize("kind", KINDS)
def test_each_registry_template_imports_as_it_stands(ward_a, kind):
    _examples(ward_a)
    report = registry_import(
        file=io.BytesIO(template_workbook(IMPORT_KINDS[kind], ward=ward_a.code)),
        filename="mau.xlsx",
        kind=kind,
        dry_run=True,
    )
    assert report.ok, report.errors
    assert report.rows == 1
    assert report.created + report.updated + report.unchanged == 1


def test_the_registrations_template_imports_as_it_stands(ward_a):
    load(FAMILY_DOC)
    _examples(ward_a)
    report = registrations_import(
        file=io.BytesIO(template_workbook(REGISTRATIONS, ward=ward_a.code)),
        filename="mau.xlsx",
        year=2025,
        dry_run=True,
    )
    assert report.ok, report.errors
    assert report.created == 1


@pytest.mark.parametrize("kind", [*KINDS, "registrations"])
def test_a_template_explains_every_column_in_vietnamese(kind):
    spec = REGISTRATIONS if kind == "registrations" else IMPORT_KINDS[kind]
    book = load_workbook(io.BytesIO(template_workbook(spec)))
    assert book.sheetnames == ["Dữ liệu", "Hướng dẫn"]
    data, guide = book.worksheets
    assert [cell.value for cell in data[1]] == [template_header(c) for c in spec.columns]
    assert all(not template_header(c).isascii() or c.name == "c.<CRITERION>" for c in spec.columns)
    rows = {row[1]: row for row in guide.iter_rows(min_row=2, values_only=True) if row[0]}
    for column in spec.columns:
        header, _name, _others, required, allowed = rows[column.name]
        assert header == template_header(column)
        assert required.startswith("Có" if column.required else "Không")
        assert allowed


# --- The commands ------------------------------------------------------------------------------


def _write(path, rows: list[list[Any]]):
    path.write_bytes(csv_bytes(rows))
    return str(path)


def test_import_registry_takes_a_ward(ward_a, ward_b, areas, tmp_path):
    path = _write(tmp_path / "ho.csv", [VI_HEADER, ["H1", "An", 4, "Tổ dân phố 1", ""]])
    out = io.StringIO()
    call_command("import_registry", path, "--kind=families", "--ward=00070", stdout=out)
    assert "1 created" in out.getvalue()
    assert Entity.objects.get(kind=Kind.FAMILY, code="H1").ward == ward_a
    other = _write(tmp_path / "b.csv", [["ward", *VI_HEADER], ["00004", "H2", "Bình", 3, "B09"]])
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem found"):
        call_command(
            "import_registry", other, "--kind=families", "--ward=70", stdout=out, stderr=err
        )
    assert "row 2, column ward: this file is for commune/ward 00070 only" in err.getvalue()
    assert not Entity.objects.filter(kind=Kind.FAMILY, code="H2").exists()


def test_import_registry_without_a_ward_needs_the_column(ward_a, areas, tmp_path):
    path = _write(tmp_path / "ho.csv", [VI_HEADER, ["H1", "An", 4, "TDP01", ""]])
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_registry", path, "--kind=families", stdout=io.StringIO(), stderr=err)
    assert "row 1, column ward: required column is missing" in err.getvalue()


def test_import_registrations_takes_a_ward(ward_a, ward_b, tmp_path):
    load(FAMILY_DOC)
    make_family(ward_a, code="H1")
    path = _write(tmp_path / "dk.csv", [["Loại", "Mã"], ["Gia đình", "H1"]])
    out = io.StringIO()
    call_command("import_registrations", path, "--year=2025", "--ward=00070", stdout=out)
    assert "1 created" in out.getvalue()
    assert Registration.objects.get().ward == ward_a
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_registrations", path, "--year=2025", "--ward=12345", stdout=out, stderr=err
        )
    assert "No commune/ward in force has the code “12345”." in err.getvalue()


# --- The upload pages --------------------------------------------------------------------------


def test_the_upload_pages_offer_the_templates(client, alice, ward_a):
    client.force_login(alice)
    html = client.get(reverse("registry_import")).content.decode()
    for kind in KINDS:
        assert reverse("registry_import_template", kwargs={"kind": kind}) in html
    html = client.get(reverse("registrations_import")).content.decode()
    assert reverse("registrations_import_template") in html


def test_a_template_downloads_with_the_user_s_ward(client, alice, ward_a):
    client.force_login(alice)
    response = client.get(reverse("registry_import_template", kwargs={"kind": "families"}))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == 'attachment; filename="mau-ho-gia-dinh.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    assert book.worksheets[0]["A2"].value == "00070"
    response = client.get(reverse("registrations_import_template"))
    assert response["Content-Disposition"] == 'attachment; filename="mau-dang-ky.xlsx"'


def test_staff_upload_a_file_without_a_ward_column(client, alice, ward_a, areas):
    client.force_login(alice)
    file = SimpleUploadedFile("ho.csv", csv_bytes([VI_HEADER, ["H1", "An", 4, "TDP01", ""]]))
    checked = client.post(
        reverse("registry_import"), {"step": "check", "kind": "families", "file": file}
    )
    response = job_page(client, checked)
    report = response.context["report"]
    assert report.ok and report.created == 1, report.errors
    assert "Rows without a commune/ward code are for commune/ward 00070." in (
        response.content.decode()
    )


# --- Errors name the column as the file wrote it -----------------------------------------------


def test_an_error_names_the_column_by_the_file_s_own_header(ward_a, areas, alice):
    report = families(csv_bytes([VI_HEADER, ["H1", "An", 4, "Tổ dân phô 3", ""]]), user=alice)
    (error,) = report.errors
    assert (error.row, error.column, error.header) == (2, "community", "Tổ dân phố")
    assert describe_error(error).startswith("row 2, column Tổ dân phố: no residential area")


def test_an_english_header_is_named_as_written_too(ward_a, areas):
    header = ["ward", "code", "head_name", "members", "Community"]
    report = families(csv_bytes([header, ["00070", "H1", "An", 4, "Tổ dân phô 3"]]))
    (error,) = report.errors
    assert (error.column, error.shown) == ("community", "Community")


def test_a_missing_column_is_named_by_its_contract_name(ward_a, areas):
    report = families(csv_bytes([VI_HEADER[:3], ["H1", "An", 4]]))
    assert [(e.row, e.shown) for e in report.errors] == [(1, "ward"), (1, "community")]


def test_two_headers_of_one_column_name_the_second(ward_a, areas, alice):
    report = families(
        csv_bytes([[*VI_HEADER, "Mã"], ["H1", "An", 4, "TDP01", "", "H1"]]), user=alice
    )
    (error,) = report.errors
    assert (error.row, error.column, error.shown) == (1, "code", "Mã")


def test_the_upload_page_names_the_column_as_the_file_wrote_it(client, alice, ward_a, areas):
    client.force_login(alice)
    client.cookies["django_language"] = "vi"
    data = csv_bytes([VI_HEADER, ["H1", "An", 4, "Tổ dân phô 3", ""]])
    file = SimpleUploadedFile("ho.csv", data)
    checked = client.post(
        reverse("registry_import"),
        {"step": "check", "kind": "families", "file": file},
    )
    response = job_page(client, checked)
    assert not response.context["report"].ok
    html = response.content.decode()
    assert '<td class="code" translate="no">Tổ dân phố</td>' in html
    assert '<td class="code" translate="no">community</td>' not in html


def test_the_command_names_the_column_as_the_file_wrote_it(ward_a, areas, tmp_path):
    path = _write(tmp_path / "ho.csv", [VI_HEADER, ["H1", "An", 4, "Tổ dân phô 3", ""]])
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_registry",
            path,
            "--kind=families",
            "--ward=00070",
            stdout=io.StringIO(),
            stderr=err,
        )
    assert "row 2, column Tổ dân phố: no residential area" in err.getvalue()


def test_the_upload_help_lists_the_vietnamese_headers(client, alice, ward_a):
    client.force_login(alice)
    client.cookies["django_language"] = "vi"
    html = client.get(reverse("registry_import")).content.decode()
    for kind, spec in IMPORT_KINDS.items():
        for column in spec.columns:
            assert template_header(column) in html, (kind, column.name)
    assert "một dòng tiêu đề" not in html
    assert "có thể nằm dưới các dòng tiêu đề văn bản" in html
