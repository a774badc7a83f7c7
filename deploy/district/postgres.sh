#!/usr/bin/env bash
# A PostgreSQL server of its own for the district office's tests and demo: its own data
# directory, its own port on 127.0.0.1, trust authentication for local connections, and a
# database named `district`. Not a production setup (see docs/district.md).
#
#   postgres.sh start DIR [PORT]   initialise DIR when empty, start, wait, create `district`
#   postgres.sh stop DIR           stop (fast); idempotent
#   postgres.sh url DIR            print the connection string for [postgres] url
#
# Installs Debian's postgresql when no initdb is found. Run as root, the server runs as the
# `postgres` user (PostgreSQL refuses root), so DIR is handed to it.
set -euo pipefail

die() { echo "postgres.sh: $*" >&2; exit 1; }

bin_dir() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$found" ] || [ ! -x "$found/initdb" ]; then
    echo "PostgreSQL not found: installing Debian's package" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >&2 || {
      $sudo apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >&2
    } || die "could not install postgresql with apt-get"
    found=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  echo "$found"
}

# Runs a PostgreSQL program as the user that owns the data directory.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: postgres.sh start|stop|url DIR [PORT]"
case "$cmd" in
  start)
    port=${3:-15432}
    bin=$(bin_dir)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres: "$dir"
      # The path down to DIR must be searchable by postgres (tempfile dirs are 0700).
      p="$dir"; while [ "$p" != "/" ]; do p=$(dirname "$p"); chmod o+x "$p" 2>/dev/null || true; done
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || die "initdb failed: see $dir/initdb.log"
    fi
    echo "$port" >"$dir/port"
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null \
        || die "PostgreSQL did not start: see $dir/postgres.log"
    fi
    as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -Atqc \
      "SELECT 1 FROM pg_database WHERE datname = 'district'" postgres | grep -q 1 \
      || as_owner "$bin/createdb" -h "$dir" -p "$port" -U postgres district
    echo "host=127.0.0.1 port=$port user=postgres dbname=district"
    ;;
  stop)
    [ -d "$dir/data" ] || exit 0
    bin=$(bin_dir)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  url)
    echo "host=127.0.0.1 port=$(cat "$dir/port") user=postgres dbname=district"
    ;;
  *) die "unknown command $cmd (start, stop, url)" ;;
esac
