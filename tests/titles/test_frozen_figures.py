"""Frozen means frozen: a signed-off ward-year keeps the figures it had when it was signed off,
whatever the registry does afterwards; reopening brings them back to the detail rows; a past
year that was never signed off counts the entities that were in the registry by its 31 December
(the year rule); `rollup --verify` checks both."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from registry.models import Entity, Kind, RollupLevel
from registry.services.entities import entity_update
from tests.factories import make_community, make_family
from tests.titles.factories import registration
from titles.models import Registration, RollupSnapshot, State
from titles.selectors import rollup_rows_all, rollup_rows_paged
from titles.services.registrations import registration_create
from titles.services.rollups import recorded_years_before, rollup_verify, rollups_rebuild
from titles.services.signoff import ward_reopen, ward_sign_off

NOW = timezone.localdate().year
PAST = NOW - 1


def _row(year: int, level: str, code: str, kind: str = Kind.FAMILY) -> dict:
    """The row of the unit `code` (a residential area's is `ward/area`)."""
    rows = rollup_rows_all(year=year, level=level, unit_code=code.split("/")[0])
    return next(r for r in rows if r["unit_code"] == code and r["kind"] == kind)


def _figures(row: dict) -> tuple:
    return tuple(row[c] for c in ("entities", "registered", "recognized", "outstanding", "rate"))


@pytest.fixture
def kept(ward_a, province):
    """Ward A kept last year in the system (its registrations were recorded during it): areas
    TDP1 (6 households) and TDP2 (4); last year 8 registered, 6 recognised; this year 5
    registered, none decided yet."""
    areas = [make_community(ward_a, code=f"TDP{n}") for n in (1, 2)]
    families = [
        make_family(ward_a, code=f"HGD{n}", community=areas[0 if n < 6 else 1]) for n in range(10)
    ]
    for n, family in enumerate(families[:8]):
        registration(family.entity, year=PAST, state=State.RECOGNIZED if n < 6 else State.REJECTED)
    for family in families[:5]:
        registration(family.entity, year=NOW)
    recorded = dt.datetime(PAST, 3, 1, tzinfo=timezone.get_current_timezone())
    Registration.objects.filter(year=PAST).update(created_at=recorded)
    rollups_rebuild(province_id=province.pk)
    return {"areas": areas, "families": families}


def test_a_household_added_after_sign_off_leaves_the_signed_off_row_as_it_was(
    kept, ward_a, bob, province
):
    ward_sign_off(user=bob, ward=ward_a, year=PAST)
    past = _figures(_row(PAST, RollupLevel.WARD, ward_a.code))
    assert past == (10, 8, 6, 0, 60.0)
    now_before = _row(NOW, RollupLevel.WARD, ward_a.code)["entities"]

    for n in range(3):  # the 113 → 116
        make_family(ward_a, code=f"LATE{n}", community=kept["areas"][0])

    assert _figures(_row(PAST, RollupLevel.WARD, ward_a.code)) == past
    assert _figures(_row(PAST, RollupLevel.PROVINCE, province.code)) == past
    assert _row(NOW, RollupLevel.WARD, ward_a.code)["entities"] == now_before + 3
    assert rollup_verify(province_id=province.pk) == []


def test_a_household_moved_after_sign_off_moves_only_the_open_years_areas(
    kept, ward_a, bob, dave, province
):
    tdp1, tdp2 = (f"{ward_a.code}/TDP{n}" for n in (1, 2))
    ward_sign_off(user=bob, ward=ward_a, year=PAST)
    past = {code: _figures(_row(PAST, RollupLevel.COMMUNITY, code)) for code in (tdp1, tdp2)}
    assert past == {tdp1: (6, 6, 6, 0, 100.0), tdp2: (4, 2, 0, 0, 0.0)}
    now = {code: _figures(_row(NOW, RollupLevel.COMMUNITY, code)) for code in (tdp1, tdp2)}

    moved = kept["families"][0]  # registered both years, recognised last year
    entity_update(obj=moved, name=moved.entity.name, community=kept["areas"][1])

    assert {c: _figures(_row(PAST, RollupLevel.COMMUNITY, c)) for c in (tdp1, tdp2)} == past
    assert _figures(_row(NOW, RollupLevel.COMMUNITY, tdp1))[:2] == (now[tdp1][0] - 1, 4)
    assert _figures(_row(NOW, RollupLevel.COMMUNITY, tdp2))[:2] == (now[tdp2][0] + 1, 1)
    assert rollup_verify(province_id=province.pk) == []

    # Reopened, the year is recomputed from the detail rows: the household counts in TDP2.
    ward_reopen(user=dave, ward=ward_a, year=PAST, reason="Cập nhật địa bàn")
    assert not RollupSnapshot.objects.exists()
    assert _figures(_row(PAST, RollupLevel.COMMUNITY, tdp1)) == (5, 5, 5, 0, 100.0)
    assert _figures(_row(PAST, RollupLevel.COMMUNITY, tdp2)) == (5, 3, 1, 0, 20.0)
    assert rollup_verify(province_id=province.pk) == []


def test_reopening_brings_the_figures_back_to_the_detail_rows(kept, ward_a, bob, dave, province):
    ward_sign_off(user=bob, ward=ward_a, year=PAST)
    late = make_family(ward_a, code="LATE", community=kept["areas"][0])
    # Registered for last year while it is open again: it existed then, so it counts in it.
    ward_reopen(user=dave, ward=ward_a, year=PAST, reason="Bổ sung hộ")
    assert _figures(_row(PAST, RollupLevel.WARD, ward_a.code)) == (10, 8, 6, 0, 60.0)
    registration_create(user=dave, entity=late.entity, year=PAST)
    assert _figures(_row(PAST, RollupLevel.WARD, ward_a.code)) == (11, 9, 6, 0, 54.5)
    rollups_rebuild(province_id=province.pk)
    assert _figures(_row(PAST, RollupLevel.WARD, ward_a.code)) == (11, 9, 6, 0, 54.5)
    assert rollup_verify(province_id=province.pk) == []


def test_a_past_year_never_signed_off_counts_the_registry_as_of_its_31_december(
    kept, ward_a, province
):
    assert _row(PAST, RollupLevel.WARD, ward_a.code)["entities"] == 10
    late = make_family(ward_a, code="LATE", community=kept["areas"][0])
    assert late.entity.counted_from == NOW
    assert _row(PAST, RollupLevel.WARD, ward_a.code)["entities"] == 10
    assert _row(PAST, RollupLevel.COMMUNITY, f"{ward_a.code}/TDP1")["entities"] == 6
    assert _row(PAST, RollupLevel.PROVINCE, province.code)["entities"] == 10
    assert _row(NOW, RollupLevel.WARD, ward_a.code)["entities"] == 11
    assert _row(NOW + 1, RollupLevel.WARD, ward_a.code)["entities"] == 11
    assert rollup_verify(province_id=province.pk) == []


def test_a_ward_that_loads_its_history_after_its_registry_counts_the_registry_in_it(
    ward_b, province
):
    """Years loaded afterwards (their registrations recorded after they ended) were never kept
    in the system: the registry as loaded counts in them."""
    area = make_community(ward_b, code="TDP1")
    families = [make_family(ward_b, code=f"HGD{n}", community=area) for n in range(4)]
    registration(families[0].entity, year=PAST, state=State.RECOGNIZED)
    rollups_rebuild(province_id=province.pk)
    late = make_family(ward_b, code="LATE", community=area)
    assert late.entity.counted_from is None
    assert _row(PAST, RollupLevel.WARD, ward_b.code)["entities"] == 5


def test_verify_passes_and_names_the_ward_year_whose_snapshot_was_tampered_with(
    kept, ward_a, bob, province
):
    ward_sign_off(user=bob, ward=ward_a, year=PAST)
    make_family(ward_a, code="LATE", community=kept["areas"][0])
    family = kept["families"][1]
    entity_update(obj=family, name=family.entity.name, community=kept["areas"][1])
    out = io.StringIO()
    call_command("rollup", "--verify", "--unit", province.code, stdout=out)
    assert out.getvalue().startswith("No difference: ")

    RollupSnapshot.objects.filter(
        level=RollupLevel.WARD, unit_id=ward_a.pk, year=PAST, kind=Kind.FAMILY
    ).update(registered=9)
    out = io.StringIO()
    with pytest.raises(CommandError, match="difference"):
        call_command("rollup", "--verify", "--unit", province.code, stdout=out)
    lines = out.getvalue().splitlines()
    assert f"rollup ward:{ward_a.pk} {PAST} family stored (8, 6, 0) computed (9, 6, 0)" in lines
    assert (
        f"snapshot ward:{ward_a.pk} {PAST} family stored (10, 9, 6, 0) computed (10, 8, 6, 0)"
        in lines
    )


def test_verify_finds_a_signed_off_year_without_its_snapshot(kept, ward_a, bob, province):
    ward_sign_off(user=bob, ward=ward_a, year=PAST)
    RollupSnapshot.objects.all().delete()
    assert [(d.table, d.key) for d in rollup_verify(province_id=province.pk)] == [
        ("snapshot", (RollupLevel.WARD, ward_a.pk, PAST))
    ]


# --- the upgrade: ward-years already signed off, entities already recorded ---------------------

BEFORE_UPGRADE = [("titles", "0014_rollup_snapshots")]


def _migrate(targets=None):
    """Migrate to `targets`, or to the latest migrations (the graph's leaves)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_snapshots_signed_off_years_and_dates_the_entities(ward_a, bob, dave, province):
    area = make_community(ward_a, code="TDP1")
    families = [make_family(ward_a, code=f"HGD{n}", community=area) for n in range(4)]
    for family in families[:3]:
        registration(family.entity, year=PAST, state=State.RECOGNIZED)
    late = make_family(ward_a, code="LATE", community=area)  # recorded after the year was kept
    registration(late.entity, year=PAST)  # … but registered for it
    later = make_family(ward_a, code="LATER", community=area)
    # Last year was kept in the system: its registrations and households recorded during it.
    zone = timezone.get_current_timezone()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE titles_registration SET created_at = %s WHERE entity_id <> %s",
            [dt.datetime(PAST, 2, 1, tzinfo=zone), late.pk],
        )
        cursor.execute(
            "UPDATE registry_entity SET created_at = %s WHERE id NOT IN (%s, %s)",
            [dt.datetime(PAST, 1, 15, tzinfo=zone), late.pk, later.pk],
        )
    rollups_rebuild(province_id=province.pk)
    ward_sign_off(user=bob, ward=ward_a, year=PAST)
    signed_off = _figures(_row(PAST, RollupLevel.WARD, ward_a.code))
    assert signed_off == (6, 4, 3, 0, 50.0)
    try:
        _migrate(BEFORE_UPGRADE)  # as before the upgrade: no snapshot, no first counted year
    finally:
        _migrate()

    assert RollupSnapshot.objects.filter(ward=ward_a, year=PAST).exists()
    assert _figures(_row(PAST, RollupLevel.WARD, ward_a.code)) == signed_off
    counted = dict(Entity.objects.filter(ward=ward_a).values_list("code", "counted_from"))
    assert counted == {
        "TDP1": None,
        **{f"HGD{n}": None for n in range(4)},
        "LATE": PAST,  # registered for last year: it existed then
        "LATER": NOW,
    }
    assert rollup_verify(province_id=province.pk) == []
    # Reopened, last year counts the registry as of its 31 December: LATER is not in it.
    ward_reopen(user=dave, ward=ward_a, year=PAST, reason="Kiểm tra")
    assert _figures(_row(PAST, RollupLevel.WARD, ward_a.code)) == (5, 4, 3, 0, 60.0)


def test_the_latest_year_a_ward_kept_is_the_newest_with_a_registration_recorded_during_it(
    ward_a, ward_b
):
    """Years recorded during themselves count; years loaded after they ended do not, however
    recent; the last moment of a year is still in it."""
    area = make_community(ward_a, code="TDP1")
    families = [make_family(ward_a, code=f"HGD{n}", community=area) for n in range(4)]
    tz = timezone.get_current_timezone()
    for family, year, created in (
        (families[0], NOW - 4, dt.datetime(NOW - 4, 6, 1, tzinfo=tz)),
        (families[1], NOW - 3, dt.datetime(NOW - 3, 12, 31, 23, 59, tzinfo=tz)),
        (families[2], NOW - 2, dt.datetime(NOW - 1, 1, 1, 0, 0, tzinfo=tz)),
        (families[3], NOW - 1, dt.datetime(NOW, 3, 1, tzinfo=tz)),
    ):
        pk = registration(family.entity, year=year, state=State.RECOGNIZED).pk
        Registration.objects.filter(pk=pk).update(created_at=created)
    assert recorded_years_before({ward_a.pk, ward_b.pk}, NOW) == {ward_a.pk: NOW - 3}
    assert recorded_years_before({ward_a.pk}, NOW - 3) == {ward_a.pk: NOW - 4}
    assert recorded_years_before({ward_a.pk}, NOW - 4) == {}


def test_a_province_s_areas_a_page_at_a_time_are_the_rows_of_all_at_once(
    client, kept, ward_a, ward_b, bob, carol, province
):
    """The roll-ups API reads a province's residential areas a ward at a time: its rows, their
    order and their count are those of every area read at once, with a signed-off ward (its
    areas from the snapshot, one moved since), an open one and an area with nothing in it."""
    ward_sign_off(user=bob, ward=ward_a, year=PAST)
    moved = kept["families"][0]
    entity_update(obj=moved, name=moved.entity.name, community=kept["areas"][1])
    areas_b = [make_community(ward_b, code=f"TDP{n}") for n in (1, 2, 3)]  # TDP3: empty
    for n in range(5):
        family = make_family(ward_b, code=f"B{n}", community=areas_b[n % 2])
        registration(family.entity, year=PAST, state=State.RECOGNIZED if n < 2 else State.REJECTED)
    client.force_login(carol)
    for kind in (None, Kind.FAMILY):
        every = rollup_rows_all(year=PAST, level=RollupLevel.COMMUNITY, unit_code=province.code)
        every = [row for row in every if kind is None or row["kind"] == kind]
        paged = rollup_rows_paged(
            user=carol, year=PAST, level=RollupLevel.COMMUNITY, unit_code=province.code, kind=kind
        )
        assert len(paged) == len(every) >= 4
        assert paged[:] == every
        for start in range(len(every)):
            assert paged[start : start + 3] == every[start : start + 3]
        assert paged[-1] == every[-1]
        params = {"year": PAST, "level": "community", "page_size": 3, "page": 2}
        answer = client.get("/api/v1/rollups/", params | ({"kind": kind} if kind else {})).json()
        assert answer["count"] == len(every)
        assert [r["unit_code"] for r in answer["results"]] == [r["unit_code"] for r in every[3:6]]
