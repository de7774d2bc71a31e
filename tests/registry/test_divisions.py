"""`load_divisions`: the official provinces and communes/wards, idempotent, history kept."""

import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import translation

from registry.models import AdministrativeUnit, Association, Entity, Kind, UnitSuccession
from tests.factories import ProvinceFactory, WardFactory, make_family

Level = AdministrativeUnit.Level


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def load(*args: str) -> str:
    out = StringIO()
    call_command("load_divisions", *args, stdout=out)
    return out.getvalue()


def units(level: str):
    return AdministrativeUnit.objects.filter(level=level)


def test_one_province_loads_hanoi_and_its_126_wards(db):
    out = load("--province", "01")
    hanoi = units(Level.PROVINCE).get()
    assert (hanoi.code, hanoi.name, hanoi.division_type) == (
        "01",
        "Thành phố Hà Nội",
        "thành phố trung ương",
    )
    wards = units(Level.WARD)
    assert wards.count() == 126
    assert set(wards.values_list("parent", flat=True)) == {hanoi.pk}
    hoan_kiem = wards.get(code="00070")
    assert (hoan_kiem.name, hoan_kiem.division_type) == ("Phường Hoàn Kiếm", "phường")
    assert hoan_kiem.codename == "phuong_hoan_kiem"
    assert all(len(code) == 5 for code in wards.values_list("code", flat=True))
    current = AdministrativeUnit.objects.filter(level__in=[Level.PROVINCE, Level.WARD])
    assert set(current.values_list("valid_from", flat=True)) == {dt.date(2025, 7, 1)}
    assert set(current.values_list("valid_to", flat=True)) == {None}
    assert "Provinces: 1 created, 0 updated, 0 unchanged." in out
    assert "Communes/wards: 126 created, 0 updated, 0 unchanged." in out


def test_each_loaded_unit_gets_its_association(db):
    load("--province", "1")  # one digit is accepted
    province_assoc = Association.objects.get(level=Association.Level.PROVINCE)
    assert province_assoc.name == "Hội Khuyến học thành phố Hà Nội"
    wards = Association.objects.filter(level=Association.Level.WARD)
    assert wards.count() == 126
    assert set(wards.values_list("parent", flat=True)) == {province_assoc.pk}
    assert wards.get(admin_unit__code="00070").name == "Hội Khuyến học phường Hoàn Kiếm"


def test_rerun_changes_nothing(db):
    load("--province", "01")
    before = list(AdministrativeUnit.objects.order_by("pk").values())
    associations = Association.objects.count()
    out = load("--province", "01")
    assert list(AdministrativeUnit.objects.order_by("pk").values()) == before
    assert Association.objects.count() == associations
    assert "Provinces: 0 created, 0 updated, 1 unchanged." in out
    assert "Communes/wards: 0 created, 0 updated, 126 unchanged." in out
    assert "Associations created: 0." in out


def test_a_changed_name_is_updated_and_reported(db):
    load("--province", "01")
    units(Level.WARD).filter(code="00070").update(name="Phường Cũ")
    out = load("--province", "01")
    assert units(Level.WARD).get(code="00070").name == "Phường Hoàn Kiếm"
    assert "Corrected to the official list: 00070 Phường Cũ → 00070 Phường Hoàn Kiếm" in out
    assert "Communes/wards: 0 created, 1 updated, 125 unchanged." in out


def everything() -> tuple[list, list, list]:
    return (
        list(AdministrativeUnit.objects.order_by("pk").values()),
        list(UnitSuccession.objects.order_by("pk").values()),
        list(Association.objects.order_by("pk").values()),
    )


def test_all_provinces(db):
    out = load()
    assert units(Level.PROVINCE).count() == 34
    assert units(Level.WARD).count() == 3321
    assert Association.objects.count() == 34 + 3321
    assert "Communes/wards: 3321 created" in out
    # The units before 1 July 2025: 63 provinces, their districts and about 10,000 communes.
    assert units(Level.PROVINCE_BEFORE_2025).count() == 63
    assert units(Level.DISTRICT).count() == 696
    assert units(Level.WARD_BEFORE_2025).count() == 10051
    linked = units(Level.WARD_BEFORE_2025).filter(successions__isnull=False).distinct().count()
    assert linked > 10000
    before = everything()
    again = load()
    assert "Communes/wards: 0 created, 0 updated, 3321 unchanged." in again
    assert "0 created, 0 updated, 10810 unchanged; 0 links" in again
    assert everything() == before


