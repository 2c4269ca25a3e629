#!/usr/bin/env bash
# Photo ingest benchmark: one 12-megapixel JPEG into the thumbnail (320), page (1280) and print
# (2480) renditions, by Youde's pipeline and by libvips' `vipsthumbnail` (three runs, one per
# size), on this machine in one go. Prints the times, the ratio and the peak memory.
#
# Needs `vipsthumbnail` (Debian: apt-get install libvips-tools) and /usr/bin/time.
# Usage: bench/photos.sh [RUNS]   (default 7; medians are reported)
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-7}
for tool in vips vipsthumbnail /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install libvips-tools time" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A 4000×3000 (12 MP) test photo made here, not downloaded: smooth colour fields (Perlin noise at
# three scales) with sensor-like grain, saved at quality 90 like a camera's JPEG.
vips perlin "$work/r.v" 4000 3000 --cell-size 256
vips perlin "$work/g.v" 4000 3000 --cell-size 97
vips perlin "$work/b.v" 4000 3000 --cell-size 31
vips gaussnoise "$work/n.v" 4000 3000 --sigma 12 --mean 0
vips bandjoin "$work/r.v $work/g.v $work/b.v" "$work/rgb.v"
vips linear "$work/rgb.v" "$work/s.v" 110 128
vips add "$work/s.v" "$work/n.v" "$work/sn.v"
vips cast "$work/sn.v" "$work/c.v" uchar
vips copy "$work/c.v" "$work/photo.jpg[Q=90]"
photo="$work/photo.jpg"

echo "== building the ingest example and the server (release)"
cargo build --release --quiet --example photo_ingest --bin youde
ingest=target/release/examples/photo_ingest

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now_ms() { date +%s%N | awk '{printf "%.3f", $1/1e6}'; }

vips_once() {
  for size in 2480 1280 320; do
    vipsthumbnail "$photo" --size "$size" -o "$work/vips-$size.jpg[Q=85,strip]"
  done
}

echo "== input: $(vipsheader "$photo"), $(stat -c %s "$photo") bytes; $(nproc) cores; $(vips --version)"
"$ingest" "$photo" 1 | sed 's/^/   youde  /' | head -3
for size in 2480 1280 320; do
  vipsthumbnail "$photo" --size "$size" -o "$work/vips-$size.jpg[Q=85,strip]"
  echo "   vips   $(vipsheader "$work/vips-$size.jpg" | cut -d' ' -f2) $(stat -c %s "$work/vips-$size.jpg") bytes"
done

# Youde: one process, `runs` ingests (after one warm-up), median per ingest.
youde_ms=$("$ingest" "$photo" $((runs + 1)) | sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p')

# libvips: three vipsthumbnail processes per ingest, default threading and single-threaded.
vips_times() {
  vips_once
  for _ in $(seq "$runs"); do
    local start end
    start=$(now_ms); vips_once; end=$(now_ms)
    awk -v s="$start" -v e="$end" 'BEGIN {printf "%.1f\n", e - s}'
  done | median
}
vips_ms=$(vips_times)
vips1_ms=$(VIPS_CONCURRENCY=1 vips_times)
# What three process starts cost, so the comparison can leave them out.
start_ms=$( (for _ in $(seq "$runs"); do s=$(now_ms); for _ in 1 2 3; do vipsthumbnail --vips-version >/dev/null; done; e=$(now_ms); awk -v s="$s" -v e="$e" 'BEGIN {printf "%.1f\n", e - s}'; done) | median)

youde_kb=$( { /usr/bin/time -f "%M" "$ingest" "$photo" 1 >/dev/null; } 2>&1 | tail -1)
vips_kb=$( { /usr/bin/time -f "%M" vipsthumbnail "$photo" --size 2480 -o "$work/m.jpg[Q=85,strip]"; } 2>&1 | tail -1)

awk -v y="$youde_ms" -v v="$vips_ms" -v v1="$vips1_ms" -v st="$start_ms" -v yk="$youde_kb" -v vk="$vips_kb" 'BEGIN {
  printf "\n== 12 MP JPEG -> 2480 + 1280 + 320 px JPEG (medians of the runs)\n"
  printf "youde (1 thread, in process)              %7.1f ms\n", y
  printf "vipsthumbnail x3 (default threads)        %7.1f ms   ratio youde/vips  %.2f\n", v, y / v
  printf "vipsthumbnail x3 without 3 process starts %7.1f ms   ratio youde/vips  %.2f\n", v - st, y / (v - st)
  printf "vipsthumbnail x3 (VIPS_CONCURRENCY=1)     %7.1f ms   ratio youde/vips  %.2f\n", v1, y / v1
  printf "target: ratio <= 1.50 against the default-threads figure without process starts\n"
  printf "\npeak memory of one ingest: youde %.1f MB (whole process), vipsthumbnail 2480 px %.1f MB; target < 200 MB\n", yk / 1024, vk / 1024
}'

# The same upload through the real server: its peak memory (VmHWM) before and after.
port=$((20000 + RANDOM % 20000))
token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d " \n")  # serve refuses weak admin tokens
target/release/youde --bind "127.0.0.1:$port" --data-dir "$work/data" --media-dir "$work/media" \
  --admin-token "$token" --no-demo serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
hwm() { awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$server/status"; }
before=$(hwm)
activity=$(curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"title":"benchmark","date":"2019-08-30"}' "http://127.0.0.1:$port/api/v1/activities" | sed 's/.*"id":\([0-9]*\).*/\1/')
start=$(now_ms)
status=$(curl -s -o "$work/upload.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
  -F "file=@$photo" -F owner_kind=activity -F "owner_id=$activity" "http://127.0.0.1:$port/api/v1/photos")
end=$(now_ms)
after=$(hwm)
kill "$server"
awk -v b="$before" -v a="$after" -v s="$start" -v e="$end" -v st="$status" 'BEGIN {
  printf "server upload of the 12 MP JPEG: HTTP %s in %.0f ms; server peak RSS %.1f MB before, %.1f MB after (+%.1f MB)\n", st, e - s, b, a, a - b
}'
