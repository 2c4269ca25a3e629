#!/usr/bin/env bash
# Page benchmark: wrk against /people/sun-jianwei on the release build, versus Debian's nginx serving
# the same HTML bytes from a file — same machine, one run, same connections and duration. Prints the
# requests/s of both, the ratio and p99 latency. Targets: at least 0.5× nginx's throughput, p99 < 10 ms.
# With `writes`, it then reads the page again while bench/write_load.py creates residents and edits
# residents not on the page at 1, 10 and 100 writes/s, printing each rate's throughput and p99 beside
# the quiet figure (target at 10 writes/s: at least 0.8× quiet, p99 < 10 ms), and checks that a
# write to the page's own resident shows on the next request.
#   bench/pages.sh [seconds] [connections] [writes]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
connections=${2:-32}
with_writes=${3:-}
token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d " \n")  # serve refuses weak admin tokens

# wrk, nginx, free_port and serve_files.
. bench/nginx.sh
cargo build --release --quiet

work=$(mktemp -d)
app_port=$(free_port)
nginx_port=$(free_port)
YOUDE_DATA_DIR="$work/data" YOUDE_BIND="127.0.0.1:$app_port" YOUDE_ADMIN_PASSWORD="benchmark-password-1" \
  YOUDE_ADMIN_TOKEN="$token" \
  RUST_LOG=warn ./target/release/youde serve >"$work/app.log" 2>&1 &
app_pid=$!
trap 'kill $app_pid 2>/dev/null || true; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$app_port/readyz" >/dev/null && break; sleep 0.5; done
# Public residents who are not on the page, for the writes to edit (made before any measurement).
[ "$with_writes" = writes ] && python3 bench/write_load.py "$app_port" "$token" 0 0 /people/sun-jianwei

mkdir -p "$work/www/people/sun-jianwei"
curl -sf "http://127.0.0.1:$app_port/people/sun-jianwei" -o "$work/www/people/sun-jianwei/index.html"
serve_files "$work" "$nginx_port"

run() {
  wrk -t2 -c"$connections" -d"${duration}s" --latency "$1" >"$work/wrk.txt"
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
  echo "$rps $p99"
}
bytes=$(wc -c <"$work/www/people/sun-jianwei/index.html")
echo "page: /people/sun-jianwei, ${bytes} bytes; wrk -t2 -c${connections} -d${duration}s; $(nproc) cores"
read -r nginx_rps nginx_p99 < <(run "http://127.0.0.1:$nginx_port/people/sun-jianwei/")
read -r app_rps app_p99 < <(run "http://127.0.0.1:$app_port/people/sun-jianwei")
ratio=$(python3 -c "print(f'{$app_rps / $nginx_rps:.2f}')")
printf '%-8s %12s %10s\n' "" "requests/s" "p99"
printf '%-8s %12s %10s\n' "nginx" "$nginx_rps" "$nginx_p99"
printf '%-8s %12s %10s\n' "youde" "$app_rps" "$app_p99"
echo "ratio youde/nginx: ${ratio}x (target >= 0.5x); youde p99 ${app_p99} (target < 10ms)"

[ "$with_writes" = writes ] || exit 0
printf '\nwith writes elsewhere (half new residents without consent, half edits of residents not on the page)\n'
printf '%-14s %12s %10s %9s %14s\n' "writes/s" "requests/s" "p99" "x quiet" "writes done"
printf '%-14s %12s %10s %9s %14s\n' "0" "$app_rps" "$app_p99" "1.00" "-"
for rate in 1 10 100; do
  python3 bench/write_load.py "$app_port" "$token" "$rate" "$((duration + 1))" /people/sun-jianwei >"$work/writes.txt" &
  writer=$!
  sleep 0.5
  read -r rps p99 < <(run "http://127.0.0.1:$app_port/people/sun-jianwei")
  wait $writer
  read -r wrote failed <"$work/writes.txt"
  x=$(python3 -c "print(f'{$rps / $app_rps:.2f}')")
  printf '%-14s %12s %10s %9s %14s\n' "$rate" "$rps" "$p99" "$x" "$wrote ok, $failed failed"
done

# A write to the page's own resident shows on the very next request.
api="http://127.0.0.1:$app_port/api/v1"
sun=$(curl -sf -H "Authorization: Bearer $token" "$api/residents?limit=200" |
  python3 -c 'import json,sys; print(next(r["id"] for r in json.load(sys.stdin)["items"] if r["slug"] == "sun-jianwei"))')
curl -sf -D "$work/h.txt" -o "$work/sun.json" -H "Authorization: Bearer $token" "$api/residents/$sun"
etag=$(awk 'tolower($1) == "etag:" {print $2}' "$work/h.txt" | tr -d '\r')
marker="基准测试修订$(date +%s)"
python3 -c "import json,sys; r = json.load(open(sys.argv[1])); print(json.dumps({'name': r['name'], 'community_id': r['community_id'], 'citation': (r.get('citation') or '') + sys.argv[2]}))" \
  "$work/sun.json" "$marker" >"$work/put.json"
curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
  -H "If-Match: $etag" --data @"$work/put.json" "$api/residents/$sun"
curl -sf "http://127.0.0.1:$app_port/people/sun-jianwei" -o "$work/after.html"
if grep -q "$marker" "$work/after.html"; then
  echo "a write to the page's own resident: visible on the next request"
else
  echo "a write to the page's own resident: NOT visible on the next request"
fi
