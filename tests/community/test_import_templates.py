"""Every kind the upload page takes, the registry's and those other apps register (groups,
members, activities), has a template workbook written from its column specs: it downloads from
the upload page and its example row imports as it stands (dry run)."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from registry.imports.kinds import kind_names, registered_kind
from registry.imports.templates import template_header, template_workbook
from registry.uploads import XLSX
from tests.registry.test_import_sheets import _examples

# The groups template's example row names the group the members and activities examples name.
NEEDS_THE_EXAMPLE_GROUP = ("members", "activities")


def _template_run(name: str, ward, *, dry_run: bool):
    registered = registered_kind(name)
    assert registered is not None and registered.spec is not None, name
    return registered.run(
        file=io.BytesIO(template_workbook(registered.spec, ward=ward.code)),
        filename="mau.xlsx",
        dry_run=dry_run,
    )


def test_the_app_kinds_are_registered_with_their_specs():
    assert {"groups", "members", "activities"} <= set(kind_names())


@pytest.mark.parametrize("name", kind_names())
def test_each_kind_s_template_example_passes_a_dry_run(ward_a, name):
    _examples(ward_a)
    if name in NEEDS_THE_EXAMPLE_GROUP:
        assert _template_run("groups", ward_a, dry_run=False).created == 1
    report = _template_run(name, ward_a, dry_run=True)
    assert report.ok, report.errors
    assert report.rows == 1
    assert report.created + report.updated + report.unchanged == 1


@pytest.mark.parametrize("name", ["groups", "members", "activities"])
def test_the_upload_page_offers_the_app_kinds_templates(client, alice, ward_a, name):
    client.force_login(alice)
    url = reverse("registry_import_template", kwargs={"kind": name})
    assert url in client.get(reverse("registry_import")).content.decode()
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith('attachment; filename="mau-')
    data = load_workbook(io.BytesIO(response.content)).worksheets[0]
    spec = registered_kind(name).spec
    assert [cell.value for cell in data[1]] == [template_header(c) for c in spec.columns]
    assert data["A2"].value == "00070"


def test_an_unknown_kind_has_no_template(client, alice, ward_a):
    client.force_login(alice)
    response = client.get(reverse("registry_import_template", kwargs={"kind": "nothing"}))
    assert response.status_code == 404
