# shellcheck shell=bash
# Debian's nginx as a test file server on loopback (sourced after harness.sh; the test runs in
# $T_TMP): nginx_start DEFAULT_TYPE SERVER_BLOCKS writes $T_TMP/nginx.conf (no daemon, one
# worker, every path under $T_TMP/nginx; user root when run as root, so it reads $T_TMP) with
# the given server { } blocks, starts it and tracks its PID. NGX is its prefix directory
# (access.log, error.log there). The caller waits for it to serve.
NGX=$T_TMP/nginx
nginx_start() {
  command -v nginx >/dev/null || { not_ok "nginx is not installed (deploy/install-deps.sh)"; finish; exit 1; }
  mkdir -p "$NGX"
  cat >"$T_TMP/nginx.conf" <<CONF
$( [ "$(id -u)" -eq 0 ] && echo "user root;" )
daemon off;
worker_processes 1;
pid $NGX/nginx.pid;
error_log $NGX/error.log;
events { worker_connections 64; }
http {
  access_log $NGX/access.log;
  client_body_temp_path $NGX/body; proxy_temp_path $NGX/proxy; fastcgi_temp_path $NGX/fcgi;
  uwsgi_temp_path $NGX/uwsgi; scgi_temp_path $NGX/scgi;
  default_type $1;
$2
}
CONF
  nginx -c "$T_TMP/nginx.conf" -p "$NGX" 2>"$T_TMP/nginx.log" &
  track_pid $!
}
