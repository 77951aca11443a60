#!/usr/bin/env bash
# Where the widget's first-load bytes go (`./x size`, after `trunk build --release`).
#
# 1. The first load of each page as `crates/e2e/tests/it/widget_size.rs` counts it: the
#    page (index.html, the full widget; report.html, the report page readers get) and
#    every file it loads, raw, `gzip -9`, and the build's brotli copy (what `runboard`
#    sends to browsers that accept brotli; a page has no copy, so its gzip counts).
# 2. twiggy's view of the wasm with its function names kept: the wasm cargo built last for
#    the `wasm-release` profile (the report page's, which `./x widget` builds second; for
#    the full widget's, run `trunk build --release` alone first), run through wasm-bindgen
#    and `wasm-opt -Oz -g` as Trunk
#    does (only `-g` differs: it keeps the names, within about 1 % of the shipped size),
#    then `twiggy top` and the total per crate (a generic function counts for the crate
#    its path starts with). `twiggy diff`, `monos` and `dominators` on the kept file
#    answer the next questions (frontend/README.md, "Size").
#
# usage: frontend/size.sh [TOP_N]   (PATH from `bash scripts/tools.sh path`)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIST="$ROOT/frontend/dist"
TOP="${1:-30}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BUILT="$TARGET/wasm32-unknown-unknown/wasm-release/runboard-frontend.wasm"
KEEP="$TARGET/size"

for tool in twiggy wasm-bindgen wasm-opt brotli; do
  command -v "$tool" >/dev/null || {
    echo "size: $tool is missing; run 'bash scripts/tools.sh build'" >&2
    exit 1
  }
done
[ -f "$DIST/index.html" ] && [ -f "$BUILT" ] || {
  echo "size: no release build; run 'trunk build --release' (or ./x widget) first" >&2
  exit 1
}

# The files the page $1 loads, as widget_size.rs finds them.
loaded() {
  grep -o -E '(src|href)="/[^"]+"' "$DIST/$1" | sed -E 's/^[a-z]+="\///; s/"$//' | sort -u
}

# The first load of the page $1.
first_load() {
  local page="$1" gz br file raw g b
  gz="$(gzip -9 -c "$DIST/$page" | wc -c)"
  br="$gz"
  printf '%-52s %9s %9s %9s\n' file raw gzip brotli
  printf '%-52s %9d %9d %9s\n' "$page" "$(wc -c <"$DIST/$page")" "$gz" "(gzip)"
  while read -r file; do
    raw="$(wc -c <"$DIST/$file")"
    g="$(gzip -9 -c "$DIST/$file" | wc -c)"
    b="$(wc -c <"$DIST/$file.br")"
    printf '%-52s %9d %9d %9d\n' "$file" "$raw" "$g" "$b"
    gz=$((gz + g))
    br=$((br + b))
  done < <(loaded "$page")
  printf '%-52s %9s %9d %9d\n' "first load (gzip -9 / on the wire with brotli)" "" "$gz" "$br"
}

# A names-kept copy of the shipped wasm, in $KEEP.
named_wasm() {
  rm -rf "$KEEP"
  mkdir -p "$KEEP"
  wasm-bindgen --target web --no-typescript --out-dir "$KEEP" "$BUILT"
  wasm-opt -Oz -g "$KEEP/runboard-frontend_bg.wasm" -o "$KEEP/named.wasm"
  rm -f "$KEEP/runboard-frontend_bg.wasm"
}

# Shallow bytes per crate: the first path segment of each function's name, with
# `<`, `&`, `&mut ` and `dyn ` taken off (`<T as …>` impls count under `T`).
per_crate() {
  twiggy top -n 1000000 --format csv "$KEEP/named.wasm" | awk -F, '
    NR == 1 || /function names|^"?Σ|^"?\.\.\. and/ { next }
    {
      size = $(NF - 3); name = $0; sub(/,[^,]*,[^,]*,[^,]*,[^,]*$/, "", name)
      sub(/^"/, "", name)
      while (sub(/^([<&]+|mut |dyn )/, "", name)) {}
      if (name ~ /^data segment/) crate = "(data)"
      else if (match(name, /^[A-Za-z_][A-Za-z0-9_]*/)) crate = substr(name, 1, RLENGTH)
      else crate = "(other)"
      bytes[crate] += size; total += size
    }
    END {
      for (c in bytes) printf "%9d  %5.1f %%  %s\n", bytes[c], 100 * bytes[c] / total, c
      printf "%9d  100.0 %%  (all but the names)\n", total
    }' | sort -rn | head -n 25
}

for page in index.html report.html; do
  [ -f "$DIST/$page" ] || continue
  echo "== first load of $page ($DIST)"
  first_load "$page"
  echo
done
echo "== the wasm with names kept ($KEEP/named.wasm): twiggy top $TOP"
named_wasm
twiggy top -n "$TOP" "$KEEP/named.wasm"
echo
echo "== shallow bytes per crate (twiggy top, grouped)"
per_crate
