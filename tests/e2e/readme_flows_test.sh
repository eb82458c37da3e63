#!/usr/bin/env bash
# The README's payment flows, run as written so they cannot rot.
#
# Extracts every fenced block opened with ```sh flow from MARKDOWN and runs
# them in order, in one bash shell (set -euo pipefail), against a fresh
# stack configured like ./scripts/run-local.sh: the same webhook secret and
# a sandbox API key. Only the ports differ, so that the test can run beside
# other tests and a local run: paymentsctl's default target comes from
# PAYMENTSCTL_TARGET, and the server's address 127.0.0.1:50051 and the
# emulator's control URL http://127.0.0.1:8080 are rewritten to the real
# ports. The blocks run in a scratch directory with paymentsctl first on
# PATH and buf at tools/node_modules/.bin/buf, as from the repository root. The README calls the server with grpcurl, which Debian does not
# package: unless a grpcurl is on PATH, a grpcurl function (below) runs the
# same call with buf curl.
#
# Usage: readme_flows_test.sh MARKDOWN SERVER_BIN EMULATOR_BIN GEN_CERTS_SCRIPT CTL_BIN BUF_BIN
set -euo pipefail

markdown=$1 server_bin=$2 emulator_bin=$3 gen_certs=$4 ctl_bin=$5 buf_bin=$6
source "$(dirname "$0")/stack.sh"

