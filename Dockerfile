# syntax=docker/dockerfile:1
# Runboard: one small image holding the `runboard` binary and the built widget.
#
#   docker build -t runboard .                                  # production: no simulator
#   docker build -t runboard-demo --build-arg FEATURES=demo .    # with `runboard --demo`
#   docker run --rm -p 8080:8080 runboard-demo --demo --addr 0.0.0.0:8080
#   docker run --rm -p 8080:8080 -v $PWD/runboard.toml:/etc/runboard/runboard.toml:ro \
#     -e RUNBOARD_KEY_WEBSHOP=... runboard
#
# Stage 1 builds the widget with Trunk (wasm), stage 2 the server (native, rustls: no
# OpenSSL anywhere), stage 3 is a distroless image with only the two results.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS widget
RUN apt-get update && apt-get install -y --no-install-recommends npm ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The same tool installer developers use: pinned Trunk, wasm-bindgen = Cargo.lock, npm binaryen.
COPY scripts/tools.sh scripts/tools.sh
COPY Cargo.lock Cargo.lock
ENV RUNBOARD_TOOLS_DIR=/tools
RUN bash scripts/tools.sh build
COPY . .
RUN export PATH="$(bash scripts/tools.sh path)" && trunk build --release

FROM rust:${RUST_VERSION}-slim-bookworm AS server
ARG FEATURES=""
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p runboard-proxy --features "${FEATURES}" \
    && cp target/release/runboard /runboard \
    && mkdir -p /ledger

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=server /runboard /usr/local/bin/runboard
COPY --from=widget /src/frontend/dist /usr/share/runboard/widget
# The default SQLite ledger (runboard-ledger.db) lives in the working folder: give it one
# nonroot may write, and keep it on a volume. PostgreSQL replicas ignore it.
COPY --from=server --chown=65532:65532 /ledger /var/lib/runboard
WORKDIR /var/lib/runboard
VOLUME /var/lib/runboard
ENV RUNBOARD_WIDGET_DIR=/usr/share/runboard/widget \
    RUNBOARD_LISTEN=0.0.0.0:8080 \
    RUNBOARD_CONFIG=/etc/runboard/runboard.toml
EXPOSE 8080
USER nonroot
ENTRYPOINT ["/usr/local/bin/runboard", "--log-format", "json"]
