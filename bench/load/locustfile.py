"""Load test: association staff, ward officials and city dashboard viewers at once.

Run by `bench/load/run.sh` (which starts the server, creates the accounts and checks the writes
afterwards); see bench/RESULTS.md, "Load test". Every user logs in through the real login form
(CSRF token from the page, session cookie), then loops over its role's work:

- StaffUser: creates a household (the family form), registers it for this year's title,
  enters its evidence (the writes, about a third of its work); looks a household up by name
  and opens its page, lists and searches the ward's registrations and households, the overview
  and the ward page, a residential area's slip sheet page, the groups and a group's page.
- OfficialUser: opens the review queue of evaluated registrations, opens one, approves it when
  it passed (the page offers the approve button) or rejects it with a written reason; the queue
  filtered and searched; one of the mass actions' confirmation pages (evaluate now, approve what
  passed, issue a decision, sign off: GET, they change nothing); the ward's sign-off page.
- ViewerUser: the city dashboard, a ward's drill-down, a residential area, and the roll-ups API
  (most of its work); the groups and programmes tabs and the dashboard without ?year=, the
  registrations list (and searched), a household's page, the programmes and one programme's
  page, two pages of the registrations API by cursor.
- PublicUser (logged out, no account): the slip code page and a programme's public page.

Every write is appended to the writes log (LOAD_WRITES, JSON lines) with what identifies it
(a family code unique to the run, a registration id, a rejection reason unique to the run) and
whether the server acknowledged it (the redirect and success message a user would see).
`check_writes.py` compares that log with the database.

Environment: LOAD_ACCOUNTS (the JSON written by prepare.py), LOAD_WRITES, LOAD_RUN (a short id
for this run), LOAD_STAFF / LOAD_OFFICIALS / LOAD_VIEWERS / LOAD_PUBLIC (how many users of each
kind; their sum is locust's --users), LOAD_REQUESTS (every request's name, time and outcome,
JSON lines: what report.py reads, so that requests still in flight when locust writes its CSV
count too).
"""

from __future__ import annotations

import html
import itertools
import json
import os
import random
import re
import time

from locust import HttpUser, between, events, task

ACCOUNTS = json.loads(open(os.environ["LOAD_ACCOUNTS"], encoding="utf-8").read())  # noqa: SIM115
WRITES = open(os.environ["LOAD_WRITES"], "a", encoding="utf-8")  # noqa: SIM115 - whole run
RUN = os.environ["LOAD_RUN"]
REQUESTS = open(os.environ["LOAD_REQUESTS"], "a", encoding="utf-8")  # noqa: SIM115 - whole run
YEAR = ACCOUNTS["year"]
# What staff and viewers type in the search boxes.
SURNAMES = ["nguyen", "tran", "le", "pham", "hoang", "vu"]

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
_ACTION = re.compile(r'action="([^"]*)"')
_INPUT = re.compile(r"<input\b([^>]*)>")
_SELECT = re.compile(r'<select\b[^>]*name="([^"]+)"[^>]*>(.*?)</select>', re.S)
_OPTION = re.compile(r'<option\b[^>]*value="([^"]*)"')
_ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')
_SUCCESS = re.compile(r'class="message success"')
_ERROR = re.compile(r'class="message error"')


def log_write(record: dict) -> None:
    WRITES.write(json.dumps({"at": round(time.time(), 3), "run": RUN, **record}) + "\n")
    WRITES.flush()


@events.request.add_listener
def _record(request_type, name, response_time, exception, **kwargs):
    """Every request as it ends, during the ramp, the run and the drain after it."""
    REQUESTS.write(
        json.dumps(
            {
                "at": round(time.time(), 3),
                "name": f"{request_type} {name}",
                "ms": round(response_time, 1),
                "error": None if exception is None else str(exception)[:200],
            }
        )
        + "\n"
    )


@events.quitting.add_listener
def _close(environment, **kwargs):
    WRITES.close()
    REQUESTS.close()


