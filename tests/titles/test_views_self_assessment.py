"""The public self-assessment page: a household or citizen opens the link staff gave them.

No login: the signed token is the only key, and it opens one registration only. A forged,
altered or expired token is a 404; a decided registration shows a read-only page; what is sent
is stored as self-assessed, by nobody, until staff confirm it.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from tests.factories import make_citizen, make_family
from tests.titles.factories import registration
from titles.models import Registration, RegistrationEvent, State
from titles.services import registrations as registering
from titles.services.criteria import criteria_load_defaults

YEAR = timezone.localdate().year


@pytest.fixture
def default_sets(db):
    """The national default sets shipped with the software (Vietnamese text, English text_en)."""
    return criteria_load_defaults()


@pytest.fixture
def household(ward_a):
    return make_family(ward_a, code="HGD1", head_name="Nguyễn Văn An")


@pytest.fixture
def reg(household, default_sets):
    return registration(household.entity, year=YEAR)


def _url(reg) -> str:
    return reverse("self_assessment", args=[registering.self_assessment_token(registration=reg)])


def _html(response) -> str:
    return response.content.decode()


ANSWERS = {
    "F1a": "yes",
    "F1b": "8",
    "F1c": "9,5",
    "F2a": "yes",
    "F2b": "no",
    "F2c": "3",
    "F3a": "",
    "F3b": "7",
    "F4a": "",
    "F4b": "yes",
}


@pytest.mark.vietnamese
def test_household_opens_the_link_without_logging_in(client, reg):
    response = client.get(_url(reg))
    assert response.status_code == 200
    html = _html(response)
    assert "Nguyễn Văn An" in html and "Phường Hoàn Kiếm" in html
    form = response.context["form"]
    assert list(form.fields) == ["version", *ANSWERS]
    # Plain language: the set's own wording, Vietnamese by default.
    assert "mọi trẻ em trong độ tuổi đi học" in html
    assert 'name="F1a"' in html and 'inputmode="decimal"' in html
    assert 'type="number"' not in html  # a number box misreads "9,5"
    # No staff navigation for an anonymous visitor.
    assert reverse("registration_list") not in html


def test_the_form_speaks_english_when_chosen(client, reg):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(_url(reg))
    assert '<html lang="en">' in _html(response)
    assert "every school-age child in the family attends school" in _html(response)


def test_sending_the_answers_stores_them_as_self_assessed(client, reg):
    url = _url(reg)
    with translation.override("en"):
        response = client.post(url, {"version": reg.version, **ANSWERS})
        assert response.status_code == 302 and response["Location"] == f"{url}?sent=1"
        thanks = client.get(response["Location"])
    assert "Thank you!" in _html(thanks)
    reg.refresh_from_db()
    assert reg.evidence_self_assessed is True
    # Stored in the rules' plain form: "9,5" is 9.5.
    assert reg.evidence == {k: v for k, v in ANSWERS.items() if v} | {"F1c": "9.5"}
    event = reg.events.get(action=RegistrationEvent.Action.SELF_ASSESSMENT)
    assert event.user is None and event.detail["after"] == reg.evidence
    # The thank-you page repeats what was sent, in words.
    assert "9.5" in _html(thanks)


def test_bad_answers_are_shown_beside_the_fields_and_nothing_is_stored(client, reg):
    with translation.override("en"):
        response = client.post(
            _url(reg), {"version": reg.version, **ANSWERS, "F2c": "abc", "F1b": "-2"}
        )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["F2c"] == ["Enter a number of 0 or more, such as 3 or 2.5."]
    assert errors["F1b"] == ["Enter points from 0 to 10, such as 7 or 7.5."]
    reg.refresh_from_db()
    assert reg.evidence == {} and not reg.evidence_self_assessed


def test_answers_sent_over_a_changed_registration_are_refused_clearly(client, reg):
    seen = reg.version
    registering.evidence_save(registration=reg, values={"F1a": "no"}, user=None)
    with translation.override("en"):
        response = client.post(_url(reg), {"version": seen, **ANSWERS})
    assert response.status_code == 200
    assert "Someone else changed this registration" in _html(response)
    reg.refresh_from_db()
    assert reg.evidence == {"F1a": "no"}


@pytest.mark.parametrize("token", ["nonsense", "eyJyIjoxfQ:1abc:forged", "a" * 300])
def test_forged_token_is_404(client, reg, token):
    assert client.get(reverse("self_assessment", args=[token])).status_code == 404
    assert client.post(reverse("self_assessment", args=[token]), ANSWERS).status_code == 404


def test_altered_token_is_404(client, reg):
    token = registering.self_assessment_token(registration=reg)
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(reverse("self_assessment", args=[altered])).status_code == 404


def test_expired_token_is_404(client, reg, monkeypatch):
    url = _url(reg)
    assert client.get(url).status_code == 200
    monkeypatch.setattr(registering, "SELF_ASSESSMENT_MAX_AGE", datetime.timedelta(seconds=-1))
    assert client.get(url).status_code == 404


def test_token_of_another_purpose_is_404(client, reg):
    from django.core import signing

    token = signing.dumps({"r": reg.pk}, compress=True)  # right payload, wrong salt
    assert client.get(reverse("self_assessment", args=[token])).status_code == 404


@pytest.mark.parametrize("state", [State.APPROVED, State.REJECTED, State.RECOGNIZED])
def test_decided_registration_shows_a_read_only_page(client, household, default_sets, state):
    decided = registration(household.entity, year=YEAR, evidence={"F1a": "yes"})
    url = _url(decided)  # handed out before the decision
    fields = {
        "decision": registration(
            make_family(household.entity.ward, code="X").entity, year=YEAR, state=State.RECOGNIZED
        ).decision
    }
    fields = fields if state == State.RECOGNIZED else {"rejection_reason": "Không đạt"}
    Registration.objects.filter(pk=decided.pk).update(state=state, **fields)
    decided.refresh_from_db()
    with translation.override("en"):
        response = client.get(url)
        assert response.status_code == 200
        assert "already been decided" in _html(response)
        assert 'name="F1a"' not in _html(response)
        posted = client.post(url, {"version": decided.version, **ANSWERS})
    assert posted.status_code == 200 and "already been decided" in _html(posted)
    decided.refresh_from_db()
    assert decided.evidence == {"F1a": "yes"} and not decided.evidence_self_assessed


def test_a_citizen_self_assesses_too(client, ward_a, default_sets):
    citizen = make_citizen(ward_a, code="CD1", full_name="Trần Thị Bình")
    reg = registration(citizen.entity, year=YEAR)
    response = client.get(_url(reg))
    assert response.status_code == 200 and "Trần Thị Bình" in _html(response)
    assert len(response.context["form"].fields) > 1


def test_without_a_criteria_set_the_page_says_the_questions_are_not_ready(client, household):
    reg = registration(household.entity, year=YEAR)
    with translation.override("en"):
        response = client.get(_url(reg))
    assert response.status_code == 200 and response.context["form"] is None
    assert "not ready yet" in _html(response)


def test_the_link_works_for_a_logged_in_outsider_too(client, eve, reg):
    """The token is the key: whoever holds it may answer, whatever their account."""
    client.force_login(eve)
    assert client.get(_url(reg)).status_code == 200


def test_staff_sees_the_self_assessment_and_confirms_it(client, alice, reg):
    client.post(_url(reg), {"version": reg.version, **ANSWERS})
    client.force_login(alice)
    with translation.override("en"):
        page = client.get(reverse("registration_evidence", args=[reg.pk]))
    html = _html(page)
    assert "Self-assessed, not yet confirmed" in html
    assert page.context["form"]["F2c"].value() == "3"
    reg.refresh_from_db()
    client.post(reverse("registration_confirm", args=[reg.pk]), {"version": reg.version})
    reg.refresh_from_db()
    assert reg.evidence_self_assessed is False


# --- the link's life: random, hashed, one live link, revocable, stopped by confirm and freeze ---


def test_the_token_is_random_stored_hashed_and_names_no_registration(reg):
    from titles.models import SelfAssessmentLink

    token = registering.self_assessment_token(registration=reg)
    assert str(reg.pk) not in token.split("_") and ":" not in token
    stored = SelfAssessmentLink.objects.get(registration=reg)
    assert token not in stored.digest and len(stored.digest) == 64
    assert registering.self_assessment_token(registration=reg) != token


def test_reissuing_stops_the_old_link_and_keeps_one_live(client, reg):
    old = _url(reg)
    new = _url(reg)
    assert client.get(new).status_code == 200
    response = client.get(old)
    assert response.status_code == 404
    assert reg.self_links.filter(ended_at__isnull=True).count() == 1


@pytest.mark.vietnamese
def test_an_ended_link_shows_the_household_a_plain_vietnamese_page(client, reg):
    url = _url(reg)
    registering.self_assessment_link_revoke(registration=reg, user=None)
    response = client.get(url)
    assert response.status_code == 404
    html = _html(response)
    assert "hội khuyến học" in html.lower() and "đường dẫn mới" in html
    posted = client.post(url, {"version": reg.version, **ANSWERS})
    assert posted.status_code == 404
    reg.refresh_from_db()
    assert reg.evidence == {}


def test_staff_confirming_stops_the_link_until_reissued(client, reg, alice):
    url = _url(reg)
    response = client.post(url, {"version": reg.version, **ANSWERS})
    assert response.status_code == 302
    reg.refresh_from_db()
    registering.evidence_confirm(registration=reg, user=alice)
    assert client.get(url).status_code == 404
    assert client.get(_url(reg)).status_code == 200


def test_a_signed_off_year_stops_the_link(client, reg, bob):
    from titles.services.signoff import ward_sign_off

    url = _url(reg)
    ward_sign_off(user=bob, ward=reg.ward, year=reg.year)
    assert client.get(url).status_code == 404
    assert client.post(url, {"version": reg.version, **ANSWERS}).status_code == 404
    reg.refresh_from_db()
    assert reg.evidence == {} and reg.state == State.REGISTERED


def test_staff_revoke_and_reissue_on_the_link_page(client, reg, alice):
    page = reverse("registration_self_link", args=[reg.pk])
    client.force_login(alice)
    assert client.get(page).context["link"] is None  # shown only when issued
    issued = client.post(page, {"action": "issue"})
    link = issued.context["link"]
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert registering.registration_from_token(token) == reg
    assert client.get(page).context["live"] is not None
    client.post(page, {"action": "revoke"})
    assert registering.registration_from_token(token) is None
    assert client.get(page).context["live"] is None
