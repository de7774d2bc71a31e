"""`generate_demo`'s programmes: a meals and a tablets programme at the demo ward's schools."""

import pytest

from devtools.programmes_demo import DEVICES, MEALS, programmes_demo_generate
from devtools.registry_demo import demo_generate, demo_ward
from programmes.models import Beneficiary, Programme
from programmes.services.tallies import tallies_verify
from programmes.statement import programme_statement
from registry.models import AdministrativeUnit


@pytest.fixture
def demo(db):
    demo_generate(province_code="12", households=300, seed=1)
    return AdministrativeUnit.objects.get(level="province", code="12")


def test_two_programmes_with_records_at_the_demo_wards_schools(demo):
    report = programmes_demo_generate(province_code="12", seed=1)
    assert not report.skipped
    meals, devices = Programme.objects.get(code=MEALS), Programme.objects.get(code=DEVICES)
    ward = demo_ward(demo)
    assert set(Beneficiary.objects.values_list("ward", flat=True)) == {ward.pk}
    s = programme_statement(programme=meals)
    assert s.meal_days > 0 and s.raised_vnd > 0 and s.cost_per_meal_day_vnd == 6800
    d = programme_statement(programme=devices)
    assert d.items_received == {"Máy tính bảng": 40}
    assert d.items_delivered["Máy tính bảng"] > 0
    assert tallies_verify() == []
    assert programmes_demo_generate(province_code="12", seed=1).skipped  # idempotent
