"""API tokens on the profile page and the command line: shown once, stored hashed, revocable,
with their last-used time."""
from __future__ import annotations

import re

from sqlalchemy import select

from grants.extensions import db
from grants.models import ApiToken, AuditEvent, User
from grants.security import token_digest


def _secret(html: str) -> str:
    return re.search(r'id="new-token" type="text" readonly value="([^"]+)"', html).group(1)


def test_a_created_token_is_shown_once_stored_hashed_and_works(signed_in):
    client = signed_in("officer@demo.test")
    response = client.post("/profile/tokens", data={"name": "Portfolio script"})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    secret = _secret(response.get_data(as_text=True))
    row = db.session.scalar(select(ApiToken).where(ApiToken.name == "Portfolio script"))
    assert row.token_digest == token_digest(secret) and secret.startswith(row.prefix)
    later = client.get("/profile/tokens").get_data(as_text=True)
    assert "Portfolio script" in later and secret not in later and "Never" in later
    api = client.application.test_client()
    assert api.get("/api/v1/grants", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    db.session.rollback()
    assert db.session.get(ApiToken, row.id).last_used_at is not None
    assert "Never" not in client.get("/profile/tokens").get_data(as_text=True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token.created"))
    assert event is not None and secret not in str(event.changes)


def test_a_revoked_token_no_longer_signs_in(signed_in):
    client = signed_in("grantee@demo.test")
    secret = _secret(client.post("/profile/tokens", data={"name": "Export"}).get_data(as_text=True))
    row = db.session.scalar(select(ApiToken).where(ApiToken.name == "Export"))
    response = client.post(f"/profile/tokens/{row.id}/revoke")
    assert response.status_code == 302
    assert "Revoked" in client.get("/profile/tokens").get_data(as_text=True)
    api = client.application.test_client()
    assert api.get("/api/v1/programs", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_someone_elses_token_cannot_be_revoked(signed_in):
    owner = signed_in("grantee@demo.test")
    owner.post("/profile/tokens", data={"name": "Mine"})
    row = db.session.scalar(select(ApiToken).where(ApiToken.name == "Mine"))
    assert signed_in("editor@demo.test").post(f"/profile/tokens/{row.id}/revoke").status_code == 404
    db.session.rollback()
    assert db.session.get(ApiToken, row.id).revoked_at is None


def test_a_token_needs_a_name(signed_in):
    client = signed_in("leader@demo.test")
    response = client.post("/profile/tokens", data={"name": "  "})
    assert response.status_code == 400 and "Name the token" in response.get_data(as_text=True)
    assert db.session.scalar(select(ApiToken)) is None


def test_token_pages_need_sign_in_and_csrf(demo, signed_in):
    assert demo.test_client().get("/profile/tokens").status_code == 302
    client = signed_in("grantee@demo.test")
    demo.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/profile/tokens", data={"name": "No CSRF"}).status_code == 400
    assert db.session.scalar(select(ApiToken)) is None


def test_cli_prints_a_token_for_an_email(demo):
    result = demo.test_cli_runner().invoke(args=["tokens", "create", "Leader@Demo.test", "--name", "Nightly"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    leader = db.session.scalar(select(User).where(User.email == "leader@demo.test"))
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_digest == token_digest(secret)))
    assert row.user_id == leader.id and row.name == "Nightly"
