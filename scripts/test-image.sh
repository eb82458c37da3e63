#!/usr/bin/env bash
# Builds the Dockerfile's image with podman and runs it the way production does: read-only root
# filesystem, every capability dropped, non-root. Next to it runs the image's own dojo-emulator
# (a second container); buf curl then checks health (SERVING) and one CreateIntent, and a
# `podman stop` (SIGTERM) must end the server with exit status 0.
#
# No Docker engine or registry is needed: the debian:bookworm-slim base is made locally with
# debootstrap --variant=minbase from the machine's configured Debian mirror and imported under that
# name; the build uses --pull=never. The rootfs tarball is cached in .cache/image/ (rebuilt after
# 7 days); podman's storage lives in a temporary directory that is removed at the end.
#
# Usage: scripts/test-image.sh        (root on Debian 12; installs podman & co. when missing)
# Env:   BUF_BIN (default tools/node_modules/.bin/buf), BUILD_JOBS (default 2),
#        PAYMENTS_IMAGE_KEEP=1 keeps the temporary directory for inspection.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
start=$SECONDS
step() { echo "test-image: [$((SECONDS - start))s] $*"; }
die() { echo "test-image: FAIL $*" >&2; exit 1; }

image=localhost/payments-gateway:test
buf=${BUF_BIN:-$repo/tools/node_modules/.bin/buf}
[ -x "$buf" ] || die "buf not found at $buf (run scripts/install-deps.sh)"

# ---- tools -----------------------------------------------------------------------------------
tools=(podman buildah debootstrap runc uidmap fuse-overlayfs slirp4netns)
missing=()
for p in "${tools[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  step "installing ${missing[*]}"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---- scratch space, podman configuration, cleanup --------------------------------------------
work=$(mktemp -d /var/tmp/payments-image.XXXXXX)
containers=()
build_pid=""
cleanup() {
  local rc=$?
  set +e
  if [ -n "$build_pid" ]; then kill -TERM "$build_pid" 2>/dev/null; wait "$build_pid" 2>/dev/null; fi
  for c in "${containers[@]}"; do podman rm -f -t 5 -v "$c" >/dev/null 2>&1; done
  if [ "${PAYMENTS_IMAGE_KEEP:-0}" = 1 ]; then
    echo "test-image: kept $work" >&2
  else
    podman rmi -a -f >/dev/null 2>&1
    # containers/storage leaves its overlay mounts behind; unmount only those under $work.
    awk -v w="$work" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r |
      while read -r m; do umount -l "$m" 2>/dev/null; done
    rm -rf "$work"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat > "$work/storage.conf" <<EOF
[storage]
driver = "overlay"
runroot = "$work/run"
graphroot = "$work/graph"
EOF
# runc + cgroupfs: the default crun fails here ("cgroups in hybrid mode not supported").
cat > "$work/containers.conf" <<EOF
[containers]
netns = "host"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$work/events.log"
EOF
export CONTAINERS_STORAGE_CONF=$work/storage.conf CONTAINERS_CONF=$work/containers.conf
# root lacks CAP_SYS_RESOURCE here, so the default ulimits cannot be applied.
ulimits=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096)

# ---- base image: debootstrap minbase from the configured mirror ------------------------------
# Debian archive URIs from deb822 .sources files and one-line .list files.
apt_uris() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && sed -nE 's/\[[^]]*\]//; s/^deb[[:space:]]+([^[:space:]]+).*/\1/p' "$f"
  done
  return 0
}
mirror=$(apt_uris | grep -E '^https?://.*/debian/?$' | head -n 1 || true)
[ -n "$mirror" ] || die "no Debian mirror in /etc/apt/sources.list{,.d/}"
security=$(apt_uris | grep -E '^https?://.*/debian-security/?$' | head -n 1 || true)
mkdir -p "$repo/.cache/image"
rootfs_tar=$repo/.cache/image/debian-bookworm-minbase-$(printf 'slim1 %s %s' "$mirror" "$security" | md5sum | cut -c1-12).tar
if [ -s "$rootfs_tar" ] && [ -z "$(find "$rootfs_tar" -mtime +7)" ]; then
  step "base rootfs from cache ($(basename "$rootfs_tar"))"
else
  step "debootstrap --variant=minbase bookworm from $mirror"
  rootfs=$work/rootfs
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap"; }
  {
    echo "deb $mirror bookworm main"
    echo "deb $mirror bookworm-updates main"
    [ -z "$security" ] || echo "deb $security bookworm-security main"
  } > "$rootfs/etc/apt/sources.list"
  # Slim like the official -slim images (debuerreotype --slimify): no docs, man pages or locales,
  # now or in packages installed later.
  cat > "$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
