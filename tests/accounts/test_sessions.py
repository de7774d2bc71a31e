"""Session limits: an idle or too old login ends; the cookie ends with the browser."""

import time

import pytest
from django.conf import settings

from accounts.middleware import LAST_SEEN, LOGGED_IN_AT
from audit.models import AuditEntry

PASSWORD = "secret-pass-123"


@pytest.fixture
def logged_in(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    return client


def _age(client, **seconds_ago):
    session = client.session
    now = int(time.time())
    for key, ago in seconds_ago.items():
        session[{"logged_in": LOGGED_IN_AT, "last_seen": LAST_SEEN}[key]] = now - ago
    session.save()


def test_defaults():
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    assert settings.SESSION_IDLE_TIMEOUT == 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True


def test_login_cookie_ends_with_the_browser(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""
    assert cookie["httponly"]


def test_never_ends_early(logged_in):
    """The idle clock is written every 5 minutes: 64 minutes after it, the last request may
    have been 59 minutes ago."""
    _age(logged_in, last_seen=64 * 60)
    assert logged_in.get("/").status_code == 200


def test_idle_clock_is_not_written_on_every_request(logged_in):
    _age(logged_in, last_seen=4 * 60)
    seen = logged_in.session[LAST_SEEN]
    logged_in.get("/")
    assert logged_in.session[LAST_SEEN] == seen


def test_active_session_continues(logged_in):
    _age(logged_in, last_seen=30 * 60, logged_in=2 * 60 * 60)
    assert logged_in.get("/").status_code == 200
    # The request moved the idle clock on.
    assert int(time.time()) - logged_in.session[LAST_SEEN] < 5


def test_idle_session_ends(logged_in):
    _age(logged_in, last_seen=(60 + 5) * 60 + 1)
    response = logged_in.get("/registry/families/?q=x")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/registry/families/%3Fq%3Dx"
    assert "_auth_user_id" not in logged_in.session
    page = logged_in.get(response["Location"])
    assert "logged out after 60 minutes without activity" in page.content.decode()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LOGOUT, username="alice").exists()


def test_login_ends_after_eight_hours_however_active(logged_in):
    _age(logged_in, last_seen=10, logged_in=8 * 60 * 60 + 1)
    response = logged_in.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in logged_in.session


def test_idle_timeout_zero_means_none(logged_in, settings):
    settings.SESSION_IDLE_TIMEOUT = 0
    _age(logged_in, last_seen=5 * 60 * 60)
    assert logged_in.get("/").status_code == 200


def test_force_login_sessions_are_timed_too(client, alice):
    client.force_login(alice)
    assert client.get("/").status_code == 200
    assert LOGGED_IN_AT in client.session
    _age(client, logged_in=9 * 60 * 60)
    assert client.get("/").status_code == 302
