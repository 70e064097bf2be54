#!/usr/bin/env bash
# A new user's first hour, automated: pack every src project, create a fresh web app outside the solution that gets
# the packages only from that folder (and everything else from NuGet), give it the README's quick start as Program.cs
# (docs/quickstart/Program.cs, which the README includes verbatim), build it, and run it on the in-memory store,
# PostgreSQL and DynamoDB (dynalite) configured by environment variables only, as the README says. Any surprise fails:
# a build warning, a non-2xx answer, an answer of the wrong shape, a warning or error in the app's log, or a noisy start.
#
#   eng/package-smoke.sh                      pack into .tmp/package-smoke/feed, then test
#   eng/package-smoke.sh --packages DIR       test the .nupkg files already in DIR (CI passes artifacts/packages)
#
# Servers: EVENTSTORE_POSTGRES_CONNECTION / EVENTSTORE_DYNAMODB_URL when set, otherwise the script starts them with
# eng/postgres.sh and eng/dynalite.sh and stops them at the end.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

work="$root/.tmp/package-smoke"
feed="$work/feed"
packages=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --packages) packages="$(cd "$2" && pwd)"; shift 2 ;;
    *) echo "package-smoke: unknown argument $1" >&2; exit 2 ;;
  esac
done

fail() { echo "package-smoke: FAIL: $*" >&2; exit 1; }
zip_entry() { # archive entry -> the entry's text on stdout (unzip, else python3)
  if command -v unzip >/dev/null; then unzip -p "$1" "$2" 2>/dev/null
  else python3 -c 'import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())' "$1" "$2" 2>/dev/null; fi
}
step() { echo "package-smoke: $*"; }
started_at=$SECONDS

rm -rf "$work"; mkdir -p "$feed"
if [[ -z "$packages" ]]; then
  step "packing every src project into $feed"
  # One solution filter over src/ packs every package in one build instead of one build per project.
  projects="$(for proj in src/*/*.csproj; do printf '"%s",' "$proj"; done)"
  printf '{"solution":{"path":"../../EventStore.Providers.sln","projects":[%s]}}\n' "${projects%,}" >"$work/src.slnf"
  dotnet pack "$work/src.slnf" -c Debug -o "$feed" -v quiet -nologo >"$work/pack.log" 2>&1 \
    || { cat "$work/pack.log" >&2; fail "dotnet pack failed"; }
else
  cp "$packages"/*.nupkg "$feed"/
fi

# Every src project must have become a package, each with its own README (not the repository's).
for proj in src/*/*.csproj; do
  id="$(basename "$proj" .csproj)"
  nupkg="$(ls "$feed/$id".[0-9]*.nupkg 2>/dev/null | grep -v '\.symbols\.' | head -1 || true)"
  [[ -n "$nupkg" ]] || fail "no package for $id in $feed"
  readme="$(zip_entry "$nupkg" README.md || true)"
  [[ -n "$readme" ]] || fail "$id ships no README.md"
  [[ "$(head -1 <<<"$readme")" == "# $id" ]] || fail "$id ships a README whose title is '$(head -1 <<<"$readme")', not '# $id'"
  if grep -qE '\]\((\.\.?/|docs/|src/)' <<<"$readme"; then fail "$id's README has relative links, which break on a package page"; fi
done
version="$(ls "$feed"/EventStore.Providers.Abstractions.[0-9]*.nupkg | grep -v symbols | head -1 | sed -E 's/.*Abstractions\.(.*)\.nupkg/\1/')"
step "packages $version: $(ls "$feed"/*.nupkg | grep -vc symbols) in the feed"

# A clean app: our packages from the feed only, everything else from NuGet. Copies of our packages that an earlier
# run left in the global packages folder are removed so the feed's build is the one tested.
rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}"/eventstore.providers.*
app="$work/app"
# The app lives under the repository's .tmp: empty Directory.* files stop MSBuild from applying the repository's
# own props (central package versions, warnings as errors, Source Link) to it, so it builds as a new app would.
for f in Directory.Build.props Directory.Build.targets Directory.Packages.props; do echo '<Project />' >"$work/$f"; done
dotnet new web -n SmokeApp -o "$app" --no-restore >/dev/null || fail "dotnet new web failed"
cat >"$app/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="local"><package pattern="EventStore.Providers.*" /></packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
</configuration>
EOF
# The install commands of the README's "Install" section.
for package in EventStore.Providers.InMemory EventStore.Providers.Postgres EventStore.Providers.DynamoDB; do
  grep -qF "dotnet add package $package" README.md || fail "README.md does not show 'dotnet add package $package'"
  (cd "$app" && dotnet add package "$package" --version "$version" --no-restore >/dev/null) || fail "dotnet add package $package failed"
done
cp docs/quickstart/Program.cs "$app/Program.cs"
step "building the quick start against the packages"
if ! (cd "$app" && dotnet build -c Debug -nologo -v quiet -p:TreatWarningsAsErrors=true >"$work/build.log" 2>&1); then
  cat "$work/build.log" >&2; fail "the quick start does not build from the packages"
fi

