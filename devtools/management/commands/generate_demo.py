"""`manage.py generate_demo --province CODE [--households N] [--seed S]`: synthetic data."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from devtools.community_demo import community_demo_generate
from devtools.programmes_demo import programmes_demo_generate
from devtools.registry_demo import demo_generate
from devtools.titles_demo import titles_demo_generate
from registry.models import KIND_MODELS, Kind


def _count(number: int) -> str:
    """A count as the active language groups it: 1.234 in Vietnamese, 1,234 in English."""
    return number_format(number, force_grouping=True)


class Command(BaseCommand):
    help = _(
        "Generate realistic synthetic households, clans, residential areas, units, citizens and "
        "associations for a province. Same seed, same data; does nothing if the province "
        "already has entities."
    )

    def add_arguments(self, parser):
        parser.add_argument("--province", required=True, metavar="CODE")
        parser.add_argument("--households", type=int, default=3000, metavar="N")
        parser.add_argument("--seed", type=int, default=1, metavar="S")
        parser.add_argument(
            "--without-titles",
            action="store_true",
            help=_("registry only: no registrations, decisions or evaluations"),
        )

    def handle(self, *args, province, households, seed, without_titles=False, **options):
        try:
            report = demo_generate(province_code=province, households=households, seed=seed)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        name = report.province.name
        if report.loaded_divisions:
            self.stdout.write(
                _("Loaded the communes/wards of %(province)s from the official list first.")
                % {"province": name}
            )
        if report.already_present:
            self.stdout.write(
                _("%(province)s already has data; nothing was changed.") % {"province": name}
            )
        else:
            self.stdout.write(
                _("Generated demo data for %(province)s (%(wards)d communes/wards, seed %(seed)d):")
                % {"province": name, "wards": report.wards, "seed": seed}
            )
        # The entities' own names ("Families"), not the titles' ("Learning Family").
        labels = [
            (kind.value, capfirst(KIND_MODELS[kind]._meta.verbose_name_plural)) for kind in Kind
        ]
        if not report.already_present:
            labels += [
                ("sub", _("Sub-associations")),
                ("committee", _("Committees")),
            ]
        for key, label in labels:
            self.stdout.write(f"  {label}: {_count(report.counts[key])}")
        if not report.already_present:
            self.stdout.write(
                "  " + _("Memberships: %(count)s") % {"count": _count(report.memberships)}
            )
        self.stdout.write(_("Time: %(seconds).1f s") % {"seconds": report.seconds})
        if without_titles:  # the registry alone: no programmes, groups or titles
            return
        # Before the titles: a small demo's schools, made by the registry's import, are then
        # part of the registry the titles are drawn from.
        programmes_demo_generate(province_code=report.province.code, seed=seed)
        self._titles(province_code=report.province.code, seed=seed)

    def _titles(self, *, province_code: str, seed: int) -> None:
        year = timezone.localdate().year
        groups = community_demo_generate(province_code=province_code, seed=seed, year=year)
        if not groups.skipped:
            self.stdout.write(
                _("Groups: %(groups)s, members: %(members)s, activities: %(activities)s")
                % {k: _count(getattr(groups, k)) for k in ("groups", "members", "activities")}
            )
        titles = titles_demo_generate(province_code=province_code, seed=seed, year=year)
        if titles.skipped:
            self.stdout.write(_("Registrations already present; nothing was changed."))
            return
        for reg_year, count in sorted(titles.registrations.items()):
            self.stdout.write(
                _("Registrations %(year)d: %(count)s") % {"year": reg_year, "count": _count(count)}
            )
        self.stdout.write(
            _("Recognised in %(year)d: %(count)s; evaluated in %(now)d: %(evaluated)s")
            % {
                "year": year - 1,
                "count": _count(titles.recognised),
                "now": year,
                "evaluated": _count(titles.evaluated),
            }
        )
        if titles.evaluated_ward is not None:
            self.stdout.write(
                _(
                    "Evaluated in %(ward)s only (the demo logins' ward); evaluate the others "
                    "with: manage.py evaluate --year %(year)d"
                )
                % {"ward": titles.evaluated_ward.name, "year": year}
            )
        self.stdout.write(
            _(
                "Time: registrations %(write).1f s, evaluation %(evaluate).1f s, "
                "summaries %(rollup).1f s"
            )
            % {
                "write": titles.seconds,
                "evaluate": titles.evaluate_seconds,
                "rollup": titles.rollup_seconds,
            }
        )
