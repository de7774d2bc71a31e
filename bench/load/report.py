"""Print a load run's figures from every request: per page count, errors, p50/p95/p99, req/s.

python bench/load/report.py OUT/requests.jsonl

Reads the log the locustfile writes as each request ends (LOAD_REQUESTS), not locust's CSV:
the CSV is written when the run time is up, before the requests still in flight have drained
(one run's CSV counted 240 of 282 requests). The rate is requests over the span from the first
request's end to the last one's; logins are listed like any other request.
"""

from __future__ import annotations

import json
import math
import sys
from collections import defaultdict
from pathlib import Path


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of sorted values."""
    return values[max(0, math.ceil(share * len(values)) - 1)]


def main() -> int:
    records = [
        json.loads(line)
        for line in Path(sys.argv[1]).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    if not records:
        print("No request was recorded.")
        return 1
    span = max(r["at"] for r in records) - min(r["at"] for r in records) or 1.0
    by_name: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        by_name[record["name"]].append(record)
    width = max(len("All but the login"), *(len(name) for name in by_name))
    header = (
        f"{'request':<{width}} {'count':>7} {'fail':>5} {'p50':>6} {'p95':>6} {'p99':>6} "
        f"{'req/s':>6}"
    )
    print(header)
    print("-" * len(header))

    def line(name: str, group: list[dict]) -> None:
        times = sorted(r["ms"] for r in group)
        failed = sum(1 for r in group if r["error"])
        print(
            f"{name:<{width}} {len(group):>7} {failed:>5} {percentile(times, 0.50):>6.0f} "
            f"{percentile(times, 0.95):>6.0f} {percentile(times, 0.99):>6.0f} "
            f"{len(group) / span:>6.1f}"
        )

    for name in sorted(by_name):
        line(name, by_name[name])
    print("-" * len(header))
    line("All requests", records)
    line("All but the login", [r for r in records if "login" not in r["name"]])
    print(f"(times in ms; {span:.0f} s from the first request's end to the last one's)")
    errors: dict[tuple[str, str], int] = defaultdict(int)
    for record in records:
        if record["error"]:
            errors[(record["name"], record["error"])] += 1
    for (name, error), count in sorted(errors.items()):
        print(f"error: {name}: {error} × {count}")
    print(f"Errors: {sum(errors.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
