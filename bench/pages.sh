#!/usr/bin/env bash
# Page benchmark: wrk against /people/sun-jianwei on the release build, versus Debian's nginx serving
# the same HTML bytes from a file — same machine, one run, same connections and duration. Prints the
# requests/s of both, the ratio and p99 latency. Targets: at least 0.5× nginx's throughput, p99 < 10 ms.
#   bench/pages.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
connections=${2:-32}

if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light
fi
cargo build --release --quiet

work=$(mktemp -d)
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
app_port=$(free_port)
nginx_port=$(free_port)
YOUDE_DATA_DIR="$work/data" YOUDE_BIND="127.0.0.1:$app_port" YOUDE_ADMIN_PASSWORD="benchmark-password-1" \
  RUST_LOG=warn ./target/release/youde serve >"$work/app.log" 2>&1 &
app_pid=$!
trap 'kill $app_pid 2>/dev/null || true; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$app_port/readyz" >/dev/null && break; sleep 0.5; done

mkdir -p "$work/www/people/sun-jianwei" "$work/nginx-tmp"
curl -sf "http://127.0.0.1:$app_port/people/sun-jianwei" -o "$work/www/people/sun-jianwei/index.html"
cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx-tmp; proxy_temp_path $work/nginx-tmp; fastcgi_temp_path $work/nginx-tmp;
  uwsgi_temp_path $work/nginx-tmp; scgi_temp_path $work/nginx-tmp;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/www;
    location / { default_type "text/html; charset=utf-8"; index index.html; }
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work"
sleep 0.5

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
