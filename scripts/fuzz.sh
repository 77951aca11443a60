#!/usr/bin/env bash
# Bounded coverage-guided fuzzing of every target in fuzz/ (cargo-fuzz, libFuzzer):
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# The corpora in fuzz/corpus/ seed each run; new inputs go to a scratch folder, so the
# checkout stays clean (copy interesting ones into fuzz/corpus/ by hand). A crash stops
# the run with the input saved under fuzz/artifacts/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_PER_TARGET="${1:-60}"
shift || true
TARGETS=("$@")
[ "${#TARGETS[@]}" -gt 0 ] || TARGETS=(wire requests proxy keyscan)
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT

# cargo-fuzz passes unstable flags to rustc; the stable toolchain accepts them with
# RUSTC_BOOTSTRAP. Without a sanitizer the build needs no nightly runtime; panics and
# assertion failures are what the targets check.
export RUSTC_BOOTSTRAP=1
TARGET_DIR="${RUNBOARD_FUZZ_TARGET:-$HOME/.cache/runboard/fuzz-target}"

cd "$ROOT/fuzz"
for target in "${TARGETS[@]}"; do
  printf '\033[1m==> fuzzing %s for %s s\033[0m\n' "$target" "$SECONDS_PER_TARGET"
  mkdir -p "$SCRATCH/$target"
  log="$SCRATCH/$target.log"
  if ! cargo fuzz run --sanitizer none --target-dir "$TARGET_DIR" "$target" \
    "$SCRATCH/$target" "corpus/$target" -- \
    -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz target $target failed; a crashing input is kept under fuzz/artifacts/$target" >&2
    exit 1
  fi
  grep -E '^(stat::number_of_executed_units|stat::new_units_added)|Done [0-9]+ runs' "$log" || true
done
