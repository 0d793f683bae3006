#!/bin/sh
# docs/deploy/kkik-backup.sh -> /usr/local/sbin/kkik-backup (run by kkik-backup.service)
# One backup of the campaign database: pg_dump in its custom format (compressed; restored with
# kkik-restore), written under a temporary name, checked readable, then renamed, so a file
# named kkik-*.dump is always complete. Backups older than KKIK_BACKUP_KEEP_DAYS are removed.
# Connects as libpq does by default (the postgres user over the local socket); PGHOST, PGPORT
# and PGUSER in the environment are honoured. Prints the new file's path.
set -eu

db="${KKIK_DB:-kkik}"
dir="${KKIK_BACKUP_DIR:-/var/backups/kkik}"
keep_days="${KKIK_BACKUP_KEEP_DAYS:-30}"

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
file="$dir/$db-$stamp.dump"
partial="$dir/.$db-$stamp.dump.partial"
trap 'rm -f "$partial"' EXIT

pg_dump --format=custom --file="$partial" "$db"
pg_restore --list "$partial" >/dev/null
mv "$partial" "$file"
find "$dir" -maxdepth 1 -name "$db-*.dump" -mtime +"$keep_days" -delete
echo "$file"
