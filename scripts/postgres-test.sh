#!/usr/bin/env bash
# A throwaway PostgreSQL for tests, from Debian's postgresql package.
#
#   postgres-test.sh start DIR [PORT|auto]   prints postgresql://postgres@127.0.0.1:PORT/payments_test
#   postgres-test.sh stop DIR                pg_ctl stop -m fast (by the PID in DIR/data)
#   postgres-test.sh url DIR                 prints the URL again
#
# DIR holds the cluster (DIR/data), its log (DIR/postgres.log) and port
# (DIR/port). `start` on an existing DIR restarts the same cluster on the same
# port (for outage tests). The server listens on 127.0.0.1 only, trusts local
# connections (test use only), has no Unix socket, and runs as the `postgres`
# user when this script runs as root (PostgreSQL refuses to run as root).
# Nothing is ever stopped by name: only through pg_ctl and the cluster's own
# postmaster.pid.
set -euo pipefail

usage() {
  echo "usage: $0 start DIR [PORT|auto] | stop DIR | url DIR" >&2
  exit 2
}

pg_bin() {
  if [[ -n "${PG_BIN:-}" ]]; then
    echo "$PG_BIN"
    return
  fi
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [[ -z "$dir" || ! -x "$dir/pg_ctl" ]]; then
    echo "postgres-test: no PostgreSQL server binaries (apt-get install postgresql)" >&2
    exit 1
  fi
  echo "$dir"
}

# Runs a command as the cluster's owner.
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Below Linux's ephemeral range (32768+), where outgoing connections could
# hold the port between this check and the server's bind.
pick_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 12000))
    if ! port_in_use "$port"; then
      echo "$port"
      return
    fi
  done
  echo "postgres-test: no free port found" >&2
  exit 1
}

url_of() {
  echo "postgresql://postgres@127.0.0.1:$(cat "$1/port")/payments_test"
}

cmd_start() {
  local dir="$1" port="${2:-auto}" bin
  bin="$(pg_bin)"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if [[ "$(id -u)" == 0 ]]; then
    chown postgres: "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      echo "postgres-test: $dir is not reachable by the postgres user" >&2
      exit 1
    fi
  fi
  local picked=0
  if [[ "$port" == auto ]]; then
    if [[ -s "$dir/port" ]]; then port="$(cat "$dir/port")"; else port="$(pick_port)"; picked=1; fi
  fi
  if [[ ! "$port" =~ ^[0-9]+$ ]]; then usage; fi

  local fresh=0
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    fresh=1
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust \
      --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      exit 1
    }
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 50
fsync = off
full_page_writes = off
synchronous_commit = off
CONF
  fi
  if [[ "$fresh" == 0 ]] && as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    url_of "$dir"  # Already running.
    return 0
  fi
  # -o sets the port for this start; -w waits until it accepts connections.
  # A port this script picked may be taken between the check and the bind:
  # then it picks another, a few times.
  local attempt
  for attempt in 1 2 3 4 5; do
    echo "$port" >"$dir/port"
    chmod a+r "$dir/port"
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
      -o "-p $port" start >/dev/null; then
      break
    fi
    if [[ "$picked" == 1 && "$attempt" -lt 5 ]] &&
      tail -n 5 "$dir/postgres.log" | grep -q "could not bind"; then
      port="$(pick_port)"
      continue
    fi
    tail -n 20 "$dir/postgres.log" >&2 || true
    exit 1
  done
  if [[ "$fresh" == 1 ]]; then
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres payments_test
  fi
  url_of "$dir"
}

cmd_stop() {
  local dir="$1" bin
  bin="$(pg_bin)"
  if [[ ! -f "$dir/data/postmaster.pid" ]]; then
    echo "postgres-test: not running in $dir" >&2
    return 0
  fi
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null
}

[[ $# -ge 2 ]] || usage
case "$1" in
  start) [[ $# -le 3 ]] || usage; cmd_start "$2" "${3:-auto}" ;;
  stop) [[ $# -eq 2 ]] || usage; cmd_stop "$2" ;;
  url) [[ $# -eq 2 ]] || usage; url_of "$2" ;;
  *) usage ;;
esac
