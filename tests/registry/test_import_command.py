"""`manage.py import_registry`: the acceptance case (1,000 families, twice, then one bad row) and
the command's own behaviour (summary, --dry-run, errors as "row N, column C: reason")."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from registry.models import Entity, Family, Kind
from registry.services.imports import registry_import
from tests.factories import make_clan, make_community
from tests.registry.test_import import FAMILY_HEADER, csv_bytes

HOUSEHOLDS = 1000


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def ward_a_areas(ward_a) -> None:
    for n in range(10):
        make_community(ward_a, code=f"TDP{n:02d}", name=f"Tổ dân phố {n}")
    for n in range(3):
        make_clan(ward_a, code=f"DH{n}", name=f"Dòng họ {n}")


def household_rows(count: int = HOUSEHOLDS, *, prefix: str = "") -> list[list[Any]]:
    surnames = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Đặng", "Bùi", "Đỗ"]
    return [
        [
            "00070",
            f"HGD{n:05d}",
            f"{prefix}{surnames[n % len(surnames)]} Văn Hộ {n}",
            str(1 + n % 7),
            f"TDP{n % 10:02d}",
            f"DH{n % 3}" if n % 4 else "",
        ]
        for n in range(count)
    ]


def write_csv(path: Path, rows: list[list[Any]]) -> Path:
    path.write_bytes(csv_bytes([FAMILY_HEADER, *rows], bom=True))
    return path


def import_families(path: Path, *extra: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_registry", str(path), "--kind", "families", *extra, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def snapshot() -> list[tuple]:
    """Every family as stored, down to the update time: what "the DB is unchanged" compares."""
    return list(
        Family.objects.order_by("pk").values_list(
            "pk",
            "entity__code",
            "entity__name",
            "entity__search_text",
            "entity__updated_at",
            "members",
            "community_id",
            "clan_id",
        )
    )


def test_a_thousand_families_import_then_reimport_unchanged_then_one_bad_row_writes_nothing(
    ward_a, ward_a_areas, tmp_path
):
    path = write_csv(tmp_path / "households.csv", household_rows())

    out, err = import_families(path)
    assert "1000 rows: 1000 created, 0 updated, 0 unchanged." in out
    assert err == ""
    assert Entity.objects.filter(kind=Kind.FAMILY).count() == HOUSEHOLDS
    family = Family.objects.select_related("entity", "community__entity", "clan").get(
        entity__code="HGD00005"
    )
    assert (family.entity.name, family.members, family.community.entity.code) == (
        "Đặng Văn Hộ 5",
        6,
        "TDP05",
    )
    assert family.clan.entity.code == "DH2"
    assert Family.objects.get(entity__code="HGD00004").clan is None
    first = snapshot()

    out, _err = import_families(path)
    assert "1000 rows: 0 created, 0 updated, 1000 unchanged." in out
    assert snapshot() == first

    # Every row renamed, five new households, and one bad row in the middle: nothing is written.
    rows = household_rows(HOUSEHOLDS + 5, prefix="Ông ")
    rows[498][3] = "-3"  # spreadsheet row 500: the header is row 1
    bad = write_csv(tmp_path / "households-bad.csv", rows)
    entities = Entity.objects.count()
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem found") as raised:
        call_command("import_registry", str(bad), "--kind", "families", stderr=err)
    assert "nothing was written" in str(raised.value)
    assert err.getvalue() == "row 500, column members: must be at least 1, not -3\n"
    assert Entity.objects.count() == entities
    assert snapshot() == first


def test_errors_are_printed_as_row_column_reason(ward_a, ward_a_areas, tmp_path):
    rows = household_rows(5)
    rows[1][3] = "-3"
    rows[3][4] = "TDP99"
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 problems found"):
        call_command(
            "import_registry",
            str(write_csv(tmp_path / "bad.csv", rows)),
            "--kind=families",
            stdout=io.StringIO(),
            stderr=err,
        )
    assert err.getvalue().splitlines() == [
        "row 3, column members: must be at least 1, not -3",
        "row 5, column community: no residential area with the code “TDP99” in commune/ward 00070"
        ", and none is named so",
    ]
    assert Entity.objects.filter(kind=Kind.FAMILY).count() == 0


def test_dry_run_reports_and_writes_nothing(ward_a, ward_a_areas, tmp_path):
    path = write_csv(tmp_path / "households.csv", household_rows(20))
    out, _err = import_families(path, "--dry-run")
    assert "Dry run, nothing written. 20 rows: 20 would be created, 0 updated, 0 unchanged." in out
    assert Entity.objects.filter(kind=Kind.FAMILY).count() == 0


def test_dry_run_of_a_bad_file_fails_like_a_real_run(ward_a, ward_a_areas, tmp_path):
    rows = household_rows(3)
    rows[2][0] = "99999"
    with pytest.raises(CommandError):
        import_families(write_csv(tmp_path / "bad.csv", rows), "--dry-run")


def test_a_file_level_problem_is_printed_and_fails(ward_a, tmp_path):
    path = tmp_path / "households.csv"
    path.write_bytes("ward,code,head_name\n00070,H1,Đặng\n".encode("utf-16"))
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem found"):
        call_command("import_registry", str(path), "--kind", "families", stderr=err)
    assert "CSV UTF-8" in err.getvalue()


def test_notes_are_printed(ward_a, ward_a_areas, tmp_path):
    path = tmp_path / "households.csv"
    path.write_bytes(csv_bytes([[*FAMILY_HEADER, "Ghi chú"], [*household_rows(1)[0], "x"]]))
    out, _err = import_families(path)
    assert "Note: Columns not used for families were ignored: “Ghi chú”." in out
    assert "1 row: 1 created" in out


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        import_families(tmp_path / "nowhere.csv")


def test_an_unknown_kind_is_refused_by_the_arguments(tmp_path):
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("import_registry", str(tmp_path / "x.csv"), "--kind", "households")


def test_the_import_makes_a_few_queries_not_one_per_row(
    ward_a, ward_a_areas, django_assert_max_num_queries
):
    data = csv_bytes([FAMILY_HEADER, *household_rows()])
    # 1,000 rows: the import itself plus a fixed number of queries that recompute the ward's
    # roll-up summaries (and the look-up of ward codes from before 1 July 2025); nothing grows
    # with the number of rows. Three of those fixed queries keep the registry's tallies: the
    # households' members summed per residential area, and the ward's birth-year tally read
    # and its citizens recounted by birth year.
    with django_assert_max_num_queries(58):
        report = registry_import(
            file=io.BytesIO(data), filename="h.csv", kind="families", dry_run=False
        )
    assert report.created == HOUSEHOLDS
    renamed = csv_bytes([FAMILY_HEADER, *household_rows(prefix="Bà ")])
    with django_assert_max_num_queries(50):
        report = registry_import(
            file=io.BytesIO(renamed), filename="h.csv", kind="families", dry_run=False
        )
    assert report.updated == HOUSEHOLDS
