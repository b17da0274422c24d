#!/usr/bin/env sh
# The console's browser tests drive Debian's Chromium (playwright-core downloads no browser): install the
# package when it is missing, so `npm test` works on a fresh machine. CHROMIUM_PATH points elsewhere.
set -eu
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] && exit 0
exec sh "$(dirname "$0")/apt-install.sh" chromium "the console's browser tests (or set CHROMIUM_PATH)"
