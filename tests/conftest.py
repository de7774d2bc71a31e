"""Shared fixtures: two wards of one province, one ward of another, and a user for every role.

alice   staff of ward A          bob     official of ward A
carol   viewer of province P     dave    admin (all units)
eve     staff of ward B (same province, the outsider next door)
mallory staff of ward X in another province            nobody  no grant at all
"""

import pytest
from django.utils import translation

from registry.models import Role
from tests.factories import ProvinceFactory, WardFactory, make_user


@pytest.fixture(autouse=True)
def english_unless_vietnamese(request, settings):
    """Tests read English text; the product is Vietnamese first.

    Pages default to settings.LANGUAGE_CODE ("vi"), so every test runs with English as that
    default unless it is marked `vietnamese` (tests of the Vietnamese default and of the
    Vietnamese wording itself).
    """
    if request.node.get_closest_marker("vietnamese"):
        yield
        return
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def province(db):
    return ProvinceFactory(code="01", name="Thành phố Hà Nội", division_type="thành phố trung ương")


@pytest.fixture
def ward_a(province):
    return WardFactory(code="00070", name="Phường Hoàn Kiếm", parent=province)


@pytest.fixture
def ward_b(province):
    return WardFactory(code="00004", name="Phường Ba Đình", parent=province)


@pytest.fixture
def other_province(db):
    return ProvinceFactory(code="17", name="Tỉnh Phú Thọ", division_type="tỉnh")


@pytest.fixture
def ward_x(other_province):
    return WardFactory(code="04825", name="Phường Hòa Bình", parent=other_province)


@pytest.fixture
def alice(ward_a):
    return make_user("alice", Role.STAFF, ward_a)


@pytest.fixture
def bob(ward_a):
    return make_user("bob", Role.OFFICIAL, ward_a)


@pytest.fixture
def carol(province):
    return make_user("carol", Role.VIEWER, province)


@pytest.fixture
def dave(db):
    return make_user("dave", Role.ADMIN, None)


@pytest.fixture
def eve(ward_b):
    return make_user("eve", Role.STAFF, ward_b)


@pytest.fixture
def mallory(ward_x):
    return make_user("mallory", Role.STAFF, ward_x)


@pytest.fixture
def nobody(db):
    return make_user("nobody", None, None)
