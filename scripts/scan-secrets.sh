#!/usr/bin/env bash
# Fails if any log or output under the given files or directories holds a
# secret: a Dojo API key, a webhook secret, a client session secret, a
# private key, or a password in a database URL. scripts/test.sh runs it over
# everything the suite printed and every server, emulator and proxy log its
# tests wrote (kept with PAYMENTS_TEST_KEEP_DIRS).
# Usage: scripts/scan-secrets.sh PATH...
set -euo pipefail
cd "$(dirname "$0")/.."

# The secrets the tests configure, by their shapes, plus any literal secret
# of the test stack that has no recognisable shape.
patterns=(
  'sk_(sandbox|prod|live|test)_[A-Za-z0-9_]{3,}'  # Dojo API keys
  'whsec_[A-Za-z0-9_]{3,}'                        # webhook secrets
  '(^|[^A-Za-z0-9_-])[A-Za-z0-9_-]{172}([^A-Za-z0-9_-]|$)'  # client session secrets
  '-----BEGIN [A-Z ]*PRIVATE KEY-----'            # TLS keys
  'postgres(ql)?://[^/:@[:space:]]+:[^@[:space:]]+@'  # passwords in store URLs
  'password=[^[:space:]*]'                        # libpq key=value passwords
)
# Literals of the test stack's constants named k...Key or k...Secret.
while IFS= read -r literal; do
  patterns+=("$(printf '%s' "$literal" | sed 's/[][\.*^$/+?(){}|]/\\&/g')")
done < <(tr -d '\n' < tests/integration/test_stack.h |
  grep -oE 'k[A-Za-z]*(Key|Secret) =[[:space:]]*"[^"]+"' | sed 's/.*"\(.*\)"/\1/')

# Logs and captured output only: credential files, certificates and keys that
# the tests write on purpose are not output.
mapfile -d '' files < <(find "$@" -type f \( -name '*.log' -o -name '*.out' -o -name '*.err' \
  -o -name 'LastTest*.log' \) -print0 2>/dev/null)
found=0
for pattern in "${patterns[@]}"; do
  if matches=$(grep -lE -- "$pattern" "${files[@]}" /dev/null 2>/dev/null); then
    while IFS= read -r file; do
      # The file and line, never the secret itself.
      echo "secret leak: $(grep -nE -- "$pattern" "$file" | head -1 | cut -d: -f1) in $file (pattern ${pattern:0:24}...)"
    done <<< "$matches"
    found=1
  fi
done
echo "secrets scan: ${#files[@]} log files, ${#patterns[@]} patterns, $([ $found = 0 ] && echo clean || echo LEAKS)"
exit "$found"
