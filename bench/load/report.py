"""Print a load run's figures from locust's CSV files: per page p50/p95/p99, requests/s, errors.

python bench/load/report.py OUT/locust      # reads OUT/locust_stats.csv, _failures.csv
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path


def main() -> int:
    prefix = sys.argv[1]
    with Path(f"{prefix}_stats.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    header = (
        f"{'request':<42} {'count':>7} {'fail':>5} {'p50':>6} {'p95':>6} {'p99':>6} {'req/s':>6}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        name = row["Name"] if row["Type"] in ("", "None") else f"{row['Type']} {row['Name']}"
        if row["Name"] == "Aggregated":
            print("-" * len(header))
        print(
            f"{name[:42]:<42} {row['Request Count']:>7} {row['Failure Count']:>5} "
            f"{row['50%']:>6} {row['95%']:>6} {row['99%']:>6} {float(row['Requests/s']):>6.1f}"
        )
    print("(times in ms)")
    failures = Path(f"{prefix}_failures.csv")
    total = 0
    if failures.exists():
        with failures.open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                total += int(row["Occurrences"])
                print(
                    f"error: {row['Method']} {row['Name']}: {row['Error']} × {row['Occurrences']}"
                )
    print(f"Errors: {total}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
