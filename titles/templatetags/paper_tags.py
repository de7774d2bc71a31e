"""The formal frame of every print, as template tags: `{% letterhead %}`, `{% signatures %}`
and the names a certificate and a list write. The words come from `titles.paper`; these tags
only put them on the page."""

from __future__ import annotations

import datetime

from django import template
from django.utils import timezone

from registry.models import AdministrativeUnit
from titles import paper

register = template.Library()


@register.inclusion_tag("titles/paper/_letterhead.html")
def letterhead(
    unit: AdministrativeUnit,
    issuer: str,
    date: datetime.date | None = None,
    number: str = "",
) -> dict:
    """`{% letterhead ward "committee" decision.date %}`: the issuing body, the national motto,
    the place and date line (today when no date is given) and, if given, the paper's number."""
    province = unit.parent if unit.level != AdministrativeUnit.Level.PROVINCE else unit
    return {
        "head": paper.letterhead(
            unit_name=unit.name,
            province_name=province.name if province is not None else "",
            issuer=issuer,
            date=date or timezone.localdate(),
            of_province=unit.level == AdministrativeUnit.Level.PROVINCE,
        ),
        "number": number,
    }


@register.inclusion_tag("titles/paper/_signatures.html")
def signatures(issuer: str, prepared: bool = True) -> dict:
    """`{% signatures "association" %}`: who drew the paper up and who signs it."""
    return {"sign": paper.signatures(issuer=issuer, prepared=prepared)}


@register.filter
def residential_area(entity) -> str:
    """`{{ r.entity|residential_area }}`: where a household or a citizen lives."""
    return paper.residential_area(entity)


@register.filter
def in_sentence(unit_name: str) -> str:
    """`{{ ward.name|in_sentence }}`: "phường Hoàn Kiếm" inside a sentence."""
    return paper.in_sentence(unit_name)


@register.filter
def formal_name(entity) -> str:
    """`{{ r.entity|formal_name }}`: "Gia đình ông/bà …", "Ông/Bà …", "Dòng họ …"."""
    return paper.formal_name(entity.kind, entity.name)


@register.filter
def certificate_label(number: int | None) -> str:
    """`{{ number|certificate_label }}`: "Số: 15/GCN-KH"."""
    return paper.certificate_label(number)
