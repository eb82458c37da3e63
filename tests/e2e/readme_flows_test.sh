#!/usr/bin/env bash
# The README's payment flows, run as written so they cannot rot.
#
# Extracts every fenced block opened with ```sh flow from MARKDOWN and runs
# them in order, in one bash shell (set -euo pipefail), against a fresh
# stack configured like ./scripts/run-local.sh: the same webhook secret and
# a sandbox API key. Two things differ, both on ports, so that the test can
# run beside other tests and a local run: paymentsctl's default target comes
# from PAYMENTSCTL_TARGET, and the emulator's control URL
# http://127.0.0.1:8080 is rewritten to the emulator's real port. The blocks
# run in a scratch directory with paymentsctl first on PATH.
#
# Usage: readme_flows_test.sh MARKDOWN SERVER_BIN EMULATOR_BIN GEN_CERTS_SCRIPT CTL_BIN
set -euo pipefail

markdown=$1 server_bin=$2 emulator_bin=$3 gen_certs=$4 ctl_bin=$5
source "$(dirname "$0")/stack.sh"

# --- the flow blocks, in order; each is preceded by a marker line so that
# a failure can be traced to its block.
awk '
  /^```sh flow[[:space:]]*$/ { inside = 1; n++; printf "echo \"--- flow block %d (line %d)\"\n", n, NR; next }
  inside && /^```[[:space:]]*$/ { inside = 0; next }
  inside { print }
' "$markdown" > "$work/flows.sh"
blocks=$(grep -c '^echo "--- flow block' "$work/flows.sh" || true)
[ "$blocks" -ge 5 ] || fail "found $blocks \`\`\`sh flow blocks in $markdown, want at least 5"

# --- a fresh stack, as run-local.sh configures it (see there).
e2e_start_emulator
e2e_start_server DOJO_API_KEY=sk_sandbox_local_demo_key DOJO_WEBHOOK_SECRETS=local=whsec_local_demo_secret

sed -i "s#http://127\.0\.0\.1:8080#http://127.0.0.1:$emulator_http#g" "$work/flows.sh"
mkdir -p "$work/bin" "$work/run"
ln -s "$(realpath "$ctl_bin")" "$work/bin/paymentsctl"

set +e
(cd "$work/run" &&
  PATH=$work/bin:$PATH PAYMENTSCTL_TARGET=127.0.0.1:$port \
  bash -euo pipefail "$work/flows.sh") > "$work/flows.out" 2>&1
code=$?
set -e
cat "$work/flows.out"
[ $code -eq 0 ] || fail "the flows exited $code (see the last flow block above)"

# The flows' own checks ran under set -e; these confirm they reached the end.
grep -q '^order Order-[0-9]* paid$' "$work/flows.out" || fail "checkout flow did not finish"
grep -q '^fulfil the order of pi_sandbox_' "$work/flows.out" || fail "webhook not handled"
grep -q '^duplicate evt_.*: ignored$' "$work/flows.out" || fail "duplicate webhook not ignored"
grep -q '^exit 16 ' "$work/flows.out" || fail "docs vector with another secret: want exit 16"
echo "readme flows: $blocks blocks ran"
