#!/usr/bin/env bash
# Debian packages the tests use, installed when missing (needs root or sudo):
# - chromium, for the browser tests (Playwright's own browser download cannot work on
#   machines without internet access); without it they cannot run, so failing is an error;
# - flite, whose voices `benchmarks/interviews.py synthesize --voices` speaks with; only one
#   test needs it and skips without it, so failing to install it is a warning.
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
$SUDO apt-get update -qq || true
for package in "${missing[@]}"; do
    if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$package" >/dev/null; then
        if [ "$package" = chromium ]; then
            echo "could not install chromium: the browser tests need it" >&2
            exit 1
        fi
        echo "warning: could not install $package; the test that needs it is skipped" >&2
    fi
done
