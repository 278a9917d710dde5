#!/usr/bin/env bash
# Installs the Debian packages listed in system-packages.txt that are not installed yet.
# Why a list: each part of the test suite that needs a real server or browser (Redis,
# Chromium) names its package once, and a fresh machine gets them all from one place.
set -euo pipefail
cd "$(dirname "$0")/.."
wanted=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' system-packages.txt | grep -v '^$' || true)
missing=()
for pkg in $wanted; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "distillguard: install these Debian packages first: ${missing[*]}" >&2
    exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
