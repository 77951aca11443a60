#!/usr/bin/env bash
# Trunk post-build hook: moves the inline <script type="module"> loader Trunk writes into
# index.html out into its own content-hashed file, so the page runs under a CSP of
# `script-src 'self' 'wasm-unsafe-eval'` without 'unsafe-inline'.
set -euo pipefail

dir="${TRUNK_STAGING_DIR:?run by trunk as a post_build hook}"
html="$dir/index.html"
public_url="${TRUNK_PUBLIC_URL:-/}"
loader="$(mktemp)"
page="$(mktemp)"
trap 'rm -f "$loader" "$page"' EXIT

# Print the inline module's body to $loader and the page, with a marker in its place,
# to $page. Scripts that already have a src are left alone.
awk -v loader="$loader" '
  !done && /<script type="module"/ && !/src=/ { inside = 1; sub(/.*<script type="module"[^>]*>/, ""); print "@@RUNBOARD_LOADER@@" }
  inside {
    if (index($0, "</script>")) { line = $0; sub(/<\/script>.*/, "", line); print line > loader; inside = 0; done = 1; next }
    print > loader; next
  }
  { print }
' "$html" > "$page"

if ! grep -q "@@RUNBOARD_LOADER@@" "$page"; then
  echo "csp-loader: no inline loader found in $html; nothing to do" >&2
  exit 0
fi

hash="$(sha256sum "$loader" | cut -c1-16)"
name="runboard-loader-$hash.js"
cp "$loader" "$dir/$name"
chmod 644 "$dir/$name"
sed "s|@@RUNBOARD_LOADER@@|<script type=\"module\" src=\"${public_url%/}/$name\"></script>|" "$page" > "$html"
echo "csp-loader: moved the inline loader to $name"
