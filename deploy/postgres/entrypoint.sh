#!/bin/sh
# First start: make the cluster on the volume, with the database and its owner named by
# POSTGRES_DB and POSTGRES_USER and the password read from POSTGRES_PASSWORD_FILE. Then run
# PostgreSQL with the arguments given (compose.yaml's command). Its socket is in /tmp (a tmpfs;
# PGHOST points the client tools there).
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  password_file=${POSTGRES_PASSWORD_FILE:?POSTGRES_PASSWORD_FILE names the password file}
  initdb --pgdata="$PGDATA" --username=postgres --auth-local=peer --auth-host=scram-sha-256 \
    --pwfile="$password_file" --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  # Connections from the app network only, by password; the server listens on all addresses
  # of its container (compose.yaml puts it on the internal network alone).
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
  echo "host all all ::/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
  postgres -D "$PGDATA" -c listen_addresses='' -c unix_socket_directories=/tmp &
  until pg_isready -h /tmp -q; do sleep 0.2; done
  password=$(cat "$password_file")
  psql -h /tmp -U postgres -v ON_ERROR_STOP=1 -q \
    -v user="${POSTGRES_USER:-quietline}" -v db="${POSTGRES_DB:-quietline}" \
    -v password="$password" <<'SQL'
CREATE ROLE :"user" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"user";
SQL
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
if [ "${1:-postgres}" = postgres ]; then
  shift || true
  exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp "$@"
fi
exec "$@"
