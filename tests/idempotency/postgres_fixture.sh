#!/usr/bin/env bash
# ctest fixture around scripts/postgres-test.sh:
#   postgres_fixture.sh setup STATE SCRIPT     start a cluster in a fresh temp dir
#   postgres_fixture.sh cleanup STATE SCRIPT   stop it (pg_ctl, by PID) and remove it
# STATE (in the build tree) receives `url` (the database URL) and `dir` (the
# temp dir; the cluster is in dir/cluster), read by the tests.
set -euo pipefail
[[ $# -eq 3 ]] || { echo "usage: $0 setup|cleanup STATE SCRIPT" >&2; exit 2; }
action="$1" state="$2" script="$3"

remove_cluster() {
  local dir
  [[ -s "$state/dir" ]] || return 0
  dir="$(cat "$state/dir")"
  "$script" stop "$dir/cluster" || true
  # Only ever a directory this script made.
  case "$(basename "$dir")" in
    payments-pg.*) rm -rf -- "$dir" ;;
  esac
  rm -f "$state/dir" "$state/url"
}

case "$action" in
  setup)
    remove_cluster  # Left over by an interrupted run.
    mkdir -p "$state"
    dir="$(mktemp -d "${TMPDIR:-/tmp}/payments-pg.XXXXXX")"
    chmod 755 "$dir"  # The server runs as `postgres` and must reach it.
    echo "$dir" >"$state/dir"
    "$script" start "$dir/cluster" auto >"$state/url.tmp"
    mv "$state/url.tmp" "$state/url"
    cat "$state/url"
    ;;
  cleanup)
    remove_cluster
    ;;
  *)
    echo "usage: $0 setup|cleanup STATE SCRIPT" >&2
    exit 2
    ;;
esac
