#!/usr/bin/env bash
# Search benchmark. Generates N (default 100,000) realistic residents into a fresh SQLite registry,
# measures the full index build (residents/s), starts the real server on it and measures the API's
# search latency (p50/p99) for a fixed query mix, and the server's memory. Prints figures with their
# ratio to the targets: p50 ≤ 5 ms, p99 ≤ 20 ms, build ≥ 5,000 residents/s.
#
#   bench/search.sh                     # embedded engine
#   N=20000 ROUNDS=50 bench/search.sh   # smaller
#   YOUDE_MEILI_URL=http://127.0.0.1:7700 YOUDE_MEILI_API_KEY=… bench/search.sh
#                                       # Meilisearch, plus the API's overhead over direct queries
#
# Only addresses on this machine are contacted; the server is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-100000}
ROUNDS=${ROUNDS:-100}
PORT=${PORT:-18089}
DIR=$(mktemp -d -t youde-bench-XXXXXX)
MEILI_INDEX=${YOUDE_MEILI_INDEX:-youde_bench}
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT

cargo build --release --quiet --bin youde --example search_bench
bench=target/release/examples/search_bench
youde=target/release/youde

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB; $N residents; data in $DIR"
"$bench" generate --data-dir "$DIR" --residents "$N"

meili_args=()
if [ -n "${YOUDE_MEILI_URL:-}" ]; then
  meili_args=(--meili-url "$YOUDE_MEILI_URL" --meili-index "$MEILI_INDEX")
  [ -n "${YOUDE_MEILI_API_KEY:-}" ] && meili_args+=(--meili-key "$YOUDE_MEILI_API_KEY")
  echo "== engine: Meilisearch at $YOUDE_MEILI_URL (index $MEILI_INDEX)"
else
  echo "== engine: embedded"
fi
"$bench" build --data-dir "$DIR" "${meili_args[@]}"

YOUDE_MEILI_INDEX=$MEILI_INDEX RUST_LOG=warn "$youde" serve --data-dir "$DIR" --bind "127.0.0.1:$PORT" \
  --no-demo --admin-token "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d " \n")" &
server=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "server did not start"; exit 1; }
sleep 1 # let the relay's first poll and the searcher warm-up settle
"$bench" query --url "http://127.0.0.1:$PORT" --pid "$server" --rounds "$ROUNDS" "${meili_args[@]}"
