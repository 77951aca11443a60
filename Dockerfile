# syntax=docker/dockerfile:1
# Runboard: one small image holding the `runboard` binary, the widget built into it.
#
#   docker build -t runboard .                                  # production: no simulator
#   docker build -t runboard-demo --build-arg FEATURES=demo .    # with `runboard --demo`
#   docker run --rm -p 8080:8080 runboard-demo --demo --addr 0.0.0.0:8080
#   docker run --rm -p 8080:8080 -v $PWD/runboard.toml:/etc/runboard/runboard.toml:ro \
#     -e RUNBOARD_KEY_WEBSHOP=... runboard
#
# Stage 1 runs `./x build`: the widget with Trunk (wasm), then the server (native, rustls:
# no OpenSSL anywhere) with the widget inside it. Stage 2 is a distroless image holding that
# one file; the configuration is the only other thing it needs.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS build
ARG FEATURES=""
RUN apt-get update && apt-get install -y --no-install-recommends npm ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The same tool installer developers use: pinned Trunk, wasm-bindgen = Cargo.lock, npm
# binaryen, Debian's brotli. Its own layer, so a source change does not reinstall them.
COPY scripts/tools.sh scripts/tools.sh
COPY Cargo.lock Cargo.lock
ENV RUNBOARD_TOOLS_DIR=/tools
RUN bash scripts/tools.sh build
COPY . .
RUN ./x build --features "${FEATURES}" \
    && cp target/release/runboard /runboard \
    && mkdir -p /ledger

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /runboard /usr/local/bin/runboard
# The default SQLite ledger (runboard-ledger.db) lives in the working folder: give it one
# nonroot may write, and keep it on a volume. PostgreSQL replicas ignore it.
COPY --from=build --chown=65532:65532 /ledger /var/lib/runboard
WORKDIR /var/lib/runboard
VOLUME /var/lib/runboard
ENV RUNBOARD_LISTEN=0.0.0.0:8080 \
    RUNBOARD_CONFIG=/etc/runboard/runboard.toml
EXPOSE 8080
USER nonroot
ENTRYPOINT ["/usr/local/bin/runboard", "--log-format", "json"]