def forms(page: str) -> list[dict]:
    """Each form of the page: its action, hidden/text inputs and selects with their options."""
    found = []
    for attrs, body in _FORM.findall(page):
        action = _ACTION.search(attrs)
        inputs = {}
        types = {}
        for tag in _INPUT.findall(body):
            a = dict(_ATTR.findall(tag))
            if "name" in a:
                inputs[a["name"]] = html.unescape(a.get("value", ""))
                types[a["name"]] = a.get("type", "text")
        selects = {
            name: [html.unescape(v) for v in _OPTION.findall(options)]
            for name, options in _SELECT.findall(body)
        }
        found.append(
            {
                "action": html.unescape(action.group(1)) if action else "",
                "inputs": inputs,
                "types": types,
                "selects": selects,
            }
        )
    return found


def form_with(page: str, action_part: str) -> dict | None:
    """The page's form posting to an address containing `action_part`."""
    return next((f for f in forms(page) if action_part in f["action"]), None)


def form_having(page: str, field: str) -> dict | None:
    """The page's form with a field named `field` (the header's forms have none of ours)."""
    return next((f for f in forms(page) if field in f["inputs"] or field in f["selects"]), None)


class _Pool:
    """Hands out the prepared accounts of a role in turn."""

    def __init__(self) -> None:
        self.cycles = {
            role: itertools.cycle(ACCOUNTS["accounts"][role]) for role in ACCOUNTS["accounts"]
        }

    def take(self, role: str) -> dict:
        return next(self.cycles[role])


POOL = _Pool()
_SERIAL = itertools.count(1)


class LoggedInUser(HttpUser):
    abstract = True
    role = ""
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.account = POOL.take(self.role)
        self.serial = next(_SERIAL)
        self.login()

    def login(self) -> None:
        page = self.client.get("/accounts/login/", name="login page")
        token = _CSRF.search(page.text)
        if token is None:
            page.failure("no CSRF token on the login page")
            return
        with self.client.post(
            "/accounts/login/",
            data={
                "csrfmiddlewaretoken": token.group(1),
                "username": self.account["username"],
                "password": self.account["password"],
                "next": "",
            },
            name="login",
            catch_response=True,
        ) as response:
            if "/accounts/login/" in response.url:
                response.failure("login refused")

    def post_form(self, url: str, form: dict, data: dict, *, name: str, expect: str):
        """POST `data` over the form's hidden fields; ok when redirected to `expect` with a
        success message. Returns (response, acknowledged)."""
        payload = {k: v for k, v in form["inputs"].items() if form["types"].get(k) == "hidden"}
        payload.update(data)
        with self.client.post(url, data=payload, name=name, catch_response=True) as response:
            redirected = bool(response.history) and re.search(expect, response.url) is not None
            ok = response.status_code == 200 and redirected and bool(_SUCCESS.search(response.text))
            if response.status_code == 200 and not ok:
                # Refused on purpose (someone else decided it first, say): not a server error.
                response.success()
            return response, ok

    def send_write(self, record: dict, url: str, form: dict, data: dict, *, name: str, expect: str):
        """post_form, logged twice: when sent (ack null: an answer that never comes leaves just
        this line) and with the outcome. Returns (response, acknowledged)."""
        record = {
            "id": f"{RUN}-{self.serial}-{next(_SERIAL)}",
            "user": self.account["username"],
            **record,
        }
        log_write({**record, "ack": None})
        response, ok = self.post_form(url, form, data, name=name, expect=expect)
        outcome = {"ack": ok, "status": response.status_code}
        outcome["refused"] = bool(_ERROR.search(response.text or ""))
        pk = re.search(r"/titles/registrations/(\d+)/$", response.url or "")
        if ok and pk:
            outcome["registration"] = int(pk.group(1))
        log_write({**record, **outcome})
        return response, ok


