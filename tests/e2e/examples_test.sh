#!/usr/bin/env bash
# The README's "Calling from other languages" commands, run as written.
#
# Extracts the fenced blocks opened with ```sh example-LANG from MARKDOWN
# (LANG: python, node, go or buf) and runs them in order, in one bash shell
# (set -euo pipefail), in a scratch copy of the repository's proto/,
# examples/ and buf files (generated stubs left out, so the blocks make
# their own), against a fresh stack configured like ./scripts/run-local.sh.
# As in readme_flows_test.sh, the server's address 127.0.0.1:50051 and the
# emulator's http://127.0.0.1:8080 are rewritten to the real ports. The
# examples exit non-zero when a flow or a decoded error detail is wrong;
# this script then checks that every flow reported ok and that the server's
# access log has each example's calls with their request ids. For python,
# node and go it then runs the ```sh example-LANG-mtls block against a
# second server with PAYMENTS_TLS=mtls (see the end of this script).
#
# Usage: examples_test.sh LANG MARKDOWN SERVER_BIN EMULATOR_BIN GEN_CERTS_SCRIPT REPO_ROOT
set -euo pipefail

lang=$1 markdown=$2 server_bin=$3 emulator_bin=$4 gen_certs=$5 repo=$6
source "$(dirname "$0")/stack.sh"

