# Redis and PostgreSQL on 127.0.0.1 for the persistent-history tests.
# Sourced by .ci/run (as root, `set -euo pipefail` active); safe to source again:
# what is installed, running or created already is left as it is.
# Exports MEMFIX_TEST_REDIS_URL and MEMFIX_TEST_POSTGRES_URL, which tests/backends reads.

memfix_services_install() {
    if command -v redis-server >/dev/null && compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; then
        return 0
    fi
    echo "== installing redis-server and postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq redis-server postgresql >/dev/null
}

memfix_services_redis() {
    if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    fi
    local tries=0
    until redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; do
        tries=$((tries + 1))
        if [ "$tries" -ge 50 ]; then
            echo "redis-server did not start" >&2
            return 1
        fi
        sleep 0.2
    done
    export MEMFIX_TEST_REDIS_URL="redis://127.0.0.1:6379/15"
}

memfix_services_postgres() {
    local version port
    version="$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)"
    if [ ! -d "/etc/postgresql/$version/main" ]; then
        pg_createcluster "$version" main >/dev/null
    fi
    mkdir -p "/etc/postgresql/$version/main/conf.d"
    printf "listen_addresses = '127.0.0.1'\n" >"/etc/postgresql/$version/main/conf.d/memfix.conf"
    port="$(pg_conftool -s "$version" main show port)"
    local state
    state="$(pg_lsclusters -h "$version" main | awk '{print $4}')"
    if [ "$state" != "online" ]; then
        pg_ctlcluster "$version" main start
    fi
    local tries=0
    until pg_isready -q -h 127.0.0.1 -p "$port"; do
        tries=$((tries + 1))
        if [ "$tries" -ge 50 ]; then
            echo "postgresql did not start" >&2
            return 1
        fi
        sleep 0.2
    done
    local role database
    role="$(runuser -u postgres -- psql -p "$port" -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'memfix'")"
    if [ "$role" != "1" ]; then
        runuser -u postgres -- psql -p "$port" -qc "CREATE ROLE memfix LOGIN PASSWORD 'memfix-test'"
    fi
    database="$(runuser -u postgres -- psql -p "$port" -tAc "SELECT 1 FROM pg_database WHERE datname = 'memfix_test'")"
    if [ "$database" != "1" ]; then
        runuser -u postgres -- createdb -p "$port" -O memfix memfix_test
    fi
    # A throwaway server for the tests only, reachable from 127.0.0.1 alone.
    export MEMFIX_TEST_POSTGRES_URL="postgresql+psycopg://memfix:memfix-test@127.0.0.1:${port}/memfix_test"
}

memfix_services_install
memfix_services_redis
memfix_services_postgres
echo "== services: redis at 127.0.0.1:6379, postgresql at 127.0.0.1 (database memfix_test)"
