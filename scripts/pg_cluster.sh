#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback, for tests and benchmarks.
#   scripts/pg_cluster.sh start DIR [PORT] [--fast]   initdb + start; prints the PG* variables
#   scripts/pg_cluster.sh stop DIR
# PostgreSQL refuses to run as root, so as root the cluster runs as the postgres user.
# --fast turns durability off (fsync, synchronous_commit): fine for a test cluster, never for data.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?cluster directory}
port=${3:-54329}
fast=${4:-}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  exit 3
fi
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_pg "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    opts="-h 127.0.0.1 -p $port -k $dir -c max_connections=200"
    if [ "$fast" = "--fast" ]; then
      opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    fi
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$opts" -w start >/dev/null
    echo "export AFTERSHOW_DB_ENGINE=postgresql PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=aftershow"
    ;;
  stop)
    as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
