"""`generate_demo` also fills groups, members and activities: the demo ward's digital and mobile
teams with sessions at households, a few clubs elsewhere; deterministic, idempotent, summaries
exact."""

from io import StringIO

import pytest
from django.core.management import call_command

from community.models import Activity, ActivityCitizen, Group, Member
from community.selectors import rollup_rows
from community.services.summaries import summaries_verify
from devtools.registry_demo import demo_ward
from registry.models import AdministrativeUnit

PROVINCE = "12"  # Lai Châu: few wards, quick to generate


def generate() -> str:
    out = StringIO()
    call_command(
        "generate_demo", "--province", PROVINCE, "--households", "300", "--seed", "3", stdout=out
    )
    return out.getvalue()


@pytest.mark.django_db
def test_demo_has_groups_activities_and_exact_figures():
    output = generate()
    assert "Groups:" in output
    province = AdministrativeUnit.objects.get(code=PROVINCE, level="province")
    ward = demo_ward(province)
    types = set(Group.objects.filter(ward=ward).values_list("group_type", flat=True))
    assert {"digital_team", "mobile_team", "learning_centre", "community_club"} <= types
    mobile = Group.objects.filter(ward=ward, group_type="mobile_team")
    assert all(7 <= g.members.count() <= 10 for g in mobile)
    assert ActivityCitizen.objects.filter(activity__ward=ward).exists()
    assert summaries_verify() == []
    counts = (Group.objects.count(), Member.objects.count(), Activity.objects.count())
    generate()  # a second run changes nothing
    assert counts == (Group.objects.count(), Member.objects.count(), Activity.objects.count())
    rows = rollup_rows(
        user=None, year=Activity.objects.latest("date").year, unit_code=PROVINCE, level="province"
    )
    (total,) = [r for r in rows if r["group_type"] == "all"]
    assert total["groups"] > 0 and total["activities"] > 0
