#!/usr/bin/env bash
# Load test: gunicorn with production settings on PostgreSQL, locust users for a fixed time,
# then the write check and the latency figures. See bench/RESULTS.md, "Load test".
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_hanoi bench/load/run.sh
#   DATABASE_URL=… USERS=100 STAFF=40 OFFICIALS=30 PUBLIC=10 VIEWERS=20 RUN_TIME=5m bench/load/run.sh
#
# The database must hold a province's data with this year's registration window open and
# registrations waiting for review (`make setup`, or load_divisions, load_criteria --defaults,
# load_targets --defaults, generate_demo). The script adds load-<role>-NN users (the `grant`
# command, new random passwords each run) and, through the pages, households with codes
# "LT<run id>-…", their registrations and evidence, approvals and rejections: run it on a
# database made for benchmarks, never on production.
#
# Settings as in production (DEBUG off, a random SECRET_KEY, ALLOWED_HOSTS=127.0.0.1,
# collectstatic and whitenoise's compressed manifest storage), except the HTTPS settings: the
# server is on plain HTTP on loopback (in production a TLS proxy stands in front).
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${DATABASE_URL:?set DATABASE_URL to the PostgreSQL database to load}"
case "$DATABASE_URL" in
  postgres://* | postgresql://*) ;;
  *) echo "The load test runs on PostgreSQL (DATABASE_URL=postgres://…)." >&2; exit 2 ;;
esac
VENV=${VENV:-.venv}
PY=$VENV/bin/python
# The load generator is an extra of its own (`pip install -e ".[load]"`): installed if missing.
[ -x "$VENV/bin/locust" ] || "$VENV/bin/pip" install -q -e ".[load]"
PROVINCE=${PROVINCE:-01}
USERS=${USERS:-50}
STAFF=${STAFF:-$((USERS * 2 / 5))}
OFFICIALS=${OFFICIALS:-$(((USERS - STAFF) / 2))}
# Logged-out users (the slip code page, programmes' public pages): a tenth unless VIEWERS is set.
if [ -n "${VIEWERS:-}" ]; then
  PUBLIC=${PUBLIC:-$((USERS - STAFF - OFFICIALS - VIEWERS))}
else
  PUBLIC=${PUBLIC:-$((USERS / 10))}
  VIEWERS=$((USERS - STAFF - OFFICIALS - PUBLIC))
fi
WARDS=${WARDS:-10}
RUN_TIME=${RUN_TIME:-2m}
SPAWN_RATE=${SPAWN_RATE:-1}  # users started (and logged in) per second
CORES=${CORES:-$(nproc)}
WORKERS=${WORKERS:-$((2 * CORES + 1))}
PORT=${PORT:-8765}
RUN=${RUN:-$(date +%y%m%d%H%M%S)}
OUT=${OUT:-bench/out/load-$RUN}
if [ $((STAFF + OFFICIALS + VIEWERS + PUBLIC)) -ne "$USERS" ]; then
  echo "STAFF + OFFICIALS + VIEWERS + PUBLIC must equal USERS ($USERS)." >&2
  exit 2
fi
mkdir -p "$OUT"
# A run id used again starts from empty logs (the report and the write check read them whole).
rm -f "$OUT/requests.jsonl" "$OUT/writes.jsonl"

export DEBUG=0 ALLOWED_HOSTS=127.0.0.1 LOG_LEVEL=WARNING STATIC_ROOT="$OUT/static"
export SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0 SECURE_HSTS_SECONDS=0
SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')
export SECRET_KEY

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $CORES cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), run $RUN"
"$PY" manage.py migrate --check >/dev/null || {
  echo "The database is not migrated to this release (manage.py migrate)." >&2
  exit 2
}
"$PY" manage.py collectstatic --noinput -v0
"$PY" bench/load/prepare.py --province "$PROVINCE" --staff "$STAFF" --officials "$OFFICIALS" \
  --viewers "$VIEWERS" --wards "$WARDS" --out "$OUT/accounts.json"

echo "== gunicorn, $WORKERS workers, 127.0.0.1:$PORT"
"$VENV/bin/gunicorn" learnsociety.wsgi --bind "127.0.0.1:$PORT" --workers "$WORKERS" \
  --timeout 120 --error-logfile "$OUT/gunicorn.log" &
GUNICORN=$!
stop_gunicorn() {
  if kill -0 "$GUNICORN" 2>/dev/null; then
    kill -TERM "$GUNICORN"
    wait "$GUNICORN" || true
  fi
}
trap stop_gunicorn EXIT
for _ in $(seq 1 60); do
  "$PY" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$PORT/accounts/login/', timeout=2)" \
    2>/dev/null && break
  kill -0 "$GUNICORN" 2>/dev/null || { echo "gunicorn did not start:" >&2; cat "$OUT/gunicorn.log" >&2; exit 1; }
  sleep 1
done

echo "== locust: $USERS users ($STAFF staff, $OFFICIALS officials, $VIEWERS viewers, $PUBLIC logged out) for $RUN_TIME"
locust_status=0
LOAD_ACCOUNTS="$OUT/accounts.json" LOAD_WRITES="$OUT/writes.jsonl" LOAD_RUN="$RUN" \
  LOAD_REQUESTS="$OUT/requests.jsonl" \
  LOAD_STAFF="$STAFF" LOAD_OFFICIALS="$OFFICIALS" LOAD_VIEWERS="$VIEWERS" LOAD_PUBLIC="$PUBLIC" \
  "$VENV/bin/locust" -f bench/load/locustfile.py --headless --host "http://127.0.0.1:$PORT" \
  --users "$USERS" --spawn-rate "$SPAWN_RATE" --run-time "$RUN_TIME" --stop-timeout 30 \
  --csv "$OUT/locust" --only-summary --loglevel WARNING >"$OUT/locust.log" 2>&1 || locust_status=$?
stop_gunicorn
trap - EXIT

echo "== latency per request (ms), every request including those that drained after the run"
"$PY" bench/load/report.py "$OUT/requests.jsonl" | tee "$OUT/report.txt"
echo "== write check"
check_status=0
"$PY" bench/load/check_writes.py "$OUT/writes.jsonl" | tee "$OUT/write-check.txt" || check_status=$?
echo "== files in $OUT (locust exit $locust_status: non-zero when any request failed)"
exit "$check_status"