class StaffUser(LoggedInUser):
    """Association staff of one ward entering households, registrations and evidence."""

    role = "staff"
    weight = 1
    fixed_count = int(os.environ.get("LOAD_STAFF", "20"))

    @task(4)
    def enter_a_household(self) -> None:
        page = self.client.get("/registry/families/new/", name="/registry/families/new/")
        form = form_having(page.text, "code") if page.ok else None
        if not form or "community" not in form["inputs"]:
            return
        # The residential area is typed and chosen from the suggestions, as on a phone.
        found = self.client.get(
            "/registry/communities/search/",
            params={"ward": self.account["ward"], "q": random.choice(["to", "tdp", "khu"])},
            name="/registry/communities/search/?q=",
        )
        areas = [row["code"] for row in found.json()["results"]] if found.ok else []
        if not areas:
            return
        n = next(_SERIAL)
        code = f"LT{RUN}-{self.serial}-{n}"
        data = {
            "code": code,
            "head_name": f"Nguyễn Văn Tải {n}",
            "members": str(random.randint(1, 7)),
            "community": random.choice(areas),
            "clan": "",
        }
        response, ok = self.send_write(
            {"write": "family", "ward": self.account["ward"], "code": code},
            "/registry/families/new/",
            form,
            data,
            name="create family",
            expect=r"/registry/families/\d+/$",
        )
        if not ok:
            return
        link = re.search(r'href="(/titles/registrations/new/\?entity=\d+[^"]*)"', response.text)
        if link is None:
            return
        self.register(html.unescape(link.group(1)), code)

    def register(self, url: str, code: str) -> None:
        page = self.client.get(url, name="/titles/registrations/new/?entity=[id]")
        form = form_having(page.text, "year") if page.ok else None
        if form is None:
            return
        response, ok = self.send_write(
            {"write": "registration", "ward": self.account["ward"], "code": code, "year": YEAR},
            url,
            form,
            {"year": str(YEAR)},
            name="register",
            expect=r"/titles/registrations/\d+/$",
        )
        pk = re.search(r"/titles/registrations/(\d+)/$", response.url) if ok else None
        if pk is not None:
            self.enter_evidence(int(pk.group(1)))

    def enter_evidence(self, pk: int) -> None:
        url = f"/titles/registrations/{pk}/evidence/"
        page = self.client.get(url, name="/titles/registrations/[id]/evidence/")
        form = form_having(page.text, "version") if page.ok else None
        if form is None:
            return
        values = {}
        for name, options in form["selects"].items():
            choices = [o for o in options if o]
            if choices:
                values[name] = random.choice(choices)
        for name, kind in form["types"].items():
            if kind == "number":
                values[name] = str(random.randint(0, 3))
        self.send_write(
            {"write": "evidence", "registration": pk, "values": values},
            url,
            form,
            values,
            name="save evidence",
            expect=rf"/titles/registrations/{pk}/$",
        )

    @task(2)
    def list_registrations(self) -> None:
        self.client.get(f"/titles/registrations/?year={YEAR}", name="/titles/registrations/")

    @task(1)
    def search_registrations(self) -> None:
        self.client.get(
            f"/titles/registrations/?year={YEAR}&q={random.choice(SURNAMES)}",
            name="/titles/registrations/?q=",
        )

    @task(1)
    def list_families(self) -> None:
        self.client.get("/registry/families/", name="/registry/families/")

    @task(3)
    def open_a_household(self) -> None:
        """Look a household up by name and open its page (with its titles panel)."""
        page = self.client.get(
            f"/registry/families/?q={random.choice(SURNAMES)}", name="/registry/families/?q="
        )
        ids = re.findall(r'href="/registry/families/(\d+)/"', page.text) if page.ok else []
        if ids:
            self.client.get(
                f"/registry/families/{random.choice(ids)}/", name="/registry/families/[id]/"
            )

    @task(1)
    def ward_page(self) -> None:
        self.client.get("/", name="/")
        self.client.get(f"/wards/{self.account['ward']}/", name="/wards/[code]/")

    @task(1)
    def area_slips(self) -> None:
        """The slip sheet's page of a residential area (GET: what printing would do)."""
        page = self.client.get("/registry/communities/", name="/registry/communities/")
        areas = re.findall(r'href="/registry/communities/(\d+)/"', page.text) if page.ok else []
        if areas:
            self.client.get(
                f"/titles/registrations/areas/{random.choice(areas)}/slips/?year={YEAR}",
                name="/titles/registrations/areas/[id]/slips/",
            )

    @task(1)
    def groups(self) -> None:
        page = self.client.get("/groups/", name="/groups/")
        ids = re.findall(r'href="/groups/(\d+)/"', page.text) if page.ok else []
        if ids:
            self.client.get(f"/groups/{random.choice(ids)}/", name="/groups/[id]/")


