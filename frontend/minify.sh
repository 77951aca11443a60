#!/usr/bin/env bash
# Trunk post-build hook (after csp-loader.sh, before precompress.sh): minifies every js
# and css file of the build with esbuild, in place, and puts each file's new sha384 in
# index.html's `integrity` attribute. Trunk minifies neither the wasm-bindgen glue nor
# (without its HTML minifier, which drops csp-loader's file) the CSS: this saves about
# 3 KB gzipped of the first load (frontend/README.md, "Size"). Only whitespace, comments
# and local names change; property names and the module's exports stay as they are.
set -euo pipefail

dir="${TRUNK_STAGING_DIR:?run by trunk as a post_build hook}"
html="$dir/index.html"
command -v esbuild >/dev/null || {
  echo "minify: esbuild is missing; run 'bash scripts/tools.sh build' (npm esbuild)" >&2
  exit 1
}

sri() { printf 'sha384-%s' "$(openssl dgst -sha384 -binary "$1" | base64 -w0)"; }

shopt -s nullglob
for file in "$dir"/*.js "$dir"/*.css; do
  before="$(sri "$file")"
  esbuild "$file" --minify --log-level=warning --outfile="$file.min"
  mv "$file.min" "$file"
  chmod 644 "$file"
  after="$(sri "$file")"
  # base64 holds no '|', so it is a safe delimiter.
  sed -i "s|integrity=\"$before\"|integrity=\"$after\"|" "$html"
done
echo "minify: minified the widget's js and css and updated their integrity hashes"
