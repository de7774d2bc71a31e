"""The confirmation step of the mass and hard-to-undo actions.

For each of evaluate now, approve what passed, issue a decision, sign off a ward's year and
register a whole area: the confirmation shows what the action will do (counts by title, and a
decision's list) and changes nothing; the confirmed POST does it and returns to the filtered list
the user came from (`next`), a `next` of another site being ignored; in a signed-off year the
confirmation and the action are refused with the sign-off message and no button is offered.
Evaluate now, approve what passed and issue a decision run as background jobs (in-process
here): their confirmed POST leads to the job's page, which shows the outcome and leads back.
"""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from urllib.parse import quote

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_clan, make_community, make_family
from tests.titles.factories import FAMILY_DOC, load, registration
from tests.titles.job_pages import job_links, job_notes, job_page
from titles.models import (
    Decision,
    Registration,
    RegistrationEvent,
    RegistrationWindow,
    State,
    WardSignOff,
)
from titles.services.signoff import ward_sign_off

YEAR = 2025
PASSING = {"F1": "1", "F2": "2"}
QUEUE = f"/titles/review/?ward=00070&year={YEAR}&kind=family&state=evaluated&q=Nguy&page=2"
LIST = f"/titles/registrations/?year={YEAR}&kind=family&state=registered&q=Tr&page=2"
FOREIGN = ["https://evil.example/titles/review/", "//evil.example/x", "http:///evil.example/"]


@dataclass
class World:
    area: object
    new_area: object
    regs: dict


@pytest.fixture
def world(ward_a, province):
    """Ward A in 2025: registrations in every undecided state, approved ones waiting for a
    decision, and a second residential area with two households not registered yet."""
    load(FAMILY_DOC)
    RegistrationWindow.objects.create(
        province=province,
        year=YEAR,
        opens_on=timezone.localdate() - datetime.timedelta(days=5),
        closes_on=timezone.localdate() + datetime.timedelta(days=5),
    )
    area = make_community(ward_a, code="TDP1", name="Tổ dân phố Một")
    new_area = make_community(ward_a, code="TDP2", name="Tổ dân phố Hai")

    def family(code, name, where=area, **fields):
        entity = make_family(ward_a, code=code, head_name=name, community=where).entity
        return registration(entity, **fields) if fields else entity

    regs = {
        "p1": family("P1", "Nguyễn Văn Một", state=State.SUBMITTED, evidence=PASSING),
        "p2": family("P2", "Nguyễn Văn Hai", state=State.SUBMITTED, evidence=PASSING),
        "e1": family("E1", "Lê Văn Ba", state=State.EVALUATED, evidence=PASSING, passed=True),
        "e2": family("E2", "Lê Văn Bốn", state=State.EVALUATED, evidence=PASSING, passed=True),
        "ef": family("EF", "Lê Văn Năm", state=State.EVALUATED, evidence={"F2": "2"}, passed=False),
        "a1": family(
            "A1", "Phạm Văn Sáu", state=State.APPROVED, passed=True, eval_outstanding=True
        ),
        "n": family("N", "Trần Văn Bảy", where=new_area, state=State.REGISTERED),
        "ec": registration(
            make_clan(ward_a, code="DC", name="Dòng họ Đỗ").entity,
            state=State.EVALUATED,
            evidence={"C1": "1"},
            passed=True,
        ),
        "ac": registration(
            make_clan(ward_a, code="DA", name="Dòng họ Vũ").entity,
            state=State.APPROVED,
            passed=True,
        ),
    }
    family("U1", "Trần Văn Tám", where=new_area)
    family("U2", "Trần Văn Chín", where=new_area)
    return World(area=area, new_area=new_area, regs=regs)


