#!/usr/bin/env bash
# Pages at registry scale: a fresh SQLite registry of N residents (default 40,000; 7 in 8 with a
# profile consent, 1 in 4 with a service record, 1 in 20 honoured), written straight into the
# database, then the release server's first (uncached) answer for the home page, the recognitions
# API, the community page, the sitemap and 200 random profile pages. Prints figures; fails nothing.
#   bench/scale.sh [residents]
set -euo pipefail
cd "$(dirname "$0")/.."
residents=${1:-40000}
cargo build --release --quiet

work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_server() {
  YOUDE_DATA_DIR="$work/data" YOUDE_MEDIA_DIR="$work/media" YOUDE_BIND="127.0.0.1:$port" \
    YOUDE_ADMIN_PASSWORD="benchmark-password-1" RUST_LOG=warn \
    ./target/release/youde serve >>"$work/app.log" 2>&1 &
  app_pid=$!
  for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return; sleep 0.5; done
  echo "server did not start" >&2; cat "$work/app.log" >&2; exit 1
}
trap 'kill $app_pid 2>/dev/null || true; rm -rf "$work"' EXIT
# First start: schema, categories, the first admin. Then the registry, written while it is down.
start_server
kill $app_pid; wait $app_pid 2>/dev/null || true
python3 - "$work/data/youde.db" "$residents" <<'PY'
import sqlite3, sys, time
db, n = sqlite3.connect(sys.argv[1]), int(sys.argv[2])
now = "2026-11-30T08:00:00+00:00"
t0 = time.perf_counter()
c = db.cursor()
c.execute("INSERT INTO communities (name, kind, parent_id, slug, version, created_at, updated_at) "
          "VALUES ('长寿路街道', 'subdistrict', NULL, 'chang-shou-lu-jie-dao', 1, ?, ?)", (now, now))
community = c.lastrowid
user = c.execute("SELECT MIN(id) FROM users").fetchone()[0]
category = c.execute("SELECT MIN(id) FROM categories").fetchone()[0]
surnames, given = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗", "建伟秀英明华国强丽娟志军海燕桂芳玉兰"
first = (c.execute("SELECT COALESCE(MAX(id), 0) FROM residents").fetchone()[0] or 0) + 1
c.executemany(
    "INSERT INTO residents (id, name, pinyin, slug, community_id, citation, version, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, '热心社区服务。', 1, ?, ?)",
    [(first + i, surnames[i % len(surnames)] + given[i % len(given)] + given[(i // len(given)) % len(given)], f"bench {i}", f"bench-{i}",
      community, now, now) for i in range(n)])
c.executemany(
    "INSERT INTO consents (resident_id, scope, text_version, signed_on, recorded_by, created_at) "
    "VALUES (?, 'profile', 'v1', '2019-09-01', 'bench', ?)",
    [(first + i, now) for i in range(n) if i % 8 != 7])
c.executemany(
    "INSERT INTO service_records (resident_id, kind, title, start_date, unpaid, measures, recorded_by, "
    "version, created_at, updated_at) VALUES (?, 'role', '楼组长', '2007', 1, '[]', 'bench', 1, ?, ?)",
    [(first + i, now, now) for i in range(0, n, 4)])
for i in range(7, n, 20):
    c.execute("INSERT INTO nominations (resident_id, category_id, honour_title, year, citation, "
              "nominator_id, state, version, created_at, updated_at) VALUES (?, ?, '有德之士', ?, '推荐理由', "
              "?, 'recognised', 1, ?, ?)", (first + i, category, 2010 + i % 10, user, now, now))
    c.execute("INSERT INTO recognitions (nomination_id, resident_id, category_id, title, year, citation, "
              "recognised_on, recognised_by, version, created_at) VALUES (?, ?, ?, '有德之士', ?, '推荐理由', "
              "'2019-09-30', ?, 1, ?)", (c.lastrowid, first + i, category, 2010 + i % 10, user, now))
db.commit()
print(f"registry: {n} residents written in {time.perf_counter() - t0:.1f} s")
PY
start_server
python3 - "$port" "$residents" <<'PY'
import random, statistics, sys, time, urllib.request
port, n = sys.argv[1], int(sys.argv[2])
def get(path):
    t = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as r:
        status, size = r.status, len(r.read())
    return status, size, (time.perf_counter() - t) * 1000
for path in ["/", "/api/v1/recognitions?limit=50", "/api/v1/residents?limit=50",
             "/communities/chang-shou-lu-jie-dao", "/sitemap.xml", "/sitemaps/people-0.xml", "/notices"]:
    status, size, ms = get(path)
    print(f"{path:45} {status}  {size:>9} bytes  {ms:7.1f} ms (first, uncached)")
public = [i for i in range(n) if i % 8 != 7]
times = sorted(get(f"/people/bench-{i}")[2] for i in random.sample(public, 200))
print(f"/people/{{slug}} x200 uncached: p50 {statistics.median(times):.1f} ms, "
      f"p99 {times[int(len(times) * 0.99) - 1]:.1f} ms, max {times[-1]:.1f} ms")
PY
