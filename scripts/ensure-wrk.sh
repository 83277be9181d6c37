#!/usr/bin/env bash
# wrk, the HTTP load tool the web benchmarks use (Debian's package). Idempotent.
set -euo pipefail
if ! command -v wrk >/dev/null 2>&1; then
  echo "wrk is not installed: installing it from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq wrk >/dev/null
fi
