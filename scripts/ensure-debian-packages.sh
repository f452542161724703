#!/usr/bin/env bash
# Debian packages the tests use: Chromium for the browser tests (Playwright's own browser
# download cannot work on machines without internet access) and flite, whose voices
# `benchmarks/interviews.py synthesize --voices` speaks with. Installs what is missing (needs
# root or sudo).
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v flite >/dev/null || missing+=(flite)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
echo "installing Debian's ${missing[*]} for the tests"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
