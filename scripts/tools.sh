#!/usr/bin/env bash
# Installs the build and test tools Runboard needs, each only when missing or at the
# wrong version. Nothing here downloads from outside the package registries
# (crates.io, npm, Debian): see ARCHITECTURE.md, "Toolchain".
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRUNK_VERSION="0.21.14"
CARGO_FUZZ_VERSION="0.13.2"
BINARYEN_VERSION="132.0.0"
AXE_VERSION="4.14.1"
ESBUILD_VERSION="0.28.2"
TWIGGY_VERSION="0.8.0"
KUBERNETES_VALIDATE_VERSION="1.37.0"
TOOLS_DIR="${RUNBOARD_TOOLS_DIR:-$HOME/.cache/runboard/tools}"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# The wasm-bindgen CLI must equal the wasm-bindgen crate in Cargo.lock, exactly.
lock_version() {
  awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' \
    "$ROOT/Cargo.lock"
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_wasm_bindgen() {
  local want have
  want="$(lock_version wasm-bindgen)"
  have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
  if [ "$have" != "$want" ]; then
    step "installing wasm-bindgen-cli $want (about 5 minutes on 2 cores, once)"
    # Without --locked: the CLI's own lock file names a crate version the registry lacks.
    cargo install --force wasm-bindgen-cli --version "$want"
  fi
}

ensure_trunk() {
  if [ "$(trunk --version 2>/dev/null | awk '{print $2}' || true)" != "$TRUNK_VERSION" ]; then
    step "installing trunk $TRUNK_VERSION (about 15 minutes on 2 cores, once)"
    # Trunk 0.22 needs a newer rustc than stable here; 0.21.14 builds with --locked.
    cargo install --locked --force trunk --version "$TRUNK_VERSION"
  fi
}

ensure_wasm_opt() {
  local bin="$TOOLS_DIR/node_modules/.bin/wasm-opt"
  if ! "$bin" --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
    step "installing wasm-opt (npm binaryen $BINARYEN_VERSION)"
    command -v npm >/dev/null || { apt_install npm; }
    mkdir -p "$TOOLS_DIR"
    npm install --prefix "$TOOLS_DIR" --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >/dev/null
  fi
}

# The widget's build minifies its js and css (frontend/minify.sh). npm's esbuild brings
# its binary as the npm package @esbuild/linux-x64, from the registry like the rest.
ensure_esbuild() {
  local bin="$TOOLS_DIR/node_modules/.bin/esbuild"
  if [ "$("$bin" --version 2>/dev/null || true)" != "$ESBUILD_VERSION" ]; then
    step "installing esbuild $ESBUILD_VERSION (npm)"
    command -v npm >/dev/null || { apt_install npm; }
    mkdir -p "$TOOLS_DIR"
    npm install --prefix "$TOOLS_DIR" --no-audit --no-fund "esbuild@$ESBUILD_VERSION" >/dev/null
  fi
}

# The widget's build writes brotli copies of its files (frontend/precompress.sh).
ensure_brotli() {
  command -v brotli >/dev/null || apt_install brotli
}

# axe-core checks the widget's accessibility inside the browser suite (crates/e2e reads
# $TOOLS_DIR/node_modules/axe-core/axe.min.js, or RUNBOARD_AXE).
ensure_axe() {
  local have
  have="$(node -p "require('$TOOLS_DIR/node_modules/axe-core/package.json').version" 2>/dev/null || true)"
  if [ "$have" != "$AXE_VERSION" ]; then
    step "installing axe-core $AXE_VERSION (npm)"
    command -v npm >/dev/null || { apt_install npm; }
    mkdir -p "$TOOLS_DIR"
    npm install --prefix "$TOOLS_DIR" --no-audit --no-fund "axe-core@$AXE_VERSION" >/dev/null
  fi
}

# cargo-fuzz drives libFuzzer over fuzz/ (./x fuzz, and a bounded run in ./x test).
ensure_cargo_fuzz() {
  if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}' || true)" != "$CARGO_FUZZ_VERSION" ]; then
    step "installing cargo-fuzz $CARGO_FUZZ_VERSION (about 2 minutes on 2 cores, once)"
    cargo install --locked --force cargo-fuzz --version "$CARGO_FUZZ_VERSION"
  fi
}

