#!/usr/bin/env bash
# Runs every test project against real SQLite files and a real PostgreSQL.
# On a fresh Debian machine it installs PostgreSQL (apt-get), starts it natively on 127.0.0.1 and creates the
# test role. Set TM_TEST_POSTGRES to an admin connection string to use another server instead.
# Ends with the line "N passed, N failed, N skipped"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { as_root runuser -u postgres -- "$@"; }

provision_postgres() {
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    echo "== installing PostgreSQL (apt-get)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  local version
  version=$(ls /usr/lib/postgresql | sort -n | tail -1)
  if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
    as_root pg_createcluster "$version" main >/dev/null
  fi
  # Listen on 127.0.0.1 only, through the cluster's conf.d (pg_conftool does not quote address values).
  echo "listen_addresses = '127.0.0.1'" | as_root tee "/etc/postgresql/$version/main/conf.d/triggers-modular.conf" >/dev/null
  if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -qx online; then
    echo "== starting PostgreSQL $version on 127.0.0.1"
    as_root pg_ctlcluster "$version" main start
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
  pg_isready -h 127.0.0.1
  as_postgres psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname = 'tm_test'" | grep -q 1 \
    || as_postgres psql -qc "CREATE ROLE tm_test LOGIN CREATEDB PASSWORD 'tm_test'"
  # DROP DATABASE … WITH (FORCE) must be able to end an autovacuum worker that is visiting a test database.
  as_postgres psql -qc "GRANT pg_signal_backend TO tm_test" >/dev/null
  # Databases left behind by an earlier run that was killed.
  for db in $(as_postgres psql -qtAc "SELECT datname FROM pg_database WHERE datname LIKE 'tm\_test\_%' OR datname LIKE 'tm\_bench\_%'"); do
    as_postgres psql -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
  done
}

if [ -z "${TM_TEST_POSTGRES:-}" ]; then
  provision_postgres
fi

results=TestResults
rm -rf "$results"
status=0
dotnet test Triggers.Modular.sln --logger trx --results-directory "$results" "$@" || status=$?

# Sum the counters of every project's TRX report.
read -r passed failed skipped total < <(python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
p = f = s = t = 0
for path in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(path).getroot().find(".//{*}Counters")
    p += int(c.get("passed")); f += int(c.get("failed")) + int(c.get("error")) + int(c.get("timeout")) + int(c.get("aborted"))
    # xunit writes a skipped test as counted but not executed (notExecuted stays 0)
    s += max(int(c.get("notExecuted")), int(c.get("total")) - int(c.get("executed"))); t += int(c.get("total"))
print(p, f, s, t)
PY
)
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$total" -eq 0 ]; then
  exit 1
fi
