#!/bin/sh
# docs/deploy/kkik-restore.sh -> /usr/local/sbin/kkik-restore
# Usage: kkik-restore BACKUP.dump   (as the postgres user, with kkik-run and kkik-serve stopped)
# Restores a kkik-backup file into a new database, and only when that has worked renames the
# current database to kkik_before_restore_<time> (kept until you drop it) and the restored one
# to kkik. A failed restore leaves the current database as it was. PGHOST, PGPORT and PGUSER in
# the environment are honoured.
set -eu

if [ "$#" -ne 1 ] || [ ! -r "$1" ]; then
    echo "usage: kkik-restore BACKUP.dump (a readable file made by kkik-backup)" >&2
    exit 2
fi
dump="$1"
db="${KKIK_DB:-kkik}"
owner="${KKIK_DB_OWNER:-kkik}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
new="${db}_restore_$stamp"
old="${db}_before_restore_$stamp"

createdb --owner="$owner" --encoding=UTF8 --template=template0 "$new"
if ! pg_restore --exit-on-error --no-owner --role="$owner" --dbname="$new" "$dump"; then
    dropdb "$new"
    echo "kkik-restore: the restore failed; $db is unchanged" >&2
    exit 1
fi
exists="$(psql -X -A -t -v ON_ERROR_STOP=1 --dbname=postgres \
    -c "SELECT count(*) FROM pg_database WHERE datname = '$db'")"
if ! {
    echo "REVOKE ALL ON DATABASE \"$new\" FROM PUBLIC;"
    if [ "$exists" = 1 ]; then
        echo "ALTER DATABASE \"$db\" RENAME TO \"$old\";"
    fi
    echo "ALTER DATABASE \"$new\" RENAME TO \"$db\";"
} | psql -X -q -v ON_ERROR_STOP=1 --single-transaction --dbname=postgres; then
    echo "kkik-restore: $db is unchanged (is something still connected? stop kkik-run and" \
        "kkik-serve); the restored copy is $new" >&2
    exit 1
fi
if [ "$exists" = 1 ]; then
    echo "kkik-restore: $db restored from $dump; the previous database is now $old"
else
    echo "kkik-restore: $db restored from $dump"
fi