def test_hanoi_has_the_official_codes_and_its_units_before_2025(db):
    load("--province", "01")
    wards = units(Level.WARD)
    assert wards.count() == 126
    official = {
        "00322": "Phường Tương Mai",
        "00331": "Phường Hoàng Mai",
        "00226": "Phường Văn Miếu - Quốc Tử Giám",
        "00229": "Phường Kim Liên",
    }
    for code, name in official.items():
        assert wards.get(code=code).name == name
    # 00313 was the old Phường Tương Mai: a unit before 2025, not a current ward.
    assert not wards.filter(code="00313").exists()
    old = AdministrativeUnit.objects.get(code="00313")
    assert (old.level, old.name, old.valid_to) == (
        Level.WARD_BEFORE_2025,
        "Phường Tương Mai",
        dt.date(2025, 6, 30),
    )
    assert (old.parent.level, old.parent.name) == (Level.DISTRICT, "Quận Hoàng Mai")
    assert (old.parent.parent.level, old.parent.parent.code) == (Level.PROVINCE_BEFORE_2025, "01")
    split = UnitSuccession.objects.filter(before=old).order_by("after__code")
    assert [(s.after.code, s.whole) for s in split] == [("00322", False), ("00331", False)]
    hang_bac = AdministrativeUnit.objects.get(level=Level.WARD_BEFORE_2025, code="00061")
    assert [(s.after.code, s.whole) for s in hang_bac.successions.all()] == [("00070", True)]
    # 00322 is both today's Tương Mai and the old Phường Hoàng Văn Thụ.
    assert (
        AdministrativeUnit.objects.get(level=Level.WARD_BEFORE_2025, code="00322").name
        == "Phường Hoàng Văn Thụ"
    )
    assert units(Level.PROVINCE_BEFORE_2025).get().successors.get() == units(Level.PROVINCE).get(
        code="01"
    )
    # Only Hanoi's history is loaded, and no association is made for it.
    assert not units(Level.WARD_BEFORE_2025).exclude(parent__parent__code="01").exists()
    assert not Association.objects.filter(admin_unit__level__in=Level.values[2:]).exists()


def test_a_unit_before_2025_holds_no_records(db):
    load("--province", "01")
    old = AdministrativeUnit.objects.get(level=Level.WARD_BEFORE_2025, code="00313")
    with pytest.raises(ValidationError, match="00313 Phường Tương Mai is not a current"):
        make_family(old, code="HGD1")
    # The database refuses it too, whatever path writes it.
    with pytest.raises(IntegrityError), transaction.atomic():
        Entity.objects.bulk_create(
            [Entity(kind=Kind.COMMUNITY, ward=old, province=old.parent.parent, code="T", name="T")]
        )
    assert not Entity.objects.exists()


def test_codes_that_swap_are_corrected_in_place(db):
    """Two wards whose codes the official list exchanges keep their records."""
    load("--province", "01")
    wards = units(Level.WARD)
    tuong_mai, hoang_mai = wards.get(code="00322"), wards.get(code="00331")
    AdministrativeUnit.objects.filter(pk=tuong_mai.pk).update(code="~")
    AdministrativeUnit.objects.filter(pk=hoang_mai.pk).update(code="00322")
    AdministrativeUnit.objects.filter(pk=tuong_mai.pk).update(code="00331")
    family = make_family(wards.get(code="00331"), code="HGD1")  # in Tương Mai

    out = load("--province", "01", "--dry-run")
    assert "00331 Phường Tương Mai → 00322 Phường Tương Mai" in out
    assert "Dry run: nothing was written." in out
    assert wards.get(pk=tuong_mai.pk).code == "00331"

    out = load("--province", "01")
    assert "00322 Phường Hoàng Mai → 00331 Phường Hoàng Mai" in out
    assert wards.get(pk=tuong_mai.pk).code == "00322"
    assert wards.get(pk=hoang_mai.pk).code == "00331"
    family.entity.refresh_from_db()
    assert family.entity.ward_id == tuong_mai.pk
    assert "Communes/wards: 0 created, 0 updated, 126 unchanged." in load("--province", "01")


@pytest.mark.parametrize(
    "codes, message",
    [
        (["99"], "Unknown province code(s): 99."),
        (["01", "99"], "Unknown province code(s): 99."),
        (["x1"], "“x1” is not a province code"),
        (["001"], "“001” is not a province code"),
    ],
)
def test_unknown_province_code_writes_nothing(db, codes, message):
    args = [arg for code in codes for arg in ("--province", code)]
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load(*args)
    assert not AdministrativeUnit.objects.exists()
    assert not Association.objects.exists()


def test_a_unit_not_in_the_official_list_is_kept_and_reported(db):
    hanoi = ProvinceFactory(
        code="01", name="Thành phố Hà Nội", division_type="thành phố trung ương"
    )
    # A pre-2025 ward still in force, with records pointing at it.
    old = WardFactory(code="00001", name="Phường Phúc Xá", parent=hanoi)
    make_family(old, code="HGD1")
    # A pre-2025 ward already ended, whose code the official list now reuses.
    ended = WardFactory(
        code="00070", name="Phường Hàng Bạc", parent=hanoi, valid_to=dt.date(2025, 6, 30)
    )

    out = load("--province", "01")

    old.refresh_from_db()
    assert (old.name, old.valid_to, old.parent_id) == ("Phường Phúc Xá", None, hanoi.pk)
    assert "Not in the official list" in out and "00001 Phường Phúc Xá" in out
    ended.refresh_from_db()
    assert (ended.name, ended.valid_to) == ("Phường Hàng Bạc", dt.date(2025, 6, 30))
    current = units(Level.WARD).get(code="00070", valid_to__isnull=True)
    assert current.name == "Phường Hoàn Kiếm"
    assert units(Level.PROVINCE).count() == 1  # the existing Hanoi row was matched, not copied
    assert units(Level.WARD).filter(valid_to__isnull=True).count() == 127


def test_a_ward_under_another_province_is_left_alone(db):
    elsewhere = ProvinceFactory(code="17", name="Tỉnh Cũ")
    stray = WardFactory(code="00070", name="Phường Lạc", parent=elsewhere)
    out = load("--province", "01")
    stray.refresh_from_db()
    assert (stray.parent_id, stray.name) == (elsewhere.pk, "Phường Lạc")
    assert "Left alone: ward 00070 Phường Lạc" in out
    assert units(Level.WARD).filter(parent__code="01").count() == 125
