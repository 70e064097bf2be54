#!/usr/bin/env bash
# Starts or stops a throw-away local PostgreSQL 15 for the tests and benchmarks of this repository.
#
#   eng/postgres.sh start [--durable]   start (or reuse) the server; prints and writes .tmp/servers/postgres.env
#   eng/postgres.sh stop                stop it (fast shutdown) and remove its data directory
#
# Without --durable the server runs with fsync/synchronous_commit/full_page_writes off: tests only, never benchmarks.
# initdb and postgres refuse to run as root, so both run as the `postgres` system user.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
servers_dir="$repo_root/.tmp/servers"
env_file="$servers_dir/postgres.env"
state_file="$servers_dir/postgres.state"
pg_bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"
pg_user=postgres

log() { echo "postgres.sh: $*" >&2; }

as_pg() {
  if [[ "$(id -un)" == "$pg_user" ]]; then "$@"; else runuser -u "$pg_user" -- "$@"; fi
}

ensure_binaries() {
  if [[ -x "$pg_bin/initdb" && -x "$pg_bin/pg_ctl" ]]; then return; fi
  log "PostgreSQL 15 binaries not found in $pg_bin; installing postgresql-15 with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql-15 >/dev/null
  [[ -x "$pg_bin/initdb" ]] || { log "installing postgresql-15 did not provide $pg_bin/initdb"; exit 1; }
}

# A data directory outside the repository: the postgres user must own it with mode 700, and the path must be
# traversable by that user wherever the repository is checked out. Keyed by the repo path so worktrees do not share.
data_root() {
  local key
  key="$(printf '%s' "$repo_root" | md5sum | cut -c1-12)"
  echo "/tmp/eventstore-postgres-$key"
}

port_is_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 40000))
    if port_is_free "$port"; then echo "$port"; return; fi
  done
  log "no free port found"; exit 1
}

is_running() {
  local root="$1"
  [[ -f "$root/data/postmaster.pid" ]] && as_pg "$pg_bin/pg_ctl" -D "$root/data" status >/dev/null 2>&1
}

write_env() {
  local port="$1"
  mkdir -p "$servers_dir"
  # Quoted so `source`-ing the file keeps the semicolons inside the value.
  echo "EVENTSTORE_POSTGRES_CONNECTION='Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres'" > "$env_file"
  cat "$env_file"
}

start() {
  local durable=0
  for arg in "$@"; do
    case "$arg" in
      --durable) durable=1 ;;
      *) log "unknown option $arg"; exit 2 ;;
    esac
  done
  ensure_binaries
  local root; root="$(data_root)"
  if is_running "$root" && [[ -f "$state_file" ]]; then
    # shellcheck disable=SC1090
    source "$state_file"
    if [[ "${PG_DURABLE:-0}" != "$durable" ]]; then
      log "a server is running with durable=${PG_DURABLE:-0}; stop it first to start one with durable=$durable"
      exit 1
    fi
    write_env "$PG_PORT"
    return
  fi
  rm -rf "$root"
  mkdir -p "$root/socket"
  chown -R "$pg_user:" "$root"
  chmod 700 "$root"
  as_pg "$pg_bin/initdb" -D "$root/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$root/initdb.log" 2>&1 \
    || { cat "$root/initdb.log" >&2; exit 1; }
  local port; port="$(free_port)"
  local opts="-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$root/socket -c max_connections=300"
  if [[ "$durable" == 0 ]]; then
    opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  as_pg "$pg_bin/pg_ctl" -D "$root/data" -l "$root/server.log" -o "$opts" -w -t 60 start >/dev/null \
    || { cat "$root/server.log" >&2; exit 1; }
  mkdir -p "$servers_dir"
  printf 'PG_PORT=%s\nPG_DURABLE=%s\nPG_ROOT=%s\n' "$port" "$durable" "$root" > "$state_file"
  log "PostgreSQL 15 listening on 127.0.0.1:$port (durable=$durable, data in $root)"
  write_env "$port"
}

stop() {
  local root; root="$(data_root)"
  if [[ -d "$root/data" ]] && is_running "$root"; then
    as_pg "$pg_bin/pg_ctl" -D "$root/data" -m fast -w stop >/dev/null
    log "stopped"
  else
    log "not running"
  fi
  rm -rf "$root"
  rm -f "$env_file" "$state_file"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  *) echo "usage: $0 start [--durable] | stop" >&2; exit 2 ;;
esac