SLIM
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
    "$rootfs"/usr/share/lintian/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
  tar --numeric-owner -C "$rootfs" -cf "$rootfs_tar.tmp" . && mv -f "$rootfs_tar.tmp" "$rootfs_tar"
  rm -rf "$rootfs"
fi
podman import --quiet "$rootfs_tar" docker.io/library/debian:bookworm-slim >/dev/null
podman tag docker.io/library/debian:bookworm-slim docker.io/library/debian:bookworm

# ---- build ------------------------------------------------------------------------------------
step "podman build --pull=never (log: build.log)"
# The Dockerfile builds paymentsctl when the project has the client.
expect_ctl=0
grep -q '^add_subdirectory(client)' CMakeLists.txt && expect_ctl=1
build_start=$SECONDS
# In the background so that a signal (ctest's timeout, Ctrl-C) reaches the trap at once.
podman build --pull=never --network host "${ulimits[@]}" \
  --build-arg "BUILD_JOBS=${BUILD_JOBS:-2}" -t "$image" -f Dockerfile . > "$work/build.log" 2>&1 &
build_pid=$!
if ! wait "$build_pid"; then
  build_pid=""
  tail -n 40 "$work/build.log" >&2
  die "podman build"
fi
build_pid=""
size=$(podman image inspect --format '{{.Size}}' "$image")
step "built $image in $((SECONDS - build_start))s, $((size / 1000000)) MB"

# ---- static checks of the image ---------------------------------------------------------------
[ "$(podman image inspect --format '{{.Config.User}}' "$image")" = 65532:65532 ] || die "image user is not 65532:65532"
[ "$(podman image inspect --format '{{json .Config.Entrypoint}}' "$image")" = '["/usr/local/bin/payments-server"]' ] ||
  die "entrypoint is not payments-server"
run=(podman run --rm --network host "${ulimits[@]}" --read-only --cap-drop=ALL --security-opt=no-new-privileges)
bins=$("${run[@]}" --entrypoint /bin/ls "$image" /usr/local/bin)
grep -qx payments-server <<< "$bins" && grep -qx dojo-emulator <<< "$bins" || die "image lacks a binary: $bins"
if [ $expect_ctl = 1 ] && ! grep -qx paymentsctl <<< "$bins"; then die "image lacks paymentsctl"; fi
libs=$("${run[@]}" --entrypoint /bin/sh "$image" -c 'for b in /usr/local/bin/*; do echo "== $b"; ldd "$b"; done')
if grep -q 'not found' <<< "$libs"; then grep -E '^==|not found' <<< "$libs" >&2; die "missing shared libraries"; fi
echo "ok   image: user 65532, entrypoint payments-server, binaries: $(tr '\n' ' ' <<< "$bins")every shared library resolves"

# ---- run: emulator + server, both read-only with no capabilities -------------------------------
"$repo/scripts/gen-test-certs.sh" "$work/certs-src"
mkdir -p "$work/certs" "$work/secrets" "$work/emulator"
cp "$work/certs-src/ca.pem" "$work/certs-src/server.pem" "$work/certs-src/server.key" "$work/certs/"
api_key=sk_sandbox_image_$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$api_key" > "$work/secrets/dojo-api-key"
printf 'default=%s\n' "$api_key" > "$work/secrets/emulator-keys"
# The containers run as 65532: these test-only files are made readable for it.
chmod 0644 "$work/certs/"* "$work/secrets/"*
chown 65532:65532 "$work/emulator"

step "starting dojo-emulator and payments-server containers"
emu=$(podman run -d "${ulimits[@]}" --network host --read-only --cap-drop=ALL \
  --security-opt=no-new-privileges \
  -v "$work/certs:/certs:ro" -v "$work/secrets:/secrets:ro" -v "$work/emulator:/state" \
  --entrypoint /usr/local/bin/dojo-emulator "$image" \
  --http-port=0 --https-port=0 --tls-cert=/certs/server.pem --tls-key=/certs/server.key \
  --api-keys=/secrets/emulator-keys --port-file=/state/ports.json)
containers+=("$emu")
for _ in $(seq 200); do [ -s "$work/emulator/ports.json" ] && break; sleep 0.1; done
[ -s "$work/emulator/ports.json" ] || { podman logs "$emu" >&2; die "emulator did not start"; }
https_port=$(jq -r .https "$work/emulator/ports.json")

srv=$(podman run -d "${ulimits[@]}" --network host --read-only --cap-drop=ALL \
  --security-opt=no-new-privileges \
  -v "$work/certs:/certs:ro" -v "$work/secrets:/run/secrets/payments:ro" \
  -e PAYMENTS_TLS=off -e PAYMENTS_LISTEN_ADDR=127.0.0.1:0 -e PAYMENTS_METRICS_ADDR=127.0.0.1:0 \
  -e DOJO_BASE_URL="https://localhost:$https_port" -e DOJO_CA_FILE=/certs/ca.pem \
  -e DOJO_API_KEY_FILE=/run/secrets/payments/dojo-api-key -e PAYMENTS_SHUTDOWN_GRACE=5s \
  "$image")
