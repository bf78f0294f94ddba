#!/usr/bin/env bash
# Install (from Debian's packages) and start, on loopback, every server the
# test suite uses: PostgreSQL 15 with PostGIS, NATS with JetStream, Mosquitto,
# and Chromium for the browser tests.  Idempotent: what runs is left running.
set -uo pipefail
cd "$(dirname "$0")/.."
STATE=.services
mkdir -p "$STATE"
log() { echo "[services] $*"; }

need=()
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15)
[ -f /usr/share/postgresql/15/extension/postgis.control ] || need+=(postgresql-15-postgis-3)
command -v nats-server >/dev/null || need+=(nats-server)
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    log "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null 2>&1 || log "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 || log "apt-get install failed for ${need[*]}"
  else
    log "missing ${need[*]} and not root: install them or tests needing them fail under CI=true"
  fi
fi

# PostgreSQL: Debian's cluster on 127.0.0.1:5432, a superuser role for tests.
if command -v pg_ctlcluster >/dev/null; then
  if ! pg_lsclusters 2>/dev/null | grep -q "^15 *main .*online"; then
    pg_lsclusters 2>/dev/null | grep -q "^15 *main" || pg_createcluster 15 main >/dev/null 2>&1
    pg_ctlcluster 15 main start >/dev/null 2>&1 || log "postgres failed to start"
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  su postgres -c "psql -q -tAc \"SELECT 1 FROM pg_roles WHERE rolname='trucewatch'\"" 2>/dev/null | grep -q 1 || \
    su postgres -c "psql -q -c \"CREATE ROLE trucewatch LOGIN SUPERUSER PASSWORD 'trucewatch'\"" >/dev/null 2>&1 || log "could not create role"
  log "postgres: $(pg_isready -h 127.0.0.1 -p 5432 2>&1)"
fi

# NATS with JetStream on 127.0.0.1:4222.
if command -v nats-server >/dev/null; then
  if ! (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; then
    mkdir -p "$STATE/nats"
    nohup nats-server -a 127.0.0.1 -p 4222 -js -sd "$PWD/$STATE/nats" >"$STATE/nats.log" 2>&1 &
    echo $! >"$STATE/nats.pid"
    for _ in $(seq 1 40); do (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null && break; sleep 0.25; done
  fi
  log "nats: $( (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null && echo up || echo DOWN)"
fi

# Mosquitto on 127.0.0.1:1883.
MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)
if [ -x "$MOSQ" ]; then
  if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
    printf 'listener 1883 127.0.0.1\nallow_anonymous true\n' >"$STATE/mosquitto.conf"
    nohup "$MOSQ" -c "$PWD/$STATE/mosquitto.conf" >"$STATE/mosquitto.log" 2>&1 &
    echo $! >"$STATE/mosquitto.pid"
    for _ in $(seq 1 40); do (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && break; sleep 0.25; done
  fi
  log "mosquitto: $( (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && echo up || echo DOWN)"
fi
exit 0
