#!/usr/bin/env bash
# The README's first command, ./scripts/run-local.sh, as a user runs it.
#
# Twice (stopped once with SIGINT, as Ctrl-C does, once with SIGTERM):
# starts scripts/run-local.sh in the background on free ports (GRPC_PORT,
# METRICS_PORT, EMULATOR_HTTPS_PORT, EMULATOR_HTTP_PORT) with its state in a
# scratch RUN_DIR, waits for the server's "started" log line, runs the
# buf curl example the script prints (taken from its output, not retyped)
# and checks that it returns an intent, then signals the script by its PID
# and checks that the script, the server and the emulator it started (their
# PIDs from RUN_DIR/server.pid and RUN_DIR/emulator.pid) are all gone.
#
# After a build, run-local.sh must start at once: it says that the build is
# current and skips install-deps.sh and build.sh; it prints how to stop it.
#
# Usage: run_local_test.sh REPO_ROOT
set -euo pipefail

repo=$(cd "$1" && pwd)
work=$(mktemp -d)
rl_pid="" server_pid="" emulator_pid=""
checks=0

# Every process below run-local.sh (build, server, emulator), by PID.
descendants() {
  local pid child
  for pid in "$@"; do
    # shellcheck disable=SC2013  # the file is space-separated PIDs
    for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
      echo "$child"
      descendants "$child"
    done
  done
}
cleanup() {
  local pids pid
  pids="$server_pid $emulator_pid"
  if [ -n "$rl_pid" ]; then pids="$pids $(descendants "$rl_pid") $rl_pid"; fi
  for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
  [ -z "$rl_pid" ] || wait "$rl_pid" 2>/dev/null || true
  # Kept for the whole-suite secrets scan (scripts/scan-secrets.sh).
  [ -n "${PAYMENTS_TEST_KEEP_DIRS:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pass() { checks=$((checks + 1)); echo "ok   $*"; }
fail() {
  echo "FAIL $*" >&2
  echo "--- run-local.sh output (tail)" >&2; tail -n 40 "$work/out" >&2 2>/dev/null || true
  exit 1
}
wait_for() {  # wait_for SECONDS COMMAND...
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' /proc/"$1"/status 2>/dev/null; }
gone() { ! alive "$1"; }
parent_of() { awk '{print $4}' /proc/"$1"/stat 2>/dev/null; }

# Four ports free now (held together, so that they differ), none of them
# run-local.sh's defaults.
free_ports() {
  python3 -c '
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
'
}

# run_once SIGNAL: one start, call and stop of run-local.sh.
run_once() {
  local sig=$1 state=$work/run-$1 grpc metrics https http example status
  read -r grpc metrics https http <<< "$(free_ports)"
  mkdir -p "$state"
  : > "$work/out"
  # Job control, so that the script does not start with SIGINT ignored (as
  # background jobs of a non-interactive shell do): Ctrl-C must reach it.
  set -m
  GRPC_PORT=$grpc METRICS_PORT=$metrics EMULATOR_HTTPS_PORT=$https \
    EMULATOR_HTTP_PORT=$http RUN_DIR=$state \
    "$repo/scripts/run-local.sh" > "$work/out" 2>&1 < /dev/null &
  rl_pid=$!
  set +m

  local deadline=$((SECONDS + 240))
  until grep -q '"event":"started"' "$work/out"; do
    alive "$rl_pid" || fail "run-local.sh ($sig run) exited before the server started"
    [ $SECONDS -lt $deadline ] || fail "no \"started\" line from the server in 240 s"
    sleep 0.2
  done
  [ "$(grep -m1 '"event":"started"' "$work/out" | jq -r .port)" = "$grpc" ] ||
    fail "the server did not start on GRPC_PORT=$grpc"
  pass "$sig run: run-local.sh started the server on GRPC_PORT=$grpc"
  grep -q '^run-local: the build is current; starting at once' "$work/out" ||
    fail "run-local.sh did not start at once after a build"
  grep -q "^Stop both with Ctrl-C here, or from another terminal: kill $rl_pid\$" "$work/out" ||
    fail "run-local.sh did not say how to stop it"
  pass "$sig run: started at once (build current) and said how to stop it"

  server_pid=$(cat "$state/server.pid") emulator_pid=$(cat "$state/emulator.pid")
  [ "$(parent_of "$server_pid")" = "$rl_pid" ] || fail "server.pid $server_pid is not a child of run-local.sh"
  [ "$(parent_of "$emulator_pid")" = "$rl_pid" ] || fail "emulator.pid $emulator_pid is not a child of run-local.sh"
  pass "$sig run: server ($server_pid) and emulator ($emulator_pid) are run-local.sh's children"

  # The example as printed: from its "  ... buf curl" line to the first line
  # not continued by a backslash.
  example=$(awk '
    !inside && /^  .*buf curl / { inside = 1 }
    inside { print; if ($0 !~ /\\$/) exit }
  ' "$work/out")
  [ -n "$example" ] || fail "no buf curl example in run-local.sh's output"
  grep -q "127.0.0.1:$grpc/payments.v1.PaymentsService/CreateIntent" <<< "$example" ||
    fail "the example does not call CreateIntent on 127.0.0.1:$grpc: $example"
  # Run from the repository root, as a user would (the buf path is relative).
  (cd "$repo" && bash -euo pipefail -c "$example") > "$work/example.out" 2> "$work/example.err" ||
    { cat "$work/example.err" >&2; fail "the printed example failed"; }
  jq -e '.intent.id | startswith("pi_sandbox_")' "$work/example.out" > /dev/null ||
    { cat "$work/example.out" >&2; fail "the printed example returned no intent"; }
  pass "$sig run: the printed example created $(jq -r .intent.id "$work/example.out")"

  kill -"$sig" "$rl_pid"
  set +e
  wait "$rl_pid"
  status=$?
  set -e
  rl_pid_done=$rl_pid rl_pid=""
  case $status in
    130 | 143) ;;
    *) fail "run-local.sh exited $status after SIG$sig, want 130 (INT) or 143 (TERM)" ;;
  esac
  gone "$rl_pid_done" || fail "run-local.sh ($rl_pid_done) still runs after SIG$sig"
  # The script waits for both before it exits; allow for a slow drain anyway.
  wait_for 30 gone "$server_pid" || fail "server ($server_pid) still runs after SIG$sig to run-local.sh"
  wait_for 30 gone "$emulator_pid" || fail "emulator ($emulator_pid) still runs after SIG$sig to run-local.sh"
  if [ -e "$state/server.pid" ] || [ -e "$state/emulator.pid" ]; then fail "PID files left in RUN_DIR"; fi
  grep -q '"event":"stopped"' "$work/out" || fail "the server did not log \"stopped\" (no clean drain)"
  server_pid="" emulator_pid=""
  pass "$sig run: SIG$sig to run-local.sh stopped the server and the emulator (exit $status)"
}

run_once INT
run_once TERM
echo "run-local: $checks checks passed"
