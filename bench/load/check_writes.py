"""After a load run: every acknowledged write is in the database exactly once, and nothing the
server did not acknowledge is half-written. Run by run.sh against the run's database:

    DATABASE_URL=… python bench/load/check_writes.py WRITES.jsonl

Reads the writes log of locustfile.py and checks, for each kind of write:
- family: an acknowledged code is exactly one household (entity row and household row) in its
  ward; an unacknowledged one is absent or complete; no household with the run's code prefix
  is missing from the log; no entity row without its household row.
- registration: an acknowledged one exists once for (household, year), with the id the server
  redirected to, created by that user, with exactly one "registered" event.
- evidence: an acknowledged save left exactly one evidence event by that user with those values,
  and the registration holds them.
- approved / rejected: an acknowledged decision left exactly one event by that official (a
  rejection with its run-unique reason), and the registration is in that state; a refused one
  left none; no registration was decided twice.
- every registration the run touched is in the state its latest event says.
Then `rollup --verify` (the stored summaries equal the detail rows). Exits 1 on any problem.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "learnsociety.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.management.base import CommandError  # noqa: E402
from django.db.models import Count  # noqa: E402

from registry.models import Entity, Family, Kind  # noqa: E402
from titles.models import Registration, RegistrationEvent, State  # noqa: E402

Event = RegistrationEvent.Action


class Check:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.counts: Counter[str] = Counter()

    def fail(self, message: str) -> None:
        self.problems.append(message)

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] += n


def load(path: Path) -> list[dict]:
    """One record per write: the line logged when it was sent, updated by its outcome's line
    (a write whose answer never came keeps ack null: unacknowledged)."""
    merged: dict[str, dict] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                merged[record["id"]] = {**merged.get(record["id"], {}), **record}
    for record in merged.values():
        record["ack"] = bool(record["ack"])
    return list(merged.values())


def check_families(writes: list[dict], check: Check, run: str) -> None:
    logged = {w["code"]: w for w in writes if w["write"] == "family"}
    prefix = f"LT{run}-"
    entities = Entity.objects.filter(kind=Kind.FAMILY, code__startswith=prefix)
    stored: dict[str, list] = defaultdict(list)
    for entity in entities.values("pk", "code", "ward__code"):
        stored[entity["code"]].append(entity)
    with_row = set(Family.objects.filter(entity__in=entities).values_list("entity_id", flat=True))
    for code, rows in stored.items():
        for row in rows:
            if row["pk"] not in with_row:
                check.fail(f"family {code}: entity row without its household row (half-written)")
        if code not in logged:
            check.fail(f"family {code}: in the database but never logged")
    for code, w in logged.items():
        rows = stored.get(code, [])
        if w["ack"]:
            check.count("family acknowledged")
            if len(rows) != 1 or rows[0]["ward__code"] != w["ward"]:
                check.fail(f"family {code}: acknowledged, stored {len(rows)} times")
        elif rows:
            check.count("family unacknowledged but written (client gave up)")
        else:
            check.count("family unacknowledged, not written")


def check_registrations(writes: list[dict], check: Check, users: dict[str, int]) -> None:
    for w in (w for w in writes if w["write"] == "registration"):
        found = list(
            Registration.objects.filter(
                entity__kind=Kind.FAMILY,
                entity__code=w["code"],
                entity__ward__code=w["ward"],
                year=w["year"],
            )
        )
        registers = (
            RegistrationEvent.objects.filter(registration__in=found, action=Event.REGISTER).count()
            if found
            else 0
        )
        if found and registers != 1:
            check.fail(f"registration of {w['code']}: {registers} 'registered' events")
        if not w["ack"]:
            check.count(
                "registration unacknowledged but written (client gave up)"
                if found
                else "registration unacknowledged, not written"
            )
            continue
        check.count("registration acknowledged")
        if len(found) != 1:
            check.fail(f"registration of {w['code']}: acknowledged, stored {len(found)} times")
        elif found[0].pk != w["registration"] or found[0].created_by_id != users[w["user"]]:
            check.fail(f"registration of {w['code']}: not the one acknowledged")


def check_evidence(writes: list[dict], check: Check, users: dict[str, int]) -> None:
    for w in (w for w in writes if w["write"] == "evidence"):
        events = RegistrationEvent.objects.filter(
            registration_id=w["registration"], action=Event.EVIDENCE, user_id=users[w["user"]]
        )
        matching = [e for e in events if e.detail.get("after") == w["values"]]
        if not w["ack"]:
            check.count(
                "evidence unacknowledged but written (client gave up)"
                if matching
                else "evidence unacknowledged, not written"
            )
            continue
        check.count("evidence acknowledged")
        if len(matching) != 1:
            check.fail(f"evidence of {w['registration']}: acknowledged, {len(matching)} events")
        stored = Registration.objects.get(pk=w["registration"]).evidence
        if stored != w["values"]:
            check.fail(f"evidence of {w['registration']}: stored {stored}, sent {w['values']}")


def check_decisions(writes: list[dict], check: Check, users: dict[str, int]) -> None:
    decided = [w for w in writes if w["write"] in ("approved", "rejected")]
    acked: Counter[tuple] = Counter()
    for w in decided:
        if w["ack"]:
            acked[(w["registration"], w["write"], w["user"])] += 1
    for w in decided:
        key = (w["registration"], w["write"], w["user"])
        events = RegistrationEvent.objects.filter(
            registration_id=w["registration"],
            action=Event.STATE,
            to_state=w["write"],
            user_id=users[w["user"]],
        )
        if w["write"] == State.REJECTED:
            events = events.filter(reason=w["reason"])
        n = events.count()
        if w["ack"]:
            check.count(f"{w['write']} acknowledged")
            if n != 1:
                check.fail(f"{w['write']} {w['registration']} by {w['user']}: {n} events")
            state = Registration.objects.values_list("state", flat=True).get(pk=w["registration"])
            if state != w["write"]:
                check.fail(f"{w['write']} {w['registration']}: the registration is {state}")
        else:
            check.count(f"{w['write']} refused (decided by someone else first, say)")
            expected = acked[key] if w["write"] == State.APPROVED else 0
            if n != expected:
                check.fail(f"{w['write']} {w['registration']} by {w['user']}: refused, {n} events")
    touched = {w["registration"] for w in decided}
    twice = (
        RegistrationEvent.objects.filter(
            registration_id__in=touched,
            action=Event.STATE,
            to_state__in=[State.APPROVED, State.REJECTED],
        )
        .values("registration_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    for row in twice:
        check.fail(f"registration {row['registration_id']}: decided {row['n']} times")


def check_states(writes: list[dict], check: Check) -> None:
    touched = {w["registration"] for w in writes if w.get("registration")}
    latest: dict[int, str] = {}
    for registration_id, to_state in (
        RegistrationEvent.objects.filter(registration_id__in=touched)
        .exclude(to_state="")
        .order_by("at", "pk")
        .values_list("registration_id", "to_state")
    ):
        latest[registration_id] = to_state
    for pk, state in Registration.objects.filter(pk__in=touched).values_list("pk", "state"):
        if latest.get(pk) != state:
            check.fail(f"registration {pk}: state {state}, latest event says {latest.get(pk)}")
    check.count("registrations touched", len(touched))


def main() -> int:
    if len(sys.argv) != 2:
        sys.exit("usage: check_writes.py WRITES.jsonl")
    writes = load(Path(sys.argv[1]))
    runs = {w["run"] for w in writes}
    if len(runs) > 1:
        sys.exit(f"the log holds several runs: {sorted(runs)}")
    if not writes:
        sys.exit("the writes log is empty: the load test wrote nothing")
    (run,) = runs
    users = dict(
        get_user_model()
        .objects.filter(username__in={w["user"] for w in writes})
        .values_list("username", "pk")
    )
    check = Check()
    check_families(writes, check, run)
    check_registrations(writes, check, users)
    check_evidence(writes, check, users)
    check_decisions(writes, check, users)
    check_states(writes, check)
    out = io.StringIO()
    try:
        call_command("rollup", "--verify", stdout=out)
    except CommandError as exc:
        check.fail(f"rollup --verify: {exc}\n{out.getvalue()}")
    else:
        check.count("rollup --verify: no difference")

    print(f"Writes log: {len(writes)} writes of run {run}")
    for what, n in sorted(check.counts.items()):
        print(f"  {what}: {n}")
    if check.problems:
        print(f"WRITE CHECK FAILED: {len(check.problems)} problems")
        for problem in check.problems[:50]:
            print(f"  {problem}")
        return 1
    print("Write check passed: every acknowledged write stored exactly once, nothing half-written.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
