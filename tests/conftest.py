"""Test fixtures: a migrated database per test (SQLite file copy or truncated PostgreSQL), the
app, clients signed in as the demo accounts, and the demo dataset.

The schema is built once per session by running the real Alembic migrations, so the tests
exercise the migrations too. Set TEST_DATABASE_URL to a PostgreSQL URL to run on PostgreSQL.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text

from config import TestConfig
from grants import create_app
from grants.extensions import db
from tests.factories import UserFactory

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
IS_PG = PG_URL.startswith("postgresql")
DEMO_PASSWORD = "demo-pass-2026"


def _config(url: str, instance: Path, **extra) -> type[TestConfig]:
    attrs = {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance),
             "OUTBOX_DIR": str(instance / "outbox"), **extra}
    return type("PerTestConfig", (TestConfig,), attrs)


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database (grants_test_gw0, ...)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> str:
    """A database migrated to head: a SQLite file to copy, or the PostgreSQL test database."""
    base = tmp_path_factory.mktemp("db")
    if IS_PG:
        url = _worker_database(PG_URL)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{base / 'template.sqlite'}"
    app = create_app(_config(url, base))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def _truncate_all() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.rollback()
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.execute(text("DROP TABLE IF EXISTS apscheduler_jobs"))
    db.session.commit()


@pytest.fixture
def db_url(template_db, tmp_path) -> str:
    if IS_PG:
        return template_db
    target = tmp_path / "test.sqlite"
    shutil.copyfile(template_db.removeprefix("sqlite:///"), target)
    return f"sqlite:///{target}"


@pytest.fixture
def app_config(db_url, tmp_path):
    """The config class of this test; tests may subclass it before `app` is built."""
    return _config(db_url, tmp_path)


class FreshRequestClient(FlaskClient):
    """Test requests share the test's app context (and so its database session), as Flask does
    when a context is already pushed. Each request still starts as a real one does: `g` is empty
    (Flask-Login caches the signed-in user there), and it ends its database transaction, so no
    SQLite lock outlives the request (a real request ends with the session removed)."""

    def open(self, *args, **kwargs):
        if has_app_context():
            g.__dict__.clear()
        try:
            return super().open(*args, **kwargs)
        finally:
            if has_app_context():
                db.session.rollback()


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    app.test_client_class = FreshRequestClient
    ctx = app.app_context()
    ctx.push()
    try:
        yield app
    finally:
        db.session.remove()
        if IS_PG:
            _truncate_all()
        db.session.remove()
        db.engine.dispose()
        ctx.pop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def demo(app):
    """The demo dataset (CONTRACT.md accounts), seeded for today."""
    from grants.demo import seed

    seed()
    db.session.commit()
    return app


def login(client, email: str, password: str = DEMO_PASSWORD):
    """Sign a test client in through the real sign-in form; asserts that it worked."""
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


@pytest.fixture
def signed_in(demo):
    """Factory: a new client signed in as the given demo account."""

    def make(email: str):
        return login(demo.test_client(), email)

    return make


@pytest.fixture
def admin(world):
    """An administrator, made after the test module's `world` (whichever that module defines)."""
    user = UserFactory(role="admin", name="Ada Admin")
    db.session.commit()
    return user
