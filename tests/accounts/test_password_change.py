"""Changing one's password: Django's view with our pages and Django's password validators."""

from django.conf import settings

from audit.models import AuditEntry

URL = "/accounts/password/"
OLD = "secret-pass-123"


def test_validators_are_django_s_four():
    """Django's four rules; the fifth entry refuses nothing and ends the user's API tokens when
    a password changes (tests/accounts/test_api_tokens.py)."""
    names = [v["NAME"].rsplit(".", 1)[-1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
        "PasswordChangeEndsApiTokens",
    ]


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/password/"


def test_nav_links_to_the_page(client, alice):
    client.force_login(alice)
    html = client.get("/").content.decode()
    assert f'href="{URL}"' in html and "Change password" in html


def test_change_password(client, alice):
    client.force_login(alice)
    page = client.get(URL)
    assert page.status_code == 200
    assert 'name="old_password"' in page.content.decode()
    new = "Lop-hoc-suot-doi-2025"
    response = client.post(URL, {"old_password": OLD, "new_password1": new, "new_password2": new})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/done/"
    assert "Your password has been changed" in client.get(response["Location"]).content.decode()
    alice.refresh_from_db()
    assert alice.check_password(new)
    # Still logged in on this browser (the session was updated with the new hash).
    assert client.get("/").status_code == 200
    # The change is audited without the hash.
    entry = AuditEntry.objects.get(
        action=AuditEntry.Action.UPDATE,
        content_type__model="user",
        object_id=str(alice.pk),
        username="alice",
    )
    assert entry.changes == {"password": ["••••••", "••••••"]}


def test_weak_password_is_refused(client, alice):
    client.force_login(alice)
    for weak, reason in [
        ("12345678", "This password is too common."),
        ("84920175", "This password is entirely numeric."),
        ("abc12", "This password is too short."),
        ("alice", "The password is too similar to the username."),
    ]:
        response = client.post(
            URL, {"old_password": OLD, "new_password1": weak, "new_password2": weak}
        )
        assert response.status_code == 200
        assert reason in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(OLD)


def test_wrong_old_password_is_refused(client, alice):
    client.force_login(alice)
    new = "Lop-hoc-suot-doi-2025"
    response = client.post(
        URL, {"old_password": "nope", "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(OLD)
