"""factory_boy factories for the registry. Entities are built through the registry service."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from registry.models import AdministrativeUnit, Clan, Community, Family, Grant, Kind, Unit
from registry.services.entities import entity_create


class ProvinceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdministrativeUnit
        django_get_or_create = ("level", "code")

    level = AdministrativeUnit.Level.PROVINCE
    code = factory.Sequence(lambda n: f"{90 + n % 9}{n % 10}")
    name = factory.Sequence(lambda n: f"Tỉnh Thử {n}")
    division_type = "tỉnh"


class WardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdministrativeUnit
        django_get_or_create = ("level", "code")

    level = AdministrativeUnit.Level.WARD
    code = factory.Sequence(lambda n: f"9{n:04d}")
    name = factory.Sequence(lambda n: f"Phường Thử {n}")
    division_type = "phường"
    parent = factory.SubFactory(ProvinceFactory)


def make_community(ward: AdministrativeUnit, code: str = "TDP01", name: str = "Tổ dân phố 1"):
    return entity_create(
        kind=Kind.COMMUNITY,
        ward=ward,
        code=code,
        name=name,
        area_type=Community.AreaType.TO_DAN_PHO,
    )


def make_clan(ward, code: str = "DH01", name: str = "Dòng họ Nguyễn", head_name: str = ""):
    return entity_create(kind=Kind.CLAN, ward=ward, code=code, name=name, head_name=head_name)


def make_family(
    ward,
    code: str = "HGD01",
    head_name: str = "Nguyễn Văn An",
    members: int = 4,
    community: Community | None = None,
    clan: Clan | None = None,
) -> Family:
    community = community or make_community(ward, code=f"TDP-{code}")
    return entity_create(
        kind=Kind.FAMILY,
        ward=ward,
        code=code,
        name=head_name,
        members=members,
        community=community,
        clan=clan,
    )


def make_unit(
    ward,
    code: str = "DV01",
    name: str = "Trường Tiểu học Thử",
    staff: int = 30,
    unit_type: str = Unit.UnitType.SCHOOL,
) -> Unit:
    return entity_create(
        kind=Kind.UNIT, ward=ward, code=code, name=name, unit_type=unit_type, staff=staff
    )


def make_citizen(
    ward,
    code: str = "CD01",
    full_name: str = "Trần Thị Bình",
    birth_year: int = 1985,
    family=None,
    unit=None,
):
    return entity_create(
        kind=Kind.CITIZEN,
        ward=ward,
        code=code,
        name=full_name,
        birth_year=birth_year,
        family=family,
        unit=unit,
    )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy passes the object
        if create:
            obj.save()


def make_user(username: str, role: str | None, unit: AdministrativeUnit | None):
    user = UserFactory(username=username)
    if role is not None:
        Grant.objects.update_or_create(user=user, defaults={"role": role, "unit": unit})
    return user
