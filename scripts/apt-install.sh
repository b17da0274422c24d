#!/usr/bin/env sh
# Installs a Debian package a test needs (apt-get, with sudo unless root), or says what to install.
# Usage: apt-install.sh <package> <what needs it>
set -eu
package="$1"
needed_for="$2"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "$needed_for needs $package, and there is no apt-get to install it: install it by hand" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing Debian's $package for $needed_for" >&2
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
