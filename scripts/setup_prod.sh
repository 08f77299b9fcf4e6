#!/usr/bin/env bash
# Installs what the scaled shape needs besides the venv: PostgreSQL, Redis and nginx (Debian packages).
# Safe to run again: it only installs what is missing. It never enables or starts the system
# services; `make run-prod-local` runs private instances under var/prod/, and production runs them
# however the operator chooses (docs/production.md).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
have_postgres() {
  local bin
  for bin in /usr/lib/postgresql/*/bin/pg_ctl; do
    [ -x "$bin" ] && [ -x "$(dirname "$bin")/initdb" ] && [ -x "$(dirname "$bin")/postgres" ] && return 0
  done
  return 1
}
have_postgres || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)

if [ ${#missing[@]} -eq 0 ]; then
  echo "==> PostgreSQL, Redis and nginx are installed"
  exit 0
fi

echo "==> missing: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "!! installing ${missing[*]} needs root. Run, as root:" >&2
  echo "     apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql redis-server nginx-light" >&2
  echo "   (or: sudo scripts/setup_prod.sh), then try again." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "!! no apt-get here: install PostgreSQL 13+, redis-server and nginx with this system's package manager" >&2
  exit 1
fi

# Package scripts must not start the system services (we run private instances): policy-rc.d
# answers "not allowed" for the duration of the install, and we restore whatever was there.
policy=/usr/sbin/policy-rc.d
saved=""
if [ -e "$policy" ]; then saved=$(mktemp); cp -p "$policy" "$saved"; fi
restore_policy() { if [ -n "$saved" ]; then mv -f "$saved" "$policy"; else rm -f "$policy"; fi; }
trap restore_policy EXIT
printf '#!/bin/sh\nexit 101\n' > "$policy"
chmod 0755 "$policy"

echo "==> apt-get update"
apt-get update
echo "==> installing postgresql redis-server nginx-light (services are not started)"
DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql redis-server nginx-light

have_postgres || { echo "!! PostgreSQL is still missing after the install" >&2; exit 1; }
command -v redis-server >/dev/null 2>&1 || { echo "!! redis-server is still missing after the install" >&2; exit 1; }
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { echo "!! nginx is still missing after the install" >&2; exit 1; }
echo "==> PostgreSQL, Redis and nginx installed"
