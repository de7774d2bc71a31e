"""Plan targets: the `load_targets` file (service and command), the shipped plans and the
targets admin."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from openpyxl import Workbook
from vietnam_provinces import Province

from registry.models import Kind, Role
from tests.factories import ProvinceFactory, UserFactory, WardFactory, make_user
from titles.models import Target
from titles.services.targets import DEFAULTS_DIR, default_files, targets_load

HEADER = ["unit", "kind", "year", "min_rate", "max_rate", "source"]
HANOI_SOURCE = "Kế hoạch 291/KH-UBND của UBND thành phố Hà Nội"


def csv_bytes(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def load(rows: list[list[Any]], filename: str = "targets.csv"):
    return targets_load(file=io.BytesIO(csv_bytes(rows)), filename=filename)


def stored() -> dict[tuple[str, str, int], tuple[Decimal, Decimal, str]]:
    return {
        (t.unit.code, t.kind, t.year): (t.min_rate, t.max_rate, t.source)
        for t in Target.objects.select_related("unit")
    }


def errors(report) -> list[tuple[int, str]]:
    return [(e.row, e.column) for e in report.errors]


# --- The service -------------------------------------------------------------------------------


def test_loads_targets_for_provinces_and_wards(ward_a):
    report = load(
        [
            HEADER,
            ["01", "family", 2025, 70, 80, "Kế hoạch 291/KH-UBND"],
            ["00070", "clan", "2025", "65,5", "75.25", ""],
            ["01", "unit", 2030, "80%", " 90 % ", "KH 291"],
        ]
    )
    assert report.ok, report.errors
    assert (report.rows, report.created, report.updated, report.unchanged) == (3, 3, 0, 0)
    assert stored() == {
        ("01", "family", 2025): (Decimal(70), Decimal(80), "Kế hoạch 291/KH-UBND"),
        ("00070", "clan", 2025): (Decimal("65.5"), Decimal("75.25"), ""),
        ("01", "unit", 2030): (Decimal(80), Decimal(90), "KH 291"),
    }


def test_loading_again_is_idempotent_and_a_changed_figure_updates(province):
    rows = [HEADER, ["01", "family", 2025, 70, 80, "KH 291"]]
    assert load(rows).created == 1
    again = load(rows)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    changed = load([HEADER, ["01", "family", 2025, 72, 80, "KH 291 (sửa đổi)"]])
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 0)
    assert stored() == {("01", "family", 2025): (Decimal(72), Decimal(80), "KH 291 (sửa đổi)")}
    # Without a source column the stored source stays.
    no_source = load([HEADER[:5], ["01", "family", 2025, 75, 85]])
    assert no_source.updated == 1
    assert stored() == {("01", "family", 2025): (Decimal(75), Decimal(85), "KH 291 (sửa đổi)")}


def test_vietnamese_headers_and_title_words(ward_a):
    report = load(
        [
            [
                "Mã đơn vị hành chính",
                "DANH HIEU",
                "Năm",
                "Tỷ lệ tối thiểu",
                "tỷ lệ tối đa",
                "Nguồn",
            ],
            ["01", "Gia đình học tập", 2025, "70", "80", "KH 291"],
            ["00070", "Cộng đồng học tập", 2025, "65", "75", ""],
            ["01", "đơn vị học tập", 2025, "80", "90", ""],
        ]
    )
    assert report.ok, report.errors
    assert set(stored()) == {
        ("01", Kind.FAMILY, 2025),
        ("00070", Kind.COMMUNITY, 2025),
        ("01", Kind.UNIT, 2025),
    }


def test_an_xlsx_workbook_with_number_cells(ward_a, tmp_path: Path):
    book = Workbook()
    for row in (HEADER, [1, "family", 2025, 70, 80.5, "KH"], [70, "clan", 2025.0, 65, 75, None]):
        book.active.append(row)
    path = tmp_path / "targets.xlsx"
    book.save(path)
    with path.open("rb") as file:
        report = targets_load(file=file, filename="targets.xlsx")
    assert report.ok, report.errors
    # Excel dropped the leading zeros: 1 is province 01, 70 is ward 00070.
    assert stored() == {
        ("01", "family", 2025): (Decimal(70), Decimal("80.5"), "KH"),
        ("00070", "clan", 2025): (Decimal(65), Decimal(75), ""),
    }


def test_every_bad_row_is_reported_and_nothing_is_written(ward_a, ward_x):
    report = load(
        [
            HEADER,
            ["01", "family", 2025, 70, 80, ""],  # fine
            ["01", "family", 2025, 60, 70, ""],  # the same unit, title and year as row 2
            ["99", "family", 2025, 70, 80, ""],  # no such unit
            ["01", "gia đình văn hoá", 2025, 70, 80, ""],  # not a title
            ["01", "clan", "năm nay", 70, 80, ""],  # not a year
            ["01", "clan", 1800, 70, 80, ""],  # out of range
            ["01", "unit", 2025, 90, 80, ""],  # max below min
            ["01", "citizen", 2025, "-5", "120", ""],  # negative, over 100
            ["01", "community", 2025, "70,125", "", ""],  # three decimals, empty
            ["00070", "clan", 2025, 0.7, 0.8, ""],  # fractions
            ["abc", "clan", 2025, 70, 80, ""],  # not a code
            ["01", "family", 2026, 70, 80, "x" * 256],  # source too long
        ]
    )
    assert errors(report) == [
        (3, "unit"),
        (4, "unit"),
        (5, "kind"),
        (6, "year"),
        (7, "year"),
        (8, "max_rate"),
        (9, "min_rate"),
        (9, "max_rate"),
        (10, "min_rate"),
        (10, "max_rate"),
        (11, "min_rate"),
        (11, "max_rate"),
        (12, "unit"),
        (13, "source"),
    ]
    reasons = {(e.row, e.column): e.reason for e in report.errors}
    assert "already on row 2" in reasons[(3, "unit")]
    assert "“99”" in reasons[(4, "unit")]
    assert "below the minimum" in reasons[(8, "max_rate")]
    assert "more than 100%" in reasons[(9, "max_rate")]
    assert "two decimals" in reasons[(10, "min_rate")]
    assert reasons[(10, "max_rate")] == "this cell is empty"
    assert "looks like a fraction" in reasons[(11, "min_rate")]
    assert not Target.objects.exists()
    assert (report.created, report.updated) == (0, 0)


def test_a_code_that_may_be_a_province_or_a_ward_is_refused(province):
    WardFactory(code="00001", parent=province)  # a ward whose code, stripped, is "1" too
    report = load([HEADER, ["1", "family", 2025, 70, 80, ""], ["01", "clan", 2025, 65, 75, ""]])
    assert errors(report) == [(2, "unit")]
    assert "province 01 or commune/ward 00001" in report.errors[0].reason


def test_a_file_without_the_required_columns_or_rows(province):
    missing = load([["unit", "kind", "year", "min"], ["01", "family", 2025, 70]])
    assert errors(missing) == [(1, "min_rate"), (1, "max_rate")]
    assert "Tỷ lệ tối thiểu" in missing.errors[0].reason
    empty = load([HEADER])
    assert errors(empty) == [(0, "")]
    wrong_type = load([HEADER], filename="targets.txt")
    assert errors(wrong_type) == [(0, "")]


# --- The command -------------------------------------------------------------------------------


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("load_targets", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_loads_a_file(province, tmp_path: Path):
    path = tmp_path / "targets.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_bytes([HEADER, ["01", "family", 2025, 70, 80, "KH"]]))
    out, _err = run(str(path))
    assert "1 row: 1 created, 0 updated, 0 unchanged." in out
    assert stored() == {("01", "family", 2025): (Decimal(70), Decimal(80), "KH")}


def test_command_refuses_a_bad_file_with_row_column_and_reason(province, tmp_path: Path):
    path = tmp_path / "targets.csv"
    path.write_bytes(csv_bytes([HEADER, ["01", "family", 2025, 90, 80, ""]]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem found .* nothing was written"):
        call_command("load_targets", str(path), stdout=io.StringIO(), stderr=err)
    assert "row 2, column max_rate: the maximum (80%) is below the minimum (90%)" in err.getvalue()
    assert not Target.objects.exists()


def test_command_needs_a_path_or_defaults(db, tmp_path: Path):
    with pytest.raises(CommandError, match="either a PATH or --defaults"):
        run()
    with pytest.raises(CommandError, match="either a PATH or --defaults"):
        run(str(tmp_path / "x.csv"), "--defaults")
    with pytest.raises(CommandError, match="Cannot read"):
        run(str(tmp_path / "missing.csv"))


# --- The shipped plans -------------------------------------------------------------------------


def shipped(name: str) -> list[dict[str, str]]:
    with (DEFAULTS_DIR / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_national_file_has_decision_387s_2025_figures_for_every_province():
    rows = shipped("vn-387-2025.csv")
    assert list(rows[0]) == HEADER
    provinces = {f"{int(p.code):02d}" for p in Province.iter_all()}
    assert len(provinces) == 34
    assert {row["unit"] for row in rows} == provinces
    figures = {(row["kind"], row["year"], row["min_rate"], row["max_rate"]) for row in rows}
    assert figures == {
        ("family", "2025", "70", "100"),
        ("clan", "2025", "65", "100"),
        ("community", "2025", "65", "100"),
        ("unit", "2025", "80", "100"),
    }
    assert len(rows) == 34 * 4
    assert all("387/QĐ-TTg" in row["source"] for row in rows)


def test_hanois_plan_291_for_2025_and_2030():
    rows = shipped("hn-291.csv")
    assert {(r["unit"], r["kind"], r["year"], r["min_rate"], r["max_rate"]) for r in rows} == {
        ("01", kind, year, low, high)
        for year in ("2025", "2030")
        for kind, low, high in (
            ("family", "70", "80"),
            ("clan", "65", "75"),
            ("community", "65", "75"),
            ("unit", "80", "90"),
        )
    }
    assert all("291/KH-UBND" in r["source"] for r in rows)


def test_national_files_load_first():
    assert [p.name for p in default_files()] == ["vn-387-2025.csv", "hn-291.csv"]


def test_defaults_load_for_the_loaded_provinces_and_hanois_plan_wins(province, other_province):
    ProvinceFactory(code="25", name="Phú Thọ")
    out, _err = run("--defaults")
    targets = stored()
    # Province 01 (Hanoi): Plan 291 replaces the national 2025 figures and adds 2030.
    assert targets[("01", "family", 2025)] == (Decimal(70), Decimal(80), HANOI_SOURCE)
    assert targets[("01", "unit", 2030)][:2] == (Decimal(80), Decimal(90))
    # Province 25: the national floor.
    assert targets[("25", "family", 2025)][:2] == (Decimal(70), Decimal(100))
    assert targets[("25", "unit", 2025)][:2] == (Decimal(80), Decimal(100))
    # Province 17 of the fixtures is not in the official list: no row names it.
    assert len(targets) == 4 + 4 + 4  # 25 × 2025, 01 × 2025, 01 × 2030
    assert "128 rows for units that are not loaded were skipped" in out
    assert "hn-291.csv replaces 4 targets" in out
    assert "12 created, 0 updated, 0 unchanged" in out
    # A rerun changes nothing.
    again, _err = run("--defaults")
    assert "0 created, 0 updated, 12 unchanged" in again


def test_defaults_load_on_an_empty_database(db):
    out, _err = run("--defaults")
    assert "0 created, 0 updated, 0 unchanged" in out
    assert not Target.objects.exists()


# --- The admin ---------------------------------------------------------------------------------

TARGETS = "/admin/titles/target/"


@pytest.fixture
def targets(province, ward_a, ward_x):
    return {
        "01": Target.objects.create(
            unit=province, kind="family", year=2025, min_rate=70, max_rate=80
        ),
        "00070": Target.objects.create(
            unit=ward_a, kind="family", year=2025, min_rate=90, max_rate=95
        ),
        "04825": Target.objects.create(
            unit=ward_x, kind="clan", year=2025, min_rate=60, max_rate=70
        ),
    }


@pytest.fixture
def province_admin(province):
    user = make_user("pat", Role.ADMIN, province)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def listed(client) -> set[str]:
    response = client.get(TARGETS)
    assert response.status_code == 200
    return {target.unit.code for target in response.context["cl"].result_list}


def test_a_province_admin_sees_and_sets_their_provinces_targets_only(
    client, province_admin, targets, ward_b, ward_x
):
    client.force_login(province_admin)
    assert listed(client) == {"01", "00070"}
    # Another province's target is out of scope: not found, as if it did not exist.
    assert client.get(f"{TARGETS}{targets['04825'].pk}/change/").status_code == 404
    form = {"kind": "clan", "year": 2025, "min_rate": "65", "max_rate": "75", "source": "KH"}
    assert client.post(f"{TARGETS}add/", {**form, "unit": ward_b.pk}).status_code == 302
    assert Target.objects.filter(unit=ward_b, kind="clan").exists()
    refused = client.post(f"{TARGETS}add/", {**form, "unit": ward_x.pk})
    assert refused.status_code == 200 and "unit" in refused.context["adminform"].form.errors
    assert not Target.objects.filter(unit=ward_x, kind="clan", min_rate=65).exists()


def test_the_admin_refuses_a_range_that_is_not_one(client, province_admin, province):
    client.force_login(province_admin)
    form = {"unit": province.pk, "kind": "clan", "year": 2025, "source": ""}
    response = client.post(f"{TARGETS}add/", {**form, "min_rate": "80", "max_rate": "70"})
    assert response.status_code == 200
    assert not Target.objects.exists()


def test_a_superuser_sees_every_target(client, targets):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert listed(client) == {"01", "00070", "04825"}


def test_only_administrators_reach_targets(client, alice, targets):
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    alice.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_target", "change_target", "add_target"])
    )
    client.force_login(alice)
    assert client.get(TARGETS).status_code == 403
    assert client.get(f"{TARGETS}{targets['00070'].pk}/change/").status_code == 403


def test_the_unit_is_chosen_by_search_among_the_admins_units(
    client, province_admin, ward_a, ward_x
):
    client.force_login(province_admin)
    assert client.get(f"{TARGETS}add/").status_code == 200
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "titles", "model_name": "target", "field_name": "unit", "term": "Phường"},
    )
    assert response.status_code == 200
    names = {result["text"] for result in response.json()["results"]}
    assert "Phường Hoàn Kiếm" in names and "Phường Hòa Bình" not in names
