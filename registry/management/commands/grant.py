"""`manage.py grant USERNAME ROLE [UNIT_CODE] [--password PW]`: a user's role and unit."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from registry.models import Role
from registry.services.grants import grant_role


class Command(BaseCommand):
    help = _(
        "Give USERNAME a role over a unit, creating the user if needed. Staff and officials need "
        "a commune/ward code, viewers a commune/ward or province code; an admin without a code "
        "covers all units."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", metavar="ROLE", help=" | ".join(Role.values))
        parser.add_argument("unit_code", nargs="?", metavar="UNIT_CODE")
        parser.add_argument("--password", help=_("Set this password (checked by the validators)."))

    def handle(self, *args, username, role, unit_code, password, **options):
        try:
            result = grant_role(
                username=username, role=role, unit_code=unit_code, password=password
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        grant = result.grant
        unit = f"{grant.unit.name} ({grant.unit.code})" if grant.unit else _("all units")
        if result.user_created:
            self.stdout.write(_("Created user %(username)s.") % {"username": username})
        self.stdout.write(
            _("%(username)s: %(role)s — %(unit)s.")
            % {"username": username, "role": grant.get_role_display(), "unit": unit}
        )
        if result.password_set:
            self.stdout.write(_("Password set."))
        if result.password_unusable:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "The new user has no usable password and cannot log in until one is set "
                        "(run again with --password, or use changepassword)."
                    )
                )
            )
