"""`manage.py load_divisions [--province CODE ...]`: the official provinces and communes/wards."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from registry.services.divisions import divisions_load


class Command(BaseCommand):
    help = _(
        "Load provinces and communes/wards from the official list (vietnam-provinces), with "
        "their associations for promoting education. Idempotent; never deletes a unit."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--province",
            action="append",
            dest="provinces",
            metavar="CODE",
            help=_("Province code such as 01 (repeatable); all 34 provinces when omitted."),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("Print what would change and write nothing."),
        )

    def handle(self, *args, provinces=None, dry_run=False, **options):
        try:
            report = divisions_load(province_codes=provinces, dry_run=dry_run)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        for label, counts in (
            (_("Provinces"), report.provinces),
            (_("Communes/wards"), report.wards),
        ):
            self.stdout.write(
                _("%(label)s: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")
                % {
                    "label": label,
                    "created": counts.created,
                    "updated": counts.updated,
                    "unchanged": counts.unchanged,
                }
            )
        self.stdout.write(
            _("Associations created: %(count)d.") % {"count": report.associations_created}
        )
        self.stdout.write(
            _(
                "Units before 1/7/2025 (provinces, districts, communes): %(created)d created, "
                "%(updated)d updated, %(unchanged)d unchanged; %(links)d links to the current "
                "units created."
            )
            % {
                "created": report.before_2025.created,
                "updated": report.before_2025.updated,
                "unchanged": report.before_2025.unchanged,
                "links": report.successions_created,
            }
        )
        for c in report.corrections:
            self.stdout.write(
                _("Corrected to the official list: %(old_code)s %(old_name)s → %(code)s %(name)s")
                % {"old_code": c.old_code, "old_name": c.old_name, "code": c.code, "name": c.name}
            )
        for unit in report.not_in_official_list:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Not in the official list (kept; set its end date if it was abolished): "
                        "%(code)s %(name)s"
                    )
                    % {"code": unit.code, "name": unit.name}
                )
            )
        for unit in report.conflicts:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Left alone: ward %(code)s %(name)s belongs to another province in the "
                        "database than in the official list."
                    )
                    % {"code": unit.code, "name": unit.name}
                )
            )
        if report.dry_run:
            self.stdout.write(self.style.WARNING(_("Dry run: nothing was written.")))
