"""`manage.py rollup`: the rows as a table, CSV or JSON, narrowed by unit and level, and
`--verify`."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from registry.models import EntityTally, Kind, RollupLevel
from tests.factories import make_community, make_family
from tests.titles.factories import registration
from titles.models import Rollup, State, Target
from titles.selectors import ROLLUP_COLUMNS
from titles.services.rollups import rollups_rebuild


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("rollup", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def world(province, ward_a, ward_b, ward_x):
    """Ward A: area "=TDP1" (a name a spreadsheet would take for a formula) with 4 households,
    3 recognised (1 outstanding); ward B: area TDP1 with 2 households, 1 registered; ward X
    (province 17): 1 household. Province 01's family target for 2025: 70–80."""
    area_a = make_community(ward_a, code="TDP1", name="=HYPERLINK(1)")
    for n in range(4):
        family = make_family(ward_a, code=f"A{n}", community=area_a)
        state = State.RECOGNIZED if n < 3 else State.REGISTERED
        registration(family.entity, year=2025, state=state, outstanding=n == 0)
    area_b = make_community(ward_b, code="TDP1", name="Tổ dân phố 1")
    for n in range(2):
        family = make_family(ward_b, code=f"B{n}", community=area_b)
        if n == 0:
            registration(family.entity, year=2025)
    make_family(ward_x, code="X0")
    for unit in (province, ward_x.parent):
        rollups_rebuild(province_id=unit.pk)
    Target.objects.create(unit=province, kind=Kind.FAMILY, year=2025, min_rate=70, max_rate=80)


def test_json_rows_of_the_wards_by_default(world):
    rows = json.loads(run("--year", "2025", "--format", "json"))
    families = [row for row in rows if row["kind"] == "family"]
    assert [row["unit_code"] for row in families] == ["00004", "00070", "04825"]
    assert families[1] == {
        "unit_code": "00070",
        "unit_name": "Phường Hoàn Kiếm",
        "year": 2025,
        "kind": "family",
        "entities": 4,
        "registered": 4,
        "recognized": 3,
        "outstanding": 1,
        "rate": 75.0,
        "registered_rate": 75.0,
        "target_min": 70.0,
        "target_max": 80.0,
        "status": "on_track",
    }
    assert families[0]["rate"] == 0.0 and families[0]["registered_rate"] == 0.0
    assert families[2]["registered_rate"] is None and families[2]["target_min"] is None
    assert families[2]["status"] == "no_target"
    assert all(list(row) == list(ROLLUP_COLUMNS) for row in rows)


def test_unit_and_level_narrow_the_rows(world):
    def codes(*args: str) -> list[str]:
        rows = json.loads(run("--year", "2025", "--format", "json", *args))
        return [row["unit_code"] for row in rows if row["kind"] == "family"]

    assert codes("--level", "province") == ["01", "17"]
    assert codes("--level", "province", "--unit", "01") == ["01"]
    assert codes("--unit", "01") == ["00004", "00070"]
    assert codes("--unit", "00070") == ["00070"]
    assert codes("--level", "community", "--unit", "01") == ["00004/TDP1", "00070/TDP1"]
    assert codes("--level", "community", "--unit", "00004") == ["00004/TDP1"]
    assert codes("--year", "2024", "--unit", "01") == ["00004", "00070"]  # entities, no figures


def test_table_has_the_contract_header_and_aligned_columns(world):
    lines = run("--year", "2025", "--unit", "01").splitlines()
    assert lines[0].split() == list(ROLLUP_COLUMNS)
    family = next(line for line in lines if "00070" in line and "family" in line)
    assert family.split()[-9:] == ["4", "4", "3", "1", "75.0", "75.0", "70.00", "80.00", "on_track"]
    # Every line starts its rate column at the same place.
    start = lines[0].index("registered_rate") + len("registered_rate")
    assert {line[start - 4 : start] for line in lines[1:] if "family" in line} == {"75.0", " 0.0"}


def test_csv_has_the_contract_header_and_never_starts_a_formula(world):
    text = run("--year", "2025", "--format", "csv", "--level", "community", "--unit", "00070")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(ROLLUP_COLUMNS)
    family = next(row for row in rows[1:] if row[3] == "family")
    assert family[:2] == ["00070/TDP1", "'=HYPERLINK(1)"]
    assert family[4:] == ["4", "4", "3", "1", "75.0", "75.0", "70.00", "80.00", "on_track"]


def test_csv_keeps_vietnamese_names(world):
    text = run("--year", "2025", "--format", "csv", "--level", "ward", "--unit", "00004")
    assert "Phường Ba Đình" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--unit", "01"], "--year is required"),
        (["--year", "1800"], "1800 is not a year"),
        (["--year", "2025", "--unit", "99"], "No province or commune/ward in force has the code"),
        (["--year", "2025", "--unit", "00070", "--level", "province"], "is a commune/ward"),
        (["--verify", "--unit", "00070"], "--verify takes a province code"),
        (["--verify", "--unit", "99"], "No province or commune/ward in force"),
    ],
)
def test_bad_input_is_a_clear_error(world, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_bad_format_or_level_is_refused(world):
    with pytest.raises(CommandError, match="invalid choice"):
        run("--year", "2025", "--format", "xml")
    with pytest.raises(CommandError, match="invalid choice"):
        run("--year", "2025", "--level", "city")


def test_verify_finds_no_difference_in_consistent_summaries(world):
    stored = Rollup.objects.count() + EntityTally.objects.count()
    assert run("--verify") == f"No difference: {stored} summary rows checked.\n"
    in_01 = Rollup.objects.filter(province__code="01").count()
    in_01 += EntityTally.objects.filter(province__code="01").count()
    assert run("--verify", "--unit", "01") == f"No difference: {in_01} summary rows checked.\n"


def test_verify_prints_every_difference_and_fails(world, ward_a):
    area = Rollup.objects.get(level=RollupLevel.COMMUNITY, ward=ward_a, year=2025, kind="family")
    area.recognized, area.outstanding = 2, 0
    area.save()
    EntityTally.objects.filter(level=RollupLevel.WARD, unit_id=ward_a.pk, kind="family").update(
        entities=5
    )
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 difference"):
        call_command("rollup", "--verify", "--unit", "01", stdout=out, stderr=io.StringIO())
    assert out.getvalue().splitlines() == [
        f"rollup community:{area.unit_id} 2025 family stored (4, 2, 0) computed (4, 3, 1)",
        f"tally ward:{ward_a.pk} family stored (5) computed (4)",
    ]
    # Another province is not affected.
    assert run("--verify", "--unit", "17").startswith("No difference")


def test_verify_finds_wrong_members_of_a_family_tally(world, ward_a):
    tally = EntityTally.objects.get(
        level=RollupLevel.WARD, unit_id=ward_a.pk, kind="family", counted_from=0
    )
    right = tally.members
    assert right > 0
    tally.members = right + 3
    tally.save()
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 difference"):
        call_command("rollup", "--verify", "--unit", "01", stdout=out, stderr=io.StringIO())
    assert out.getvalue().splitlines() == [
        f"members ward:{ward_a.pk} family stored ({right + 3}) computed ({right})"
    ]
