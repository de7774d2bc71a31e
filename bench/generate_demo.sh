#!/usr/bin/env bash
# Benchmark: `generate_demo --province 01 --households N` on a fresh SQLite file and a fresh
# PostgreSQL database, wall-clock seconds of the command (process start to exit, commit included).
#
#   bench/generate_demo.sh                     # 100,000 households, both databases
#   HOUSEHOLDS=20000 DATABASES=sqlite bench/generate_demo.sh
#   PG_SERVER=postgres://postgres@127.0.0.1:5432 PG_DB=bench_demo bench/generate_demo.sh
#   WITH_TITLES=1 HOUSEHOLDS=2200000 DATABASES=postgresql bench/generate_demo.sh   # Hanoi, all of it
#
# Each database is dropped and recreated, migrated and given province 01's communes/wards
# (load_divisions, timed apart) before the timed run. The PostgreSQL database name must contain
# "bench" and the SQLite file must end in ".sqlite3": the bench deletes them.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
HOUSEHOLDS=${HOUSEHOLDS:-100000}
PROVINCE=${PROVINCE:-01}
SEED=${SEED:-1}
DATABASES=${DATABASES:-"sqlite postgresql"}
WITH_TITLES=${WITH_TITLES:-0}  # 1: the titles demo data too (registrations, decisions, summaries)
SQLITE_PATH=${SQLITE_PATH:-/tmp/learnsociety_bench_demo.sqlite3}
PG_SERVER=${PG_SERVER:-postgres://postgres@127.0.0.1:5432}
PG_DB=${PG_DB:-bench_demo}
export DEBUG=1  # as `make run` does; generate_demo writes through a cursor that does not log

now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

bench() {  # label database_url
  local label=$1 url=$2 t0 t1 t2
  export DATABASE_URL=$url
  "$PY" manage.py migrate --noinput -v0
  t0=$(now)
  "$PY" manage.py load_divisions --province "$PROVINCE" >/dev/null
  t1=$(now)
  # By default the registry only; WITH_TITLES=1 adds the titles demo data.
  local titles=--without-titles
  [[ $WITH_TITLES == 1 ]] && titles=
  "$PY" manage.py generate_demo --province "$PROVINCE" --households "$HOUSEHOLDS" --seed "$SEED" \
    $titles
  t2=$(now)
  printf '%s: load_divisions %s s, generate_demo (%s households%s) %s s wall, load %s\n\n' \
    "$label" "$(seconds "$t0" "$t1")" "$HOUSEHOLDS" "${titles:+, $titles}" \
    "$(seconds "$t1" "$t2")" "$(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$SUMMARY"
}

SUMMARY=$(mktemp)
trap 'rm -f "$SUMMARY"' EXIT
for db in $DATABASES; do
  case $db in
    sqlite)
      [[ $SQLITE_PATH == *.sqlite3 ]] || { echo "SQLITE_PATH must end in .sqlite3" >&2; exit 2; }
      rm -f "$SQLITE_PATH" "$SQLITE_PATH-wal" "$SQLITE_PATH-shm"
      bench "SQLite $("$PY" -c 'import sqlite3; print(sqlite3.sqlite_version)')" "sqlite:///$SQLITE_PATH"
      ;;
    postgresql)
      [[ $PG_DB == *bench* ]] || { echo "PG_DB must contain 'bench'" >&2; exit 2; }
      psql -q "$PG_SERVER/postgres" -c "DROP DATABASE IF EXISTS $PG_DB" -c "CREATE DATABASE $PG_DB"
      bench "PostgreSQL $(psql -Atq "$PG_SERVER/postgres" -c 'SHOW server_version')" "$PG_SERVER/$PG_DB"
      ;;
    *) echo "unknown database '$db' (sqlite, postgresql)" >&2; exit 2 ;;
  esac
done
echo "== summary ($(nproc) CPUs)"
cat "$SUMMARY"
