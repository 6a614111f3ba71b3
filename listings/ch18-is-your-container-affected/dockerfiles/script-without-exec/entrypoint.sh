#!/bin/sh
set -e
# prepare the data directory, then start the command
mkdir -p /data
chown app /data
"$@"
