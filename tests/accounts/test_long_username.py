"""A username longer than any account can have is a form error, never a 500.

The lockout records of failed logins hold the username in a 255-character column: before the
forms bounded it, PostgreSQL refused the record and the login page answered 500.
"""

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from audit.models import AuditEntry

LONG = "a" * 300


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["login", "admin:login"])
def test_a_too_long_username_is_a_form_error(client, url_name):
    response = client.post(reverse(url_name), {"username": LONG, "password": "whatever"})
    assert response.status_code == 200
    assert "at most 150 characters" in response.content.decode()
    assert not AccessAttempt.objects.exists()


@pytest.mark.django_db
def test_the_token_endpoint_refuses_a_too_long_username(client):
    response = client.post(
        reverse("api-token"),
        {"username": LONG, "password": "whatever"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "username" in response.json()
    assert not AccessAttempt.objects.exists()


@pytest.mark.django_db
def test_a_username_at_the_limit_is_an_ordinary_failed_login(client):
    response = client.post(reverse("login"), {"username": "b" * 150, "password": "whatever"})
    assert response.status_code == 200
    assert AccessAttempt.objects.filter(username="b" * 150).count() == 1
    assert AuditEntry.objects.filter(action="login_failed").count() == 1