class OfficialUser(LoggedInUser):
    """A ward official working through the review queue."""

    role = "official"
    weight = 1
    fixed_count = int(os.environ.get("LOAD_OFFICIALS", "15"))

    @task(4)
    def review_one(self) -> None:
        page = self.client.get(
            f"/titles/review/?year={YEAR}&state=evaluated&page={random.randint(1, 3)}",
            name="/titles/review/",
        )
        if not page.ok:
            return
        ids = re.findall(r'href="/titles/registrations/(\d+)/"', page.text)
        if not ids:
            return
        pk = int(random.choice(ids))
        detail = self.client.get(f"/titles/registrations/{pk}/", name="/titles/registrations/[id]/")
        # Decided by a colleague since the queue was read (the page says so): an official
        # moves on rather than overturn it.
        if not detail.ok or 'data-state="evaluated"' not in detail.text:
            return
        approve = form_with(detail.text, f"/titles/registrations/{pk}/approve/")
        reject = form_with(detail.text, f"/titles/registrations/{pk}/reject/")
        n = next(_SERIAL)
        if approve is not None:
            decision, form, data = "approved", approve, {}
            url, name = f"/titles/registrations/{pk}/approve/", "approve"
        elif reject is not None:
            reason = f"LT{RUN}-{self.serial}-{n}: thiếu minh chứng"
            decision, form, data = "rejected", reject, {"reason": reason}
            url, name = f"/titles/registrations/{pk}/reject/", "reject"
        else:
            return
        self.send_write(
            {"write": decision, "registration": pk, "reason": data.get("reason")},
            url,
            form,
            data,
            name=name,
            expect=rf"/titles/registrations/{pk}/$",
        )

    @task(2)
    def queue_filtered(self) -> None:
        ward = self.account["ward"]
        if random.random() < 0.5:
            self.client.get(
                f"/titles/review/?year={YEAR}&ward={ward}&result=passed&state=evaluated",
                name="/titles/review/?result=&state=",
            )
        else:
            self.client.get(
                f"/titles/review/?year={YEAR}&ward={ward}&q={random.choice(SURNAMES)}",
                name="/titles/review/?q=",
            )

    @task(1)
    def confirmation_pages(self) -> None:
        """One of the confirmations a mass action shows first (GET: it changes nothing)."""
        ward = self.account["ward"]
        url, name = random.choice(
            [
                (f"/titles/review/evaluate/?ward={ward}&year={YEAR}", "/titles/review/evaluate/"),
                (
                    f"/titles/review/approve-passed/?ward={ward}&year={YEAR}&scope=all",
                    "/titles/review/approve-passed/",
                ),
                (f"/titles/decisions/new/?ward={ward}&year={YEAR}", "/titles/decisions/new/"),
                (
                    f"/titles/signoff/{ward}/{YEAR}/sign-off/",
                    "/titles/signoff/[code]/[year]/sign-off/",
                ),
            ]
        )
        self.client.get(url, name=name)

    @task(1)
    def ward_signoff(self) -> None:
        self.client.get(
            f"/titles/signoff/{self.account['ward']}/{YEAR}/", name="/titles/signoff/[code]/[year]/"
        )


