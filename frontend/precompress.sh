#!/usr/bin/env bash
# Trunk post-build hook (after csp-loader.sh): writes a brotli (`.br`, quality 11) and a
# gzip (`.gz`, level 9) copy beside every wasm, js and css file, which `runboard` sends to
# browsers that accept them: built into the binary by proxy/build.rs (`./x build`), or read
# from widget_dir by tower-http's precompressed ServeDir. Compressing once at build time, at
# the highest levels, sends about a fifth fewer bytes than gzip made per request would
# (frontend/README.md, "Size"). index.html gets no copy: it is small; proxy/build.rs
# compresses it for the built-in widget, and from widget_dir it is gzipped as it is sent.
set -euo pipefail

dir="${TRUNK_STAGING_DIR:?run by trunk as a post_build hook}"
command -v brotli >/dev/null || {
  echo "precompress: brotli is missing; run 'bash scripts/tools.sh build' (Debian's brotli)" >&2
  exit 1
}

shopt -s nullglob
for file in "$dir"/*.wasm "$dir"/*.js "$dir"/*.css; do
  brotli --force --best --output="$file.br" "$file"
  gzip -9 --no-name --stdout "$file" > "$file.gz"
  chmod 644 "$file.br" "$file.gz"
done
echo "precompress: wrote .br and .gz beside the widget's wasm, js and css"
