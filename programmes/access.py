"""Who may see and change programmes, contributions, beneficiaries and deliveries.

Built on the registry's grants (`registry.access`):

- a programme is seen by every user whose grant covers its province or one of its wards, and
  by global administrators;
- it is managed (edited, its contributions and organisers) by administrators of its province
  and global administrators, and by the **organiser accounts** an administrator of its province
  links to it on the programme's page (`ProgrammeOrganiser`; the account needs a grant within
  the province, any role);
- beneficiaries and deliveries are recorded by the staff of their commune/ward and the
  administrators above it; organisers also record deliveries of their programme;
- a child's personal data (name, code, birth year) is shown only to staff, officials and
  administrators whose scope covers the child's ward: never to viewers, to organisers as such,
  nor on the public page.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from programmes.models import Programme, ProgrammeOrganiser
from registry.access import grant_of, scope_q
from registry.models import AdministrativeUnit, Role

_NOTHING = Q(pk__in=[])


def province_of_grant(user) -> int | None:
    """The province a user's grant lies in; None for none (and for a global administrator)."""
    grant = grant_of(user)
    if grant is None or grant.unit is None:
        return None
    return grant.unit.province_id_for_scope


def programme_q(user) -> Q:
    """The programmes a user may see."""
    grant = grant_of(user)
    if grant is None:
        return _NOTHING
    if grant.unit is None:
        return Q()
    return Q(province_id=grant.unit.province_id_for_scope)


def is_programme_admin(user, province_id: int) -> bool:
    grant = grant_of(user)
    return (
        grant is not None
        and grant.role == Role.ADMIN
        and (grant.unit is None or grant.unit_id == province_id)
    )


def can_create_programme(user) -> bool:
    grant = grant_of(user)
    return (
        grant is not None
        and grant.role == Role.ADMIN
        and (grant.unit is None or grant.unit.level == AdministrativeUnit.Level.PROVINCE)
    )


def is_organiser(user, programme: Programme) -> bool:
    if not user.is_authenticated or grant_of(user) is None:
        return False
    return ProgrammeOrganiser.objects.filter(programme=programme, user=user).exists()


def organises_any(user) -> bool:
    if not user.is_authenticated or grant_of(user) is None:
        return False
    return ProgrammeOrganiser.objects.filter(user=user).exists()


def can_manage(user, programme: Programme) -> bool:
    """Edit the programme, record its contributions (province admins and its organisers)."""
    return is_programme_admin(user, programme.province_id) or is_organiser(user, programme)


def require_manage(user, programme: Programme) -> None:
    if not can_manage(user, programme):
        raise PermissionDenied


def can_record_in_ward(user, ward: AdministrativeUnit) -> bool:
    """Staff of the ward and administrators above it record its beneficiaries and deliveries."""
    grant = grant_of(user)
    if grant is None or grant.role not in (Role.STAFF, Role.ADMIN):
        return False
    if grant.unit is None:
        return True
    return grant.unit_id in (ward.pk, ward.parent_id)


def can_record_any(user) -> bool:
    """Whether the user records beneficiaries or deliveries somewhere (before a ward is known)."""
    grant = grant_of(user)
    return grant is not None and grant.role in (Role.STAFF, Role.ADMIN)


def can_record_delivery(user, programme: Programme, ward: AdministrativeUnit) -> bool:
    if ward.parent_id != programme.province_id:
        return False
    return can_record_in_ward(user, ward) or is_organiser(user, programme)


def can_see_children(user) -> bool:
    """Staff, officials and administrators read children's personal data in their scope."""
    grant = grant_of(user)
    return grant is not None and grant.role in (Role.STAFF, Role.OFFICIAL, Role.ADMIN)


def beneficiary_q(user) -> Q:
    """The beneficiaries whose personal data the user may read."""
    if not can_see_children(user):
        return _NOTHING
    return scope_q(user)


def require(condition: bool) -> None:
    if not condition:
        raise PermissionDenied
