"""Security headers on every kind of page, and a clean `check --deploy` in production."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def _csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part
    }


def _assert_secure_headers(response):
    csp = _csp(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    # Swagger UI's page may add the hash of its fixed inline style, nothing looser.
    assert csp["style-src"][0] == "'self'"
    assert all(source.startswith("'sha256-") for source in csp["style-src"][1:])
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    permissions = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions


def _inline_scripts(html: str) -> list[str]:
    """<script> elements without a src (their body would need 'unsafe-inline')."""
    return [tag for tag in re.findall(r"<script\b[^>]*>", html) if "src=" not in tag]


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/docs/", "/admin/login/"])
def test_anonymous_pages(client, db, path):
    response = client.get(path)
    assert response.status_code == 200
    _assert_secure_headers(response)
    assert _inline_scripts(response.content.decode()) == []


@pytest.mark.parametrize("path", ["/", "/registry/families/", "/audit/", "/admin/", "/api/v1/"])
def test_logged_in_pages(client, dave, path):
    dave.is_staff = True
    dave.save()
    client.force_login(dave)
    response = client.get(path)
    assert response.status_code == 200
    _assert_secure_headers(response)
    assert _inline_scripts(response.content.decode()) == []


def test_errors_and_api_answers_have_them_too(client, alice):
    client.force_login(alice)
    _assert_secure_headers(client.get("/registry/families/999999/"))
    _assert_secure_headers(client.get("/api/v1/families/", HTTP_ACCEPT="application/json"))


def test_swagger_ui_start_up_script_is_a_same_origin_file(client, db):
    html = client.get("/api/docs/").content.decode()
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert "/api/docs/?script=" in scripts
    assert all(src.startswith("/") for src in scripts)
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")


def test_hsts_on_in_production_settings():
    assert settings.SECURE_HSTS_SECONDS == 31536000
    assert settings.SECURE_HSTS_INCLUDE_SUBDOMAINS


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SECURE_", "SESSION_", "CSRF_"))
    }
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="0",
        ALLOWED_HOSTS="learnsociety.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    )
    result = subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
