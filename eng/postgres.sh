#!/usr/bin/env bash
# Starts or stops a throw-away local PostgreSQL 15 for the tests and benchmarks of this repository. It is the one
# place that starts a local PostgreSQL: test.sh, the test projects (through tests/TestServers), the reliability tests
# and the benchmark all call it.
#
#   eng/postgres.sh start [--durable|--crash-safe] [--name N]   start (or reuse) the server; prints and writes
#                                                               .tmp/servers/N.env (N defaults to "postgres")
#   eng/postgres.sh crash [--name N]     kill it the hard way (pg_ctl -m immediate: no shutdown checkpoint); its data
#                                        and port are kept for `restart`
#   eng/postgres.sh restart [--name N]   start a crashed server again over the same data on the same port
#   eng/postgres.sh stop [--name N]      stop it (fast shutdown) and remove its data directory
#
# Modes: by default fsync/synchronous_commit/full_page_writes are off (tests only, never benchmarks); --durable keeps
# PostgreSQL's durable defaults (benchmarks); --crash-safe keeps synchronous_commit on with fsync off, so a killed
# server (not a killed machine) loses no acknowledged commit (the reliability tests' server-crash runs).
# Each name is its own server: its own data directory and port.
# initdb and postgres refuse to run as root, so both run as the `postgres` system user.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
servers_dir="$repo_root/.tmp/servers"
name=postgres
pg_bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"
pg_user=postgres

log() { echo "postgres.sh: $*" >&2; }
# shellcheck source=eng/ports.sh
source "$repo_root/eng/ports.sh"

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
# traversable by that user wherever the repository is checked out. Keyed by the repo path (so worktrees do not share)
# and the server's name.
data_root() {
  local key
  if [[ "$name" == postgres ]]; then key="$repo_root"; else key="$repo_root:$name"; fi
  key="$(printf '%s' "$key" | md5sum | cut -c1-12)"
  echo "/tmp/eventstore-postgres-$key"
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

server_options() { # port mode root
  local opts="-c listen_addresses=127.0.0.1 -p $1 -c unix_socket_directories=$3/socket -c max_connections=300"
  case "$2" in
    fast) opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off" ;;
    crash-safe) opts="$opts -c fsync=off -c full_page_writes=off" ;;
  esac
  echo "$opts"
}

start_server() { # root port mode
  as_pg "$pg_bin/pg_ctl" -D "$1/data" -l "$1/server.log" -o "$(server_options "$2" "$3" "$1")" -w -t 60 start >/dev/null \
    || { cat "$1/server.log" >&2; exit 1; }
}

# Starts a new server on a free port (prints the port); a port taken between the pick and the bind is picked again.
start_on_free_port() { # root mode
  local port
  for _ in 1 2 3 4 5; do
    port="$(free_port)" || exit 1
    rm -f "$1/server.log"
    if as_pg "$pg_bin/pg_ctl" -D "$1/data" -l "$1/server.log" -o "$(server_options "$port" "$2" "$1")" -w -t 60 start >/dev/null; then
      echo "$port"; return
    fi
    grep -q "Address already in use" "$1/server.log" || { cat "$1/server.log" >&2; exit 1; }
    log "port $port was taken before the server bound it; picking another"
  done
  cat "$1/server.log" >&2; exit 1
}

start() {
  local mode=fast
  for arg in "$@"; do
    case "$arg" in
      --durable) mode=durable ;;
      --crash-safe) mode=crash-safe ;;
      *) log "unknown option $arg"; exit 2 ;;
    esac
  done
  ensure_binaries
  local root; root="$(data_root)"
  if is_running "$root" && [[ -f "$state_file" ]]; then
    # shellcheck disable=SC1090
    source "$state_file"
    if [[ "${PG_MODE:-fast}" != "$mode" ]]; then
      log "$name is running in mode ${PG_MODE:-fast}; stop it first to start one in mode $mode"
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
  local port; port="$(start_on_free_port "$root" "$mode")"
  mkdir -p "$servers_dir"
  printf 'PG_PORT=%s\nPG_MODE=%s\nPG_ROOT=%s\n' "$port" "$mode" "$root" > "$state_file"
  log "PostgreSQL 15 $name listening on 127.0.0.1:$port (mode $mode, data in $root)"
  write_env "$port"
}

crash() {
  local root; root="$(data_root)"
  is_running "$root" || { log "$name is not running"; exit 1; }
  as_pg "$pg_bin/pg_ctl" -D "$root/data" -m immediate -w stop >/dev/null
  log "$name crashed (immediate stop); 'restart' starts it again over the same data"
}

restart() {
  local root; root="$(data_root)"
  [[ -f "$state_file" && -d "$root/data" ]] || { log "$name was never started"; exit 1; }
  # shellcheck disable=SC1090
  source "$state_file"
  if ! is_running "$root"; then start_server "$root" "$PG_PORT" "${PG_MODE:-fast}"; fi
  write_env "$PG_PORT"
}

stop() {
  local root; root="$(data_root)"
  if [[ -d "$root/data" ]] && is_running "$root"; then
    as_pg "$pg_bin/pg_ctl" -D "$root/data" -m fast -w stop >/dev/null
    log "$name stopped"
  else
    log "$name not running"
  fi
  rm -rf "$root"
  rm -f "$env_file" "$state_file"
}

command="${1:-}"
[[ $# -gt 0 ]] && shift
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --name) name="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
[[ "$name" =~ ^[A-Za-z0-9_-]+$ ]] || { log "--name takes letters, digits, '-' and '_' only"; exit 2; }
env_file="$servers_dir/$name.env"
state_file="$servers_dir/$name.state"

case "$command" in
  start) start "${args[@]}" ;;
  crash) crash ;;
  restart) restart ;;
  stop) stop ;;
  *) echo "usage: $0 start [--durable|--crash-safe] [--name N] | crash [--name N] | restart [--name N] | stop [--name N]" >&2; exit 2 ;;
esac
