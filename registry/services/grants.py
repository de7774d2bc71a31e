"""Giving a user a role and the unit it covers (one `Grant` per user).

Which unit each role may cover:
- staff, official: a commune/ward (they enter and approve a ward's records);
- viewer: a commune/ward or a province (read-only dashboards);
- admin: a province, or no unit for all of them. Admins also get Django admin access
  (`is_staff`); every other role loses it.

Everything is checked before anything is written: a bad role, an unknown unit, a unit of the
wrong level or a password the validators refuse raises ValidationError and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry.models import AdministrativeUnit, Grant, Role

Level = AdministrativeUnit.Level

ALLOWED_LEVELS: dict[str, tuple[str, ...]] = {
    Role.STAFF: (Level.WARD,),
    Role.OFFICIAL: (Level.WARD,),
    Role.VIEWER: (Level.WARD, Level.PROVINCE),
    Role.ADMIN: (Level.PROVINCE,),
}

# What each role's unit must be, as the error messages say it.
UNIT_NEEDED = {
    Role.STAFF: gettext_lazy("a commune/ward code"),
    Role.OFFICIAL: gettext_lazy("a commune/ward code"),
    Role.VIEWER: gettext_lazy("a commune/ward or province code"),
    Role.ADMIN: gettext_lazy("a province code, or no code for all units"),
}


@dataclass
class GrantResult:
    user: AbstractBaseUser
    grant: Grant
    user_created: bool
    # True when a new user got no password: they cannot log in until one is set.
    password_unusable: bool
    password_set: bool


def _unit_for(role: str, unit_code: str | None) -> AdministrativeUnit | None:
    if not unit_code:
        if role == Role.ADMIN:
            return None
        raise ValidationError(
            _("The role %(role)s needs %(needed)s.") % {"role": role, "needed": UNIT_NEEDED[role]}
        )
    unit_code = unit_code.strip()
    units = list(
        AdministrativeUnit.objects.filter(code=unit_code, valid_to__isnull=True).select_related(
            "parent"
        )
    )
    if not units:
        raise ValidationError(
            _(
                "No unit in force has the code “%(code)s” (a province code has two digits, such as "
                "01; a commune/ward code five, such as 00070)."
            )
            % {"code": unit_code}
        )
    allowed = [u for u in units if u.level in ALLOWED_LEVELS[role]]
    if not allowed:
        raise ValidationError(
            _("The role %(role)s needs %(needed)s, but %(code)s is %(unit)s, a %(level)s.")
            % {
                "role": role,
                "needed": UNIT_NEEDED[role],
                "code": unit_code,
                "level": str(Level(units[0].level).label).lower(),
                "unit": units[0].name,
            }
        )
    return allowed[0]


@transaction.atomic
def grant_role(
    *, username: str, role: str, unit_code: str | None = None, password: str | None = None
) -> GrantResult:
    """Create or update `username` with `role` over the unit `unit_code`; see the module doc."""
    if role not in Role.values:
        raise ValidationError(
            _("Unknown role “%(role)s”: choose one of %(roles)s.")
            % {"role": role, "roles": ", ".join(Role.values)}
        )
    unit = _unit_for(role, unit_code)

    user_model = get_user_model()
    user = user_model.objects.filter(**{user_model.USERNAME_FIELD: username}).first()
    created = user is None
    if created:
        user = user_model(**{user_model.USERNAME_FIELD: username})
        user.full_clean(exclude=["password"])
    if password is not None:
        validate_password(password, user=user)

    user.is_staff = role == Role.ADMIN
    if password is not None:
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    if created:
        user.save()
    else:
        fields = ["is_staff"] + (["password"] if password is not None else [])
        user.save(update_fields=fields)

    grant = Grant.objects.filter(user=user).first() or Grant(user=user)
    grant.role, grant.unit = role, unit
    grant.full_clean()
    grant.save()
    return GrantResult(
        user=user,
        grant=grant,
        user_created=created,
        password_unusable=created and password is None,
        password_set=password is not None,
    )
