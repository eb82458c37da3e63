#!/usr/bin/env bash
# The built payments-server refuses, at start-up, settings that cannot work
# or would leak a secret: each case below must exit with status 2 before the
# "started" line, print a message naming the setting, and print none of the
# secret parts of the value (on stdout or stderr). A valid configuration
# starts, as a control, so that a broken harness cannot pass.
#
# No emulator is needed: nothing here reaches Dojo.
#
# Usage: config_rejects_test.sh PAYMENTS_SERVER_BIN
set -euo pipefail

server_bin=$1
work=$(mktemp -d)
server_pid=""
checks=0

cleanup() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  # Kept for the whole-suite secrets scan (scripts/scan-secrets.sh).
  [ -n "${PAYMENTS_TEST_KEEP_DIRS:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

pass() { checks=$((checks + 1)); echo "ok   $*"; }
fail() {
  echo "FAIL $*" >&2
  for f in out err; do [ -f "$work/$f" ] && { echo "--- $f" >&2; cat "$work/$f" >&2; }; done
  exit 1
}

# The server with a valid baseline plus NAME=VALUE overrides, its output in
# $work/out and $work/err. Sets $status; gives up (status 124) after 10 s.
run_server() {
  run_server_with_args "$@" --
}

# The same with NAME=VALUE... -- ARG...: the ARGs go on the command line.
run_server_with_args() {
  local env=()
  while [ "$1" != -- ]; do env+=("$1"); shift; done
  shift
  set +e
  timeout 10 env -i PATH="$PATH" PAYMENTS_TLS=off DOJO_API_KEY=sk_sandbox_e2e_config \
    PAYMENTS_LISTEN_ADDR=127.0.0.1:0 PAYMENTS_METRICS_ADDR=127.0.0.1:0 \
    PAYMENTS_STORE="sqlite:$work/payments.db" "${env[@]}" \
    "$server_bin" "$@" > "$work/out" 2> "$work/err"
  status=$?
  set -e
}

# expect_refused NAME MESSAGE SECRET NAME=VALUE...: exit 2, MESSAGE on
# stderr, SECRET nowhere, no "started" line.
expect_refused() {
  local name=$1 message=$2 secret=$3
  shift 3
  if [[ " $* " == *" -- "* ]]; then run_server_with_args "$@"; else run_server "$@"; fi
  [ "$status" -eq 2 ] || fail "$name: exit status $status, expected 2"
  grep -qF -- "$message" "$work/err" || fail "$name: stderr lacks '$message'"
  if grep -qF -- "$secret" "$work/out" "$work/err"; then fail "$name: output leaks the secret"; fi
  if grep -q '"event":"started"' "$work/out"; then fail "$name: the server started"; fi
  pass "$name: exit 2, '$message'"
}

# A CA "bundle" that is not PEM, and one PEM block that is not a certificate.
printf 'not a certificate\n' > "$work/garbage.pem"
printf -- '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' > "$work/broken.pem"
printf 'old=whsec_E2EDUPSECRET\nnew=whsec_E2EDUPSECRET\n' > "$work/webhook-secrets"

expect_refused "userinfo in the Dojo URL" "DOJO_BASE_URL: must not contain credentials" \
  E2EURLPASS DOJO_BASE_URL=https://e2euser:E2EURLPASS@api.dojo.tech/
expect_refused "malformed webhook secret id" "DOJO_WEBHOOK_SECRETS: entry 2: the secret id" \
  E2EIDSECRET DOJO_WEBHOOK_SECRETS='a=whsec_fine,x+E2EIDSECRET=whsec_y'
expect_refused "bare base64 webhook secret" "DOJO_WEBHOOK_SECRETS: entry 1: the secret must be" \
  E2EBARE DOJO_WEBHOOK_SECRETS='c2VjE2EBAREcmV0=='
expect_refused "comment after a comma" "DOJO_WEBHOOK_SECRETS: entry 2: the secret id" \
  E2EHIDDEN DOJO_WEBHOOK_SECRETS='a=whsec_one,#b=whsec_E2EHIDDEN'
expect_refused "duplicate secret in the file" \
  "DOJO_WEBHOOK_SECRETS_FILE: entry 2 (line 2) repeats the secret of entry 1 (line 1)" \
  E2EDUPSECRET DOJO_WEBHOOK_SECRETS_FILE="$work/webhook-secrets"
expect_refused "plain http to a remote Dojo" "DOJO_BASE_URL: http:// is allowed only for a loopback host" \
  sk_sandbox_e2e_config DOJO_BASE_URL=http://api.dojo.tech
expect_refused "query in the Dojo URL" "DOJO_BASE_URL: must not have a query" \
  sk_sandbox_e2e_config 'DOJO_BASE_URL=https://api.dojo.tech/?x=1'
expect_refused "CA file that is not PEM" "DOJO_CA_FILE: expected a PEM file with at least one certificate" \
  "not a certificate" DOJO_CA_FILE="$work/garbage.pem"
expect_refused "CA file whose certificate does not parse" "DOJO_CA_FILE: expected a PEM file with certificates" \
  sk_sandbox_e2e_config DOJO_CA_FILE="$work/broken.pem"
expect_refused "client CA file that is not PEM" "PAYMENTS_TLS_CLIENT_CA_FILE: expected a PEM file" \
  "not a certificate" PAYMENTS_TLS_CLIENT_CA_FILE="$work/garbage.pem"
expect_refused "1ns default deadline" "PAYMENTS_DEFAULT_DEADLINE: expected a duration from 10ms" \
  sk_sandbox_e2e_config PAYMENTS_DEFAULT_DEADLINE=1ns
expect_refused "webhook limit above the gRPC message limit" "PAYMENTS_MAX_WEBHOOK_BYTES: expected a byte count" \
  sk_sandbox_e2e_config PAYMENTS_MAX_WEBHOOK_BYTES=16777216
expect_refused "sslmode=bogus (URL password)" "PAYMENTS_STORE: sslmode must be one of" \
  E2EPGPASS 'PAYMENTS_STORE=postgresql://u:E2EPGPASS@127.0.0.1:1/db?sslmode=bogus'
expect_refused "sslmode=bogus (password parameter)" "PAYMENTS_STORE: sslmode must be one of" \
  E2EPGPASS 'PAYMENTS_STORE=postgresql://u@127.0.0.1:1/db?password=E2EPGPASS&sslmode=bogus'
# Abseil's parser would exit 1 on these; a bad setting is exit 2, and the
# value given in the wrong place is never echoed.
expect_refused "misspelt flag" "unknown flag --dojo_base_ur (see --help)" \
  E2EFLAGVALUE -- --dojo_base_ur=https://E2EFLAGVALUE.example
expect_refused "flag that is environment-only" "unknown flag --dojo_api_key" \
  sk_sandbox_E2EONCMDLINE -- --dojo_api_key=sk_sandbox_E2EONCMDLINE
expect_refused "stray argument" "unexpected argument 1" \
  sk_sandbox_E2ESTRAY -- sk_sandbox_E2ESTRAY

# The control: the baseline with a loopback http URL and valid secrets
# starts, and its "started" line names the URL as given.
set +e
env -i PATH="$PATH" PAYMENTS_TLS=off DOJO_API_KEY=sk_sandbox_e2e_config \
  PAYMENTS_LISTEN_ADDR=127.0.0.1:0 PAYMENTS_METRICS_ADDR=127.0.0.1:0 \
  PAYMENTS_STORE="sqlite:$work/payments.db" DOJO_BASE_URL=http://127.0.0.1:9/ \
  DOJO_WEBHOOK_SECRETS='old=c2VjcmV0MQ==,new=PDYkJQq6sESYHp_zJuTTBQ' \
  "$server_bin" > "$work/out" 2> "$work/err" &
server_pid=$!
set -e
for _ in $(seq 100); do
  grep -q '"event":"started"' "$work/out" && break
  kill -0 "$server_pid" 2>/dev/null || fail "control: the valid configuration did not start"
  sleep 0.1
done
grep -q '"event":"started"' "$work/out" || fail "control: no started line"
grep '"event":"started"' "$work/out" | grep -qF '"dojo_base_url":"http://127.0.0.1:9"' ||
  fail "control: started line lacks the normalized URL"
grep '"event":"started"' "$work/out" | grep -qF '"webhook_secrets":2' ||
  fail "control: started line lacks the two webhook secrets"
pass "control: a valid configuration starts"
kill -TERM "$server_pid"
wait "$server_pid" || fail "control: exit status $? after SIGTERM"
server_pid=""

echo "config_rejects_test: $checks checks passed"