# twiggy says where the widget's wasm bytes go (`./x size`, frontend/size.sh).
ensure_twiggy() {
  if [ "$(twiggy --version 2>/dev/null | awk '{print $2}' || true)" != "$TWIGGY_VERSION" ]; then
    step "installing twiggy $TWIGGY_VERSION (about 3 minutes on 2 cores, once)"
    cargo install --locked --force twiggy --version "$TWIGGY_VERSION"
  fi
}

apt_install() {
  step "installing Debian packages: $*"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

ensure_browser() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
}

# The ledger's PostgreSQL tests start a throwaway server from Debian's binaries
# (crates/testdb); they fail, never skip, when the binaries are missing.
ensure_postgres() {
  if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then apt_install postgresql; fi
}

# scripts/check-deploy.sh validates deploy/ offline: kubernetes-validate (PyPI, with the
# Kubernetes schemas inside the package) in a venv of Debian's python3, and promtool from
# Debian's prometheus package. Only promtool is taken out of the package: installing it
# would also start a Prometheus server on port 9090. Both are linked into $TOOLS_DIR/bin.
ensure_deploy_tools() {
  local bin="$TOOLS_DIR/bin" venv="$TOOLS_DIR/venv"
  mkdir -p "$bin"
  if [ "$("$venv/bin/kubernetes-validate" --version 2>/dev/null || true)" != "$KUBERNETES_VALIDATE_VERSION" ]; then
    step "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION (PyPI, in $venv)"
    [ -x /usr/bin/python3 ] || apt_install python3
    rm -rf "$venv"
    # Debian's python3 makes a venv only with python3-venv (ensurepip) installed.
    if ! /usr/bin/python3 -m venv "$venv" >/dev/null 2>&1; then
      rm -rf "$venv"
      apt_install python3-venv
      /usr/bin/python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
      "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  fi
  ln -sf "$venv/bin/kubernetes-validate" "$bin/kubernetes-validate"
  if ! "$bin/promtool" --version >/dev/null 2>&1; then
    step "installing promtool (from Debian's prometheus package, unpacked into $bin)"
    local sudo="" tmp
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    tmp="$(mktemp -d)"
    (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User="$(id -un)" prometheus && dpkg-deb -x prometheus_*.deb root)
    install -m 0755 "$tmp/root/usr/bin/promtool" "$bin/promtool"
    rm -rf "$tmp"
  fi
}

# Prints the PATH that puts the pinned tools first, for callers to export.
tools_path() { printf '%s' "$TOOLS_DIR/bin:$TOOLS_DIR/node_modules/.bin:$HOME/.cargo/bin:$PATH"; }

case "${1:-build}" in
  build) ensure_wasm_target; ensure_wasm_bindgen; ensure_trunk; ensure_wasm_opt; ensure_esbuild; ensure_brotli ;;
  size) ensure_wasm_target; ensure_wasm_bindgen; ensure_trunk; ensure_wasm_opt; ensure_esbuild; ensure_brotli; ensure_twiggy ;;
  browser) ensure_browser; ensure_axe ;;
  fuzz) ensure_cargo_fuzz ;;
  postgres) ensure_postgres ;;
  axe) ensure_axe ;;
  deploy) ensure_deploy_tools ;;
  axe-path) printf '%s' "$TOOLS_DIR/node_modules/axe-core/axe.min.js" ;;
  all) ensure_wasm_target; ensure_wasm_bindgen; ensure_trunk; ensure_wasm_opt; ensure_esbuild; ensure_brotli; ensure_twiggy; ensure_browser; ensure_axe; ensure_cargo_fuzz; ensure_postgres; ensure_deploy_tools ;;
  path) tools_path ;;
  *) echo "usage: scripts/tools.sh [build|size|browser|axe|fuzz|postgres|deploy|all|path|axe-path]" >&2; exit 2 ;;
esac
