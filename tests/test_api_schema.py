"""The OpenAPI 3 schema: valid, public, names every contract endpoint; Swagger UI is ours."""

import pytest
from openapi_spec_validator import validate

CONTRACT_PATHS = [
    "/api/v1/rollups/",
    "/api/v1/registrations/",
    "/api/v1/registrations/{id}/",
    "/api/v1/token/",
    "/api/v1/programmes/",
    "/api/v1/programmes/{code}/",
    "/api/v1/programmes/{code}/statement/",
    "/api/v1/beneficiaries/",
    *(f"/api/v1/{kind}/" for kind in ("families", "clans", "communities", "units", "citizens")),
    *(
        f"/api/v1/{kind}/{{id}}/"
        for kind in ("families", "clans", "communities", "units", "citizens")
    ),
]


@pytest.fixture
def schema(client, db) -> dict:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)
    assert schema["info"]["title"] == "learnsociety API"


def test_schema_names_every_contract_endpoint_and_its_parameters(schema):
    assert set(CONTRACT_PATHS) <= set(schema["paths"])

    def params(path):
        return {p["name"] for p in schema["paths"][path]["get"]["parameters"]}

    assert params("/api/v1/rollups/") >= {"year", "unit", "level", "kind", "page", "page_size"}
    assert params("/api/v1/registrations/") >= {"year", "ward", "kind", "status"}
    for kind in ("families", "clans", "communities", "units", "citizens"):
        assert "ward" in params(f"/api/v1/{kind}/")
    year = next(
        p for p in schema["paths"]["/api/v1/rollups/"]["get"]["parameters"] if p["name"] == "year"
    )
    assert year["required"] is True


def test_schema_documents_both_authentications(schema):
    assert set(schema["components"]["securitySchemes"]) == {"tokenAuth", "cookieAuth"}


def test_schema_as_yaml_by_default(client, db):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert response.content.startswith(b"openapi: 3.")


def test_swagger_ui_is_served_from_our_static_files(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "https://" not in html
    # The start-up script comes from a URL, not inline (Content-Security-Policy).
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()
    bundle = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert bundle.status_code == 200
