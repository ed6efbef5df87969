"""Fixtures of the HTTP service tests: one app per test on SQLite (always) and PostgreSQL (when
TEST_POSTGRES_URL is set, see scripts/postgres.sh)."""
from __future__ import annotations

import os
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from api import Settings, create_app, store
from api.deps import get_reader
from api.security import hash_password
from api_helpers import PASSWORD, FakeReader, World, auth, make_meter, make_user

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
# `make test` sets this: a PostgreSQL case that cannot run is then an error, not a silent skip
REQUIRE_POSTGRES = os.environ.get("METERREAD_REQUIRE_POSTGRES", "").lower() in ("1", "true", "yes")


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A database of this test run's own on the TEST_POSTGRES_URL server (dropped at the end), so that two
    runs at once (two checkouts, two engineers) do not drop each other's tables; the named database itself
    when the role may not create databases."""
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("METERREAD_REQUIRE_POSTGRES is set but TEST_POSTGRES_URL is not (see scripts/postgres.sh)")
        pytest.skip("TEST_POSTGRES_URL not set (see scripts/postgres.sh)")
    base = make_url(POSTGRES_URL)
    name = f"{base.database or 'meterread'}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    created = False
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created = True
    except Exception:  # no CREATEDB privilege: share the named database
        pass
    try:
        yield base.set(database=name).render_as_string(hide_password=False) if created else POSTGRES_URL
    finally:
        if created:
            with admin.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgres",
            marks=[
                pytest.mark.postgres,
                *([] if POSTGRES_URL or REQUIRE_POSTGRES else [
                    pytest.mark.skip(reason="TEST_POSTGRES_URL not set (see scripts/postgres.sh)")]),
            ],
        ),
    ]
)
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'meterread.sqlite3'}"
    url = request.getfixturevalue("postgres_url")
    _reset_postgres(url)
    return url


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        photos_dir=tmp_path / "photos",
        max_upload_bytes=300_000,
        argon2_time_cost=1,
        argon2_memory_cost=8 * 1024,
    )


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture
def fake_reader(app) -> FakeReader:
    reader = FakeReader()
    app.dependency_overrides[get_reader] = lambda: reader
    yield reader
    app.dependency_overrides.pop(get_reader, None)


@pytest.fixture
def operator(app, client) -> dict:
    """Bootstrap operator (as `meterread create-user --role operator` would make it); returns auth headers."""
    with app.state.sessionmaker() as s:
        store.create_user(s, email="op@example.org", password_hash=hash_password(PASSWORD, settings=app.state.settings),
                          role="operator")
        s.commit()
    return auth(client, "op@example.org")


@pytest.fixture
def world(client, operator) -> World:
    a1 = client.post("/api/accounts", headers=operator, json={"number": "ACC-1", "name": "Ada"}).json()["id"]
    a2 = client.post("/api/accounts", headers=operator, json={"number": "ACC-2", "name": "Bob"}).json()["id"]
    m1 = make_meter(client, operator, a1, "W-1")
    m2 = make_meter(client, operator, a2, "W-2")
    c1 = make_user(client, operator, "ada@example.org", account_ids=[a1])
    make_user(client, operator, "bob@example.org", account_ids=[a2])
    make_user(client, operator, "rev@example.org", role="reviewer")
    return World(
        client=client, operator=operator, account=a1, meter=m1, customer=auth(client, "ada@example.org"),
        customer_id=c1, other_account=a2, other_meter=m2, other_customer=auth(client, "bob@example.org"),
        reviewer=auth(client, "rev@example.org"),
    )
