"""Sessions, sign-in throttling, password storage, headers and the audit of security events."""
from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from grants.extensions import db
from grants.models import AuditEvent, User, utcnow
from grants.security import hash_password
from tests.conftest import DEMO_PASSWORD, IS_PG, login


def _is_signed_in(client) -> bool:
    return client.get("/profile").status_code == 200


def test_passwords_are_hashed_with_argon2id_at_owasp_minimums():
    hashed = hash_password("correct horse battery staple")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_session_cookie_is_httponly_and_samesite_lax(demo):
    client = demo.test_client()
    response = client.post("/login", data={"email": "grantee@demo.test", "password": DEMO_PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_config_marks_cookies_secure_and_requires_a_secret(monkeypatch):
    from config import ProductionConfig

    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError):
        ProductionConfig()
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    assert ProductionConfig().SESSION_COOKIE_SECURE is True


def test_sign_out_invalidates_the_session_on_the_server(demo):
    client = login(demo.test_client(), "grantee@demo.test")
    stolen = client.get_cookie("session").value
    client.post("/logout")
    replay = demo.test_client()
    replay.set_cookie("session", stolen)
    assert not _is_signed_in(replay)


def test_password_change_ends_every_other_session(demo):
    first = login(demo.test_client(), "grantee@demo.test")
    second = login(demo.test_client(), "grantee@demo.test")
    response = first.post("/profile/password", data={
        "current_password": DEMO_PASSWORD, "new_password": "a much longer passphrase 2026",
        "confirm_password": "a much longer passphrase 2026"})
    assert response.status_code == 302
    assert _is_signed_in(first)
    assert not _is_signed_in(second)
    login(demo.test_client(), "grantee@demo.test", "a much longer passphrase 2026")


def test_short_new_password_is_refused_with_a_message(demo):
    client = login(demo.test_client(), "grantee@demo.test")
    response = client.post("/profile/password", data={
        "current_password": DEMO_PASSWORD, "new_password": "short", "confirm_password": "short"})
    assert response.status_code == 400
    assert "at least 12 characters" in response.get_data(as_text=True)


def test_session_ends_after_30_minutes_idle(demo):
    with time_machine.travel(utcnow(), tick=False) as traveller:
        client = login(demo.test_client(), "grantee@demo.test")
        traveller.shift(timedelta(minutes=29))
        assert _is_signed_in(client)
        traveller.shift(timedelta(minutes=31))
        assert not _is_signed_in(client)


def test_session_ends_after_12_hours_even_when_active(demo):
    with time_machine.travel(utcnow(), tick=False) as traveller:
        client = login(demo.test_client(), "grantee@demo.test")
        for _ in range(28):  # 11 h 40 min of activity
            traveller.shift(timedelta(minutes=25))
            assert _is_signed_in(client)
        traveller.shift(timedelta(minutes=25))
        assert not _is_signed_in(client)


def test_failed_sign_ins_are_throttled_per_account_with_a_clear_message(demo):
    client = demo.test_client()
    for _ in range(5):
        assert client.post("/login", data={"email": "grantee@demo.test", "password": "wrong"}).status_code == 400
    response = client.post("/login", data={"email": "grantee@demo.test", "password": DEMO_PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.get_data(as_text=True)
    # Another account from the same address is not locked out by this one.
    login(demo.test_client(), "editor@demo.test")


def test_throttle_counts_across_workers_because_it_is_in_the_database(demo):
    for _ in range(5):
        demo.test_client().post("/login", data={"email": "editor@demo.test", "password": "wrong"})
    fresh = demo.test_client()
    assert fresh.post("/login", data={"email": "editor@demo.test", "password": DEMO_PASSWORD}).status_code == 429


def test_deactivated_user_cannot_sign_in_and_loses_sessions(demo):
    client = login(demo.test_client(), "editor@demo.test")
    user = db.session.scalar(select(User).where(User.email == "editor@demo.test"))
    user.active = False
    db.session.commit()
    assert not _is_signed_in(client)
    response = demo.test_client().post("/login", data={"email": "editor@demo.test", "password": DEMO_PASSWORD})
    assert response.status_code == 400


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_hsts_is_sent_when_cookies_are_secure(app_config):
    from grants import create_app

    secure = type("Secure", (app_config,), {"SESSION_COOKIE_SECURE": True})
    app = create_app(secure)
    assert "max-age=" in app.test_client().get("/login").headers["Strict-Transport-Security"]


def test_sign_in_sign_out_failure_and_refusal_are_audited(demo):
    client = demo.test_client()
    client.post("/login", data={"email": "grantee@demo.test", "password": "wrong"})
    login(client, "grantee@demo.test")
    assert client.get("/admin/users").status_code == 403
    client.post("/logout")
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"auth.failed", "auth.signed_in", "auth.signed_out", "access.refused"} <= actions


def test_csrf_token_is_required_when_csrf_is_on(app_config, demo):
    from grants import create_app

    strict = create_app(type("Strict", (app_config,), {"WTF_CSRF_ENABLED": True}))
    client = strict.test_client()
    response = client.post("/login", data={"email": "grantee@demo.test", "password": DEMO_PASSWORD})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_open_redirect_after_sign_in_is_refused(demo):
    response = demo.test_client().post("/login?next=https://evil.example/", data={
        "email": "grantee@demo.test", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


# ---- SQLite: writes of read-only work take the write lock first ---------------------------------

sqlite_only = pytest.mark.skipif(IS_PG, reason="SQLite's read-then-write refusal")


def _commit_elsewhere(db_url: str) -> threading.Thread:
    """Another process's commit, started now: it goes through at once unless this process holds
    SQLite's write lock, and then as soon as the lock is released."""
    def write() -> None:
        other = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None, timeout=30)
        try:
            # a real change (SQLite writes nothing for an UPDATE that leaves the row as it was)
            other.execute("UPDATE user_account SET name = name || '.' WHERE id = (SELECT max(id) FROM user_account)")
        finally:
            other.close()

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(timeout=1)  # done, unless it waits for our write lock
    return thread


@sqlite_only
def test_a_refused_page_view_is_audited_even_when_another_process_writes_meanwhile(signed_in, db_url, monkeypatch):
    """The page view's transaction has read (the signed-in user) when the refusal is written: a
    commit by another process in between would make SQLite refuse that write at once ('database
    is locked', a 500) unless the refusal is written in a transaction that began as a writer."""
    from grants import audit

    client = signed_in("grantee@demo.test")
    record, others = audit.record, []

    def record_while_another_process_writes(*args, **kwargs):
        others.append(_commit_elsewhere(db_url))
        record(*args, **kwargs)

    monkeypatch.setattr(audit, "record", record_while_another_process_writes)
    assert client.get("/admin/jobs").status_code == 403
    for thread in others:
        thread.join(timeout=30)
    refused = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access.refused")).all()
    assert [e.changes["path"] for e in refused] == ["/admin/jobs"]


@sqlite_only
def test_the_job_stores_transactions_take_the_write_lock_when_they_begin(app, db_url):
    """APScheduler's store reads then writes in one transaction (on a first start: is the table
    there? then CREATE TABLE), so its connections begin as writers (BEGIN IMMEDIATE)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from schedules import scheduler

    store = scheduler.build_scheduler(app, BackgroundScheduler)._jobstores["default"]
    with store.engine.connect() as conn:
        conn.execute(select(1))  # begins the transaction
        other = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None, timeout=0)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
