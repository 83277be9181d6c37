#!/usr/bin/env bash
# Postfix's smtp-sink, the SMTP server the delivery benchmark sends into (it accepts
# thousands of messages a second, so the workers are what is measured). It comes with
# Debian's postfix package, installed here without configuring a mail system (debconf's
# "No configuration"); nothing is started. Idempotent.
set -euo pipefail
if ! command -v smtp-sink >/dev/null 2>&1 && [ ! -x /usr/sbin/smtp-sink ]; then
  echo "smtp-sink is not installed: installing postfix from Debian's packages (no configuration)"
  export DEBIAN_FRONTEND=noninteractive
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postfix >/dev/null
fi