class ViewerUser(LoggedInUser):
    """A city association viewer on the dashboard and the roll-ups API."""

    role = "viewer"
    weight = 1
    fixed_count = int(os.environ.get("LOAD_VIEWERS", "15"))

    @task(3)
    def dashboard_and_drill_down(self) -> None:
        page = self.client.get(f"/titles/dashboard/?year={YEAR}", name="/titles/dashboard/")
        if not page.ok:
            return
        wards = re.findall(r'href="(/titles/dashboard/ward/\d+/[^"]*)"', page.text)
        if not wards:
            return
        ward = self.client.get(
            html.unescape(random.choice(wards)), name="/titles/dashboard/ward/[code]/"
        )
        if not ward.ok:
            return
        areas = re.findall(r'href="(/titles/dashboard/area/\d+/[^"]*)"', ward.text)
        if areas:
            self.client.get(
                html.unescape(random.choice(areas)), name="/titles/dashboard/area/[id]/"
            )

    @task(2)
    def rollups_api(self) -> None:
        province = ACCOUNTS["province"]
        level = random.choice(["ward", "province", "community"])
        self.client.get(
            f"/api/v1/rollups/?year={YEAR}&unit={province}&level={level}&page_size=200",
            name=f"/api/v1/rollups/?level={level}",
        )

    @task(2)
    def other_tabs(self) -> None:
        """The dashboard's groups and programmes tabs, with and without ?year=."""
        url, name = random.choice(
            [
                (f"/groups/dashboard/?year={YEAR}", "/groups/dashboard/"),
                ("/groups/dashboard/", "/groups/dashboard/ (no year)"),
                ("/programmes/dashboard/", "/programmes/dashboard/"),
                ("/titles/dashboard/", "/titles/dashboard/ (no year)"),
            ]
        )
        self.client.get(url, name=name)

    @task(1)
    def registrations(self) -> None:
        if random.random() < 0.5:
            self.client.get(f"/titles/registrations/?year={YEAR}", name="/titles/registrations/")
        else:
            self.client.get(
                f"/titles/registrations/?year={YEAR}&q={random.choice(SURNAMES)}",
                name="/titles/registrations/?q=",
            )

    @task(1)
    def household(self) -> None:
        page = self.client.get(
            f"/registry/families/?q={random.choice(SURNAMES)}", name="/registry/families/?q="
        )
        ids = re.findall(r'href="/registry/families/(\d+)/"', page.text) if page.ok else []
        if ids:
            self.client.get(
                f"/registry/families/{random.choice(ids)}/", name="/registry/families/[id]/"
            )

    @task(1)
    def programmes(self) -> None:
        page = self.client.get("/programmes/", name="/programmes/")
        codes = re.findall(r'href="/programmes/p/([^/"]+)/"', page.text) if page.ok else []
        if codes:
            self.client.get(f"/programmes/p/{random.choice(codes)}/", name="/programmes/p/[code]/")

    @task(1)
    def registrations_api(self) -> None:
        """Two pages of the registrations API by cursor, as an integration reads it."""
        first = self.client.get(
            f"/api/v1/registrations/?year={YEAR}&cursor=", name="/api/v1/registrations/?cursor="
        )
        following = first.json().get("next") if first.ok else None
        if following:
            self.client.get(following, name="/api/v1/registrations/?cursor=[next]")


class PublicUser(HttpUser):
    """Someone logged out: a household typing its slip's code, a programme's public page."""

    weight = 1
    fixed_count = int(os.environ.get("LOAD_PUBLIC", "0"))
    wait_time = between(1, 3)

    @task(2)
    def slip_code_page(self) -> None:
        self.client.get("/titles/s/", name="/titles/s/")

    @task(1)
    def programme_public(self) -> None:
        codes = ACCOUNTS.get("programmes") or []
        if codes:
            self.client.get(
                f"/programmes/{random.choice(codes)}/public/", name="/programmes/[code]/public/"
            )
