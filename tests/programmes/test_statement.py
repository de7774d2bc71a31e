"""Each warning of the statement, and the summary kept exact by the services."""

from __future__ import annotations

import datetime as dt

import pytest

from programmes.models import Beneficiary
from programmes.services.tallies import tallies_verify
from programmes.statement import programme_statement
from tests.factories import make_unit
from tests.programmes.factories import (
    make_beneficiary,
    make_contribution,
    make_delivery,
    make_programme,
)


@pytest.fixture
def school(ward_a):
    return make_unit(ward_a, code="MN1", name="Trường Mầm non Hoa Sen")


def kinds(programme, as_of=None):
    return [w.kind for w in programme_statement(programme=programme, date_to=as_of).warnings]


def test_a_delivery_after_the_childs_end_date_is_flagged(province, school):
    p = make_programme(province)
    child = make_beneficiary(p, school, ends=dt.date(2025, 9, 30))
    make_delivery(
        p, school, ref="IN", beneficiary=child, date=dt.date(2025, 9, 30), days=1, amount_vnd=6800
    )
    assert "outside_period" not in kinds(p)
    make_delivery(
        p, school, ref="LATE", beneficiary=child, date=dt.date(2025, 10, 1), days=1, amount_vnd=6800
    )
    s = programme_statement(programme=p)
    flagged = [w for w in s.warnings if w.kind == "outside_period"]
    assert [w.refs for w in flagged] == [("LATE",)]
    assert "TRE1" in flagged[0].message and "TRE1" not in flagged[0].plain


def test_a_delivery_before_the_childs_start_is_flagged(province, school):
    p = make_programme(province)
    child = make_beneficiary(p, school, starts=dt.date(2025, 10, 1))
    make_delivery(
        p,
        school,
        ref="EARLY",
        beneficiary=child,
        date=dt.date(2025, 9, 30),
        days=1,
        amount_vnd=6800,
    )
    assert kinds(p) == ["outside_period"]


def test_a_child_in_two_programmes_of_the_same_kind_at_once(province, school):
    meals_a = make_programme(province, code="A")
    meals_b = make_programme(province, code="B", starts=dt.date(2025, 1, 1))
    devices = make_programme(province, code="D", kind="devices")
    make_beneficiary(meals_a, school)
    make_beneficiary(devices, school)  # another kind: no warning
    assert "two_programmes" not in kinds(meals_a)
    make_beneficiary(
        meals_b, school, starts=dt.date(2025, 1, 1), ends=dt.date(2025, 8, 31)
    )  # before A starts: no overlap
    assert "two_programmes" not in kinds(meals_a)
    Beneficiary.objects.filter(programme=meals_b).update(ends=dt.date(2025, 9, 15))
    assert kinds(meals_a) == ["two_programmes"]
    assert kinds(meals_b) == ["two_programmes"]


def test_meals_costing_more_than_the_daily_rate(province, school):
    p = make_programme(province, daily_rate_vnd=6800)
    make_delivery(p, school, ref="OK", days=10, amount_vnd=68_000)
    assert "above_daily_rate" not in kinds(p)
    make_delivery(p, school, ref="DEAR", days=10, amount_vnd=68_001)
    s = programme_statement(programme=p)
    assert [w.refs for w in s.warnings if w.kind == "above_daily_rate"] == [("DEAR",)]


def test_money_raised_and_undelivered_for_more_than_90_days(province, school):
    p = make_programme(province)
    make_contribution(p, ref="PT1", amount_vnd=1_000_000, date=dt.date(2025, 9, 1))
    make_delivery(p, school, ref="PX1", days=100, amount_vnd=680_000, date=dt.date(2025, 9, 30))
    # 90 days after 1/9 is 30/11: not yet more than 90 days.
    assert "undelivered" not in kinds(p, as_of=dt.date(2025, 11, 30))
    s = programme_statement(programme=p, date_to=dt.date(2025, 12, 1))
    undelivered = [w for w in s.warnings if w.kind == "undelivered"]
    assert len(undelivered) == 1
    assert "320,000" in undelivered[0].message
    make_delivery(p, school, ref="PX2", days=50, amount_vnd=320_000, date=dt.date(2025, 11, 15))
    assert "undelivered" not in kinds(p, as_of=dt.date(2025, 12, 1))


def test_a_code_used_for_two_children(province, ward_a, ward_b, school):
    other_school = make_unit(ward_b, code="MN2", name="Trường Mầm non Ba Đình")
    p = make_programme(province)
    q = make_programme(province, code="SUA", kind="milk")
    make_beneficiary(p, school, code="X1", full_name="Lò Văn A")
    make_beneficiary(q, school, code="X1", full_name="Lò Văn A")  # the same child: fine
    assert "code_reused" not in kinds(p)
    make_beneficiary(p, other_school, code="X1", full_name="Cầm Thị B")
    assert kinds(p) == ["code_reused"]


def test_figures_and_summary_stay_exact(province, school):
    p = make_programme(province)
    make_contribution(p, ref="PT1", amount_vnd=2_000_000)
    make_contribution(p, ref="HV1", amount_vnd=0, item="Máy tính bảng", quantity=5)
    child = make_beneficiary(p, school)
    make_delivery(p, school, ref="PX1", days=20, amount_vnd=136_000)
    make_delivery(p, school, ref="PX2", days=3, amount_vnd=20_000, beneficiary=child)
    make_delivery(
        p, school, ref="HV", kind="items", days=0, item="Máy tính bảng", quantity=2, amount_vnd=0
    )
    s = programme_statement(programme=p)
    assert (s.raised_vnd, s.spent_vnd, s.balance_vnd) == (2_000_000, 156_000, 1_844_000)
    assert s.meal_days == 23
    # 156,000 ÷ 23 = 6,782.6… → 6,783
    assert s.cost_per_meal_day_vnd == 6783
    assert s.items_received == {"Máy tính bảng": 5}
    assert s.items_delivered == {"Máy tính bảng": 2}
    assert (s.beneficiaries, s.schools, s.wards) == (1, 1, 1)
    assert tallies_verify() == []
