"""`demo_accounts`: one login per role for the demo, never outside DEBUG."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.utils import translation

from devtools.registry_demo import DEMO_PASSWORDS, demo_generate
from registry.models import AdministrativeUnit, Entity, Grant, Kind, Role
from registry.services.divisions import divisions_load

User = get_user_model()


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


@pytest.fixture
def demo(db):
    demo_generate(province_code="12", households=300, seed=1)
    return AdministrativeUnit.objects.get(level="province", code="12")


def run(province: str = "12") -> str:
    out = StringIO()
    call_command("demo_accounts", "--province", province, stdout=out)
    return out.getvalue()


def largest_ward(province):
    top = (
        Entity.objects.filter(province=province, kind=Kind.FAMILY)
        .values("ward")
        .annotate(n=Count("pk"))
        .order_by("-n", "ward__code")
        .first()
    )
    return AdministrativeUnit.objects.get(pk=top["ward"])


def test_one_login_per_role(debug, demo):
    out = run()
    ward = largest_ward(demo)
    expected = {
        "demo-staff": (Role.STAFF, ward, False),
        "demo-official": (Role.OFFICIAL, ward, False),
        "demo-viewer": (Role.VIEWER, demo, False),
        "demo-admin": (Role.ADMIN, None, True),
    }
    for username, (role, unit, is_staff) in expected.items():
        user = User.objects.get(username=username)
        assert (user.grant.role, user.grant.unit, user.is_staff) == (role, unit, is_staff)
        assert user.check_password(DEMO_PASSWORDS[role])
        assert username in out and DEMO_PASSWORDS[role] in out
    assert f"{ward.code} {ward.name}" in out
    assert "all units" in out


def test_rerun_is_idempotent_and_restores_the_published_password(debug, demo):
    run()
    viewer = User.objects.get(username="demo-viewer")
    viewer.set_password("something-else-2025")
    viewer.save()
    run()
    assert User.objects.filter(username__startswith="demo-").count() == 4
    assert Grant.objects.count() == 4
    viewer.refresh_from_db()
    assert viewer.check_password(DEMO_PASSWORDS[Role.VIEWER])


def test_refused_without_debug(settings, demo):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only created when DEBUG is on"):
        run()
    assert not User.objects.exists()


def test_refused_for_a_province_without_data(debug, db):
    divisions_load(province_codes=["11"])
    with pytest.raises(CommandError, match="has no data yet: run generate_demo --province 11"):
        run("11")
    with pytest.raises(CommandError, match="not loaded"):
        run("04")
    assert not User.objects.exists()