awk -v tag="$lang" '
  $0 ~ "^```sh example-" tag "[[:space:]]*$" { inside = 1; n++; printf "echo \"--- %s block %d (line %d)\"\n", tag, n, NR; next }
  inside && /^```[[:space:]]*$/ { inside = 0; next }
  inside { print }
' "$markdown" > "$work/blocks.sh"
blocks=$(grep -c '^echo "--- ' "$work/blocks.sh" || true)
[ "$blocks" -ge 1 ] || fail "no \`\`\`sh example-$lang block in $markdown"

# The scratch copy: sources only; node_modules (installed by
# scripts/install-deps.sh) is copied so that `npm install` has nothing to do.
mkdir -p "$work/repo"
cp -a "$repo/proto" "$repo/examples" "$repo/buf.yaml" "$repo/buf.gen.yaml" "$work/repo/"
rm -rf "$work/repo/examples/python/gen" "$work/repo/examples/go/gopath" \
  "$work/repo/examples/go/payments-example"
[ ! -d "$repo/tools" ] || ln -s "$repo/tools" "$work/repo/tools"

e2e_start_emulator
e2e_start_server DOJO_API_KEY=sk_sandbox_local_demo_key DOJO_WEBHOOK_SECRETS=local=whsec_local_demo_secret
sed -i "s#http://127\.0\.0\.1:8080#http://127.0.0.1:$emulator_http#g" "$work/blocks.sh"
sed -i "s#127\.0\.0\.1:50051#$target#g" "$work/blocks.sh"

set +e
(cd "$work/repo" && bash -euo pipefail "$work/blocks.sh") > "$work/blocks.out" 2>&1
code=$?
set -e
cat "$work/blocks.out"
[ $code -eq 0 ] || fail "the $lang blocks exited $code (see the last block above)"

# Every flow of every example run reported ok (the buf blocks run Python and Go).
runs=1
[ "$lang" != buf ] || runs=2
for flow in checkout invalid_argument reference_reused retry_info refund; do
  n=$(grep -cx "ok   $flow" "$work/blocks.out" || true)
  [ "$n" -eq "$runs" ] || fail "flow $flow reported ok $n times, want $runs"
done
pass "$lang: $runs example run(s), every flow ok"

# The server logged the examples' calls under their own request ids: the
# failures with their ErrorInfo reason (and Dojo's trace id), the successes
# as "rpc" lines.
prefix=$(case $lang in python) echo py ;; node) echo node ;; go) echo go ;; buf) echo py ;; esac)
# has_line FILTER: some access log line satisfies the jq FILTER ($p: the prefix).
has_line() { grep '^{' "$work/server.log" | jq -s -e --arg p "$prefix-" "any(.[]; $1)" > /dev/null; }
has_line '.event == "rpc" and .method == "GetIntent" and (.request_id | startswith($p)) and
  .code == "OK" and .account == "default"' || fail "no rpc line for a GetIntent with request id $prefix-*"
has_line '.event == "rpc_failed" and (.request_id | startswith($p)) and .code == "ALREADY_EXISTS" and
  .reason == "REFERENCE_REUSED"' || fail "no rpc_failed line with reason REFERENCE_REUSED"
has_line '.event == "rpc" and .method == "RefundIntent" and (.request_id | startswith($p)) and
  .code == "OK"' || fail "no rpc line for a RefundIntent with request id $prefix-*"
has_line '.event == "rpc_failed" and .method == "RefundIntent" and (.request_id | startswith($p)) and
  .code == "ALREADY_EXISTS" and .reason == "REFUND_KEY_REUSED"' ||
  fail "no rpc_failed line with reason REFUND_KEY_REUSED"
has_line '.event == "rpc_failed" and (.request_id | startswith($p)) and .code == "RESOURCE_EXHAUSTED" and
  .reason == "DOJO_RATE_LIMITED" and (.dojo_trace_id | length > 0)' ||
  fail "no rpc_failed line with Dojo's trace id"
pass "$lang: the access log has the calls, reasons and Dojo's trace id"
# Over mutual TLS (python, node, go): the README's ```sh example-LANG-mtls
# block, run once against a second server of the same stack with
# PAYMENTS_TLS=mtls, a client certificate from gen-test-certs.sh and a policy
# allowing only that caller. The block's run/certs/ is the test's
# certificates; 127.0.0.1:50052 the second server.
if [ "$lang" != buf ]; then
  awk -v tag="$lang-mtls" '
    $0 ~ "^```sh example-" tag "[[:space:]]*$" { inside = 1; n++; printf "echo \"--- %s block %d (line %d)\"\n", tag, n, NR; next }
    inside && /^```[[:space:]]*$/ { inside = 0; next }
    inside { print }
  ' "$markdown" > "$work/mtls-blocks.sh"
  [ "$(grep -c '^echo "--- ' "$work/mtls-blocks.sh" || true)" -eq 1 ] ||
    fail "want one \`\`\`sh example-$lang-mtls block in $markdown"
  "$gen_certs" "$work/certs" example > /dev/null
  caller=spiffe://payments.test/ns/test/sa/example
  jq -n --arg c "$caller" '{callers: {($c): {rpcs: ["*"], accounts: ["*"]}}}' > "$work/policy.json"
  plain_target=$target
  server_name=mtls e2e_start_server DOJO_API_KEY=sk_sandbox_local_demo_key \
    PAYMENTS_TLS=mtls PAYMENTS_TLS_CERT_FILE="$work/certs/server.pem" \
    PAYMENTS_TLS_KEY_FILE="$work/certs/server.key" \
    PAYMENTS_TLS_CLIENT_CA_FILE="$work/certs/client-ca.pem" PAYMENTS_POLICY_FILE="$work/policy.json"
  mtls_target=$target target=$plain_target
  sed -i -E "s#(\.\./)*run/certs/#$work/certs/#g" "$work/mtls-blocks.sh"
  sed -i "s#http://127\.0\.0\.1:8080#http://127.0.0.1:$emulator_http#g" "$work/mtls-blocks.sh"
  sed -i "s#127\.0\.0\.1:50052#$mtls_target#g" "$work/mtls-blocks.sh"
  set +e
  (cd "$work/repo" && bash -euo pipefail "$work/mtls-blocks.sh") > "$work/mtls.out" 2>&1
  code=$?
  set -e
  cat "$work/mtls.out"
  [ $code -eq 0 ] || { tail -n 20 "$work/mtls.log" >&2; fail "the $lang-mtls block exited $code"; }
  for flow in checkout invalid_argument reference_reused retry_info refund; do
    grep -qx "ok   $flow" "$work/mtls.out" || fail "over mTLS, flow $flow did not report ok"
  done
  grep '^{' "$work/mtls.log" | jq -s -e --arg p "$prefix-" --arg c "$caller" \
    'any(.[]; .event == "rpc" and .method == "RefundIntent" and .caller == $c and
      (.request_id | startswith($p)))' > /dev/null ||
    fail "the mTLS server logged no RefundIntent from $caller"
  pass "$lang over mutual TLS: every flow ok, calls logged as caller $caller"
fi
echo "examples ($lang): $checks checks passed"
