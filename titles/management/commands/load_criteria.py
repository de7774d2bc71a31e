"""`manage.py load_criteria PATH` — load a criteria-set file (or `--defaults`: the shipped sets)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from titles.rules.criteria_file import CriteriaFileError
from titles.services.criteria import criteria_load, criteria_load_defaults


class Command(BaseCommand):
    help = (
        "Validate and load a criteria-set JSON file; refuses anything malformed, changing nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="criteria-set JSON file")
        parser.add_argument(
            "--defaults", action="store_true", help="load the national default sets shipped"
        )

    def handle(self, *args, path=None, defaults=False, **options):
        if bool(path) == bool(defaults):
            raise CommandError("Give either a PATH or --defaults.")
        try:
            if defaults:
                results = criteria_load_defaults()
            else:
                file = Path(path)
                if not file.is_file():
                    raise CommandError(f"{path}: no such file.")
                try:
                    text = file.read_text(encoding="utf-8-sig")
                except UnicodeDecodeError as exc:
                    raise CommandError(f"{path}: the file is not UTF-8 text.") from exc
                results = [criteria_load(document=text)]
        except CriteriaFileError as exc:
            raise CommandError(
                f"{path or 'defaults'}: not loaded.\n" + "\n".join(f"  - {e}" for e in exc.errors)
            ) from exc
        for criteria_set, outcome in results:
            self.stdout.write(
                f"{criteria_set.code} ({criteria_set.get_title_display()}, "
                f"{criteria_set.valid_from}–{criteria_set.valid_to or '…'}): {outcome}"
            )
