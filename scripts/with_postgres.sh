#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster, then remove the cluster.
set -euo pipefail
dir=$(mktemp -d /tmp/aftershow-pg.XXXXXX)
port=${AFTERSHOW_PG_PORT:-54329}
here=$(cd "$(dirname "$0")" && pwd)
cleanup() { "$here/pg_cluster.sh" stop "$dir" || true; rm -rf "$dir"; }
trap cleanup EXIT
eval "$("$here/pg_cluster.sh" start "$dir" "$port" --fast)"
"$@"
