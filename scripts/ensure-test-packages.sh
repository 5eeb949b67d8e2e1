#!/usr/bin/env bash
# Installs what only the tests need when it is missing: Debian's chromium, the headless browser the console's
# browser test drives through Playwright (no browser can be downloaded here). Without root or apt-get it says
# what to install, and that test is skipped with the reason.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium is missing: the console's browser test will be skipped (Debian/Ubuntu: sudo apt-get install -y chromium)" >&2
  exit 0
fi
echo "installing chromium (for the console's browser test)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
