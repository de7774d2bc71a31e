"""`manage.py evaluate --year YEAR [--ward CODE] [--output results.csv] [--workers N]`."""

import csv

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from registry.models import AdministrativeUnit
from titles.services.evaluate import registrations_evaluate

COLUMNS = ("kind", "ward", "code", "points", "passed", "outstanding", "missing", "failed_required")


class Command(BaseCommand):
    help = (
        "Evaluate the year's undecided registrations bottom-up (citizens and families, then "
        "clans, communities and units); idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--ward", help="commune/ward code: only that ward")
        parser.add_argument("--output", help="write one CSV row per registration evaluated")
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.EVALUATE_WORKERS,
            help="processes sharing the work on PostgreSQL (default: EVALUATE_WORKERS, "
            f"{settings.EVALUATE_WORKERS} here); 1 runs in this process only",
        )

    def handle(self, *args, year, ward=None, output=None, workers, **options):
        if workers < 1:
            raise CommandError("--workers must be 1 or more.")
        ward_unit = None
        if ward:
            ward_unit = AdministrativeUnit.objects.filter(
                level=AdministrativeUnit.Level.WARD, code=ward.zfill(5), valid_to__isnull=True
            ).first()
            if ward_unit is None:
                raise CommandError(f"Unknown commune/ward code {ward}.")
        run = registrations_evaluate(year=year, ward=ward_unit, workers=workers)
        if output:
            with open(output, "w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(COLUMNS)
                for row in run.rows:
                    writer.writerow(
                        [
                            row.kind,
                            row.ward,
                            row.code,
                            f"{row.points:f}",
                            "true" if row.passed else "false",
                            "true" if row.outstanding else "false",
                            " ".join(row.missing),
                            " ".join(row.failed_required),
                        ]
                    )
        passed = sum(r.passed for r in run.rows)
        outstanding = sum(r.outstanding for r in run.rows)
        self.stdout.write(
            f"{len(run.rows)} registrations evaluated for {year}: {passed} passed, "
            f"{outstanding} outstanding."
        )
        if run.not_submitted:
            self.stdout.write(
                f"{run.not_submitted} registrations not yet submitted (no evidence): "
                "left registered."
            )
        if run.frozen:
            self.stderr.write(
                f"{run.frozen} registrations of communes/wards whose figures for {year} are "
                "signed off were left as they were; a province administrator must reopen them "
                "first."
            )
        for kind, count in sorted(run.no_criteria.items()):
            self.stderr.write(
                f"{count} {kind} registrations not evaluated: no criteria set in force."
            )
        if run.changed_meanwhile:
            self.stderr.write(
                f"{run.changed_meanwhile} registrations changed while being evaluated and were "
                "left as they are; run again to evaluate them."
            )
