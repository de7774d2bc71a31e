"""The upload page: dry run and report, then confirm; errors write nothing; read-only roles 403."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from registry import views
from registry.models import Community, Entity
from tests.factories import make_community

URL = "/registry/import/"

GOOD = "ward,code,name\n00070,TDP1,Tổ dân phố 1\n00070,TDP2,Tổ dân phố 2\n"


def _file(text: str, name: str = "areas.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def _check(client, text: str = GOOD, kind: str = "communities", name: str = "areas.csv"):
    return client.post(URL, {"step": "check", "kind": kind, "file": _file(text, name)})


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

    response = _check(client)
    assert response.status_code == 200
    report = response.context["report"]
    assert report.dry_run and report.ok
    assert (report.rows, report.created, report.updated, report.unchanged) == (2, 1, 0, 1)
    assert not Entity.objects.filter(code="TDP1").exists()
    html = response.content.decode()
    assert "Confirm import" in html
    token = response.context["confirm_form"].initial["token"]
    assert client.session[views.SESSION_IMPORT_KEY]["token"] == token

    done = client.post(URL, {"step": "confirm", "token": token})
    assert done.status_code == 302
    assert done["Location"] == reverse("entity_list", args=["communities"])
    assert Community.objects.get(entity__code="TDP1").entity.ward == ward_a
    assert views.SESSION_IMPORT_KEY not in client.session
    followed = client.get(done["Location"])
    assert "1 new, 0 updated, 1 unchanged" in followed.content.decode()

    # The confirmation cannot be replayed.
    again = client.post(URL, {"step": "confirm", "token": token}, follow=True)
    assert "no longer waiting" in again.content.decode()


def test_rows_with_errors_are_listed_and_nothing_can_be_confirmed(client, alice, ward_a, ward_b):
    client.force_login(alice)
    text = "ward,code,name\n00070,TDP1,Tổ 1\n00004,TDP2,Tổ của phường bên\n00070,,Không mã\n"
    response = _check(client, text)
    assert response.status_code == 200
    report = response.context["report"]
    assert not report.ok
    assert {(e.row, e.column) for e in report.errors} == {(3, "ward"), (4, "code")}
    html = response.content.decode()
    assert "Confirm import" not in html
    assert response.context["confirm_form"] is None
    assert views.SESSION_IMPORT_KEY not in client.session
    for error in report.errors:
        assert error.reason in html
    assert not Entity.objects.exists()


def test_unreadable_file_is_a_report_not_a_crash(client, alice, ward_a):
    client.force_login(alice)
    response = client.post(
        URL,
        {
            "step": "check",
            "kind": "families",
            "file": SimpleUploadedFile("x.xlsx", b"not a workbook"),
        },
    )
    assert response.status_code == 200
    assert response.context["report"].errors[0].row == 0


def test_wrong_file_type_is_a_form_error(client, alice, ward_a):
    client.force_login(alice)
    response = _check(client, name="areas.txt")
    assert response.status_code == 200
    assert "file" in response.context["form"].errors
    assert "report" not in response.context


def test_a_wrong_token_writes_nothing(client, alice, ward_a):
    client.force_login(alice)
    _check(client)
    response = client.post(URL, {"step": "confirm", "token": "forged"})
    assert response.status_code == 302
    assert response["Location"] == URL
    assert not Entity.objects.exists()


def test_a_file_too_large_for_the_session_is_asked_for_again(client, alice, ward_a, monkeypatch):
    monkeypatch.setattr(views, "SESSION_IMPORT_MAX_BYTES", 10)
    client.force_login(alice)
    response = _check(client)
    assert response.context["report"].ok
    assert response.context["confirm_form"] is None
    assert response.context["reupload_form"] is not None
    assert views.SESSION_IMPORT_KEY not in client.session
    assert 'name="step" value="import"' in response.content.decode()
    assert not Entity.objects.exists()

    done = client.post(URL, {"step": "import", "kind": "communities", "file": _file(GOOD)})
    assert done.status_code == 302
    assert Entity.objects.filter(kind="community").count() == 2


def test_admin_may_import_into_any_ward(client, dave, ward_x):
    client.force_login(dave)
    response = _check(client, "ward,code,name\n04825,T1,Thôn 1\n")
    token = response.context["confirm_form"].initial["token"]
    assert client.post(URL, {"step": "confirm", "token": token}).status_code == 302
    assert Entity.objects.get(code="T1").ward == ward_x


@pytest.mark.parametrize("reader", ["bob", "carol", "nobody"])
def test_read_only_roles_cannot_even_check_a_file(client, request, reader, ward_a):
    client.force_login(request.getfixturevalue(reader))
    assert client.get(URL).status_code == 403
    assert _check(client).status_code == 403
    assert not Entity.objects.exists()
