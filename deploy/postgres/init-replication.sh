#!/bin/sh
# Run once by the postgres image on first start (/docker-entrypoint-initdb.d): a role that may
# stream WAL, and the pg_hba line that lets the replica service use it.
set -eu
# No replication password set: the "ha" profile is not in use; nothing to add.
[ -n "${POSTGRES_REPLICATION_PASSWORD:-}" ] || exit 0
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '${POSTGRES_REPLICATION_PASSWORD}';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
