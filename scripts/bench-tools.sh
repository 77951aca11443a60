#!/usr/bin/env bash
# Installs what `./x bench` runs besides the Rust build: Debian's wrk (the load generator)
# and nginx (the proxy people would otherwise deploy), each only when missing. The bench
# runs nginx itself, in the foreground with a scratch config on loopback ports; the
# system service is never used. Prints the nginx binary's path.
set -euo pipefail

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

nginx_path() { command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; }; }

missing=()
command -v wrk >/dev/null || missing+=(wrk)
[ -n "$(nginx_path || true)" ] || missing+=(nginx-light)
if [ "${#missing[@]}" -gt 0 ]; then
  step "installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  # nginx-light is the small build; fall back to the full package where it is gone.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2 \
    || DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk nginx >&2
fi
nginx_path
