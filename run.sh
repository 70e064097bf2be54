#!/usr/bin/env bash
# The main job on a fresh machine: runs the order sample on the embedded (in-memory) store, then the backend
# comparison benchmark, which starts the local servers it can (PostgreSQL, dynalite, Kafka mock cluster) and
# writes artifacts/bench/<timestamp>/ (results.json, results.md, charts).
# Arguments pass to the benchmark: ./run.sh --quick, ./run.sh --providers inmemory,postgres
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
echo "== Order sample (in-memory) =="
dotnet run --project samples/OrderSample -c Release
echo "== Backend comparison =="
dotnet run --project bench/EventStore.Providers.Bench -c Release -- "$@"