# Servers.
stop=()
cleanup() {
  [[ -n "${app_pid:-}" ]] && kill "$app_pid" 2>/dev/null || true
  for s in "${stop[@]}"; do "eng/$s.sh" stop >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
need_server() { # script variable
  if [[ -z "${!2:-}" ]]; then
    "eng/$1.sh" start >/dev/null || fail "eng/$1.sh start failed"
    stop+=("$1")
    set -a; source ".tmp/servers/$1.env"; set +a
  fi
}
need_server postgres EVENTSTORE_POSTGRES_CONNECTION
need_server dynalite EVENTSTORE_DYNAMODB_URL

port=$(( 20000 + RANDOM % 20000 ))
run_id="$(date +%s)$RANDOM"

# Runs the app with the given environment, drives it over HTTP and checks each answer.
check_provider() { # name env...
  local name=$1; shift
  local log="$work/app-$name.log" url="http://127.0.0.1:$port"
  port=$((port + 1))
  env "$@" ASPNETCORE_URLS="$url" DOTNET_ENVIRONMENT=Production \
    dotnet "$app/bin/Debug/net10.0/SmokeApp.dll" --contentRoot "$app" >"$log" 2>&1 &
  app_pid=$!
  local deadline=$((SECONDS + 60))
  until curl -fsS "$url/health" >/dev/null 2>&1; do
    kill -0 "$app_pid" 2>/dev/null || { cat "$log" >&2; fail "$name: the app exited during start"; }
    (( SECONDS < deadline )) || { cat "$log" >&2; fail "$name: /health did not answer 200 within 60 s"; }
    sleep 0.5
  done
  local health; health="$(curl -fsS "$url/health")"
  [[ "$health" == "Healthy" ]] || fail "$name: /health says '$health'"

  local a="a$run_id" b="b$run_id" out
  request() { # method path [body] -> prints the body; fails on a non-2xx answer
    local answer status
    answer="$(curl -sS -X "$1" "$url$2" -H 'Content-Type: application/json' ${3:+--data "$3"} -w $'\n%{http_code}')" \
      || fail "$name: $1 $2 did not answer"
    status="${answer##*$'\n'}"; answer="${answer%$'\n'*}"
    [[ "$status" == 2* ]] || { tail -20 "$log" >&2; fail "$name: $1 $2 answered $status: $answer"; }
    printf '%s' "$answer"
  }
  expect() { # name text regex
    [[ "$2" =~ $3 ]] || fail "$name: expected $1 to match $3, got: $2"
  }
  out="$(request POST "/todos/$a" '{"title":"write the docs"}')"
  expect "the append result" "$out" '^\{"lastVersion":0,"position":"[0-9:]+","wroteEvents":true\}$'
  request POST "/todos/$b" '{"title":"ship the sample"}' >/dev/null
  out="$(request POST "/todos/$a/done")"
  expect "the second append result" "$out" '^\{"lastVersion":1,"position":"([0-9:]+)","wroteEvents":true\}$'
  local position="${BASH_REMATCH[1]}"
  out="$(request GET "/todos/$a/events")"
  expect "the stream" "$out" "^\[\{\"stream\":\"Todo-$a\",\"version\":0,\"position\":\"[0-9:]+\",.*\"eventType\":\"TodoAdded\".*\"data\":\{\"id\":\"$a\",\"title\":\"write the docs\"\}.*\"version\":1,.*\"eventType\":\"TodoCompleted\""
  out="$(request GET "/todos?after=$position")"
  expect "the read model" "$out" '"ship the sample"'
  [[ "$out" != *'"write the docs"'* ]] || fail "$name: the read model still lists the completed todo: $out"

  kill "$app_pid"; wait "$app_pid" 2>/dev/null || true; app_pid=""
  # No warnings or errors, and a quiet start: the web template logs at Information by default.
  if grep -nE '^(warn|fail|crit):' "$log" >&2; then fail "$name: the app logged warnings or errors (above; full log $log)"; fi
  local before_listening
  before_listening="$(sed -n '/Now listening on/q;p' "$log" | wc -l)"
  (( before_listening <= 40 )) || { head -40 "$log" >&2; fail "$name: $before_listening log lines before 'Now listening' (at most 40 expected)"; }
  step "$name: ok (health, append results, stream read, projection; $before_listening log lines before listening)"
}

check_provider inmemory EventStore__Provider=InMemory
check_provider postgres EventStore__Provider=Postgres \
  "EventStore__Postgres__ConnectionString=$EVENTSTORE_POSTGRES_CONNECTION" "EventStore__Postgres__Schema=smoke_$run_id"
check_provider dynamodb EventStore__Provider=DynamoDB \
  "EventStore__DynamoDB__ServiceUrl=$EVENTSTORE_DYNAMODB_URL" EventStore__DynamoDB__Region=us-east-1 \
  EventStore__DynamoDB__AccessKeyId=local EventStore__DynamoDB__SecretAccessKey=local \
  "EventStore__DynamoDB__TableName=smoke-$run_id" EventStore__DynamoDB__CreateTables=true

step "passed in $((SECONDS - started_at)) s"
