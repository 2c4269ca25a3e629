#!/usr/bin/env bash
# Browser tests: the real server (debug build) on a fresh SQLite database with the demo data, driven
# by headless Chromium through chromedriver: the public pages, then the staff console end to end,
# then certificates issued in the console and verified from their QR codes, then roster imports in
# the console.
# Screenshots land in target/browser-artifacts/.
# Needs: chromium, chromium-driver, libzbar0, poppler-utils, a CJK font (Debian) and the
# selenium, pyzbar and pillow Python packages (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/../.."
# With the certificate PDFs: the certificate test reads their QR codes and keeps them as PNG.
cargo build --quiet --features pdf --bin youde
work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token="browser-test-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
YOUDE_ADMIN_TOKEN="$token" YOUDE_DATA_DIR="$work" YOUDE_BIND="127.0.0.1:$port" \
  YOUDE_PUBLIC_URL="http://127.0.0.1:$port" RUST_LOG=warn ./target/debug/youde serve >"$work/server.log" 2>&1 &
pid=$!
# The server may still be writing its search index as it shuts down: wait for it, then remove.
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work" || true' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.5
done
export YOUDE_URL="http://127.0.0.1:$port" YOUDE_TOKEN="$token" ARTIFACTS=target/browser-artifacts \
  YOUDE_DB="$work/youde.db"
status=0
python3 tests/browser/test_pages.py || status=1
python3 tests/browser/test_console.py || status=1
python3 tests/browser/test_certificates.py || status=1
python3 tests/browser/test_imports.py || status=1
exit $status
