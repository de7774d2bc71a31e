"""Under the Content-Security-Policy, Swagger UI and Django admin still work in a real browser,
and nothing on them is blocked (Chromium reports every violation)."""

import pytest

from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def _watch_violations(browser_page) -> list[str]:
    found: list[str] = []
    browser_page.on(
        "console",
        lambda message: (
            found.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return found


def test_swagger_ui_renders_the_api(page, live_server, alice):
    violations = _watch_violations(page)
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/api/docs/")
    # Swagger UI fetched the schema and drew an operation of the API.
    page.locator(".opblock-summary-path", has_text="/api/v1/families/").first.wait_for()
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("learnsociety API")
    assert violations == []


def test_django_admin_works(page, live_server, dave):
    dave.is_staff = True
    dave.save()
    violations = _watch_violations(page)
    login(page, live_server, "dave")
    page.goto(f"{live_server.url}/admin/registry/administrativeunit/")
    page.locator("#changelist").wait_for()
    page.goto(f"{live_server.url}/admin/audit/auditentry/")
    page.locator("#changelist").wait_for()
    # The admin's own scripts run: the action form's "select all" checkbox ticks every row.
    select_all = page.locator("#action-toggle")
    if select_all.count():
        select_all.check()
    page.goto(f"{live_server.url}/audit/")
    page.locator("h1").wait_for()
    assert violations == []
