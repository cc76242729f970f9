"""The audit trail: every change to data goes into the append-only audit_event table.

ORM changes are captured automatically after each flush (old -> new per column); services add
business events (sign-in, a draft's value changes) with `record`. Updates and deletes of audit
rows are refused here and, below the ORM, by database triggers (see the migrations).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Flask, g, has_request_context, request
from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from grants.extensions import db
from grants.models import AuditEvent, utcnow

# Operational tables that are records themselves (or a cache) and are not audited row by row.
NOT_AUDITED = {
    "audit_event", "login_attempt", "user_session", "api_rate_window", "job_lock", "job_run",
    "notification_ledger", "user_message", "report_value", "apscheduler_jobs",
}
SECRET_COLUMNS = {"password_hash", "token_digest", "calendar_token_digest"}


class AuditTamperingError(RuntimeError):
    """Raised when code tries to change or delete an audit row."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, dict, str, int, float, bool)) or value is None:
        return value
    return str(value)


def actor() -> tuple[int | None, str, str, str]:
    """(user id, label, ip, source) of whoever is acting now: a signed-in user, an API token,
    or a named system process set in g.audit_source."""
    user_id, label, ip = None, "", ""
    source = getattr(g, "audit_source", None) if _has_g() else None
    if has_request_context():
        from flask_login import current_user

        from grants.security import client_ip

        ip = client_ip()
        user = getattr(g, "api_user", None) or (current_user if current_user and current_user.is_authenticated else None)
        if user is not None:
            user_id, label = user.id, user.email
        source = source or ("api" if request.path.startswith("/api/") else "web")
    return user_id, label or (source or "system"), ip, source or "system"


def _has_g() -> bool:
    from flask import has_app_context

    return has_app_context()


def record(action: str, entity: Any = None, changes: dict | None = None, *, entity_type: str = "",
           entity_id: int | None = None, grant_id: int | None = None, report_id: int | None = None,
           label: str | None = None) -> None:
    """Add a business event to the audit trail in the current transaction."""
    user_id, who, ip, source = actor()
    if entity is not None:
        entity_type = entity_type or entity.__tablename__
        entity_id = entity_id or entity.id
        grant_id, report_id = grant_id or _grant_of(entity), report_id or _report_of(entity)
    db.session.add(AuditEvent(
        at=utcnow(), user_id=user_id, actor_label=label or who, action=action, entity_type=entity_type,
        entity_id=entity_id, grant_id=grant_id, report_id=report_id,
        changes={k: _jsonable(v) for k, v in (changes or {}).items()}, ip=ip, source=source,
    ))


def _grant_of(obj: Any) -> int | None:
    if obj.__tablename__ == "grant_award":
        return obj.id
    return getattr(obj, "grant_id", None)


def _report_of(obj: Any) -> int | None:
    if obj.__tablename__ == "report":
        return obj.id
    return getattr(obj, "report_id", None)


def _row_changes(obj: Any, kind: str) -> dict[str, Any]:
    state = inspect(obj)
    changes: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in ("lock_version", "updated_at"):
            continue
        hist = state.attrs[key].history
        if kind == "update" and not hist.has_changes():
            continue
        old = hist.deleted[0] if hist.deleted else None
        new = hist.added[0] if hist.added else (hist.unchanged[0] if hist.unchanged else None)
        if kind == "delete":
            old, new = (hist.unchanged[0] if hist.unchanged else old), None
        if key in SECRET_COLUMNS:
            old, new = ("(secret)" if old else None), ("(secret)" if new else None)
        if kind == "insert" and new is None:
            continue
        changes[key] = [_jsonable(old), _jsonable(new)]
    return changes


def _after_flush(session: Session, flush_context: Any) -> None:
    rows = []
    user_id, who, ip, source = actor()
    for kind, objects in (("insert", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            table = getattr(obj, "__tablename__", None)
            if table is None or table in NOT_AUDITED:
                continue
            changes = _row_changes(obj, kind)
            if kind == "update" and not changes:
                continue
            rows.append({
                "at": utcnow(), "user_id": user_id, "actor_label": who, "action": f"{table}.{kind}",
                "entity_type": table, "entity_id": getattr(obj, "id", None), "grant_id": _grant_of(obj),
                "report_id": _report_of(obj), "changes": changes, "ip": ip, "source": source,
            })
    if rows:
        session.connection().execute(insert(AuditEvent.__table__), rows)


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise AuditTamperingError("The audit trail is append-only.")


def init_app(app: Flask) -> None:  # noqa: ARG001
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_flush", _before_flush)
