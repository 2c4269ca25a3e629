# Sourced by the page benchmarks (bench/pages.sh, bench/city.sh): wrk and Debian's nginx, installed
# when missing, a free loopback port, and nginx serving the HTML files under a folder.

if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light
fi

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# serve_files WORK PORT: nginx on 127.0.0.1:PORT serving WORK/www as HTML (index.html for folders),
# its pid in WORK/nginx.pid for the caller to stop.
serve_files() {
  local work=$1 port=$2
  mkdir -p "$work/nginx-tmp"
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
    listen 127.0.0.1:$port;
    root $work/www;
    location / { default_type "text/html; charset=utf-8"; index index.html; }
  }
}
CONF
  nginx -c "$work/nginx.conf" -p "$work"
  sleep 0.5
}
