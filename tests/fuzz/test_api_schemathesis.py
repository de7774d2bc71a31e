"""The API against its own OpenAPI schema (/api/schema/), with schemathesis, in process.

Every operation is called with generated parameters (valid and invalid: the schema's own
values, random text, out-of-range numbers) as a province viewer holding a token. No answer is a
server error, every answer has a status code, content type and body the schema documents, valid
input is accepted and invalid input refused.
"""

from __future__ import annotations

import datetime

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import given, settings
from knox.models import AuthToken
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from registry.models import Role
from tests.factories import make_community, make_family, make_user
from tests.fuzz.strategies import FUZZ
from tests.titles.factories import CLAN_DOC, FAMILY_DOC, load, registration
from titles.models import Decision, State, Target
from titles.services.rollups import rollups_refresh

THIS_YEAR = timezone.localdate().year
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]


@pytest.fixture
def wsgi_app(db):
    """The project's WSGI application, serving in the test's transaction.

    As Django's test client does, a request must not close the database connection (the test's
    transaction would go with it), so `close_old_connections` is unhooked meanwhile.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_data(registry_a, ward_b, province):
    """Rows in every list: entities, registrations in each state (one recognised with its
    decision), roll-ups and a target, with hostile text in the names."""
    load({**FAMILY_DOC, "valid_from": 2000})
    load({**CLAN_DOC, "valid_from": 2000})
    area = make_community(ward_b, code="<b>B1</b>", name="Thôn <script>x</script> 陳")
    families = [
        make_family(ward_b, code=f"F{i}", head_name=name, community=area)
        for i, name in enumerate(["Nguyễn Thị Ánh", "=1+1", "'; DROP TABLE x; --", "\u202eabc"])
    ]
    decision = Decision.objects.create(
        ward=ward_b,
        province=province,
        year=THIS_YEAR - 1,
        number="12/QĐ-UBND",
        date=datetime.date(THIS_YEAR - 1, 12, 15),
    )
    for family, state in zip(
        families, [State.REGISTERED, State.EVALUATED, State.REJECTED, State.RECOGNIZED], strict=True
    ):
        extra = {"decision": decision, "outstanding": True} if state == State.RECOGNIZED else {}
        registration(family.entity, year=THIS_YEAR - 1, state=state, **extra)
    registration(
        registry_a["clan"].entity, year=THIS_YEAR, state=State.EVALUATED, points=60, passed=True
    )
    Target.objects.create(
        unit=province, kind="family", year=THIS_YEAR - 1, min_rate=70, max_rate=80
    )
    rollups_refresh(ward_ids=[ward_b.pk, registry_a["community"].entity.ward_id], entities=True)


@pytest.fixture
def viewer_token(province, api_data) -> str:
    return AuthToken.objects.create(user=make_user("viewer", Role.VIEWER, province))[1]


@pytest.fixture
def api_schema(wsgi_app, viewer_token):
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)


def _fuzz(operation, mode: GenerationMode, token: str) -> None:
    """Call `operation` with generated input and check each answer against the schema."""
    # Generated credentials are well-formed but wrong: the token endpoint rightly refuses them
    # (400), so "valid input is accepted" is not asked of it.
    excluded = [positive_data_acceptance] if operation.path == "/api/v1/token/" else []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(FUZZ, max_examples=10)
    def call_and_check(case):
        response = case.call(headers={"Authorization": f"Token {token}"})
        case.validate_response(response, checks=CHECKS, excluded_checks=excluded)

    call_and_check()


@pytest.mark.parametrize("mode", list(GenerationMode))
def test_api_conforms_to_its_schema(api_schema, viewer_token, mode):
    """Each operation in turn (the token endpoint too), with valid or with invalid input."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 13
    for operation in operations:
        try:
            _fuzz(operation, mode, viewer_token)
        except Exception as exc:
            exc.add_note(f"operation: {operation.label}")
            raise


def test_the_token_endpoint_documents_its_415(client, db):
    """Found by the negative run (a malformed multipart body): the token endpoint answers 415 to a
    body it cannot read, and the schema now says so."""
    response = client.post("/api/v1/token/", data="username=a", content_type="text/plain")
    assert response.status_code == 415
    assert set(response.json()) == {"detail"}
    documented = client.get("/api/schema/", {"format": "json"}).json()
    assert "415" in documented["paths"]["/api/v1/token/"]["post"]["responses"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/families/?page_size=1.5", 400),  # DRF ignored it, answering 200
        ("/api/v1/families/?page_size=-3", 200),  # a whole number below 1: the default
        ("/api/v1/families/abc/", 404),  # was Django's HTML page, not the API's JSON
        ("/api/v1/registrations/1.0/", 404),
        ("/api/v1/registrations/?kind=&year=", 200),  # empty filters are no filter
    ],
)
def test_answers_found_by_the_schema_run(client, carol, path, status):
    client.force_login(carol)
    response = client.get(path)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
