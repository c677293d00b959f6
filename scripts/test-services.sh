#!/usr/bin/env bash
# Starts the real servers the data-source tests talk to: PostgreSQL, MariaDB (MySQL protocol) and
# Redis, each its own instance on loopback with known ports and credentials, its data under
# $TIANGONG_SERVICES_DIR. Idempotent: a server already answering is left alone; packages are
# installed from Debian only when missing. Used by .ci/run and by `npm test` (pretest).
set -euo pipefail

DIR="${TIANGONG_SERVICES_DIR:-/tmp/tiangong-test-services}"
PG_PORT=55432
MYSQL_PORT=53306
REDIS_PORT=56379
PASSWORD=tiangong-test
mkdir -p "$DIR"
chmod 777 "$DIR"

log() { echo "[test-services] $*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }

# Runs a command as the unprivileged owner of a database's files (servers refuse to run as root).
as_user() {
  local user=$1; shift
  if [ "$(id -u)" = 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  for _ in $(seq 1 100); do port_open "$1" && return 0; sleep 0.2; done
  log "nothing listens on port $1 after 20 s"; return 1
}

need_packages() {
  local missing=()
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$PG_BIN" ] || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v mariadbd >/dev/null || command -v mysqld >/dev/null || missing+=(mariadb-server)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} from Debian"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
}

start_postgres() {
  if port_open $PG_PORT; then log "PostgreSQL already on $PG_PORT"; return; fi
  local data="$DIR/pg"
  local owner=postgres
  [ "$(id -u)" = 0 ] || owner=$(id -un)
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data" && [ "$(id -u)" = 0 ] && chown "$owner" "$data"
    echo "$PASSWORD" > "$DIR/pgpass" && [ "$(id -u)" = 0 ] && chown "$owner" "$DIR/pgpass"
    as_user $owner "$PG_BIN/initdb" -D "$data" -U postgres --auth=scram-sha-256 --pwfile="$DIR/pgpass" >/dev/null
  fi
  as_user $owner "$PG_BIN/pg_ctl" -D "$data" -l "$DIR/pg.log" -w \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $DIR -c fsync=off" start >/dev/null
  wait_port $PG_PORT
  PGPASSWORD=$PASSWORD "$PG_BIN/psql" -q -h 127.0.0.1 -p $PG_PORT -U postgres -d postgres -v ON_ERROR_STOP=1 >/dev/null <<SQL
SELECT 'CREATE DATABASE tiangong_test' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'tiangong_test')\gexec
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tiangong') THEN CREATE ROLE tiangong LOGIN PASSWORD '$PASSWORD'; END IF;
END \$\$;
SQL
  PGPASSWORD=$PASSWORD "$PG_BIN/psql" -q -h 127.0.0.1 -p $PG_PORT -U postgres -d tiangong_test -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE TABLE IF NOT EXISTS people (id integer PRIMARY KEY, name text NOT NULL, city text NOT NULL, score numeric(5,1));
INSERT INTO people SELECT i, 'person ' || i, (ARRAY['Beijing','Shanghai','Shenzhen'])[1 + i % 3], i * 1.5 FROM generate_series(1, 250) AS i ON CONFLICT DO NOTHING;
-- The test user could write if the connection let it: read-only must come from the transaction.
GRANT ALL ON people TO tiangong;
SQL
  log "PostgreSQL on 127.0.0.1:$PG_PORT"
}

start_mysql() {
  if port_open $MYSQL_PORT; then log "MariaDB already on $MYSQL_PORT"; return; fi
  local data="$DIR/mysql"
  local server; server=$(command -v mariadbd || command -v mysqld)
  local owner=mysql
  [ "$(id -u)" = 0 ] || owner=$(id -un)
  if [ ! -d "$data/mysql" ]; then
    mkdir -p "$data" && [ "$(id -u)" = 0 ] && chown "$owner" "$data"
    as_user $owner mariadb-install-db --no-defaults --datadir="$data" --auth-root-authentication-method=normal --skip-test-db >/dev/null
  fi
  as_user $owner "$server" --no-defaults --datadir="$data" --port=$MYSQL_PORT --bind-address=127.0.0.1 \
    --socket="$DIR/mysql.sock" --pid-file="$DIR/mysql.pid" --skip-log-bin --innodb-flush-log-at-trx-commit=0 \
    > "$DIR/mysql.log" 2>&1 &
  wait_port $MYSQL_PORT
  local client; client=$(command -v mariadb || command -v mysql)
  "$client" --no-defaults -uroot --socket="$DIR/mysql.sock" >/dev/null <<SQL
CREATE DATABASE IF NOT EXISTS tiangong_test;
CREATE USER IF NOT EXISTS 'tiangong'@'%' IDENTIFIED BY '$PASSWORD';
GRANT ALL ON tiangong_test.* TO 'tiangong'@'%';
CREATE TABLE IF NOT EXISTS tiangong_test.people (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, city VARCHAR(50) NOT NULL, score DECIMAL(5,1));
INSERT IGNORE INTO tiangong_test.people
  WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 250)
  SELECT i, CONCAT('person ', i), ELT(1 + i % 3, 'Beijing', 'Shanghai', 'Shenzhen'), i * 1.5 FROM seq;
SQL
  log "MariaDB on 127.0.0.1:$MYSQL_PORT"
}

start_redis() {
  if port_open $REDIS_PORT; then log "Redis already on $REDIS_PORT"; return; fi
  local owner=redis
  [ "$(id -u)" = 0 ] && id redis >/dev/null 2>&1 || owner=$(id -un)
  as_user $owner redis-server --port $REDIS_PORT --bind 127.0.0.1 --requirepass "$PASSWORD" --save '' --appendonly no \
    --dir "$DIR" --daemonize yes --logfile "$DIR/redis.log" >/dev/null
  wait_port $REDIS_PORT
  redis-cli -p $REDIS_PORT -a "$PASSWORD" --no-auth-warning >/dev/null <<'CMD'
SET greeting "hello from redis"
DEL queue
RPUSH queue a b c
HSET user:1 name Ada city London
CMD
  log "Redis on 127.0.0.1:$REDIS_PORT"
}

need_packages
start_postgres
start_mysql
start_redis
