#!/usr/bin/env bash
# Starts every local server the tests need (PostgreSQL, dynalite), runs the whole test suite, stops the servers.
# A server named by the environment (EVENTSTORE_POSTGRES_CONNECTION, EVENTSTORE_DYNAMODB_URL) is used instead of
# starting one. Extra arguments pass through to `dotnet test`, e.g. ./test.sh --filter "FullyQualifiedName~Postgres"
# or ./test.sh --filter Promise=13 (one CONFORMANCE.md promise on every provider).
# Kafka and EventStoreDB come from tests/TestServers in each test project: EVENTSTORE_KAFKA_BOOTSTRAP (a real broker,
# transactions on), else a container where Docker is reachable, else librdkafka's mock cluster in process;
# EVENTSTORE_ESDB_CONNECTION or a container, else its server tests are skipped with the reason. Each test project
# prints one "test servers: ..." line per backend saying where it came from.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

started=()
cleanup() {
  for s in "${started[@]}"; do "eng/$s.sh" stop >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

# A server named by the caller's environment is used as is; otherwise start a local one.
start_server() { # script env-var
  local script=$1 var=$2
  if [[ -n "${!var:-}" ]]; then
    echo "test.sh: using $var from the environment"
    return
  fi
  echo "test.sh: starting $script"
  "eng/$script.sh" start >/dev/null
  started+=("$script")
  set -a; source ".tmp/servers/$script.env"; set +a
}
start_server postgres EVENTSTORE_POSTGRES_CONNECTION
start_server dynalite EVENTSTORE_DYNAMODB_URL

results="$root/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"
status=0
# A test that runs 8 minutes (the longest takes about 2) is taken as hung: the test host is stopped and the run
# names it, instead of CI waiting out its whole limit.
dotnet test "$root/EventStore.Providers.sln" --logger "trx" --results-directory "$results" --blame-hang-timeout 8m --blame-hang-dump-type none "$@" || status=$?

# One closing line over every test project, counted from the trx files.
read -r passed failed skipped < <(
  cat "$results"/*.trx 2>/dev/null | grep -o '<Counters [^>]*>' | awk '
    { for (i = 1; i <= NF; i++) { split($i, kv, "="); gsub(/"|\/|>/, "", kv[2]); c[kv[1]] += kv[2] } }
    END { printf "%d %d %d\n", c["passed"], c["failed"] + c["error"] + c["timeout"] + c["aborted"], c["total"] - c["executed"] }')
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
if [[ $status -eq 0 && ${passed} -eq 0 ]]; then echo "test.sh: no test ran" >&2; status=1; fi
exit $status
