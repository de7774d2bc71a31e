"""`load_divisions`: the official provinces and communes/wards, idempotent, history kept."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from registry.models import AdministrativeUnit, Association
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
    assert set(AdministrativeUnit.objects.values_list("valid_from", flat=True)) == {
        dt.date(2025, 7, 1)
    }
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
    AdministrativeUnit.objects.filter(code="00070").update(name="Phường Cũ")
    out = load("--province", "01")
    assert AdministrativeUnit.objects.get(code="00070").name == "Phường Hoàn Kiếm"
    assert "Communes/wards: 0 created, 1 updated, 125 unchanged." in out


def test_all_provinces(db):
    out = load()
    assert units(Level.PROVINCE).count() == 34
    assert units(Level.WARD).count() == 3321
    assert Association.objects.count() == 34 + 3321
    assert "Communes/wards: 3321 created" in out
    assert "Communes/wards: 0 created, 0 updated, 3321 unchanged." in load()


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
    current = AdministrativeUnit.objects.get(code="00070", valid_to__isnull=True)
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