def _snapshot() -> tuple:
    return (
        sorted(Registration.objects.values_list("pk", "state", "version")),
        RegistrationEvent.objects.count(),
        Decision.objects.count(),
        WardSignOff.objects.count(),
    )


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _text(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def _counts(response) -> list[tuple[str, list[int]]]:
    counts = response.context["c"].counts
    return [(str(label), list(figures)) for label, figures in counts.rows]


# --- each action: its confirmation and its confirmed POST ---------------------------------------


@dataclass(frozen=True)
class Action:
    """How to reach an action's confirmation, and how to confirm it, as its user."""

    user: str
    show: Callable  # (client, world, next) -> the confirmation's response
    confirm: Callable  # (client, world, next) -> the confirmed POST's response
    back: str  # where it returns when no (or a foreign) `next` is given
    list: str  # the filtered list used as `next`
    job: bool = False  # runs as a background job: the job's page leads back


def _with_next(data: dict, next_: str | None) -> dict:
    return {**data, "next": next_} if next_ is not None else data


def _evaluate_data(next_=None, **extra):
    return _with_next({"ward": "00070", "year": YEAR, **extra}, next_)


def _approve_data(next_=None, **extra):
    return _with_next({"ward": "00070", "year": YEAR, "scope": "all", **extra}, next_)


def _decision_url(next_=None) -> str:
    url = f"{reverse('decision_create')}?ward=00070&year={YEAR}"
    return f"{url}&next={quote(next_, safe='')}" if next_ is not None else url


def _decision_data(w: World, **extra) -> dict:
    chosen = [w.regs["a1"].pk, w.regs["ac"].pk]
    return {"number": "12/QĐ-UBND", "date": f"{YEAR}-12-10", "registrations": chosen, **extra}


def _signoff_page() -> str:
    return reverse("ward_signoff", args=["00070", YEAR])


def _area_data(w: World, next_=None, **extra) -> dict:
    return _with_next({"area": w.new_area.pk, "year": YEAR, **extra}, next_)


ACTIONS = {
    "evaluate now": Action(
        user="bob",
        show=lambda c, w, n: c.get(reverse("ward_evaluate"), _evaluate_data(n)),
        confirm=lambda c, w, n: c.post(reverse("ward_evaluate"), _evaluate_data(n, confirmed="1")),
        back=f"/titles/review/?ward=00070&year={YEAR}",
        list=QUEUE,
        job=True,
    ),
    "approve all that passed": Action(
        user="bob",
        show=lambda c, w, n: c.get(reverse("review_approve_passed"), _approve_data(n)),
        confirm=lambda c, w, n: c.post(
            reverse("review_approve_passed"), _approve_data(n, confirmed="1")
        ),
        back=f"/titles/review/?ward=00070&year={YEAR}",
        list=QUEUE,
        job=True,
    ),
    # A decision's confirmation answers the form's POST: the chosen list is too long for a URL.
    "issue a decision": Action(
        user="bob",
        show=lambda c, w, n: c.post(_decision_url(n), _decision_data(w)),
        confirm=lambda c, w, n: c.post(
            _decision_url(), _with_next(_decision_data(w, confirmed="1"), n)
        ),
        back="decision",
        list=QUEUE,
        job=True,
    ),
    "sign off": Action(
        user="bob",
        show=lambda c, w, n: c.get(
            reverse("ward_signoff_confirm", args=["00070", YEAR]), _with_next({}, n)
        ),
        confirm=lambda c, w, n: c.post(
            _signoff_page(), _with_next({"action": "sign_off", "confirmed": "1"}, n)
        ),
        back=f"/titles/signoff/00070/{YEAR}/",
        list=f"/titles/signoff/?year={YEAR}",
    ),
    "register an area": Action(
        user="alice",
        show=lambda c, w, n: c.get(reverse("registration_register_area"), _area_data(w, n)),
        confirm=lambda c, w, n: c.post(
            reverse("registration_register_area"), _area_data(w, n, confirmed="1")
        ),
        back="area list",
        list=LIST,
    ),
}


def _back(name: str, w: World) -> str:
    back = ACTIONS[name].back
    if back == "decision":
        return reverse("decision_detail", args=[Decision.objects.get().pk])
    if back == "area list":
        return f"/titles/registrations/?year={YEAR}&ward=00070&area={w.new_area.pk}"
    return back


def _login(client, request, name: str):
    client.force_login(request.getfixturevalue(ACTIONS[name].user))


@pytest.mark.parametrize("name", ACTIONS)
def test_the_confirmation_changes_nothing_and_posts_the_action_confirmed(
    client, request, world, name
):
    _login(client, request, name)
    action = ACTIONS[name]
    before = _snapshot()
    response = action.show(client, world, action.list)
    assert _snapshot() == before, f"{name}: the confirmation wrote something"
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "titles/confirm.html"
    html = response.content.decode()
    form = re.search(r'<form method="post" [^>]*id="confirm-form">(.*?)</form>', html, flags=re.S)
    assert form, html
    assert 'name="confirmed" value="1"' in form.group(1)
    assert f'name="next" value="{action.list.replace("&", "&amp;")}"' in form.group(1)
    assert 'id="confirm-button"' in form.group(1)
    cancel = unescape(re.search(r'<a href="([^"]+)" id="confirm-cancel"', html).group(1))
    if name == "issue a decision":  # back to the form, which still knows the list
        assert cancel.startswith(reverse("decision_create"))
        assert f"next={quote(action.list, safe='')}" in cancel
    else:
        assert cancel == action.list


@pytest.mark.parametrize("name", ACTIONS)
def test_the_confirmed_action_returns_to_the_filtered_list(client, request, world, name):
    _login(client, request, name)
    action = ACTIONS[name]
    before = _snapshot()
    response = action.confirm(client, world, action.list)
    if action.job:
        assert action.list in job_links(job_page(client, response))
    else:
        assert response.status_code == 302, _text(response)[:500]
        assert response["Location"] == action.list
    assert _snapshot() != before, f"{name}: nothing was done"


@pytest.mark.parametrize("foreign", FOREIGN)
@pytest.mark.parametrize("name", ACTIONS)
def test_a_foreign_next_is_ignored(client, request, world, name, foreign):
    _login(client, request, name)
    action = ACTIONS[name]
    shown = action.show(client, world, foreign)
    html = shown.content.decode()
    page = html[html.index('id="confirmation"') :]  # the header's language switch aside
    assert "evil.example" not in page
    response = action.confirm(client, world, foreign)
    if action.job:
        page = job_page(client, response)
        assert "evil.example" not in page.content.decode()
        assert _back(name, world) in job_links(page)
    else:
        assert response.status_code == 302
        assert response["Location"] == _back(name, world)


# --- what each confirmation counts --------------------------------------------------------------


def test_evaluate_now_counts_what_is_ready_by_title(client, bob, world):
    client.force_login(bob)
    response = ACTIONS["evaluate now"].show(client, world, None)
    # Submitted and evaluated ones are ready; the one without evidence is not.
    assert _counts(response) == [("Learning Family", [5]), ("Learning Clan", [1])]
    text = _text(response)
    assert "6 registrations are ready and will be evaluated" in text
    assert "1 registration is not yet submitted (no evidence) and will stay registered." in text
    assert "No criteria set is in force for Learning Clan in 2025" in text

    response = ACTIONS["evaluate now"].confirm(client, world, None)
    assert job_notes(job_page(client, response))[0] == "Evaluated 5 registrations: 4 passed."
    assert Registration.objects.get(pk=world.regs["p1"].pk).state == State.EVALUATED
    assert Registration.objects.get(pk=world.regs["n"].pk).state == State.REGISTERED


def test_approve_counts_what_passed_under_the_filters(client, bob, world, ward_a):
    client.force_login(bob)
    url = reverse("review_approve_passed")
    everything = client.get(url, _approve_data())
    assert _counts(everything) == [("Learning Family", [2]), ("Learning Clan", [1])]
    assert "3 registrations that passed their evaluation will be approved." in _text(everything)
    families = client.get(url, _approve_data(kind="family"))
    assert _counts(families) == [("Learning Family", [2])]
    searched = client.get(url, _approve_data(kind="family", q="Bốn"))
    assert _counts(searched) == [("Learning Family", [1])]
    ticked = [world.regs["e1"].pk, world.regs["ef"].pk]  # a failed one ticked is not counted
    selected = client.get(url, _approve_data(scope="selected", ids=ticked))
    assert _counts(selected) == [("Learning Family", [1])]

    response = client.post(url, _approve_data(scope="selected", ids=ticked, confirmed="1"))
    assert job_notes(job_page(client, response)) == ["Approved 1 registration."]
    states = dict(Registration.objects.values_list("pk", "state"))
    assert states[world.regs["e1"].pk] == State.APPROVED
    assert states[world.regs["e2"].pk] == State.EVALUATED
    assert states[world.regs["ef"].pk] == State.EVALUATED


def test_approve_with_nothing_that_passed_offers_no_button(client, bob, world):
    client.force_login(bob)
    response = client.get(
        reverse("review_approve_passed"), _approve_data(kind="family", q="không có ai")
    )
    assert response.status_code == 200
    assert 'id="confirm-nothing"' in response.content.decode()
    assert 'id="confirm-button"' not in response.content.decode()


def test_a_decision_shows_the_registrations_it_will_recognise(client, bob, world):
    client.force_login(bob)
    response = ACTIONS["issue a decision"].show(client, world, QUEUE)
    assert _counts(response) == [("Learning Family", [1, 1]), ("Learning Clan", [1, 0])]
    listed = [r.pk for r in response.context["c"].rows]
    assert listed == [world.regs["a1"].pk, world.regs["ac"].pk]
    text = _text(response)
    assert "Decision 12/QĐ-UBND of 10/12/2025 will recognise 2 registrations." in text
    assert "Phạm Văn Sáu" in text and "Dòng họ Vũ" in text
    html = response.content.decode()
    for pk in listed:
        assert f'name="registrations" value="{pk}"' in html
    assert 'name="number" value="12/QĐ-UBND"' in html

    response = ACTIONS["issue a decision"].confirm(client, world, QUEUE)
    page = job_page(client, response)
    decision = Decision.objects.get()
    assert set(decision.registrations.values_list("pk", flat=True)) == set(listed)
    assert job_notes(page) == ["Decision 12/QĐ-UBND issued: 2 registrations recognised."]
    assert job_links(page) == [reverse("decision_detail", args=[decision.pk]), QUEUE]


def test_a_decision_form_with_errors_comes_back_without_a_confirmation(client, bob, world):
    client.force_login(bob)
    response = client.post(_decision_url(), _decision_data(world, number=""))
    assert [t.name for t in response.templates][0] == "titles/review/decision_form.html"
    assert not Decision.objects.exists()


def test_sign_off_shows_the_figures_it_freezes_and_what_is_undecided(client, bob, world):
    client.force_login(bob)
    page = client.get(_signoff_page())
    assert f'action="{reverse("ward_signoff_confirm", args=["00070", YEAR])}"' in (
        page.content.decode()
    )
    response = ACTIONS["sign off"].show(client, world, None)
    # Registered and recognised come from the roll-ups (none kept here), undecided from the
    # registrations: 6 families not reviewed and 1 approved, a clan of each.
    assert _counts(response) == [("Learning Family", [0, 0, 7]), ("Learning Clan", [0, 0, 2])]
    assert "9 registrations are not decided yet." in _text(response)
    # A POST that does not confirm is the confirmation again.
    before = _snapshot()
    unconfirmed = client.post(_signoff_page(), {"action": "sign_off"})
    assert unconfirmed.status_code == 200 and 'id="confirm-form"' in unconfirmed.content.decode()
    assert _snapshot() == before


def test_register_an_area_counts_the_households_it_registers(client, alice, world):
    client.force_login(alice)
    form = client.get(reverse("registration_register_area"), {"next": LIST})
    assert 'method="get"' in form.content.decode() and f'value="{LIST.replace("&", "&amp;")}"' in (
        form.content.decode()
    )
    response = ACTIONS["register an area"].show(client, world, None)
    assert _counts(response) == [("Learning Family", [2, 1])]
    assert "2 households of Tổ dân phố Hai will be registered" in _text(response)

    response = ACTIONS["register an area"].confirm(client, world, None)
    assert _messages(response) == ["Tổ dân phố Hai, 2025: 2 registered, 1 already registered."]
    assert Registration.objects.filter(entity__family__community=world.new_area).count() == 3
    again = ACTIONS["register an area"].show(client, world, None)
    assert 'id="confirm-nothing"' in again.content.decode()


def test_register_an_area_outside_the_window_is_said_on_the_form(client, alice, world):
    RegistrationWindow.objects.all().delete()
    client.force_login(alice)
    response = ACTIONS["register an area"].show(client, world, None)
    assert [t.name for t in response.templates][0] == "titles/staff/register_area.html"
    assert "has not been opened in this province yet" in _text(response)


# --- the lists carry their filters --------------------------------------------------------------


def test_the_queue_carries_its_filters_to_each_confirmation(client, bob, world):
    client.force_login(bob)
    response = client.get(QUEUE)
    html = response.content.decode()
    escaped = QUEUE.replace("&", "&amp;")
    for action in ("evaluate/", "approve-passed/"):  # GET forms, to the confirmations
        form = re.search(
            rf'<form method="get" action="/titles/review/{action}"[^>]*>(.*?)</form>', html, re.S
        )
        assert f'name="next" value="{escaped}"' in form.group(1), action
    assert f"next={quote(QUEUE, safe='/')}" in html  # the decision link


def test_the_registration_list_carries_its_filters_to_register_an_area(client, alice, world):
    client.force_login(alice)
    html = client.get(LIST).content.decode()
    link = re.search(r'id="register-area" href="([^"]+)"', html).group(1)
    assert f"next={quote(LIST, safe='/')}" in unescape(link)


# --- a signed-off year ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ACTIONS)
def test_a_signed_off_year_refuses_the_confirmation_and_the_action(
    client, request, world, bob, name
):
    ward_sign_off(user=bob, ward=world.area.entity.ward, year=YEAR)
    _login(client, request, name)
    action = ACTIONS[name]
    before = _snapshot()
    shown = action.show(client, world, action.list)
    assert shown.status_code == 200
    html = shown.content.decode()
    assert "signed off by bob" in _text(shown)
    assert 'id="confirm-form"' not in html and 'id="confirm-button"' not in html
    assert 'id="signed-off"' in html
    done = action.confirm(client, world, action.list)
    assert "signed off" in " ".join(_messages(done)) + _text(done)
    assert _snapshot() == before


def test_a_signed_off_year_offers_none_of_these_actions(client, alice, bob, world):
    ward_sign_off(user=bob, ward=world.area.entity.ward, year=YEAR)
    client.force_login(bob)
    queue = client.get(QUEUE).content.decode()
    for marker in ("evaluate-now", "new-decision", "approve-all", "approve-selected"):
        assert f'id="{marker}"' not in queue
    decision = client.get(_decision_url()).content.decode()
    assert 'id="decision-form"' not in decision and 'id="signed-off"' in decision
    signoff = client.get(_signoff_page()).content.decode()
    assert 'id="signoff-form"' not in signoff
    client.force_login(alice)
    registrations = client.get(LIST).content.decode()
    assert 'id="register-area"' not in registrations and 'id="signed-off"' in registrations
    client.force_login(bob)
    detail = client.get(reverse("registration_detail", args=[world.regs["e1"].pk]))
    html = detail.content.decode()
    assert 'id="signed-off"' in html
    for form in ("approve", "reject", "override"):
        assert f"/titles/registrations/{world.regs['e1'].pk}/{form}/" not in html


def test_a_decided_registration_offers_no_confirmation_of_its_self_assessment(client, alice, world):
    """Confirming self-assessed evidence applies to undecided registrations only."""
    approved = world.regs["a1"]
    Registration.objects.filter(pk=approved.pk).update(evidence_self_assessed=True)
    client.force_login(alice)
    html = client.get(reverse("registration_evidence", args=[approved.pk])).content.decode()
    assert reverse("registration_confirm", args=[approved.pk]) not in html
    undecided = world.regs["p1"]
    Registration.objects.filter(pk=undecided.pk).update(evidence_self_assessed=True)
    html = client.get(reverse("registration_evidence", args=[undecided.pk])).content.decode()
    assert reverse("registration_confirm", args=[undecided.pk]) in html
