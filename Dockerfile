# payments-server image: payments-server (entrypoint), dojo-emulator and, when the client exists,
# paymentsctl, on Debian bookworm-slim with only the runtime libraries.
#
#   podman build -t payments-gateway .        (or docker build; scripts/test-image.sh builds and
#                                              runs it in the test suite)
#   podman run --read-only --cap-drop=ALL -p 50051:50051 -p 9464:9464 \
#     -e DOJO_API_KEY_FILE=/run/secrets/dojo-api-key -v ./key:/run/secrets/dojo-api-key:ro payments-gateway
#
# Runs as UID/GID 65532 with a read-only root filesystem; the only writable path it needs is the
# SQLite store directory /var/lib/payments (a volume; an emptyDir or PVC on Kubernetes). With a
# PostgreSQL store (PAYMENTS_STORE=postgresql://...) it writes nothing at all.

# ---- build: the README's dependency script, then a Release build -------------------------------
FROM debian:bookworm-slim AS build
ARG BUILD_JOBS=2
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
# Downloaded .debs persist across builds in a cache mount (nothing of them lands in a layer).
RUN --mount=type=cache,target=/var/cache/apt/archives,id=payments-gateway-apt,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean && \
    PAYMENTS_DEPS=build ./scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
# The emulator lives under tests/, so tests are configured (not built). paymentsctl is built when
# the client exists. ccache persists across builds through a cache mount.
RUN --mount=type=cache,target=/root/.cache/ccache,id=payments-gateway-ccache \
    export CCACHE_DIR=/root/.cache/ccache CCACHE_MAXSIZE=2G && \
    cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DPAYMENTS_BUILD_TESTS=ON >/dev/null && \
    targets="payments-server dojo-emulator" && \
    if ninja -C /build -t targets all | grep -q '^paymentsctl:'; then targets="$targets paymentsctl"; fi && \
    cmake --build /build -j "${BUILD_JOBS:-2}" --target $targets && \
    mkdir -p /out && \
    for t in $targets; do install -m 0755 -s "$(find /build -type f -name "$t" -perm -u+x | head -n 1)" /out/; done && \
    ls -l /out

# ---- runtime ------------------------------------------------------------------------------------
FROM debian:bookworm-slim
# Shared libraries of the binaries (checked with ldd by scripts/test-image.sh) and the CA bundle.
RUN --mount=type=cache,target=/var/cache/apt/archives,id=payments-gateway-apt,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean && apt-get update -q && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      ca-certificates libgrpc++1.51 libprotobuf32 libabsl20220623 libcurl4 libssl3 \
      libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 libsqlite3-0 libpq5 && \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log && \
    groupadd --system --gid 65532 payments && \
    useradd --system --uid 65532 --gid 65532 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin payments && \
    install -d -o 65532 -g 65532 -m 0700 /var/lib/payments
COPY --from=build /out/ /usr/local/bin/
USER 65532:65532
WORKDIR /var/lib/payments
ENV PAYMENTS_LISTEN_ADDR=0.0.0.0:50051 \
    PAYMENTS_METRICS_ADDR=0.0.0.0:9464 \
    PAYMENTS_STORE=sqlite:/var/lib/payments/payments.db
# The SQLite store's directory; mount a volume (or emptyDir) here when the root is read-only.
VOLUME ["/var/lib/payments"]
EXPOSE 50051 9464
# The server is PID 1: it handles SIGTERM itself (health NOT_SERVING, drain, exit 0) and logs
# JSON lines to stdout.
ENTRYPOINT ["/usr/local/bin/payments-server"]
