"""Who may see and change what: the one place scoping is decided.

A user's `Grant` names a role and a unit. A ward grant covers that ward; a province grant covers
the province and all its wards; an admin grant without a unit covers everything. A user with no
grant (and not a superuser) sees nothing. Views turn "not in scope" into 404 and "in scope but
read-only" into 403, so an outsider cannot even learn that a record exists.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q

from registry.models import AdministrativeUnit, Grant, Role

_CACHE_ATTR = "_learnsociety_grant"
_NOTHING = Q(pk__in=[])


def grant_of(user: AbstractBaseUser | AnonymousUser) -> Grant | None:
    """The user's grant, read once per request; a superuser without one acts as a global admin."""
    if not user.is_authenticated:
        return None
    if not hasattr(user, _CACHE_ATTR):
        grant = Grant.objects.select_related("unit", "unit__parent").filter(user=user).first()
        if grant is None and user.is_superuser:
            grant = Grant(user=user, role=Role.ADMIN, unit=None)
        setattr(user, _CACHE_ATTR, grant)
    return getattr(user, _CACHE_ATTR)


def scope_q(user, *, ward: str = "ward", province: str = "province") -> Q:
    """A filter for rows in the user's scope; `ward`/`province` name the rows' fields."""
    grant = grant_of(user)
    if grant is None:
        return _NOTHING
    if grant.unit is None:
        return Q()
    if grant.unit.level == AdministrativeUnit.Level.PROVINCE:
        return Q(**{f"{province}_id": grant.unit_id})
    return Q(**{f"{ward}_id": grant.unit_id})


def ward_units(user):
    """Wards (in force or not) the user may see, as a queryset."""
    return AdministrativeUnit.objects.filter(level=AdministrativeUnit.Level.WARD).filter(
        _ward_filter(user)
    )


def _ward_filter(user) -> Q:
    grant = grant_of(user)
    if grant is None:
        return _NOTHING
    if grant.unit is None:
        return Q()
    if grant.unit.level == AdministrativeUnit.Level.PROVINCE:
        return Q(parent_id=grant.unit_id)
    return Q(pk=grant.unit_id)


def can_edit_registry(user) -> bool:
    grant = grant_of(user)
    return grant is not None and grant.can_edit_registry


def require_registry_edit(user) -> None:
    """403 for a user who may read the registry but not change it."""
    if not can_edit_registry(user):
        raise PermissionDenied


def can_register(user) -> bool:
    """Staff and admins register entities and enter evidence."""
    grant = grant_of(user)
    return grant is not None and grant.role in (Role.STAFF, Role.ADMIN)


def can_review(user) -> bool:
    """Ward officials and admins approve, reject, override and issue decisions."""
    grant = grant_of(user)
    return grant is not None and grant.role in (Role.OFFICIAL, Role.ADMIN)


def require_register(user) -> None:
    if not can_register(user):
        raise PermissionDenied


def require_review(user) -> None:
    if not can_review(user):
        raise PermissionDenied


def is_global_or_province_admin(user, province_id: int) -> bool:
    grant = grant_of(user)
    return (
        grant is not None
        and grant.role == Role.ADMIN
        and (grant.unit is None or grant.unit_id == province_id)
    )
