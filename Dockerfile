# divvy: one image for all three roles (ventilator, worker, sink), plus
# divvy-keygen (role keygen) for CURVE certificates, and divvy-status (the
# sink's healthcheck and readiness probe: docker-compose.yml, docker/kubernetes).
#
#   docker build -t divvy:latest .
#   docker run --rm divvy:latest --help
#   docker run --rm divvy:latest sink --help
#   docker run --rm divvy:latest worker --tasks tcp://vent:5557 ...
#   docker run --rm -v keys:/keys divvy:latest keygen /keys/server /keys/worker
#
# The entrypoint is /usr/local/bin/divvy, the divvy command itself: the
# first argument is the subcommand (`divvy sink`, `divvy worker`, ...), run in
# the same process, so the role is PID 1 and receives SIGTERM directly (CZMQ
# handles it: 143 after a clean shutdown, 0 after a completed job). An
# unknown subcommand is one line on stderr and exit 2. With no arguments the
# image prints divvy's help. In Compose pick the role with
# `command: ["sink"]` (that is, `divvy sink`); in Kubernetes with
# `args: ["worker"]`. The divvy-ROLE programs are there too, for scripts.
#
# Runs as the non-root user divvy, UID/GID 10001 (fixed, so that Kubernetes'
# runAsUser and file ownership outside the image can rely on it). /keys is an
# empty directory of that user (mode 0700): a new named volume mounted there
# takes its owner and mode, so divvy-keygen can write CURVE certificates into
# it (docker-compose.curve.yml).
#
# BASE is the Debian bookworm image both stages start from; BUILD_BASE (default
# BASE) only the build stage. Each stage installs its packages only when they
# are missing, so a base that already holds them (docker/make-base-image.sh
# --build-deps / --include) builds without reaching a package mirror.

ARG BASE=debian:bookworm-slim
ARG BUILD_BASE=${BASE}

# ---- build ----------------------------------------------------------------
FROM ${BUILD_BASE} AS build
ARG DEBIAN_FRONTEND=noninteractive
# Keep this list in sync with BUILD_DEPS in docker/make-base-image.sh.
RUN set -eu; \
    pkgs="gcc libc6-dev meson ninja-build pkg-config libczmq-dev libzmq3-dev libmicrohttpd-dev"; \
    if ! dpkg -s $pkgs >/dev/null 2>&1; then \
        apt-get update; \
        apt-get install -y --no-install-recommends $pkgs; \
        rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /src
COPY . .
# Build only the programs the image ships (divvy and the divvy-ROLE programs). -Dtests=false: the test
# suites need cmocka and python3 and run outside the image (.ci/run).
RUN meson setup build --buildtype=release -Dtests=false \
 && meson compile -C build divvy/divvy divvy/divvy-ventilator \
        divvy/divvy-worker divvy/divvy-sink divvy/divvy-keygen divvy/divvy-status

# ---- runtime --------------------------------------------------------------
FROM ${BASE} AS runtime
ARG DEBIAN_FRONTEND=noninteractive
# libczmq4 brings libzmq5 (and libsodium); libmicrohttpd12 serves --metrics.
RUN set -eu; \
    pkgs="libczmq4 libmicrohttpd12"; \
    if ! dpkg -s $pkgs >/dev/null 2>&1; then \
        apt-get update; \
        apt-get install -y --no-install-recommends $pkgs; \
        rm -rf /var/lib/apt/lists/*; \
    fi; \
    groupadd --gid 10001 divvy; \
    useradd --uid 10001 --gid 10001 --create-home --home-dir /home/divvy \
        --shell /usr/sbin/nologin divvy; \
    install -d -m 0700 -o 10001 -g 10001 /keys
COPY --from=build /src/build/divvy/divvy \
                  /src/build/divvy/divvy-ventilator \
                  /src/build/divvy/divvy-worker \
                  /src/build/divvy/divvy-sink \
                  /src/build/divvy/divvy-keygen \
                  /src/build/divvy/divvy-status \
                  /usr/local/bin/
# Fail the build here, not at run time, if a shared library is missing or
# the command is broken.
RUN ! ldd /usr/local/bin/divvy /usr/local/bin/divvy-ventilator \
      /usr/local/bin/divvy-worker /usr/local/bin/divvy-sink \
      /usr/local/bin/divvy-keygen /usr/local/bin/divvy-status | grep 'not found' \
 && /usr/local/bin/divvy --help >/dev/null \
 && /usr/local/bin/divvy sink --version \
 && /usr/local/bin/divvy keygen --help >/dev/null \
 && /usr/local/bin/divvy-status --help >/dev/null
USER 10001:10001
WORKDIR /home/divvy
# Default ports: tasks (ventilator), results and control (sink).
EXPOSE 5557 5558 5559
ENTRYPOINT ["/usr/local/bin/divvy"]
CMD ["--help"]
