#!/usr/bin/env bash
# IN-01: sqlmap against a throwaway local Rapport (127.0.0.1 only, never a real server), signed in,
# at the settings that found a textbook SQLite injection where the defaults missed it (SECURITY D10):
# --dbms=sqlite --level=3 --risk=2. Not part of `make test` (minutes of CPU); run `make sqlmap`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
WORK=$(mktemp -d)
PORT=${SQLMAP_PORT:-5077}
mkdir -p test-artifacts
LOG=test-artifacts/sqlmap.log
: > "$LOG"
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
export DATABASE_URL="sqlite:///$WORK/sqlmap.db" PORTAL_ENV=development
$BIN/flask --app wsgi db upgrade heads >/dev/null
$BIN/flask --app wsgi demo-data >/dev/null
$BIN/flask --app wsgi run --host 127.0.0.1 --port "$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/login" && break; sleep 0.2; done

# Sign in as the demo clinic admin (a therapist) and as a guardian; keep each cookie jar.
sign_in() {  # $1 email, $2 jar
  local token
  token=$(curl -s -c "$2" -b "$2" "http://127.0.0.1:$PORT/login" | sed -n 's/.*name="csrf_token" type="hidden" value="\([^"]*\)".*/\1/p' | head -1)
  curl -s -o /dev/null -c "$2" -b "$2" --data-urlencode "csrf_token=$token" \
    --data-urlencode "email=$1" --data-urlencode "password=rapport-demo-2026" \
    -H "Referer: http://127.0.0.1:$PORT/login" "http://127.0.0.1:$PORT/login"
}
sign_in rivera@demo.rapport.test "$WORK/admin.jar"
sign_in ana@demo.rapport.test "$WORK/guardian.jar"
# A scan of the sign-in page alone would prove nothing: both sign-ins must have worked.
admin_code=$(curl -s -o /dev/null -w '%{http_code}' -b "$WORK/admin.jar" "http://127.0.0.1:$PORT/admin/data-requests")
family_to=$(curl -s -o /dev/null -w '%{redirect_url}' -b "$WORK/guardian.jar" "http://127.0.0.1:$PORT/family")
if [ "$admin_code" != 200 ] || [[ "$family_to" != */family/* ]]; then
  echo "sqlmap: signing in failed (admin HTTP $admin_code, family -> $family_to)"; exit 1
fi
cookie() { awk '$6 == "rapport_session" {print "rapport_session=" $7}' "$1"; }
CASE=$(curl -s -o /dev/null -w '%{redirect_url}' -b "$WORK/guardian.jar" "http://127.0.0.1:$PORT/family" | sed 's#.*/family/##')

FAILED=0
run() {  # $1 url, $2 cookie; fails unless sqlmap finished and found nothing
  local out="$WORK/run.log"
  $BIN/sqlmap --batch --dbms=sqlite --level=3 --risk=2 --threads=2 \
    --flush-session --output-dir="$WORK/out" --cookie="$2" --skip=rapport_session \
    --ignore-code=400,404,422 -u "$1" >"$out" 2>&1 || true
  cat "$out" >>"$LOG"
  if grep -qE "is vulnerable|might be injectable|appears to be '.*' injectable" "$out"; then
    echo "sqlmap: POSSIBLE INJECTION at $1 (see $LOG)"; FAILED=1
  elif grep -q "do not appear to be injectable" "$out"; then
    echo "sqlmap: $1: all tested parameters do not appear to be injectable"
  else
    echo "sqlmap: $1: did not finish (see $LOG)"; FAILED=1
  fi
}
run "http://127.0.0.1:$PORT/admin/data-requests?sort=requested&order=asc" "$(cookie "$WORK/admin.jar")"
run "http://127.0.0.1:$PORT/login?next=/family" "x=1"
run "http://127.0.0.1:$PORT/family/$CASE/data?x=1" "$(cookie "$WORK/guardian.jar")"
[ "$FAILED" = 0 ] || exit 1
echo "sqlmap: all tested parameters do not appear to be injectable"
