"""Helpers for titles tests: small criteria documents and registrations in a given state."""

from __future__ import annotations

import datetime

from titles.models import Decision, Registration, State
from titles.services.criteria import criteria_load

FAMILY_DOC = {
    "code": "T-FAM",
    "title": "family",
    "name": "Gia đình học tập (thử)",
    "valid_from": 2025,
    "valid_to": None,
    "province": None,
    "pass": {"min_points": 50, "required": ["F1"]},
    "outstanding": {"min_points": 90},
    "criteria": [
        {"code": "F1", "text": "Trẻ em đi học đầy đủ", "type": "boolean", "points": 40},
        {"code": "F2", "text": "Số chủ đề học trong năm", "type": "number", "min": 2, "points": 30},
        {"code": "F3", "text": "Điều kiện học tập", "type": "scale", "max": 30},
    ],
}

CLAN_DOC = {
    "code": "T-CLAN",
    "title": "clan",
    "name": "Dòng họ học tập (thử)",
    "valid_from": 2025,
    "valid_to": None,
    "province": None,
    "pass": {"min_points": 60, "required": ["C2"]},
    "outstanding": {"min_points": 100},
    "criteria": [
        {"code": "C1", "text": "Có quỹ khuyến học", "type": "boolean", "points": 40},
        {
            "code": "C2",
            "text": "Tỷ lệ gia đình học tập",
            "type": "share",
            "of": "family",
            "min": 0.7,
            "points": 60,
        },
    ],
}


def load(doc: dict):
    return criteria_load(document=doc)[0]


def registration(entity, year: int = 2025, state: str = State.REGISTERED, **fields):
    extra = {}
    if state == State.RECOGNIZED and "decision" not in fields:
        extra["decision"], _ = Decision.objects.get_or_create(
            ward_id=entity.ward_id,
            number=f"QD-{year}",
            defaults={
                "province_id": entity.province_id,
                "year": year,
                "date": datetime.date(year, 12, 1),
            },
        )
    if state == State.REJECTED:
        extra.setdefault("rejection_reason", "không đạt")
    return Registration.objects.create(
        entity=entity,
        year=year,
        kind=entity.kind,
        ward_id=entity.ward_id,
        province_id=entity.province_id,
        state=state,
        sort_key=entity.sort_key,
        **extra,
        **fields,
    )
