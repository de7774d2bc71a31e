"""Ward codes from before 1 July 2025 in registry and registrations files.

Hanoi is loaded from the package: old 00061 (Phường Hàng Bạc) went wholly into 00070 Phường
Hoàn Kiếm; old 00313 (Phường Tương Mai) was split between 00322 Phường Tương Mai and 00331
Phường Hoàng Mai; 00322 was also the old Phường Hoàng Văn Thụ.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from registry.models import AdministrativeUnit, Entity, Kind, Role
from registry.services.divisions import divisions_load
from registry.services.grants import grant_role
from tests.factories import make_community, make_family
from tests.registry.test_import import FAMILY_HEADER, csv_bytes
from tests.titles.factories import FAMILY_DOC, load
from tests.titles.job_pages import job_page
from titles.models import Registration
from titles.services.imports import registrations_import

SPLIT = (
    "00313 (Phường Tương Mai before 1/7/2025) was split into 00322 Phường Tương Mai and 00331 "
    "Phường Hoàng Mai: write the current ward"
)
ABSORBED = (
    "00061 (Phường Hàng Bạc before 1/7/2025) is now 00070 Phường Hoàn Kiếm: its rows were taken "
    "there."
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def hanoi(db) -> dict[str, AdministrativeUnit]:
    divisions_load(province_codes=["01"])
    wards = AdministrativeUnit.objects.filter(level=AdministrativeUnit.Level.WARD)
    found = {code: wards.get(code=code) for code in ("00070", "00322", "00331")}
    for ward in found.values():
        make_community(ward, code="TDP1", name="Tổ dân phố 1")
    return found


def families_file(tmp_path: Path, rows: list[list[str]]) -> Path:
    path = tmp_path / "ho.csv"
    path.write_bytes(csv_bytes([FAMILY_HEADER, *rows]))
    return path


def import_families(path: Path) -> str:
    out = io.StringIO()
    call_command("import_registry", str(path), "--kind", "families", stdout=out)
    return out.getvalue()


def test_an_old_commune_merged_wholly_imports_into_its_ward_and_says_so_once(hanoi, tmp_path):
    path = families_file(
        tmp_path,
        [
            ["00061", "HGD1", "Nguyễn Văn An", "4", "TDP1"],
            ["61", "HGD2", "Trần Thị Bình", "3", "TDP1"],
        ],
    )
    out = import_families(path)
    assert out.count(ABSORBED) == 1
    assert "2 created" in out
    assert set(Entity.objects.filter(kind=Kind.FAMILY).values_list("ward__code", flat=True)) == {
        "00070"
    }


def test_an_old_commune_that_was_split_is_refused_and_nothing_is_written(hanoi, tmp_path):
    path = families_file(tmp_path, [["00313", "HGD1", "Nguyễn Văn An", "4", "TDP1"]])
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_registry", str(path), "--kind", "families", stdout=io.StringIO(), stderr=err
        )
    assert f"row 2, column ward: {SPLIT}" in err.getvalue()
    assert not Entity.objects.filter(kind=Kind.FAMILY).exists()


def test_a_code_both_current_and_old_means_the_current_ward(hanoi, tmp_path):
    out = import_families(
        families_file(tmp_path, [["00322", "HGD1", "Nguyễn Văn An", "4", "TDP1"]])
    )
    assert "before 1/7/2025" not in out
    assert Entity.objects.get(kind=Kind.FAMILY).ward == hanoi["00322"]


def upload(client, text: str):
    """The check of an uploaded file: a job (run during the POST in tests), read on its page."""
    file = SimpleUploadedFile("to.csv", text.encode(), content_type="text/csv")
    response = client.post(
        reverse("registry_import"), {"step": "check", "kind": "communities", "file": file}
    )
    return job_page(client, response)


def test_web_upload_takes_an_old_code_into_the_users_ward_only(client, hanoi):
    client.force_login(grant_role(username="hk", role=Role.STAFF, unit_code="00070").user)
    response = upload(client, "ward,code,name\n00061,TDP2,Tổ 2\n")
    assert response.context["report"].ok
    assert ABSORBED in response.content.decode()

    client.force_login(grant_role(username="tm", role=Role.STAFF, unit_code="00322").user)
    response = upload(client, "ward,code,name\n00061,TDP2,Tổ 2\n")
    assert not response.context["report"].ok
    page = response.content.decode()
    assert "no commune/ward in force in your scope has the code" in page
    assert ABSORBED not in page
    assert not Entity.objects.filter(code="TDP2").exists()


def test_registrations_of_a_split_commune_go_where_their_entity_is(hanoi):
    load(FAMILY_DOC)
    make_family(hanoi["00331"], code="HGD1", community=None)  # only in Hoàng Mai
    for code in ("00322", "00331"):
        make_family(AdministrativeUnit.objects.get(level="ward", code=code), code="HGD2")

    def run(codes: list[str], dry_run: bool = False):
        data = csv_bytes([["kind", "ward", "code"], *(["family", "00313", c] for c in codes)])
        return registrations_import(
            file=io.BytesIO(data), filename="dk.csv", year=2025, dry_run=dry_run
        )

    refused = run(["HGD1", "HGD2", "HGD9"])
    assert [(e.row, e.column, e.reason) for e in refused.errors] == [
        (3, "ward", SPLIT),
        (4, "ward", SPLIT),
    ]
    assert not Registration.objects.exists()

    report = run(["HGD1"])
    assert report.ok and report.created == 1
    assert Registration.objects.get().ward == hanoi["00331"]
    assert report.notes == [
        "00313 was split: rows whose entity exists in only one of 00322 Phường Tương Mai and "
        "00331 Phường Hoàng Mai were taken there."
    ]
