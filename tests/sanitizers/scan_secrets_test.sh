#!/usr/bin/env bash
# scripts/scan-secrets.sh finds each kind of secret in a log, names the file
# but never prints the secret, and passes clean logs.
set -euo pipefail
scan=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

echo '{"event":"started","dojo_base_url":"https://api.dojo.tech"}' > "$work/clean.log"
"$scan" "$work" > "$work/result" || fail "a clean log was flagged: $(cat "$work/result")"

session=$(printf 'A%.0s' $(seq 172))
leaks=(
  'Authorization: Basic sk_prod_Zx81qLw0'
  '{"secret":"whsec_9kd02ml"}'
  "{\"clientSessionSecret\":\"$session\"}"
  '-----BEGIN PRIVATE KEY-----'
  'store=postgresql://payments:hunter2@db/payments'
  'store=host=db password=hunter2'
  'signed with PDYkJQq6sESYHp_zJuTTBQ'
)
for leak in "${leaks[@]}"; do
  rm -f "$work"/*.log
  printf '%s\n' "$leak" > "$work/server-0.log"
  if "$scan" "$work" > "$work/result"; then fail "missed: ${leak:0:20}"; fi
  grep -q "server-0.log" "$work/result" || fail "the file is not named"
  if grep -qF -- "$leak" "$work/result"; then fail "the secret was printed"; fi
done
echo "PASS: ${#leaks[@]} kinds of secret found, none printed"
