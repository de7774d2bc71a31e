"""The registrations upload page: dry run and report, then confirm; any bad row writes nothing;
rows of another ward are refused; read-only roles get 403."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from tests.factories import make_community, make_family
from tests.titles.factories import FAMILY_DOC, load, registration
from titles.models import Registration, RegistrationWindow
from titles.views import staff

URL = "/titles/registrations/import/"
YEAR = timezone.localdate().year

GOOD = "kind,ward,code,c.F1,c.F2\nfamily,00070,HGD1,có,3\nfamily,00070,HGD2,,\n"


@pytest.fixture
def setting(ward_a, province):
    load(FAMILY_DOC)
    today = timezone.localdate()
    RegistrationWindow.objects.create(
        province=province,
        year=YEAR,
        opens_on=today - datetime.timedelta(days=1),
        closes_on=today + datetime.timedelta(days=1),
    )
    area = make_community(ward_a, code="TDP1")
    return [make_family(ward_a, code=f"HGD{i}", community=area) for i in (1, 2)]


def _file(text: str, name: str = "registrations.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def _check(client, text: str = GOOD, year: int = YEAR, name: str = "registrations.csv"):
    return client.post(URL, {"step": "check", "year": year, "file": _file(text, name)})


def test_import_url_and_page(client, alice, setting):
    assert reverse("registrations_import") == URL
    client.force_login(alice)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert response.context["form"]["year"].value() == YEAR


def test_dry_run_reports_and_writes_nothing_then_confirm_imports(client, alice, setting):
    registration(setting[1].entity, year=YEAR)
    client.force_login(alice)
    response = _check(client)
    assert response.status_code == 200
    report = response.context["report"]
    assert report.dry_run and report.ok
    assert (report.rows, report.created, report.updated, report.unchanged) == (2, 1, 0, 1)
    assert Registration.objects.count() == 1
    assert "Confirm import" in response.content.decode()
    token = response.context["confirm_form"].initial["token"]
    assert client.session[staff.SESSION_IMPORT_KEY]["token"] == token

    with translation.override("en"):
        done = client.post(URL, {"step": "confirm", "token": token})
    assert done.status_code == 302
    assert done["Location"] == f"{reverse('registration_list')}?year={YEAR}"
    assert [str(m) for m in get_messages(done.wsgi_request)] == [
        "Imported: 1 new, 0 updated, 1 unchanged."
    ]
    imported = Registration.objects.get(entity=setting[0].entity, year=YEAR)
    assert imported.evidence == {"F1": "có", "F2": "3"} and imported.created_by == alice
    assert staff.SESSION_IMPORT_KEY not in client.session

    # The confirmation cannot be replayed.
    with translation.override("en"):
        again = client.post(URL, {"step": "confirm", "token": token})
    assert again["Location"] == URL
    assert "no longer waiting" in str(list(get_messages(again.wsgi_request))[-1])


def test_bad_rows_are_reported_and_nothing_is_written(client, alice, setting):
    client.force_login(alice)
    text = GOOD + "family,00070,NOPE,yes,1\nfamily,00070,HGD1,maybe,2\n"
    with translation.override("en"):
        response = _check(client, text)
    report = response.context["report"]
    assert not report.ok and response.context.get("confirm_form") is None
    rows = {(e.row, e.column) for e in report.errors}
    assert {row for row, _ in rows} >= {4, 5}
    html = response.content.decode()
    assert "Nothing was written" in html
    assert not Registration.objects.exists()
    assert staff.SESSION_IMPORT_KEY not in client.session


def test_rows_of_another_ward_are_refused(client, eve, setting):
    client.force_login(eve)
    response = _check(client)
    assert not response.context["report"].ok
    assert not Registration.objects.exists()


def test_closed_window_is_reported(client, alice, setting):
    client.force_login(alice)
    with translation.override("en"):
        response = _check(client, year=YEAR + 1)
    assert not response.context["report"].ok
    assert "has not been opened" in response.content.decode()


def test_wrong_file_type_is_a_field_error(client, alice, setting):
    client.force_login(alice)
    with translation.override("en"):
        response = _check(client, name="registrations.txt")
    assert response.context["form"].errors["file"] == ["Choose a .csv or .xlsx file."]


def test_large_file_is_asked_for_again_and_then_imported(client, alice, setting, monkeypatch):
    monkeypatch.setattr(staff, "SESSION_IMPORT_MAX_BYTES", 10)
    client.force_login(alice)
    response = _check(client)
    assert response.context["confirm_form"] is None
    assert response.context["reupload_form"] is not None
    assert staff.SESSION_IMPORT_KEY not in client.session
    done = client.post(URL, {"step": "import", "year": YEAR, "file": _file(GOOD)})
    assert done.status_code == 302
    assert Registration.objects.count() == 2


@pytest.mark.parametrize("reader", ["bob", "carol", "nobody"])
def test_read_only_roles_get_403_on_import(client, request, reader, setting):
    client.force_login(request.getfixturevalue(reader))
    assert client.get(URL).status_code == 403
    assert _check(client).status_code == 403
    assert client.post(URL, {"step": "confirm", "token": "x"}).status_code == 403
    assert not Registration.objects.exists()
