#!/usr/bin/env bash
# Installs Debian's PostgreSQL and starts a throw-away server for the tests:
# run by the postgres user, data in a temporary directory, listening only
# on a unix socket (no TCP). Prints the DSN of an empty database
# goalsearch_test on its last line, for GOALSEARCH_TEST_PG:
#
#	export GOALSEARCH_TEST_PG="$(bash .ci/postgres.sh | tail -n1)"
#
# Stop the server with: runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" stop
# (both are printed to stderr), or leave it to die with the machine.
set -euo pipefail

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq postgresql >&2
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)

# The server refuses to run as root; Debian's package creates this user.
id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
as_pg() { (cd / && runuser -u postgres -- "$@"); }

base=$(mktemp -d /tmp/goalsearch-pg.XXXXXX)
chown postgres: "$base"
chmod 0755 "$base"
PGDATA=$base/data
SOCK=$base/sock
as_pg mkdir -p "$SOCK"
as_pg "$PGBIN/initdb" -D "$PGDATA" -A trust -U postgres --no-sync >"$base/initdb.log" 2>&1 ||
	{ cat "$base/initdb.log" >&2; exit 1; }
# listen_addresses='' : unix socket only. fsync=off: a throw-away server.
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$base/server.log" -w -t 60 \
	-o "-k $SOCK -c listen_addresses='' -c fsync=off -c max_connections=200" start >&2 ||
	{ cat "$base/server.log" >&2; exit 1; }
as_pg "$PGBIN/createdb" -h "$SOCK" -U postgres goalsearch_test

# A test that restarts its own server (TestWorkersSurviveServerRestart) finds
# this script beside the socket directory.
cat >"$base/restart.sh" <<RESTART
#!/usr/bin/env bash
cd / && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -w -t 60 -m fast restart >/dev/null
RESTART
chmod +x "$base/restart.sh"

echo "postgres: PGBIN=$PGBIN PGDATA=$PGDATA (stop: runuser -u postgres -- $PGBIN/pg_ctl -D $PGDATA stop)" >&2
echo "postgres:///goalsearch_test?host=$SOCK&user=postgres"
