"""Servers for the persistent-history tests: Redis and PostgreSQL on 127.0.0.1.

`.ci/services.sh` starts them and exports MEMFIX_TEST_REDIS_URL and
MEMFIX_TEST_POSTGRES_URL. Under CI (`CI=true`) a missing or unreachable server fails
the test; elsewhere the test is skipped with a message saying how to start one.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

HOW_TO_START = (
    "run `sudo bash -c 'set -euo pipefail; source .ci/services.sh; env | grep MEMFIX_TEST'` "
    "and export the variables it prints"
)


def _unavailable(problem: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{problem} (CI=true: .ci/services.sh should have started it)")
    pytest.skip(f"{problem}: {HOW_TO_START}")


def _server(variable: str, ping: Callable[[str], None]) -> str:
    url = os.environ.get(variable)
    if not url:
        _unavailable(f"{variable} is not set")
        raise AssertionError("unreachable")
    try:
        ping(url)
    except Exception as error:
        _unavailable(f"cannot reach the server at ${variable}: {type(error).__name__}: {error}")
    return url


def _ping_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        client.ping()
    finally:
        client.close()


def _ping_postgres(url: str) -> None:
    import psycopg

    conninfo = "postgresql://" + url.partition("://")[2]
    with psycopg.connect(conninfo, connect_timeout=5) as connection:
        connection.execute("SELECT 1")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A `redis://` URL of a running Redis server."""
    return _server("MEMFIX_TEST_REDIS_URL", _ping_redis)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A `postgresql+psycopg://` URL of a running PostgreSQL database."""
    return _server("MEMFIX_TEST_POSTGRES_URL", _ping_postgres)
