"""The members of the households each family tally counts, filled from the detail rows."""

from collections import defaultdict

from django.db import migrations, models
from django.db.models import Sum
from django.db.models.functions import Coalesce


def fill_members(apps, schema_editor):
    Family = apps.get_model("registry", "Family")
    EntityTally = apps.get_model("registry", "EntityTally")
    members: dict[tuple[str, int, int], int] = defaultdict(int)
    for area_id, ward_id, province_id, since, n in (
        Family.objects.annotate(since=Coalesce("entity__counted_from", 0))
        .values_list("community_id", "entity__ward_id", "entity__province_id", "since")
        .annotate(n=Sum("members"))
        .order_by()
    ):
        members[("community", area_id, since)] += n
        members[("ward", ward_id, since)] += n
        members[("province", province_id, since)] += n
    changed = []
    for tally in EntityTally.objects.filter(kind="family").iterator(chunk_size=2000):
        tally.members = members.get((tally.level, tally.unit_id, tally.counted_from), 0)
        if tally.members:
            changed.append(tally)
    EntityTally.objects.bulk_update(changed, ["members"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0011_entity_counted_from"),
        # That migration rebuilds every tally (without members): fill them after it.
        ("titles", "0015_counted_from_and_snapshots_fill"),
    ]

    operations = [
        migrations.AddField(
            model_name="entitytally",
            name="members",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.RunPython(fill_members, migrations.RunPython.noop, elidable=True),
    ]
