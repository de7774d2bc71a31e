"""API tokens: hashed at rest, expiring, ended by logout and by any new password."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from knox.models import AuthToken

from audit.models import AuditEntry
from registry.services.grants import grant_role

TOKEN_URL = "/api/v1/token/"
API_URL = "/api/v1/families/"
PASSWORD = "secret-pass-123"
NEW = "Lop-hoc-suot-doi-2025"


def _token(client, username="alice", password=PASSWORD) -> dict:
    response = client.post(
        TOKEN_URL, {"username": username, "password": password}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def _status(client, key: str, url: str = API_URL) -> int:
    return client.get(url, HTTP_AUTHORIZATION=f"Token {key}").status_code


def _all_text_in_database() -> str:
    """Every value of every row of the tables a token touches (its own and the audit log)."""
    found = []
    with connection.cursor() as cursor:
        for table in (AuthToken._meta.db_table, AuditEntry._meta.db_table):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            found += [str(value) for row in cursor.fetchall() for value in row]
    return "\n".join(found)


def test_the_endpoint_answers_a_token_and_when_it_expires(client, alice):
    before = timezone.now()
    answer = _token(client)
    assert set(answer) == {"token", "expiry"}
    expiry = parse_datetime(answer["expiry"])
    ttl = timedelta(seconds=settings.API_TOKEN_TTL)
    assert before + ttl <= expiry <= timezone.now() + ttl
    assert _status(client, answer["token"]) == 200


def test_the_default_lifetime_is_a_day_and_the_setting_drives_it():
    assert settings.API_TOKEN_TTL == 24 * 3600
    assert settings.REST_KNOX["TOKEN_TTL"] == timedelta(seconds=settings.API_TOKEN_TTL)


def test_the_lifetime_follows_the_setting(client, alice):
    with override_settings(REST_KNOX={**settings.REST_KNOX, "TOKEN_TTL": timedelta(minutes=5)}):
        answer = _token(client)
    expiry = parse_datetime(answer["expiry"])
    assert timedelta(minutes=4) < expiry - timezone.now() <= timedelta(minutes=5)


def test_the_raw_key_is_not_stored(client, alice):
    key = _token(client)["token"]
    assert len(key) == 64
    stored = _all_text_in_database()
    assert AuthToken.objects.filter(user=alice).count() == 1
    assert key not in stored
    # knox keeps the first 15 characters to find the row; the rest exists only in the client.
    assert key[15:] not in stored
    # Issuing it was logged, as a login through the API and a token created (masked).
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN, username="alice").exists()
    created = AuditEntry.objects.get(
        action=AuditEntry.Action.CREATE, content_type__model="authtoken"
    )
    assert created.object_id == str(alice.pk)
    assert created.changes["token_key"] == [None, "••••••"]
    assert created.changes["user"] == [None, alice.pk]


def test_an_expired_token_is_401(client, alice):
    key = _token(client)["token"]
    AuthToken.objects.filter(user=alice).update(expiry=timezone.now() - timedelta(seconds=1))
    response = client.get(API_URL, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    # The request's transaction is rolled back with the 401; the user's next token sweeps it.
    fresh = _token(client)["token"]
    assert AuthToken.objects.filter(user=alice).count() == 1
    assert _status(client, fresh) == 200


def test_a_user_may_hold_several_tokens_each_logged_out_on_its_own(client, alice):
    first, second = _token(client)["token"], _token(client)["token"]
    assert first != second
    assert _status(client, first) == _status(client, second) == 200
    response = client.post("/api/v1/token/logout/", HTTP_AUTHORIZATION=f"Token {first}")
    assert response.status_code == 204
    assert _status(client, first) == 401
    assert _status(client, second) == 200
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LOGOUT, username="alice").exists()


def test_logout_all_ends_every_token_of_the_user_only(client, alice, bob):
    first, second = _token(client)["token"], _token(client)["token"]
    other = _token(client, "bob")["token"]
    response = client.post("/api/v1/token/logout-all/", HTTP_AUTHORIZATION=f"Token {second}")
    assert response.status_code == 204
    assert _status(client, first) == _status(client, second) == 401
    assert not AuthToken.objects.filter(user=alice).exists()
    assert _status(client, other) == 200


def test_logout_needs_a_token(client, alice):
    assert client.post("/api/v1/token/logout/").status_code == 401
    assert client.post("/api/v1/token/logout/", HTTP_AUTHORIZATION="Token wrong").status_code == 401
    client.force_login(alice)  # a session is not a token: nothing to log out here
    assert client.post("/api/v1/token/logout-all/").status_code == 401


def test_changing_one_s_password_ends_every_token(client, alice, bob):
    first, second = _token(client)["token"], _token(client)["token"]
    other = _token(client, "bob")["token"]
    client.force_login(alice)
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302
    client.logout()
    assert _status(client, first) == _status(client, second) == 401
    assert _status(client, other) == 200
    assert _status(client, _token(client, password=NEW)["token"]) == 200


def test_an_administrator_setting_the_password_ends_every_token(client, alice):
    key = _token(client)["token"]
    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client.force_login(root)
    response = client.post(
        f"/admin/auth/user/{alice.pk}/password/", {"password1": NEW, "password2": NEW}
    )
    assert response.status_code == 302, response.content
    client.logout()
    assert _status(client, key) == 401


def test_grant_with_a_password_ends_every_token(client, alice, ward_a):
    key = _token(client)["token"]
    grant_role(username="alice", role="staff", unit_code=ward_a.code, password=NEW)
    assert _status(client, key) == 401


def test_saving_a_user_without_a_new_password_keeps_the_tokens(client, alice):
    key = _token(client)["token"]
    alice.first_name = "Alice"
    alice.save()
    assert _status(client, key) == 200


def test_logging_out_of_the_site_keeps_the_tokens(client, alice):
    """Documented: a session and a token are separate logins; the site's logout ends the
    session only (a script's token keeps working until it expires or is logged out)."""
    key = _token(client)["token"]
    client.force_login(alice)
    assert client.post("/accounts/logout/").status_code in (200, 302)
    assert _status(client, key) == 200


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain"])
def test_the_endpoint_stays_json_only(client, alice, content_type):
    response = client.post(TOKEN_URL, "username=alice&password=x", content_type=content_type)
    assert response.status_code == 415
    assert not AuthToken.objects.exists()
