"""The migrations build exactly the schema the models describe (what `flask db check` checks), on
SQLite and on PostgreSQL, and the audit trail's append-only triggers are in the database."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from grants.extensions import db
from grants.models import AuditEvent


def test_migrated_schema_matches_the_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": False,
            "include_object": lambda obj, name, type_, reflected, compare_to: not (
                type_ == "table" and name == "apscheduler_jobs"),
        })
        assert compare_metadata(context, db.metadata) == []


def test_the_database_refuses_to_change_or_delete_audit_rows(app):
    db.session.add(AuditEvent(action="test.event", actor_label="test"))
    db.session.commit()
    for statement in ("UPDATE audit_event SET action = 'forged'", "DELETE FROM audit_event"):
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.query(AuditEvent).filter_by(action="test.event").count() == 1
