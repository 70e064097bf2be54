#!/usr/bin/env bash
# Starts or stops a local dynalite (a DynamoDB emulator from npm) for tests and benchmarks. It is the one place that
# starts a dynalite: test.sh, the test projects (through tests/TestServers), the reliability tests and the benchmark.
#   eng/dynalite.sh start [--path DIR] [--name N]   installs dynalite@4.0.0 under .tmp/dynalite when missing, starts
#                                        it on a free port and writes .tmp/servers/N.env (EVENTSTORE_DYNAMODB_URL=...);
#                                        N defaults to "dynalite"; with --path its tables live in DIR, else in memory
#   eng/dynalite.sh crash [--name N]     kills it with SIGKILL; port and --path are kept for `restart`
#   eng/dynalite.sh restart [--name N]   starts a crashed server again on the same port over the same --path
#   eng/dynalite.sh stop [--name N]      stops the server started by `start`
set -euo pipefail

VERSION=4.0.0
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="$ROOT/.tmp/dynalite"
SERVERS="$ROOT/.tmp/servers"
NAME=dynalite
CLI="$PREFIX/node_modules/dynalite/cli.js"

ensure_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "node/npm missing: installing them with apt-get" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  fi
}

ensure_dynalite() {
  local installed=""
  if [[ -f "$PREFIX/node_modules/dynalite/package.json" ]]; then
    installed="$(node -p "require('$PREFIX/node_modules/dynalite/package.json').version")"
  fi
  if [[ "$installed" != "$VERSION" ]]; then
    mkdir -p "$PREFIX"
    npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error "dynalite@$VERSION" >&2
  fi
}

# shellcheck source=eng/ports.sh
source "$ROOT/eng/ports.sh"

start() {
  local data_path=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --path) data_path="$2"; shift 2 ;;
      *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
  done
  ensure_node
  ensure_dynalite
  mkdir -p "$SERVERS"
  if [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null && [[ -f "$ENV_FILE" ]]; then
    cat "$ENV_FILE"
    return 0
  fi
  local port
  port="$(free_port)"
  printf 'PORT=%s\nDATA_PATH=%q\n' "$port" "$data_path" >"$STATE_FILE"
  launch "$port" "$data_path"
}

launch() { # port data-path
  local port=$1 data_path=$2 args
  args=(--host 127.0.0.1 --port "$port" --createTableMs 0 --deleteTableMs 0 --updateTableMs 0)
  if [[ -n "$data_path" ]]; then
    mkdir -p "$data_path"
    args+=(--path "$data_path")
  fi
  nohup node "$CLI" "${args[@]}" >"$LOG_FILE" 2>&1 &
  local pid=$!
  echo "$pid" >"$PID_FILE"
  for _ in $(seq 1 200); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null \
       || node -e "require('http').get('http://127.0.0.1:$port/',r=>process.exit(0)).on('error',()=>process.exit(1))" 2>/dev/null; then
      echo "EVENTSTORE_DYNAMODB_URL=http://127.0.0.1:$port" | tee "$ENV_FILE"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "dynalite exited during start-up; log:" >&2
      cat "$LOG_FILE" >&2
      exit 1
    fi
    sleep 0.05
  done
  echo "dynalite did not answer on port $port within 10 s" >&2
  kill "$pid" 2>/dev/null || true
  exit 1
}

kill_server() { # signal
  if [[ -f "$PID_FILE" ]]; then
    local pid
    pid="$(cat "$PID_FILE")"
    kill "-$1" "$pid" 2>/dev/null || true
    # A killed node process can linger briefly as a zombie; give it a moment before forcing.
    for _ in $(seq 1 40); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$PID_FILE"
  fi
}

crash() {
  [[ -f "$PID_FILE" ]] || { echo "$NAME is not running" >&2; exit 1; }
  kill_server KILL
}

restart() {
  [[ -f "$STATE_FILE" ]] || { echo "$NAME was never started" >&2; exit 1; }
  local PORT DATA_PATH
  # shellcheck disable=SC1090
  source "$STATE_FILE"
  if [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then cat "$ENV_FILE"; return 0; fi
  launch "$PORT" "$DATA_PATH"
}

stop() {
  kill_server TERM
  rm -f "$ENV_FILE" "$STATE_FILE" "$LOG_FILE"
}

command="${1:-}"
[[ $# -gt 0 ]] && shift
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --name) NAME="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
[[ "$NAME" =~ ^[A-Za-z0-9_-]+$ ]] || { echo "--name takes letters, digits, '-' and '_' only" >&2; exit 2; }
ENV_FILE="$SERVERS/$NAME.env"
PID_FILE="$SERVERS/$NAME.pid"
LOG_FILE="$SERVERS/$NAME.log"
STATE_FILE="$SERVERS/$NAME.state"

case "$command" in
  start) start "${args[@]}" ;;
  crash) crash ;;
  restart) restart ;;
  stop) stop ;;
  *) echo "usage: $0 start [--path DIR] [--name N] | crash [--name N] | restart [--name N] | stop [--name N]" >&2; exit 2 ;;
esac
