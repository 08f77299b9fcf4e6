#!/usr/bin/env bash
# Nightly backup of the assistant's two PostgreSQL databases: `rasa` (Rasa's tracker store: every
# conversation) and `gateway` (queue, advisers, transcripts, feedback, audit). One custom-format
# dump per database per run, kept RETENTION_DAYS days. Run as the `postgres` OS user on the
# database machine (family-advice-backup.timer does this); restore steps: docs/production.md.
#   BACKUP_DIR       default /var/backups/family-advice (created 0700)
#   RETENTION_DAYS   default 14; keep it below config/retrain.yml retention.days (90), so a
#                    conversation deleted by retention or on request is gone from backups too.
#   PGHOST / PGPORT  default: the local socket, port 5432
set -euo pipefail
umask 077
BACKUP_DIR=${BACKUP_DIR:-/var/backups/family-advice}
RETENTION_DAYS=${RETENTION_DAYS:-14}
mkdir -p "$BACKUP_DIR"
chmod 0700 "$BACKUP_DIR"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
for db in rasa gateway; do
  target="$BACKUP_DIR/$db-$stamp.dump"
  pg_dump --format=custom --compress=6 --no-owner --file="$target.partial" "$db"
  pg_restore --list "$target.partial" >/dev/null   # a dump that cannot be listed is no backup
  mv "$target.partial" "$target"
  echo "backed up $db to $target ($(du -h "$target" | cut -f1))"
done
find "$BACKUP_DIR" -maxdepth 1 -type f \( -name 'rasa-*.dump' -o -name 'gateway-*.dump' \) \
  -mtime +"$RETENTION_DAYS" -print -delete
find "$BACKUP_DIR" -maxdepth 1 -type f -name '*.partial' -mmin +600 -delete
