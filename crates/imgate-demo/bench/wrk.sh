#!/usr/bin/env bash
# Load-test the demo IM server alone, pinned to one core, with wrk (apt-get install wrk).
#
#   crates/imgate-demo/bench/wrk.sh [SECONDS] [CONNECTIONS]
#
# Builds the `serve` example in release mode, starts it on 127.0.0.1 with one worker thread
# pinned to core 0 (wrk runs on core 1), seeds 50 posts, and measures
# GET /api/v1/accounts/u-alice, GET /api/v1/timeline?limit=50 and POST /api/v1/posts.
# Besides wrk's wall-clock figures it prints the server's CPU time per request (from
# /proc/PID/stat), which stays meaningful on a shared, busy machine.
set -euo pipefail

DURATION="${1:-10}"
CONNECTIONS="${2:-32}"
PORT="${DEMO_BENCH_PORT:-18081}"
BASE="http://127.0.0.1:${PORT}"
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK="$(mktemp -d)"

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)" >&2; exit 1; }
(cd "$ROOT" && cargo build --release -q -p imgate-demo --example serve)

taskset -c 0 "$TARGET/release/examples/serve" "127.0.0.1:${PORT}" 1 2>"$WORK/serve.log" &
PID=$!
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do curl -sf -o /dev/null "$BASE/__demo/stats" && break; sleep 0.1; done

TOKEN=$(curl -sf -X POST "$BASE/api/v1/sessions" -d '{"username":"alice","password":"alice-pass"}' |
    sed -E 's/.*"token":"([^"]+)".*/\1/')
for i in $(seq 50); do
    curl -sf -o /dev/null -X POST "$BASE/api/v1/posts" -H "Authorization: Bearer $TOKEN" \
        -d "{\"title\":\"Post $i\",\"content\":\"Content of post number $i, long enough to look like a real message on a timeline.\",\"reprint\":{\"url\":\"https://example.com/$i\",\"source\":\"Example\"}}"
done

cat >"$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"title":"Bench","content":"A short post body used by the load benchmark.","category":null}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA

cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
run() {
    local name="$1"; shift
    local t0 t1 out reqs rps
    t0=$(cpu_ticks)
    out=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$@")
    t1=$(cpu_ticks)
    reqs=$(awk '/requests in/ {print $1}' <<<"$out")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    awk -v n="$name" -v r="$reqs" -v w="$rps" -v c="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" 'BEGIN {
        cpu = c / hz; if (cpu <= 0) cpu = 1 / hz;
        printf "%-28s %9d req  %9.0f req/s wall  %6.2f s server CPU  %6.1f us/req  => %7.0f req/s per core\n",
               n, r, w, cpu, cpu * 1e6 / r, r / cpu }'
}

run "GET account" "$BASE/api/v1/accounts/u-alice"
run "GET timeline?limit=50" "$BASE/api/v1/timeline?limit=50"
run "POST posts" -s "$WORK/post.lua" "$BASE/api/v1/posts"
