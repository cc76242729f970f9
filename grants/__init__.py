"""The grant performance-reporting application: create_app() builds it."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import configure_mappers

from config import BASE_DIR, Config, config_from_environment
from grants.extensions import api, csrf, db, login_manager, migrate


def create_app(config: type[Config] | Config | None = None) -> Flask:
    """Application factory: configuration, extensions, blueprints, CLI, error handlers."""
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
        instance_path=str(Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance")).resolve()),
    )
    app.config.from_object(config or config_from_environment())
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    register_extensions(app)
    register_blueprints(app)
    register_cli(app)
    register_hooks(app)
    configure_mappers()  # at start-up (a mapping error fails here), not in the first request or job
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    api.init_app(app)


def register_blueprints(app: Flask) -> None:
    from grants.blueprints import register_all

    register_all(app)


def register_cli(app: Flask) -> None:
    from grants.cli import register_commands

    register_commands(app)


def register_hooks(app: Flask) -> None:
    from grants import audit, security, web

    security.init_app(app)
    audit.init_app(app)
    web.init_app(app)


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:  # noqa: ARG001
    """SQLite as a server database: WAL, a busy timeout instead of 'database is locked', FKs on.

    The driver's own transaction handling is turned off (isolation_level=None) so that BEGIN is
    ours: see `_sqlite_begin`.
    """
    if _is_sqlite(dbapi_connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # 8 MB of page cache per connection instead of SQLite's 2 MB: a roll-up reads tens of
        # thousands of values; with the default the same pages go back and forth to the OS cache.
        cursor.execute("PRAGMA cache_size=-8000")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:
    """Writers take SQLite's write lock up front (BEGIN IMMEDIATE), so they queue on the busy
    timeout instead of failing with 'database is locked' when a read lock cannot be upgraded.
    Writers are requests other than GET/HEAD/OPTIONS, code that declares `sqlite_write_intent`
    (scheduler jobs) and connections that say so (execution option sqlite_writer: the scheduler's
    job store), unless the connection says it only reads (execution option read_only:
    grants.snapshots); everything else begins deferred and, under WAL, never waits for writers."""
    if conn.dialect.name != "sqlite":
        return
    from flask import has_request_context, request

    from grants.extensions import sqlite_write_intent

    options = conn.get_execution_options()
    writing = not options.get("read_only") and (options.get("sqlite_writer") or sqlite_write_intent.get() or (
        has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")))
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")