containers+=("$srv")
started=""
for _ in $(seq 200); do
  started=$(podman logs "$srv" 2>/dev/null | grep '"event":"started"' || true)
  [ -n "$started" ] && break
  [ "$(podman inspect --format '{{.State.Running}}' "$srv")" = true ] || break
  sleep 0.1
done
[ -n "$started" ] || { podman logs "$srv" >&2; die "server did not start"; }
port=$(jq -r .port <<< "$started")
metrics_port=$(jq -r .metrics_port <<< "$started")
inspect=$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}} {{.Config.User}}' "$srv")
[ "$inspect" = "true 65532:65532" ] || die "server container: read-only/user is '$inspect'"
eff=$(podman exec "$srv" /bin/sh -c 'id -u; grep ^CapEff /proc/1/status | cut -f2; touch /probe 2>/dev/null && echo writable || echo read-only')
[ "$(tr '\n' ' ' <<< "$eff")" = "65532 0000000000000000 read-only " ] || die "server process: uid/caps/rootfs '$eff'"
echo "ok   server runs as 65532 with no capabilities on a read-only root filesystem (gRPC :$port, metrics :$metrics_port)"

call() { "$buf" curl --protocol grpc --http2-prior-knowledge "http://127.0.0.1:$port/$1" -d "$2"; }
[ "$(call grpc.health.v1.Health/Check '{}' | jq -r .status)" = SERVING ] || die "overall health"
[ "$(call grpc.health.v1.Health/Check '{"service":"payments.v1.PaymentsService"}' | jq -r .status)" = SERVING ] ||
  die "payments.v1.PaymentsService health"
echo "ok   health Check SERVING (overall and payments.v1.PaymentsService)"

created=$(call payments.v1.PaymentsService/CreateIntent \
  '{"reference":"Image-1","amount":{"value":1000,"currencyCode":"GBP"},"description":"image test"}') ||
  { podman logs "$srv" >&2; die "CreateIntent"; }
id=$(jq -r .intent.id <<< "$created")
[[ $id == pi_sandbox_* ]] || die "CreateIntent returned id '$id'"
held=$(curl -sf "http://127.0.0.1:$(jq -r .http "$work/emulator/ports.json")/_emulator/payment-intents/$id")
[ "$(jq -r .reference <<< "$held")" = Image-1 ] || die "the emulator does not hold $id"
metrics=$(curl -sf "http://127.0.0.1:$metrics_port/metrics") || die "scrape /metrics"
grep -Eq '^grpc_server_handled_total\{grpc_code="OK",grpc_method="CreateIntent",.*\} 1$' <<< "$metrics" ||
  die "/metrics lacks the CreateIntent"
echo "ok   CreateIntent over HTTPS to the emulator container created $id; /metrics counts it"

if grep -qx paymentsctl <<< "$bins"; then
  ctl=("${run[@]}" --entrypoint /usr/local/bin/paymentsctl "$image")
  "${ctl[@]}" health --target="127.0.0.1:$port" --service=payments.v1.PaymentsService > "$work/ctl.out" 2>&1 ||
    { cat "$work/ctl.out" >&2; die "paymentsctl health"; }
  "${ctl[@]}" get-intent --target="127.0.0.1:$port" --id="$id" --json > "$work/ctl.out" 2>&1 ||
    { cat "$work/ctl.out" >&2; die "paymentsctl get-intent"; }
  [ "$(jq -r .intent.reference "$work/ctl.out")" = Image-1 ] || { cat "$work/ctl.out" >&2; die "paymentsctl get-intent output"; }
  echo "ok   the image's paymentsctl: health SERVING, get-intent $id"
fi

# ---- SIGTERM ------------------------------------------------------------------------------------
podman stop -t 30 "$srv" >/dev/null
code=$(podman inspect --format '{{.State.ExitCode}}' "$srv")
podman logs "$srv" > "$work/server.log" 2>&1
[ "$code" = 0 ] || { cat "$work/server.log" >&2; die "server exit status $code after SIGTERM"; }
grep -q '"event":"draining"' "$work/server.log" && grep -q '"event":"stopped"' "$work/server.log" ||
  die "no draining/stopped log lines"
if grep -qF -- "$api_key" "$work/server.log"; then die "the API key appears in the server log"; fi
podman stop -t 10 "$emu" >/dev/null
echo "ok   podman stop (SIGTERM): draining, stopped, exit status 0; no key in the log"

step "image test passed"
echo "test-image: all checks passed"
