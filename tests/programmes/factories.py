"""Programmes and their records for tests, made through the services."""

from __future__ import annotations

import datetime as dt

from programmes.models import Programme
from programmes.services import records


def make_programme(
    province, code: str = "CT1", kind: str = "meals", daily_rate_vnd: int | None = 6800, **extra
) -> Programme:
    fields = {
        "code": code,
        "name": f"Chương trình {code}",
        "organiser": "Hội Khuyến học",
        "kind": kind,
        "starts": dt.date(2025, 9, 1),
        "ends": None,
        "daily_rate_vnd": daily_rate_vnd if kind == "meals" else None,
        "target_beneficiaries": None,
        "public_note": "Bữa trưa cho trẻ mầm non",
        **extra,
    }
    return records.programme_save(province=province, **fields)


def make_contribution(programme, ref="PT1", amount_vnd=1_000_000, **extra):
    fields = {
        "ref": ref,
        "date": dt.date(2025, 9, 2),
        "donor": "Nhà hảo tâm",
        "amount_vnd": amount_vnd,
        "item": "",
        "quantity": 0,
        "donor_public": False,
        **extra,
    }
    return records.contribution_save(programme=programme, **fields)


def make_beneficiary(programme, school, code="TRE1", full_name="Lò Thị Mai", **extra):
    fields = {
        "code": code,
        "full_name": full_name,
        "birth_year": 2020,
        "starts": dt.date(2025, 9, 1),
        "ends": None,
        **extra,
    }
    return records.beneficiary_save(programme=programme, school=school, **fields)


def make_delivery(programme, school, ref="PX1", beneficiary=None, **extra):
    fields = {
        "ref": ref,
        "date": dt.date(2025, 9, 30),
        "kind": "meals",
        "days": 10,
        "item": "",
        "quantity": 0,
        "amount_vnd": 68_000,
        **extra,
    }
    return records.delivery_save(
        programme=programme, school=school, beneficiary=beneficiary, **fields
    )
