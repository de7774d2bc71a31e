"""`manage.py demo_accounts --province CODE`: one demo login per role (DEBUG only)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from devtools.registry_demo import demo_accounts_create


class Command(BaseCommand):
    help = _(
        "Create one demo login per role for a province that has demo data (staff and official "
        "of its largest ward, viewer of the province, admin of everything). Only with DEBUG on."
    )

    def add_arguments(self, parser):
        parser.add_argument("--province", required=True, metavar="CODE")

    def handle(self, *args, province, **options):
        try:
            accounts = demo_accounts_create(province_code=province)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        header = [_("Username"), _("Password"), _("Role"), _("Unit")]
        rows = [
            [
                a.username,
                a.password,
                a.role,
                f"{a.unit.code} {a.unit.name}" if a.unit else _("all units"),
            ]
            for a in accounts
        ]
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, ["-" * w for w in widths], *rows]:
            self.stdout.write(
                "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
            )
