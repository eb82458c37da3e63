#!/usr/bin/env bash
# Creates a throwaway test CA and a server certificate for localhost/127.0.0.1,
# and optionally client certificates for mutual TLS.
#
# Usage: scripts/gen-test-certs.sh DIR [CLIENT...]
# Writes DIR/ca.pem, DIR/ca.key, DIR/server.pem, DIR/server.key (EC P-256, 2 days).
# Idempotent: an existing set is kept while the server certificate is valid for
# at least another hour and verifies against the CA; otherwise all four are
# regenerated. Quiet unless something fails.
#
# With CLIENT names (e.g. checkout refunds), also:
#   DIR/client-ca.pem, DIR/client-ca.key   a CA for client certificates
#   DIR/CLIENT.pem, DIR/CLIENT.key         one client certificate per name, signed
#                                          by the client CA, with the URI SAN
#                                          spiffe://payments.test/ns/test/sa/CLIENT
#   DIR/other-ca.pem, DIR/rogue.pem, DIR/rogue.key
#                                          another CA and a client certificate it
#                                          signed, claiming the first CLIENT's
#                                          SPIFFE id (must be refused)
# Client certificates are made anew on every run.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 DIR [CLIENT...]" >&2
  exit 2
fi
dir=$1
shift
clients=("$@")
mkdir -p "$dir"

# new_ca NAME CN: DIR/NAME.pem and DIR/NAME.key.
new_ca() {
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$dir/$1.key" -out "$dir/$1.pem" -days 2 -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1
  chmod 600 "$dir/$1.key"
}

# new_client NAME CA SPIFFE_ID: DIR/NAME.pem and DIR/NAME.key signed by DIR/CA.
new_client() {
  local tmp
  tmp=$(mktemp -d)
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$dir/$1.key" -out "$tmp/csr" -subj "/CN=$1" >/dev/null 2>&1
  printf '%s\n' "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=clientAuth" \
    "subjectAltName=URI:$3" >"$tmp/ext"
  openssl x509 -req -in "$tmp/csr" -CA "$dir/$2.pem" -CAkey "$dir/$2.key" \
    -set_serial "0x$(openssl rand -hex 8)" -out "$dir/$1.pem" -days 2 -sha256 \
    -extfile "$tmp/ext" >/dev/null 2>&1
  chmod 600 "$dir/$1.key"
  rm -rf "$tmp"
}

make_clients() {
  [[ ${#clients[@]} -gt 0 ]] || return 0
  new_ca client-ca "payments test client CA"
  new_ca other-ca "some other CA"
  for name in "${clients[@]}"; do
    new_client "$name" client-ca "spiffe://payments.test/ns/test/sa/$name"
  done
  new_client rogue other-ca "spiffe://payments.test/ns/test/sa/${clients[0]}"
}

if [[ -s $dir/ca.pem && -s $dir/ca.key && -s $dir/server.pem && -s $dir/server.key ]] &&
  openssl x509 -in "$dir/server.pem" -noout -checkend 3600 >/dev/null 2>&1 &&
  openssl verify -CAfile "$dir/ca.pem" "$dir/server.pem" >/dev/null 2>&1; then
  make_clients
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
make_clients
