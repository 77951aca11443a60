#!/usr/bin/env bash
# Builds the report page (the widget without its `full` feature: only the run report,
# issue 20) beside the full widget that `trunk build --release` left in frontend/dist.
# Its page is written from `index.html`, so the two never differ but for the feature:
# `frontend/report.html` (not kept in git), the same page with Trunk's
# `data-cargo-no-default-features`. Trunk builds one page per run, into a folder it
# empties first, so the page is built into a folder of its own and then moved in as
# `report.html`, with its hashed wasm, js and loader (and their brotli and gzip copies).
# The stylesheet is the same file in both builds. The post-build hook runs as for the
# full widget.
#
# usage: bash frontend/report-page.sh   (PATH from `bash scripts/tools.sh path`, after
# `trunk build --release`; ./x widget runs both)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIST="$ROOT/frontend/dist"
OWN="${CARGO_TARGET_DIR:-$ROOT/target}/widget-report"

command -v trunk >/dev/null || {
  echo "report-page: trunk is missing; run 'bash scripts/tools.sh build'" >&2
  exit 1
}
[ -f "$DIST/index.html" ] || {
  echo "report-page: no full widget in $DIST; run 'trunk build --release' first" >&2
  exit 1
}

cd "$ROOT"
sed 's|data-bin="runboard-frontend"|& data-cargo-no-default-features|' frontend/index.html \
  > frontend/report.html
grep -q data-cargo-no-default-features frontend/report.html || {
  echo "report-page: frontend/index.html no longer has data-bin=\"runboard-frontend\"" >&2
  exit 1
}
mkdir -p "$OWN"
trunk build frontend/report.html --release --dist "$OWN"
for file in "$OWN"/*; do
  name="$(basename "$file")"
  [ "$name" = index.html ] && continue
  cp -f "$file" "$DIST/$name"
done
cp -f "$OWN/index.html" "$DIST/report.html"
echo "report-page: wrote frontend/dist/report.html and its files"
