#!/usr/bin/env sh
# The console's browser tests drive Debian's Chromium (playwright-core downloads no browser): install the
# package when it is missing, so `npm test` works on a fresh machine. CHROMIUM_PATH points elsewhere.
set -eu
path="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$path" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "no Chromium at $path and no apt-get to install it: install Chromium, or set CHROMIUM_PATH" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing Debian's chromium for the console's browser tests" >&2
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
