#!/usr/bin/env bash
# Debian's Chromium for the browser tests (Playwright drives it; its own browser download
# does not work here). Idempotent; needs root on a fresh machine.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
  echo "Chromium is not installed: installing it from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
/usr/bin/chromium --version
