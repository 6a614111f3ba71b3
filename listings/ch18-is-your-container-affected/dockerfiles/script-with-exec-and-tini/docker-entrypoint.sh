#!/bin/sh
set -e
if [ "${1#-}" != "$1" ]; then
	set -- app "$@"
fi
exec "$@"
