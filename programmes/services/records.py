"""Writing one programme, organiser link, contribution, beneficiary or delivery at a time.

Each service checks the model (`full_clean`), saves, and recomputes the programme's summary in
the same transaction; the audit log records the change (the app's models are audited through
the signals, `audit.signals`). The caller has checked the user's right (`programmes.access`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from programmes.models import Beneficiary, Contribution, Delivery, Programme, ProgrammeOrganiser
from programmes.services.tallies import tallies_refresh
from registry.access import grant_of
from registry.models import AdministrativeUnit, Unit
from registry.text import fold


def _save(obj, *, fields: dict[str, Any]):
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.full_clean()
    obj.save()
    return obj


@transaction.atomic
def programme_save(
    *, province: AdministrativeUnit, obj: Programme | None = None, **fields: Any
) -> Programme:
    """Create (no `obj`) or update a programme; a programme never moves to another province."""
    programme = obj or Programme(province=province)
    if obj is not None and obj.province_id != province.pk:
        raise ValidationError(_("A programme cannot move to another province."))
    _save(programme, fields=fields)
    tallies_refresh(programme_ids=[programme.pk])
    return programme


@transaction.atomic
def organiser_add(*, programme: Programme, username: str) -> ProgrammeOrganiser:
    """Link an account as an organiser: it needs a role within the programme's province."""
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    grant = grant_of(user) if user is not None else None
    if grant is None or (
        grant.unit is not None and grant.unit.province_id_for_scope != programme.province_id
    ):
        raise ValidationError(
            {
                "username": _(
                    "No account with a role in this programme's province has this username."
                )
            }
        )
    if ProgrammeOrganiser.objects.filter(programme=programme, user=user).exists():
        raise ValidationError({"username": _("This account already organises the programme.")})
    link = ProgrammeOrganiser(programme=programme, province_id=programme.province_id, user=user)
    link.full_clean()
    link.save()
    return link


@transaction.atomic
def organiser_remove(*, programme: Programme, pk: int) -> None:
    link = ProgrammeOrganiser.objects.filter(programme=programme, pk=pk).first()
    if link is not None:
        link.delete()


@transaction.atomic
def contribution_save(
    *, programme: Programme, obj: Contribution | None = None, **fields: Any
) -> Contribution:
    contribution = obj or Contribution(programme=programme, province_id=programme.province_id)
    _check_money_or_items(fields, amount="amount_vnd")
    _save(contribution, fields=fields)
    tallies_refresh(programme_ids=[programme.pk])
    return contribution


def _check_money_or_items(fields: dict[str, Any], *, amount: str | None) -> None:
    item, quantity = fields.get("item") or "", fields.get("quantity") or 0
    if item and not quantity:
        raise ValidationError({"quantity": _("An item needs a quantity.")})
    if quantity and not item:
        raise ValidationError({"item": _("A quantity needs the item it counts.")})
    if amount and not fields.get(amount) and not item:
        raise ValidationError({amount: _("Give an amount, or an item and its quantity.")})


def _school_ward(school: Unit) -> AdministrativeUnit:
    if school.unit_type != Unit.UnitType.SCHOOL:
        raise ValidationError({"school": _("This unit is not a school.")})
    return school.entity.ward


@transaction.atomic
def beneficiary_save(
    *, programme: Programme, school: Unit, obj: Beneficiary | None = None, **fields: Any
) -> Beneficiary:
    """A child at a school of their ward: the ward is the school's."""
    ward = _school_ward(school)
    if ward.parent_id != programme.province_id:
        raise ValidationError({"school": _("The school is not in the programme's province.")})
    beneficiary = obj or Beneficiary(programme=programme, province_id=programme.province_id)
    if obj is not None and obj.ward_id != ward.pk:
        raise ValidationError({"school": _("A beneficiary stays in their commune/ward.")})
    fields["search_text"] = fold(f"{fields['full_name']} {fields.get('code', beneficiary.code)}")
    _save(beneficiary, fields={**fields, "ward": ward, "school": school})
    tallies_refresh(programme_ids=[programme.pk])
    return beneficiary


@transaction.atomic
def delivery_save(
    *,
    programme: Programme,
    school: Unit,
    beneficiary: Beneficiary | None = None,
    obj: Delivery | None = None,
    **fields: Any,
) -> Delivery:
    ward = _school_ward(school)
    if ward.parent_id != programme.province_id:
        raise ValidationError({"school": _("The school is not in the programme's province.")})
    if beneficiary is not None and (
        beneficiary.programme_id != programme.pk or beneficiary.ward_id != ward.pk
    ):
        raise ValidationError(
            {"beneficiary": _("No beneficiary of the programme with this code in the ward.")}
        )
    if fields.get("kind") == "meals" and not fields.get("days"):
        raise ValidationError({"days": _("Meals need the child-days served.")})
    if fields.get("kind") != "meals" and fields.get("days"):
        raise ValidationError({"days": _("Child-days are for meals only.")})
    _check_money_or_items(fields, amount=None)
    delivery = obj or Delivery(programme=programme, province_id=programme.province_id)
    _save(delivery, fields={**fields, "ward": ward, "school": school, "beneficiary": beneficiary})
    tallies_refresh(programme_ids=[programme.pk])
    return delivery
