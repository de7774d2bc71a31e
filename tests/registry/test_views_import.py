"""The upload page: dry run and report, then confirm; errors write nothing; read-only roles 403.

Both steps are background jobs; the tests' backend runs them during the POST, so the page the
upload redirects to shows the job's outcome.
"""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from jobs.models import Job, JobInput
from registry.jobs import IMPORT
from registry.models import Community, Entity
from tests.factories import make_community

URL = "/registry/import/"

GOOD = "ward,code,name\n00070,TDP1,Tổ dân phố 1\n00070,TDP2,Tổ dân phố 2\n"


def _file(text: str, name: str = "areas.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def _check(client, text: str = GOOD, kind: str = "communities", name: str = "areas.csv", **kwargs):
    return client.post(URL, {"step": "check", "kind": kind, "file": _file(text, name)}, **kwargs)


def test_import_url_and_page(client, alice, ward_a):
    assert reverse("registry_import") == URL
    client.force_login(alice)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'value="communities"' in html and 'value="citizens"' in html


def test_dry_run_reports_and_writes_nothing_then_confirm_imports(client, alice, ward_a):
    make_community(ward_a, code="TDP2", name="Tổ dân phố 2")
    client.force_login(alice)

    # The upload answers with the job's page (the test backend ran the job during the POST).
    response = _check(client)
    assert response.status_code == 302
    job = Job.objects.get(owner=alice)
    assert response["Location"] == reverse("job_status", args=[job.pk])
    assert job.kind == IMPORT and job.args["kind"] == "communities" and job.args["dry_run"]
    assert JobInput.objects.filter(job=job).exists()  # kept for the import that follows
    page = client.get(response["Location"])
    report = page.context["report"]
    assert report.dry_run and report.ok
    assert (report.rows, report.created, report.updated, report.unchanged) == (2, 1, 0, 1)
    assert not Entity.objects.filter(code="TDP1").exists()
    html = page.content.decode()
    assert "Check result" in html and "areas.csv" in html
    assert f'name="job" value="{job.pk}"' in html and f'action="{URL}"' in html

    done = client.post(URL, {"step": "confirm", "job": job.pk}, follow=True)
    imported = Job.objects.exclude(pk=job.pk).get()
    assert done.redirect_chain == [(reverse("job_status", args=[imported.pk]), 302)]
    assert not imported.args["dry_run"] and imported.state == Job.State.DONE
    assert Community.objects.get(entity__code="TDP1").entity.ward == ward_a
    report = done.context["report"]
    assert not report.dry_run and (report.created, report.unchanged) == (1, 1)
    html = done.content.decode()
    assert "Import result" in html
    assert f'href="{reverse("entity_list", args=["communities"])}"' in html
    assert not JobInput.objects.exists()  # deleted once imported

    # The confirmation cannot be replayed.
    again = client.post(URL, {"step": "confirm", "job": job.pk}, follow=True)
    assert again.redirect_chain == [(URL, 302)]
    assert "no longer waiting" in again.content.decode()
    assert Job.objects.count() == 2


def test_rows_with_errors_are_listed_and_nothing_can_be_confirmed(client, alice, ward_a, ward_b):
    client.force_login(alice)
    text = "ward,code,name\n00070,TDP1,Tổ 1\n00004,TDP2,Tổ của phường bên\n00070,,Không mã\n"
    response = _check(client, text, follow=True)
    assert response.status_code == 200
    report = response.context["report"]
    assert not report.ok
    assert {(e.row, e.column) for e in report.errors} == {(3, "ward"), (4, "code")}
    html = response.content.decode()
    assert 'name="step" value="confirm"' not in html
    assert not response.context["confirm_url"]
    assert not JobInput.objects.exists()
    for error in report.errors:
        assert error.reason in html
    assert not Entity.objects.exists()
    job = Job.objects.get()
    assert client.post(URL, {"step": "confirm", "job": job.pk}).status_code == 302
    assert Job.objects.count() == 1 and not Entity.objects.exists()


def test_errors_name_the_column_as_the_file_wrote_it(client, alice, ward_a):
    client.force_login(alice)
    text = "Mã xã/phường,Mã hộ,Chủ hộ,Số nhân khẩu,Tổ dân phố\n00070,HGD1,Nguyễn Văn A,4,TDP9\n"
    response = _check(client, text, kind="families", name="ho.csv", follow=True)
    report = response.context["report"]
    assert [(e.row, e.shown) for e in report.errors] == [(2, "Tổ dân phố")]
    assert "Tổ dân phố" in response.content.decode()


def test_unreadable_file_is_a_report_not_a_crash(client, alice, ward_a):
    client.force_login(alice)
    response = client.post(
        URL,
        {
            "step": "check",
            "kind": "families",
            "file": SimpleUploadedFile("x.xlsx", b"not a workbook"),
        },
        follow=True,
    )
    assert response.status_code == 200
    assert response.context["report"].errors[0].row == 0


def test_wrong_file_type_is_a_form_error(client, alice, ward_a):
    client.force_login(alice)
    response = _check(client, name="areas.txt")
    assert response.status_code == 200
    assert "file" in response.context["form"].errors
    assert "report" not in response.context
    assert not Job.objects.exists()


@pytest.mark.parametrize("posted", ["forged", "", "999999", "٣", "1" * 40])
def test_a_wrong_job_writes_nothing(client, alice, ward_a, posted):
    client.force_login(alice)
    _check(client)
    response = client.post(URL, {"step": "confirm", "job": posted})
    assert response.status_code == 302
    assert response["Location"] == URL
    assert not Entity.objects.exists()
    assert Job.objects.count() == 1


def test_someone_elses_dry_run_cannot_be_imported(client, alice, dave, ward_a):
    client.force_login(alice)
    _check(client)
    job = Job.objects.get()
    client.force_login(dave)
    assert client.post(URL, {"step": "confirm", "job": job.pk})["Location"] == URL
    assert client.get(reverse("job_status", args=[job.pk])).status_code == 404
    assert not Entity.objects.exists() and Job.objects.count() == 1


def test_an_expired_file_is_asked_for_again(client, alice, ward_a):
    client.force_login(alice)
    _check(client)
    job = Job.objects.get()
    JobInput.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    page = client.get(reverse("job_status", args=[job.pk]))
    assert not page.context["confirm_url"] and page.context["file_gone"]
    assert "no longer kept" in page.content.decode()
    assert client.post(URL, {"step": "confirm", "job": job.pk})["Location"] == URL
    assert not Entity.objects.exists()


def test_admin_may_import_into_any_ward(client, dave, ward_x):
    client.force_login(dave)
    _check(client, "ward,code,name\n04825,T1,Thôn 1\n")
    job = Job.objects.get()
    assert client.post(URL, {"step": "confirm", "job": job.pk}).status_code == 302
    assert Entity.objects.get(code="T1").ward == ward_x


@pytest.mark.parametrize("reader", ["bob", "carol", "nobody"])
def test_read_only_roles_cannot_even_check_a_file(client, request, reader, ward_a):
    client.force_login(request.getfixturevalue(reader))
    assert client.get(URL).status_code == 403
    assert _check(client).status_code == 403
    assert not Entity.objects.exists() and not Job.objects.exists()
