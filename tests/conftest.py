"""Shared fixtures: an app on a freshly migrated SQLite file and (when configured) PostgreSQL.

Database tests run once per backend. PostgreSQL comes from TEST_DATABASE_URL; a
throwaway database is created on that server for the run. With REQUIRE_POSTGRES=1
(set by `make test` when a server answers, and by .ci/run) an unreachable server
fails the run instead of skipping.
"""
import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text

from coretet import create_app
from coretet.config import TestConfig
from coretet.extensions import db

BACKENDS = ("sqlite", "postgresql")


def _truthy(name):
    return os.environ.get(name, "").lower() in ("1", "true", "yes")


@contextmanager
def throwaway_postgres_database(server_url, prefix="coretet_test"):
    """Create a new database on the server of server_url; drop it (and its connections) after."""
    url = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url():
    """A new, empty PostgreSQL database for this run, dropped at the end."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        if _truthy("REQUIRE_POSTGRES"):
            pytest.fail("REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not")
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL (make test sets it when a server runs)")
    try:
        database = throwaway_postgres_database(base)
        url = database.__enter__()
    except Exception as exc:  # unreachable server: fail loudly, never skip silently
        pytest.fail(f"PostgreSQL at {make_url(base).render_as_string(hide_password=True)} is not usable: {exc}")
    yield url
    database.__exit__(None, None, None)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'coretet.db'}"


@pytest.fixture(scope="session")
def redis_url():
    """Redis database 15 (or TEST_REDIS_DB) on REDIS_URL's server, emptied for the run."""
    url = os.environ.get("REDIS_URL")
    if not url:
        if _truthy("REQUIRE_REDIS"):
            pytest.fail("REQUIRE_REDIS is set but REDIS_URL is not")
        pytest.skip("Redis tests need REDIS_URL")
    from redis import Redis

    number = os.environ.get("TEST_REDIS_DB", "15")  # another number lets two suites share one server
    test_url = url.rsplit("/", 1)[0] + f"/{number}" if url.count("/") > 2 else url.rstrip("/") + f"/{number}"
    connection = Redis.from_url(test_url)
    try:
        connection.flushdb()
    except Exception as exc:
        pytest.fail(f"Redis at {url} is not usable: {exc}")
    return test_url


_migrated = set()


class FreshContextClient(FlaskClient):
    """Each request gets its own app context (own `g`, own db session), as in production.

    Tests hold an app context open to use the database; without this, requests
    would share its `g` and a signed-in user would leak from one request to the next.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def build_app(database_url, instance_dir, redis_url=None, **overrides):
    """A test app on that database, migrated with the project's own Alembic revisions."""
    config = TestConfig(database_url, instance_dir, redis_url=redis_url)
    for key, value in overrides.items():
        setattr(config, key, value)
    app = create_app(config)
    app.test_client_class = FreshContextClient
    if database_url not in _migrated:
        from flask_migrate import upgrade

        with app.app_context():
            upgrade()
        _migrated.add(database_url)
    return app


def empty_database(app):
    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
            else:
                for table in tables:
                    conn.execute(text(f"DELETE FROM {table}"))
        db.engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def database_url(request, backend):
    return request.getfixturevalue({"sqlite": "sqlite_url", "postgresql": "postgres_url"}[backend])


@pytest.fixture
def app(database_url, tmp_path):
    app = build_app(database_url, tmp_path)
    with app.app_context():
        yield app
    empty_database(app)


@pytest.fixture
def pg_app(postgres_url, tmp_path):
    """For race tests: PostgreSQL only (SQLite serialises writers and hides races)."""
    app = build_app(postgres_url, tmp_path)
    with app.app_context():
        yield app
    empty_database(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def outbox_dir(app):
    return Path(app.config["OUTBOX_DIR"])


@pytest.fixture
def fake_api():
    """A scripted local HTTP API for the Twilio and Stripe SDKs to talk to."""
    from tests.fake_api import FakeApi

    api = FakeApi()
    yield api
    api.close()


@pytest.fixture
def race_app(pg_app, postgres_url, tmp_path):
    """pg_app's database and storage with one connection per thread (NullPool), for race tests."""
    from sqlalchemy.pool import NullPool

    app = build_app(postgres_url, tmp_path, SQLALCHEMY_ENGINE_OPTIONS={"poolclass": NullPool})
    yield app
    with app.app_context():
        db.engine.dispose()
