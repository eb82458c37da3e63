#!/usr/bin/env bash
# Creates a throwaway test CA and a server certificate for localhost/127.0.0.1.
#
# Usage: scripts/gen-test-certs.sh DIR
# Writes DIR/ca.pem, DIR/ca.key, DIR/server.pem, DIR/server.key (EC P-256, 2 days).
# Idempotent: an existing set is kept while the server certificate is valid for
# at least another hour and verifies against the CA; otherwise all four are
# regenerated. Quiet unless something fails.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
dir=$1
mkdir -p "$dir"

if [[ -s $dir/ca.pem && -s $dir/ca.key && -s $dir/server.pem && -s $dir/server.key ]] &&
  openssl x509 -in "$dir/server.pem" -noout -checkend 3600 >/dev/null 2>&1 &&
  openssl verify -CAfile "$dir/ca.pem" "$dir/server.pem" >/dev/null 2>&1; then
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
  -keyout "$tmp/ca.key" -out "$tmp/ca.pem" -days 2 -subj "/CN=dojo-emulator test CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1

openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
  -keyout "$tmp/server.key" -out "$tmp/server.csr" -subj "/CN=localhost" >/dev/null 2>&1

cat >"$tmp/server.ext" <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
EXT

openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
  -CAcreateserial -out "$tmp/server.pem" -days 2 -sha256 \
  -extfile "$tmp/server.ext" >/dev/null 2>&1

chmod 600 "$tmp/ca.key" "$tmp/server.key"
for f in ca.pem ca.key server.pem server.key; do
  mv -f "$tmp/$f" "$dir/$f"
done
