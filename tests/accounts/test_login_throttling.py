"""Login throttling: five failures for one username from one address lock that pair out."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings

from audit.models import AuditEntry

LOGIN = "/accounts/login/"
TOKEN = "/api/v1/token/"
JSON = "application/json"  # the token endpoint reads JSON only
PASSWORD = "secret-pass-123"


def _login(client, username, password, address="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def _fail(client, username, times, address="10.0.0.1"):
    return [_login(client, username, "wrong-password", address) for _ in range(times)]


def test_settings_lock_username_and_address_for_thirty_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 30 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


def test_fifth_failure_locks_out_with_a_clear_page(client, alice):
    responses = _fail(client, "alice", 5)
    assert [r.status_code for r in responses[:4]] == [200] * 4
    assert "Please enter a correct username and password" in responses[0].content.decode()
    locked = responses[4]
    assert locked.status_code == 429
    html = locked.content.decode()
    assert "Login locked" in html
    assert "After 5 failed logins" in html and "Try again in 30 minutes" in html
    assert "<form" not in html.split("<main", 1)[1].split("</main>", 1)[0]

    # Even the right password is refused while locked, and nobody is logged in.
    again = _login(client, "alice", PASSWORD)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lock_is_per_username_and_address(client, alice, eve):
    _fail(client, "alice", 5)
    # Another address may still log in as alice; the locked address may log in as someone else.
    assert _login(client, "alice", PASSWORD, address="10.0.0.2").status_code == 302
    client.logout()
    assert _login(client, "eve", PASSWORD).status_code == 302


def test_success_resets_the_count(client, alice):
    _fail(client, "alice", 4)
    assert _login(client, "alice", PASSWORD).status_code == 302
    client.logout()
    responses = _fail(client, "alice", 4)
    assert all(r.status_code == 200 for r in responses)


def test_admin_unlocks_through_django_admin(client, alice, dave):
    _fail(client, "alice", 5)
    attempt = AccessAttempt.objects.get(username="alice")
    dave.is_staff = True
    dave.save()
    client.force_login(dave)
    listing = client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "alice" in listing.content.decode()
    deleted = client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert not AccessAttempt.objects.exists()
    client.logout()
    assert _login(client, "alice", PASSWORD).status_code == 302
    # The unlock is in the audit log, by dave.
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.DELETE, content_type__model="accessattempt", username="dave"
    ).exists()


def test_province_admin_sees_only_lockouts_of_their_province(
    client, alice, mallory, province, other_province
):
    from registry.models import Role
    from tests.factories import make_user

    _fail(client, "alice", 5)
    _fail(client, "mallory", 5)
    admin_p = make_user("paula", Role.ADMIN, province)
    admin_p.is_staff = True
    admin_p.save()
    client.force_login(admin_p)
    html = client.get("/admin/axes/accessattempt/").content.decode()
    assert "alice" in html and "mallory" not in html


@pytest.mark.parametrize("who", ["alice", "bob", "carol"])
def test_other_roles_cannot_unlock(client, alice, bob, carol, who):
    _fail(client, "alice", 5)
    user = {"alice": alice, "bob": bob, "carol": carol}[who]
    user.is_staff = True
    user.save()
    client.force_login(user)
    assert client.get("/admin/axes/accessattempt/").status_code == 403
    attempt = AccessAttempt.objects.get(username="alice")
    client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()


def test_api_token_endpoint_is_throttled_too(client, alice):
    for _ in range(4):
        wrong = client.post(TOKEN, {"username": "alice", "password": "nope"}, content_type=JSON)
        assert wrong.status_code == 400
    locked = client.post(TOKEN, {"username": "alice", "password": "nope"}, content_type=JSON)
    assert locked.status_code == 429
    assert "30 minutes" in locked.json()["detail"]
    assert (
        client.post(
            TOKEN, {"username": "alice", "password": PASSWORD}, content_type=JSON
        ).status_code
        == 429
    )
    # The login form is locked for the same pair as well.
    assert _login(client, "alice", PASSWORD, address="127.0.0.1").status_code == 429


def test_api_token_still_issued_for_good_credentials(client, alice):
    response = client.post(TOKEN, {"username": "alice", "password": PASSWORD}, content_type=JSON)
    assert response.status_code == 200
    assert len(response.json()["token"]) == 64
    entry = AuditEntry.objects.get(action=AuditEntry.Action.LOGIN)
    assert (entry.username, entry.detail) == ("alice", {"via": "api-token"})
