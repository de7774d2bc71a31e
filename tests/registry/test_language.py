"""Vietnamese first: the browser's language does not switch the pages, the header switch does."""

import pytest

pytestmark = pytest.mark.vietnamese


@pytest.mark.django_db
def test_vietnamese_even_for_an_english_browser(client, alice):
    client.force_login(alice)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="vi">' in response.content.decode()


@pytest.mark.django_db
def test_switch_to_english_and_back(client, alice):
    client.force_login(alice)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert '<html lang="en">' in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "vi", "next": "/"})
    assert '<html lang="vi">' in client.get("/").content.decode()


@pytest.mark.django_db
def test_unknown_language_cookie_falls_back_to_vietnamese(client, alice):
    client.force_login(alice)
    client.cookies["django_language"] = "fr"
    assert '<html lang="vi">' in client.get("/").content.decode()
