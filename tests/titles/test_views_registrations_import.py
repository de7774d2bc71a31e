"""The registrations upload page: dry run and report, then confirm; any bad row writes nothing;
rows of another ward are refused; read-only roles get 403. Both steps are background jobs, run
during the POST by the tests' backend: the upload redirects to the job's page and its report."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from jobs.models import Job, JobInput
from tests.factories import make_community, make_family
from tests.titles.factories import FAMILY_DOC, load, registration
from titles.jobs import REGISTRATIONS_IMPORT
from titles.models import Registration, RegistrationWindow

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


def _check(client, text: str = GOOD, year: int = YEAR, name: str = "registrations.csv", **kwargs):
    return client.post(URL, {"step": "check", "year": year, "file": _file(text, name)}, **kwargs)


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
    assert response.status_code == 302
    checked = Job.objects.get()
    assert response["Location"] == reverse("job_status", args=[checked.pk])
    assert checked.kind == REGISTRATIONS_IMPORT
    assert checked.args == {"year": YEAR, "dry_run": True, "title": checked.args["title"]}
    page = client.get(response["Location"])
    report = page.context["report"]
    assert report.dry_run and report.ok
    assert (report.rows, report.created, report.updated, report.unchanged) == (2, 1, 0, 1)
    assert Registration.objects.count() == 1
    assert f'name="job" value="{checked.pk}"' in page.content.decode()

    with translation.override("en"):
        done = client.post(URL, {"step": "confirm", "job": checked.pk}, follow=True)
    imported_job = Job.objects.exclude(pk=checked.pk).get()
    assert done.redirect_chain == [(reverse("job_status", args=[imported_job.pk]), 302)]
    report = done.context["report"]
    assert not report.dry_run and (report.created, report.updated, report.unchanged) == (1, 0, 1)
    assert f"{reverse('registration_list')}?year={YEAR}" in done.content.decode()
    imported = Registration.objects.get(entity=setting[0].entity, year=YEAR)
    assert imported.evidence == {"F1": "có", "F2": "3"} and imported.created_by == alice
    assert not JobInput.objects.exists()

    # The confirmation cannot be replayed.
    with translation.override("en"):
        again = client.post(URL, {"step": "confirm", "job": checked.pk})
    assert again["Location"] == URL
    assert "no longer waiting" in str(list(get_messages(again.wsgi_request))[-1])
    assert Job.objects.count() == 2


def test_bad_rows_are_reported_and_nothing_is_written(client, alice, setting):
    client.force_login(alice)
    text = GOOD + "family,00070,NOPE,yes,1\nfamily,00070,HGD1,maybe,2\n"
    with translation.override("en"):
        response = _check(client, text, follow=True)
    report = response.context["report"]
    assert not report.ok and not response.context["confirm_url"]
    rows = {(e.row, e.column) for e in report.errors}
    assert {row for row, _ in rows} >= {4, 5}
    html = response.content.decode()
    assert "Nothing was written" in html
    assert not Registration.objects.exists()
    assert not JobInput.objects.exists()


def test_rows_of_another_ward_are_refused(client, eve, setting):
    client.force_login(eve)
    response = _check(client, follow=True)
    assert not response.context["report"].ok
    assert not Registration.objects.exists()


def test_closed_window_is_reported(client, alice, setting):
    client.force_login(alice)
    with translation.override("en"):
        response = _check(client, year=YEAR + 1, follow=True)
    assert not response.context["report"].ok
    assert "has not been opened" in response.content.decode()


def test_wrong_file_type_is_a_field_error(client, alice, setting):
    client.force_login(alice)
    with translation.override("en"):
        response = _check(client, name="registrations.txt")
    assert response.context["form"].errors["file"] == ["Choose a .csv or .xlsx file."]


@pytest.mark.parametrize("reader", ["bob", "carol", "nobody"])
def test_read_only_roles_get_403_on_import(client, request, reader, setting):
    client.force_login(request.getfixturevalue(reader))
    assert client.get(URL).status_code == 403
    assert _check(client).status_code == 403
    assert client.post(URL, {"step": "confirm", "job": "1"}).status_code == 403
    assert not Registration.objects.exists() and not Job.objects.exists()