# grpcurl's forms that the README uses, run with buf curl (gRPC over
# plaintext HTTP/2, schema by reflection):
#   grpcurl -plaintext [-d JSON|-d @] HOST:PORT SERVICE/METHOD
#   grpcurl -plaintext HOST:PORT list [SERVICE]
# buf curl prints the same proto JSON; errors are reported differently
# (JSON on stderr) but also as a non-zero exit.
if ! command -v grpcurl > /dev/null 2>&1; then
  grpcurl() {
    local plaintext="" data="" has_data="" addr
    local buf=("$E2E_BUF_BIN" curl --protocol grpc --http2-prior-knowledge)
    while [ $# -gt 0 ]; do
      case $1 in
        -plaintext) plaintext=1; shift ;;
        -d) [ $# -ge 2 ] || { echo "grpcurl: -d needs a value" >&2; return 2; }
            data=$2 has_data=1; shift 2 ;;
        -*) echo "grpcurl (buf curl stand-in): unsupported flag $1" >&2; return 2 ;;
        *) break ;;
      esac
    done
    [ -n "$plaintext" ] || { echo "grpcurl (buf curl stand-in): only -plaintext is supported" >&2; return 2; }
    [ $# -ge 2 ] || { echo "grpcurl (buf curl stand-in): want HOST:PORT and a method or list" >&2; return 2; }
    addr=$1; shift
    case $1 in
      list)
        if [ $# -ge 2 ]; then   # grpcurl lists a service's methods as SERVICE.METHOD
          "${buf[@]}" --list-methods "http://$addr" | { grep -F "$2/" || true; } | tr / .
        else
          "${buf[@]}" --list-services "http://$addr"
        fi ;;
      */*)
        [ $# -eq 1 ] || { echo "grpcurl (buf curl stand-in): unexpected arguments after $1" >&2; return 2; }
        if [ -z "$has_data" ]; then
          "${buf[@]}" "http://$addr/$1"
        elif [ "$data" = @ ]; then   # grpcurl's "-d @": the request on standard input
          "${buf[@]}" "http://$addr/$1" -d @-
        else
          "${buf[@]}" "http://$addr/$1" -d "$data"
        fi ;;
      *) echo "grpcurl (buf curl stand-in): unsupported: $*" >&2; return 2 ;;
    esac
  }
  export -f grpcurl
  export E2E_BUF_BIN=$buf_bin
fi

# --- the flow blocks, in order; each is preceded by a marker line so that
# a failure can be traced to its block.
awk '
  /^```sh flow[[:space:]]*$/ { inside = 1; n++; printf "echo \"--- flow block %d (line %d)\"\n", n, NR; next }
  inside && /^```[[:space:]]*$/ { inside = 0; next }
  inside { print }
' "$markdown" > "$work/flows.sh"
blocks=$(grep -c '^echo "--- flow block' "$work/flows.sh" || true)
[ "$blocks" -ge 12 ] || fail "found $blocks \`\`\`sh flow blocks in $markdown, want at least 9"

# --- a fresh stack, as run-local.sh configures it (see there).
e2e_start_emulator
e2e_start_server DOJO_API_KEY=sk_sandbox_local_demo_key DOJO_WEBHOOK_SECRETS=local=whsec_local_demo_secret

sed -i "s#http://127\.0\.0\.1:8080#http://127.0.0.1:$emulator_http#g" "$work/flows.sh"
sed -i "s#127\.0\.0\.1:50051#$target#g" "$work/flows.sh"
mkdir -p "$work/bin" "$work/run/tools/node_modules/.bin"
ln -s "$(realpath "$ctl_bin")" "$work/bin/paymentsctl"
# The blocks that show buf curl call it as the repository root has it.
ln -s "$(realpath "$buf_bin")" "$work/run/tools/node_modules/.bin/buf"

set +e
(cd "$work/run" &&
  PATH=$work/bin:$PATH PAYMENTSCTL_TARGET=127.0.0.1:$port \
  bash -euo pipefail "$work/flows.sh") > "$work/flows.out" 2>&1
code=$?
set -e
# RefreshClientSessionSecret's answer holds a client session secret: its
# shape is checked here, then it is redacted, so that no secret reaches the
# test's output or the files it leaves.
session_secret=no
grep -qE '"clientSessionSecret": *"[A-Za-z0-9_-]{100,}"' "$work/flows.out" && session_secret=yes
sed -i -E 's/("clientSessionSecret": *")[^"]*"/\1<redacted>"/g' "$work/flows.out"
cat "$work/flows.out"
[ $code -eq 0 ] || fail "the flows exited $code (see the last flow block above)"

# The flows' own checks ran under set -e; these confirm they reached the end.
grep -qx 'payments.v1.PaymentsService' "$work/flows.out" || fail "list: no payments.v1.PaymentsService"
grep -q '"status": *"SERVING"' "$work/flows.out" || fail "health Check: not SERVING"
grep -qx 'pi_sandbox_[A-Za-z0-9_-]*' "$work/flows.out" || fail "CreateIntent: no intent id"
[ "$session_secret" = yes ] || fail "RefreshClientSessionSecret: no secret"
grep -q '"paymentLink": *"https://' "$work/flows.out" || fail "CreatePaymentLink: no link"
grep -q '"id": *"evt_hnnHxIKR_Uy6bhZCusCltw"' "$work/flows.out" || fail "VerifyWebhook: docs vector not verified"
grep -q '^order Order-[0-9]* paid$' "$work/flows.out" || fail "checkout flow did not finish"
grep -q '^fulfil the order of pi_sandbox_' "$work/flows.out" || fail "webhook not handled"
grep -q '^duplicate evt_.*: ignored$' "$work/flows.out" || fail "duplicate webhook not ignored"
grep -q '^exit 16 ' "$work/flows.out" || fail "docs vector with another secret: want exit 16"
grep -q '^refunded 1500 of pi_sandbox_' "$work/flows.out" || fail "partial refund after two captures"
grep -q '^exit 9 (FAILED_PRECONDITION' "$work/flows.out" || fail "capture beyond the total: want exit 9"
grep -qx 'PAYMENT_INTENT_STATUS_REVERSED' "$work/flows.out" || fail "reverse: not REVERSED"
grep -q '^canceled pi_sandbox_.*: PAYMENT_INTENT_STATUS_CANCELED$' "$work/flows.out" || fail "cancel: not CANCELED"
grep -q '^exit 14 (OUTCOME_UNKNOWN' "$work/flows.out" || fail "lost refund answer: want exit 14"
grep -q '^refund rfnd_.*: refunded 2000 in all$' "$work/flows.out" || fail "lost refund not settled by calling again"
grep -qx 'the emulator holds 2 refunds' "$work/flows.out" || fail "a lost refund answer made a second refund"
echo "readme flows: $blocks blocks ran"
