"""Writing audit entries: object changes (from the signals), logins, and bulk changes.

Every function writes through the default connection, so inside a transaction the entry
commits or rolls back with the change it describes.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken

from accounts.client_ip import client_ip
from audit.context import current_actor
from audit.models import AuditEntry
from registry.models import AdministrativeUnit, EntityKindModel, Grant

# The bulk operations (`record_bulk`), as the log page names them.
OPERATIONS = {
    "registry_import": _("Registry import"),
    "registrations_import": _("Registrations import"),
    "registrations_register_area": _("Residential area registered"),
    "self_assessment_slips": _("Self-assessment slips printed"),
    "registrations_approve_passed": _("Passed registrations approved"),
    "decision_issue": _("Recognition decision issued"),
    "certificates_number": _("Certificate numbers assigned"),
    "evaluate": _("Evaluation"),
    "divisions_load": _("Administrative units loaded"),
    "targets_load": _("Targets loaded"),
    "demo_generate": _("Demo registry generated"),
    "titles_demo_generate": _("Demo registrations generated"),
    "community_import": _("Groups, members or activities import"),
    "programmes_import": _("Programmes import"),
    "programmes_demo_generate": _("Demo programmes generated"),
}
MASKED = "••••••"
REPR_MAX = 255


def jsonable(value: Any) -> Any:
    """A field value as JSON keeps it: model instances by primary key, dates as ISO text."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    return value


def _unit_province_id(unit_id: int | None) -> int | None:
    if unit_id is None:
        return None
    row = AdministrativeUnit.objects.filter(pk=unit_id).values("level", "parent_id").first()
    if row is None:
        return None
    return unit_id if row["level"] == AdministrativeUnit.Level.PROVINCE else row["parent_id"]


def _user_province_id(user_id: int | None) -> int | None:
    if user_id is None:
        return None
    unit_id = Grant.objects.filter(user_id=user_id).values_list("unit_id", flat=True).first()
    return _unit_province_id(unit_id)


def province_id_of(obj: models.Model) -> int | None:
    """The province `obj` belongs to, for scoping the log; None if it belongs to none."""
    from django.contrib.auth import get_user_model

    if isinstance(obj, AdministrativeUnit):
        return obj.pk if obj.is_province else obj.parent_id
    if hasattr(obj, "province_id"):
        return obj.province_id
    if isinstance(obj, EntityKindModel):
        return obj.entity.province_id
    if isinstance(obj, Grant):
        return _unit_province_id(obj.unit_id)
    if isinstance(obj, get_user_model()):
        return _user_province_id(obj.pk)
    for name in ("registration", "association", "admin_unit", "unit", "user"):
        related = getattr(type(obj), name, None)
        target = getattr(obj, name, None) if related is not None else None
        if isinstance(target, models.Model):
            return province_id_of(target)
    return None


def _entry(**fields: Any) -> AuditEntry:
    actor = current_actor()
    user = actor.user if actor else None
    request = actor.request if actor else None
    entry = AuditEntry(
        user=user,
        username=user.get_username() if user else "",
        command=actor.command if actor else "",
        ip=client_ip(request) if request is not None else None,
        **fields,
    )
    entry.save()
    return entry


def record_change(
    obj: models.Model,
    *,
    action: str,
    changes: dict[str, list[Any]],
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """One object created, changed or deleted; `changes` maps each field to [before, after]."""
    if isinstance(obj, AuthToken):  # its primary key and its str() carry the key's digest
        object_id, text = str(obj.user_id), f"{obj._meta.verbose_name}: {obj.user}"
    else:
        object_id, text = str(obj.pk), str(obj)
    return _entry(
        action=action,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=object_id,
        object_repr=text[:REPR_MAX],
        changes=jsonable(changes),
        detail=jsonable(detail or {}),
        province_id=province_id_of(obj),
    )


def record_bulk(
    operation: str,
    *,
    model: type[models.Model],
    ward_ids: Iterable[int] = (),
    province_ids: Iterable[int] = (),
    **detail: Any,
) -> AuditEntry:
    """One bulk change (an import, a batch approval, an evaluation…) summarised in one entry.

    `operation` is a key of OPERATIONS; `detail` says what changed (counts, year, file name).
    The wards touched are named by code; the entry belongs to the one province of the wards
    and `province_ids` if there is one, else only global administrators see it.
    """
    wards = list(
        AdministrativeUnit.objects.filter(pk__in=set(ward_ids))
        .order_by("code")
        .values_list("code", "parent_id")
    )
    provinces = {parent_id for _code, parent_id in wards} | set(province_ids)
    if wards:
        detail["wards"] = [code for code, _parent in wards]
    return _entry(
        action=AuditEntry.Action.BULK,
        content_type=ContentType.objects.get_for_model(model, for_concrete_model=False),
        object_repr=str(OPERATIONS[operation])[:REPR_MAX],
        detail=jsonable({"operation": operation, **detail}),
        province_id=provinces.pop() if len(provinces) == 1 else None,
    )


def _login_entry(action: str, *, user, username: str, request: HttpRequest | None, detail: dict):
    return AuditEntry.objects.create(
        action=action,
        user=user,
        username=username[:150],
        ip=client_ip(request) if request is not None else None,
        detail=detail,
        province_id=_user_province_id(user.pk) if user is not None else None,
    )


def record_login(*, user, request: HttpRequest | None, via: str = "") -> AuditEntry:
    """A login; `via` names a channel other than a login page (the API's token endpoint)."""
    return _login_entry(
        AuditEntry.Action.LOGIN,
        user=user,
        username=user.get_username(),
        request=request,
        detail={"via": via} if via else {},
    )


def record_logout(*, user, request: HttpRequest | None) -> AuditEntry:
    return _login_entry(
        AuditEntry.Action.LOGOUT,
        user=user,
        username=user.get_username(),
        request=request,
        detail={},
    )


def record_login_failed(*, username: str, request: HttpRequest | None) -> AuditEntry:
    """A failed login, under the username tried (it may name no user)."""
    from django.contrib.auth import get_user_model

    model = get_user_model()
    user = (
        model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()
        if username
        else None
    )
    locked = bool(getattr(request, "axes_locked_out", False))
    return _login_entry(
        AuditEntry.Action.LOGIN_FAILED,
        user=user,
        username=username,
        request=request,
        detail={"locked_out": True} if locked else {},
    )
