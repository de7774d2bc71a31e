"""`grant`: a user's role and unit; every bad input is refused and changes nothing."""

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import translation

from registry.models import Grant, Role
from tests.factories import WardFactory, make_user

User = get_user_model()
PASSWORD = "hoctap-thu-2025"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def grant(*args: str) -> str:
    out = StringIO()
    call_command("grant", *args, stdout=out)
    return out.getvalue()


def state() -> list:
    """Everything the command may change, to compare before and after a refusal."""
    users = list(User.objects.order_by("pk").values("username", "password", "is_staff"))
    grants = list(Grant.objects.order_by("pk").values("user__username", "role", "unit"))
    return [users, grants]


def test_staff_of_a_ward_without_password(ward_a):
    out = grant("lan", "staff", ward_a.code)
    user = User.objects.get(username="lan")
    assert (user.grant.role, user.grant.unit) == (Role.STAFF, ward_a)
    assert not user.is_staff
    assert not user.has_usable_password()
    assert "Created user lan." in out
    assert "no usable password" in out


def test_official_of_a_ward_with_password(ward_a):
    out = grant("minh", "official", ward_a.code, "--password", PASSWORD)
    user = User.objects.get(username="minh")
    assert (user.grant.role, user.grant.unit) == (Role.OFFICIAL, ward_a)
    assert user.check_password(PASSWORD)
    assert "no usable password" not in out
    assert "Password set." in out


@pytest.mark.parametrize("unit", ["province", "ward_a"])
def test_viewer_of_a_province_or_a_ward(request, unit):
    target = request.getfixturevalue(unit)
    grant("hoa", "viewer", target.code)
    assert Grant.objects.get(user__username="hoa").unit == target


def test_admin_of_everything_or_of_a_province(province):
    grant("root", "admin")
    user = User.objects.get(username="root")
    assert (user.grant.role, user.grant.unit, user.is_staff) == (Role.ADMIN, None, True)
    grant("root", "admin", province.code)
    user.refresh_from_db()
    assert (user.grant.unit, user.is_staff) == (province, True)


def test_regrant_updates_role_and_unit_and_keeps_the_password(ward_a, ward_b, province):
    grant("lan", "admin", "--password", PASSWORD)
    grant("lan", "staff", ward_b.code)
    user = User.objects.get(username="lan")
    assert Grant.objects.filter(user=user).count() == 1
    assert (user.grant.role, user.grant.unit) == (Role.STAFF, ward_b)
    assert not user.is_staff  # no Django admin access without the admin role
    assert user.check_password(PASSWORD)
    out = grant("lan", "viewer", province.code)
    assert "Created user" not in out
    assert Grant.objects.get(user=user).unit == province


def test_existing_user_without_a_grant_gets_one(ward_a):
    user = make_user("old", None, None)
    grant("old", "staff", ward_a.code)
    user.refresh_from_db()
    assert user.grant.role == Role.STAFF
    assert user.check_password("secret-pass-123")  # untouched


@pytest.mark.parametrize(
    "args, message",
    [
        (["lan", "boss", "00070"], "Unknown role “boss”"),
        (["lan", "staff"], "The role staff needs a commune/ward code."),
        (["lan", "official"], "The role official needs a commune/ward code."),
        (["lan", "viewer"], "The role viewer needs a commune/ward or province code."),
        (["lan", "staff", "01"], "needs a commune/ward code, but 01 is Thành phố Hà Nội"),
        (["lan", "official", "01"], "needs a commune/ward code, but 01 is Thành phố Hà Nội"),
        (["lan", "admin", "00070"], "a province code, or no code for all units, but 00070"),
        (["lan", "staff", "77777"], "No unit in force has the code “77777”"),
        (["lan", "staff", "00099"], "No unit in force has the code “00099”"),  # ended
        (["lan", "staff", "00070", "--password", "short"], "too short"),
        (["lan", "staff", "00070", "--password", "12345678901"], "too common|entirely numeric"),
        (["hoctap-lan-2025", "staff", "00070", "--password", "hoctap-lan-2025"], "too similar"),
        (["bad name!", "staff", "00070"], "valid username"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(ward_a, alice, args, message):
    WardFactory(code="00099", parent=ward_a.parent, valid_to=dt.date(2025, 6, 30))
    before = state()
    with pytest.raises(CommandError, match=message):
        grant(*args)
    assert state() == before


def test_refused_password_leaves_an_existing_user_as_it_was(alice, ward_b):
    before = state()
    with pytest.raises(CommandError, match="too short"):
        grant("alice", "official", ward_b.code, "--password", "abc")
    assert state() == before
    assert Grant.objects.get(user=alice).role == Role.STAFF
